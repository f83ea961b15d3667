"""Live Aria glasses (Gen1) through projectaria-client-sdk (`aria.sdk`).

The SDK embeds its own Fast DDS 2.x and Fast CDR and exports their symbols,
which overlap those of ROS 2's Fast DDS 3 / Fast CDR 2 in the same process.
Both import and run side by side (checked here, without glasses), but the
SDK's data path cannot be exercised without a device, so the SDK runs in a
helper process of its own: frames come back over a queue, and nothing of
the SDK is ever loaded into a process that runs rclpy.

One session: connect (USB or Wi-Fi, optional serial or IP), start streaming
with a profile and ephemeral certificates, subscribe to RGB, SLAM and IMU
with queue size 1, and receive through the observer. A clean stop undoes
each step; the adb server the SDK starts is stopped if it was not running
before.

Both generations, one source: which glasses these are is found from the
device, never set. Each generation's SDK is asked to connect, Aria Gen 2's
(`aria.sdk_gen2`, aria_live_gen2) first, then Gen 1's (`aria.sdk`): the
first that finds glasses serves them (Gen 2 is asked first because its
glasses are also an adb device that Gen 1's client could reach, while
Gen 1's have no USB network link for Gen 2's), and its calibration then
confirms the generation (DeviceVersion) and gives the camera roles and
turns. Without glasses both say so, in one error, within seconds.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import queue
import signal
import socket
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aria_nav_ros.core.camera_model import CameraModel
from aria_nav_ros.core.cameras import CAMERAS, RGB, SLAM_LEFT, SLAM_RIGHT
from aria_nav_ros.core.mounting import Mount
from aria_nav_ros.core.sources.aria_calibration import GEN1, GEN2, from_json
from aria_nav_ros.core.sources.aria_live_gen2 import Gen2Observer, Gen2Session, NoGlasses
from aria_nav_ros.core.sources.base import Emit, Frame, ImuSample, SourceError
from aria_nav_ros.core.sources.upright import turn_clockwise

# aria.sdk.CameraId values, as ImageDataRecord.camera_id carries them.
SDK_CAMERA_IDS = {0: SLAM_LEFT, 1: SLAM_RIGHT, 2: RGB}
ADB_PORT = 5037


@dataclass(frozen=True)
class AriaLiveConfig:
    interface: str = "usb"  # "usb" or "wifi"
    ip: str = ""  # the glasses' address, for Wi-Fi
    serial: str = ""  # pick one device when several are plugged in
    profile: str = "profile18"  # streaming profile: profile12/18 at 10 FPS, profile28 at 30 FPS
    cameras: tuple[str, ...] = CAMERAS
    upright: bool = True  # every camera is mounted sideways: published turned upright

    def describe(self) -> str:
        where = f"Wi-Fi {self.ip}" if self.interface == "wifi" else "USB"
        return f"Aria glasses over {where}{f', serial {self.serial}' if self.serial else ''}"


class AriaObserver:
    """The SDK's StreamingClientObserver: its callbacks become Frames and ImuSamples."""

    def __init__(self, emit: Emit, cameras: tuple[str, ...] = CAMERAS, upright: bool = True) -> None:
        self.emit = emit
        self.cameras = set(cameras)
        self.upright = upright
        self.failed = threading.Event()
        self.failure = ""

    def on_image_received(self, image: np.ndarray, record: Any) -> None:
        camera = SDK_CAMERA_IDS.get(int(record.camera_id))
        if camera not in self.cameras:
            return
        t_ns = int(record.capture_timestamp_ns)
        image = turn_clockwise(image) if self.upright else np.ascontiguousarray(image)
        self.emit(Frame(camera, image, "rgb8" if camera == RGB else "mono8", t_ns))

    def on_imu_received(self, motion_data: list[Any], imu_idx: int) -> None:
        if imu_idx != 0:  # the glasses have two IMUs; one is enough for walking/standing
            return
        for sample in motion_data:
            self.emit(ImuSample(int(sample.capture_timestamp_ns), tuple(sample.accel_msec2), tuple(sample.gyro_radsec)))

    def on_streaming_client_failure(self, reason: Any, message: str) -> None:
        self.failure = f"{getattr(reason, 'name', reason)}: {message}"
        self.failed.set()


class SdkSession:
    """One connection to the glasses through aria.sdk (Aria Gen 1)."""

    generation = GEN1

    def __init__(self, config: AriaLiveConfig) -> None:
        try:
            import aria.sdk as sdk
        except ImportError as error:
            raise SourceError("live glasses need projectaria-client-sdk (aria.sdk), which is not installed") from error
        self.sdk = sdk
        self.config = config
        self.client = self.device = self.manager = self.streaming = None

    def open(self) -> str:
        """Connect; returns the device's calibration JSON."""
        sdk = self.sdk
        self.client = sdk.DeviceClient()
        client_config = sdk.DeviceClientConfig()
        if self.config.ip:
            client_config.ip_v4_address = self.config.ip
        if self.config.serial:
            client_config.device_serial = self.config.serial
        self.client.set_client_config(client_config)
        try:
            self.device = self.client.connect()
        except RuntimeError as error:
            raise NoGlasses(f"Aria Gen 1: {error}") from error
        return self.device.factory_calibration_json

    def stream(self, observer: AriaObserver) -> None:
        sdk = self.sdk
        security = sdk.StreamingSecurityOptions()
        security.use_ephemeral_certs = True
        streaming_config = sdk.StreamingConfig()
        streaming_config.profile_name = self.config.profile
        streaming_config.streaming_interface = (
            sdk.StreamingInterface.WifiStation if self.config.interface == "wifi" else sdk.StreamingInterface.Usb
        )
        streaming_config.security_options = security
        self.manager = self.device.streaming_manager
        self.manager.streaming_config = streaming_config
        self.manager.start_streaming()
        self.streaming = self.manager.streaming_client
        subscription = self.streaming.subscription_config
        types = [sdk.StreamingDataType.Imu]
        if RGB in self.config.cameras:
            types.append(sdk.StreamingDataType.Rgb)
        if {SLAM_LEFT, SLAM_RIGHT} & set(self.config.cameras):
            types.append(sdk.StreamingDataType.Slam)
        wanted = types[0]
        for data_type in types[1:]:
            wanted = wanted | data_type
        subscription.subscriber_data_type = wanted
        for data_type in types:
            subscription.message_queue_size[data_type] = 1  # newest only: never a backlog
        subscription.security_options = security
        self.streaming.subscription_config = subscription
        self.streaming.set_streaming_client_observer(observer)
        self.streaming.subscribe()

    def close(self) -> None:
        """Undo whatever was done, in reverse; each step may fail on a vanished device."""
        steps: list[Callable[[], object]] = []
        if self.streaming is not None:
            steps.append(self.streaming.unsubscribe)
        if self.manager is not None:
            steps.append(self.manager.stop_streaming)
        if self.client is not None and self.device is not None:
            steps.append(self.client.disconnect)
        for step in steps:
            try:
                step()
            except Exception:  # noqa: S110 (the device may already be gone; nothing left to undo)
                pass
        self.client = self.device = self.manager = self.streaming = None


Session = Any  # SdkSession, Gen2Session or a test's stand-in: open() -> calibration JSON, stream(observer), close()


def open_glasses(makers: Sequence[Callable[[], Session]], config: AriaLiveConfig) -> tuple[Session, str]:
    """The first session whose SDK finds glasses, opened, and what its open() returned; one error naming what
    each SDK said when none does."""
    missing = []
    for make in makers:
        session = make()
        try:
            return session, session.open()
        except NoGlasses as error:
            missing.append(str(error))
            session.close()
        except BaseException:
            session.close()
            raise
    raise SourceError(
        f"no {config.describe()} found ({'; '.join(missing)}); check that they are on, plugged in"
        " (or on the same Wi-Fi) and paired with this computer"
    )


def run_glasses(
    makers: Sequence[Callable[[], Session]],
    config: AriaLiveConfig,
    emit: Emit,
    stop: threading.Event,
    on_calibration: Callable[[str], None],
) -> None:
    """Open the glasses (either generation), stream until `stop` or a failure, and always close."""
    session, calibration_json = open_glasses(makers, config)
    observer: Any = None
    try:
        if getattr(session, "generation", GEN1) == GEN2:  # its calibration comes with the stream
            observer = Gen2Observer(emit, config.cameras, config.upright, on_calibration)
        else:
            on_calibration(calibration_json)
            observer = AriaObserver(emit, config.cameras, config.upright)
        session.stream(observer)
        poll = getattr(session, "poll", None)  # Gen 2 tells no failure: the session judges its stream
        while not stop.is_set() and not observer.failed.wait(0.1):
            if poll is not None:
                poll(observer)
    finally:
        if hasattr(observer, "closed"):  # Gen 2's
            observer.closed.set()
        session.close()
    if observer.failed.is_set() and not stop.is_set():
        what = session.describe() if hasattr(session, "describe") else config.describe()
        raise SourceError(f"the stream from the {what} failed: {observer.failure}")


class AriaLiveSource:
    """Live glasses; the SDK runs in a helper process (see the module docstring).

    `session_factory` replaces that helper with a session in this process,
    and `sessions` with sessions tried in order as the helper tries each
    generation's SDK: for tests, where glasses cannot exist.
    """

    def __init__(
        self,
        config: AriaLiveConfig,
        session_factory: Callable[[], Any] | None = None,
        sessions: Sequence[Callable[[], Any]] = (),
    ) -> None:
        self.config = config
        self.name = config.describe()
        self.sessions = (session_factory,) if session_factory is not None else tuple(sessions)
        self._calibration: dict[str, CameraModel] = {}
        self._mounts: dict[str, Mount] = {}
        self.calibration_problem = ""  # why the intrinsics are nominal ("" while the calibration is read)

    def calibration(self) -> dict[str, CameraModel]:
        return self._calibration

    def mounts(self) -> dict[str, Mount]:
        return self._mounts

    def _set_calibration(self, calibration_json: str) -> None:
        """The glasses' factory calibration; one that is missing or unreadable leaves nominal intrinsics, and
        `calibration_problem` says so (the driver logs it as an error and puts it on /diagnostics)."""
        self._calibration, self._mounts = {}, {}
        if not calibration_json:
            self.calibration_problem = "the glasses sent no calibration: nominal intrinsics and mounting are used"
            return
        try:
            self._calibration, self._mounts = from_json(calibration_json, self.config.upright)
            self.calibration_problem = ""
        except Exception as error:  # any parse failure: the nominal intrinsics, said
            self.calibration_problem = (
                f"the glasses' calibration cannot be read ({error!r}): nominal intrinsics and mounting are used"
            )

    def run(self, emit: Emit, stop: threading.Event) -> None:
        if self.sessions:
            run_glasses(self.sessions, self.config, emit, stop, self._set_calibration)
            return
        self._run_helper(emit, stop)

    def _run_helper(self, emit: Emit, stop: threading.Event) -> None:
        context = multiprocessing.get_context("spawn")
        results = context.Queue(maxsize=8)
        helper_stop = context.Event()
        adb_was_running = adb_server_running()
        helper = context.Process(
            target=_helper_main, args=(self.config, results, helper_stop), name="aria_sdk_helper", daemon=True
        )
        helper.start()
        opened = False  # glasses found: a stop then lets the helper close the session itself
        try:
            while not stop.is_set():
                try:
                    kind, payload = results.get(timeout=0.2)
                except queue.Empty:
                    if not helper.is_alive():
                        raise SourceError(
                            f"the Aria SDK helper for the {self.name} exited (code {helper.exitcode})"
                        ) from None
                    continue
                if kind == "item":
                    opened = True
                    emit(payload)
                elif kind == "calibration":
                    opened = True
                    self._set_calibration(payload)
                elif kind == "failure":
                    raise SourceError(payload)
                else:  # "ended"
                    return
        finally:
            helper_stop.set()
            # Streaming, the helper closes the session (the glasses stop streaming); searching, the SDK cannot be
            # interrupted and would hold the stop for its whole search (over 10 s): ended at once.
            helper.join(5 if opened else 0.2)
            if helper.is_alive():
                helper.kill()
                helper.join(2)
            results.cancel_join_thread()
            if not adb_was_running:
                stop_adb_server()


def _helper_main(config: AriaLiveConfig, results: Any, stop: Any) -> None:
    """The helper process: the only place aria.sdk is loaded."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop

    def emit(item: object) -> None:
        try:
            results.put_nowait(("item", item))
        except queue.Full:  # the driver is behind: drop, newest frames will follow
            pass

    try:
        makers = (lambda: Gen2Session(config), lambda: SdkSession(config))  # the order: see the module docstring
        run_glasses(makers, config, emit, stop, lambda j: results.put(("calibration", j), timeout=5))
        results.put(("ended", None), timeout=5)
    except SourceError as error:
        results.put(("failure", str(error)), timeout=5)
    except Exception as error:
        results.put(("failure", f"Aria SDK error with the {config.describe()}: {error}"), timeout=5)


def adb_server_running() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", ADB_PORT), timeout=0.3):
            return True
    except OSError:
        return False


def stop_adb_server() -> None:
    """Stop an adb server left by the SDK (it ships its own adb)."""
    if not adb_server_running():
        return
    spec = importlib.util.find_spec("aria")
    adb = Path(spec.origin).parent / "tools" / "adb" if spec and spec.origin else None
    command = str(adb) if adb and adb.is_file() else "adb"
    try:
        subprocess.run([command, "kill-server"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        pass
