"""Live Aria Gen 2 glasses through projectaria-client-sdk's `aria.sdk_gen2` (its .pyi is the contract).

Gen 2 streams the other way round from Gen 1: this computer runs the
receiver (AriaGen2HttpServer), and the glasses, once told where and how
(HttpStreamingConfig) and started, connect to it and push their data. Each
connection gets a StreamDataInterface from our factory, whose callbacks
deliver projectaria-tools types: encoded images (H.265, decoded here with the
SDK's own aria.image_decoder, as its open build does) with an
ImageDataRecord, MotionData per IMU sample, the on-device VIO as
OpenLoopTrajectoryPose, the on-device hand tracking as HandTrackingResult
(core.hands.Hands items), and the device calibration as a DeviceCalibration.

Which sensor a frame comes from is its record's camera_id, one bit per
camera (the device's convention; the real recording's records carry the
same: GEN2_CAMERA_LABELS); which role each CV camera plays comes from the
calibration's extrinsics (aria_calibration.layout_of), as for recordings,
and so does the turn that makes frames upright (none for Gen 2). Frames
arriving before the calibration cannot be named and are dropped.

Gen 2 tells no failure through a callback: the session is judged failed when
the glasses drop their connection to the receiver, the client loses the
device, or nothing arrives for STALL_S; the runner then reconnects.
Like Gen 1's, this runs only in the SDK helper process (aria_live).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from aria_nav_ros.core.cameras import FRONT_CAMERAS, RGB
from aria_nav_ros.core.hands import hands_of
from aria_nav_ros.core.sources.aria_calibration import GEN2, IMU_LABEL, head_from_device_of, layout_of
from aria_nav_ros.core.sources.base import Emit, Frame, ImuSample, SourceError
from aria_nav_ros.core.sources.motion import motion_of_vio
from aria_nav_ros.core.sources.upright import turn_upright

# ImageDataRecord.camera_id of each Gen 2 sensor (gen2_unit_test.vrs's records carry these, and the SDK's replay of
# it delivers them): the eye-tracking cameras (16, 32) are not read.
GEN2_CAMERA_LABELS = {
    1: "slam-front-left",
    2: "slam-front-right",
    4: "slam-side-left",
    8: "slam-side-right",
    64: "camera-rgb",
}
STALL_S = 10.0  # nothing from glasses that stream for this long: the session has failed (reconnect)
FIRST_DATA_S = 30.0  # from start_streaming to the first item (the glasses connect back to the receiver first)


class NoGlasses(SourceError):
    """This SDK finds no glasses (the other generation's may): not a failure of glasses that were found."""


class Gen2Observer:
    """The StreamDataInterface's callbacks, as Frames, ImuSamples and Motions (the head's, from the VIO)."""

    def __init__(
        self,
        emit: Emit,
        cameras: tuple[str, ...],
        upright: bool = True,
        on_calibration: Callable[[str], None] = lambda calibration_json: None,
        decoder: Any = None,
    ) -> None:
        self.emit = emit
        self.cameras = set(cameras) | set(FRONT_CAMERAS)  # the front pair besides those asked for, as recordings
        self.upright = upright
        self.on_calibration = on_calibration
        self.decoder = decoder if decoder is not None else _sdk_decoder()
        self._decoding = threading.Lock()
        self.failed = threading.Event()
        self.failure = ""
        self.closed = threading.Event()  # set when the session ends: nothing is emitted after it
        self.by_id: dict[int, str] = {}  # camera_id -> camera, once the calibration says which role is which
        self.quarter_turns = 0
        self.head_from_device: np.ndarray | None = None
        self.last_item_s: float | None = None
        self.dropped_before_calibration = 0

    def _delivered(self, item: Any) -> None:
        if self.closed.is_set():  # the SDK's callback threads outlive the session by a frame or two
            return
        self.last_item_s = time.monotonic()
        self.emit(item)

    def on_device_calibration(self, calibration: Any, device_id: str | None = None) -> None:
        from projectaria_tools.core.calibration import device_calibration_to_json_string

        try:
            layout = layout_of(calibration)
        except ValueError as error:
            self.fail(f"the glasses' calibration: {error}")
            return
        if layout.generation != GEN2:  # the Gen 2 SDK reached glasses whose calibration says otherwise
            self.fail(f"the Aria Gen 2 SDK reached glasses whose calibration says {layout.generation}")
            return
        by_label = {label: camera for camera, label in layout.labels.items()}
        self.by_id = {i: by_label[label] for i, label in GEN2_CAMERA_LABELS.items() if label in by_label}
        self.quarter_turns = layout.quarter_turns if self.upright else 0
        self.head_from_device = head_from_device_of(calibration)
        self.on_calibration(device_calibration_to_json_string(calibration))

    def on_image(self, image: Any, record: Any, device_id: str | None = None) -> None:
        camera = self.by_id.get(int(record.camera_id))
        if camera is None:
            self.dropped_before_calibration += not self.by_id
            return
        if camera not in self.cameras:
            return
        # One decode at a time: the SDK calls back from a thread per camera, and the decoder makes its per-camera
        # decoders lazily in one shared dict.
        with self._decoding:
            if not self.decoder.decode_image(image, record):  # a stream joined before its keyframe: the next one
                return
            pixels = np.array(image.to_numpy_array())  # a copy: the SDK owns the frame's buffer
        pixels = turn_upright(pixels, self.quarter_turns)
        if camera == RGB and pixels.ndim != 3:
            self.fail(f"the RGB camera sent a {pixels.shape} image, not colour")
            return
        self._delivered(Frame(camera, pixels, "rgb8" if camera == RGB else "mono8", int(record.capture_timestamp_ns)))

    def on_imu(self, sample: Any, label: str, device_id: str | None = None) -> None:
        if label != IMU_LABEL:  # two IMUs; one is enough for walking/standing, the one recordings read
            return
        self._delivered(
            ImuSample(int(sample.capture_timestamp_ns), tuple(sample.accel_msec2), tuple(sample.gyro_radsec))
        )

    def on_vio_high_frequency(self, pose: Any, device_id: str | None = None) -> None:
        if self.head_from_device is None:  # the head's motion needs where the CPF sits on the device
            return
        t_ns = pose.tracking_timestamp // timedelta(microseconds=1) * 1000
        self._delivered(motion_of_vio(t_ns, pose, self.head_from_device))

    def on_hand_pose(self, result: Any, device_id: str | None = None) -> None:
        if self.head_from_device is None:  # hands are kept in the head frame: where the CPF sits is needed
            return
        t_ns = result.tracking_timestamp // timedelta(microseconds=1) * 1000
        self._delivered(hands_of(result, self.head_from_device, t_ns))

    def fail(self, failure: str) -> None:
        if not self.failed.is_set():
            self.failure = failure
            self.failed.set()


class Gen2Session:
    """One connection to Aria Gen 2 glasses; `sdk` is aria.sdk_gen2 (or, in tests, a stand-in built to its .pyi)."""

    generation = GEN2

    def __init__(self, config: Any, sdk: Any = None) -> None:
        if sdk is None:
            try:
                import aria.sdk_gen2 as sdk
            except ImportError as error:
                raise SourceError("live Aria Gen 2 glasses need projectaria-client-sdk (aria.sdk_gen2)") from error
        self.sdk = sdk
        self.config = config
        self.client = self.device = self.server = None
        self.streaming = False
        self.ever_connected = False
        self.started_s = 0.0

    def describe(self) -> str:
        return self.config.describe().replace("Aria glasses", "Aria Gen 2 glasses")

    def open(self) -> str:
        """Connect; NoGlasses when the Gen 2 SDK finds none. The calibration comes with the stream: ""."""
        sdk = self.sdk
        self.client = sdk.DeviceClient()
        client_config = sdk.DeviceClientConfig()
        adb = _sdk_adb()
        if adb:  # a serial is looked up through adb; the SDK ships its own
            client_config.adb_path = adb
        self.client.set_client_config(client_config)
        target = sdk.DeviceTarget(ip=self.config.ip, serial=self.config.serial)
        try:
            self.device = self.client.connect(target)
        except RuntimeError as error:
            raise NoGlasses(f"Aria Gen 2: {error}") from error
        return ""

    def stream(self, observer: Gen2Observer) -> None:
        sdk = self.sdk

        def stream_data() -> Any:  # one per connection the glasses open to the receiver
            data = sdk.StreamDataInterface(False)  # images as sent (H.265): decoded by the observer
            data.register_device_calib_callback(observer.on_device_calibration)
            data.register_rgb_callback(observer.on_image)
            data.register_slam_callback(observer.on_image)
            data.register_imu_callback(observer.on_imu)
            data.register_vio_high_frequency_callback(observer.on_vio_high_frequency)
            data.register_hand_pose_callback(observer.on_hand_pose)
            for set_size in (data.set_rgb_queue_size, data.set_slam_queue_size):
                set_size(1)  # newest only: never a backlog
            return data

        server_config = sdk.HttpServerConfig()
        server_config.use_ssl = False  # the glasses reach it over the USB or local network link only
        self.server = sdk.AriaGen2HttpServer(server_config, stream_data)
        streaming_config = sdk.HttpStreamingConfig()
        streaming_config.profile_name = self.config.profile
        streaming_config.streaming_interface = (
            sdk.StreamingInterface.WIFI_STA if self.config.interface == "wifi" else sdk.StreamingInterface.USB_NCM
        )
        self.device.set_streaming_config(streaming_config)
        self.device.start_streaming()
        self.streaming = True
        self.started_s = time.monotonic()

    def poll(self, observer: Gen2Observer) -> None:
        """Judge the stream (Gen 2 has no failure callback): a dropped connection, a lost device, silence."""
        connections = self.server.connections() if self.server is not None else []
        if connections:
            self.ever_connected = True
        elif self.ever_connected:
            observer.fail("the glasses closed their stream connection")
            return
        try:
            connected = self.client.is_connected(self.device)
        except RuntimeError as error:
            connected, why = False, str(error)
        else:
            why = "disconnected"
        if not connected:
            observer.fail(f"the glasses are no longer connected ({why})")
            return
        now = time.monotonic()
        if observer.last_item_s is None:
            if now - self.started_s > FIRST_DATA_S:
                observer.fail(f"nothing arrived within {FIRST_DATA_S:g} s of starting the stream")
        elif now - observer.last_item_s > STALL_S:
            observer.fail(f"nothing arrived for {STALL_S:g} s")

    def close(self) -> None:
        """Undo whatever was done, in reverse; each step may fail on a vanished device."""
        steps: list[Callable[[], object]] = []
        if self.streaming:
            steps.append(self.device.stop_streaming)
        if self.server is not None:
            steps += [self.server.stop, self.server.join]
        if self.client is not None and self.device is not None:
            steps.append(lambda: self.client.disconnect(self.device))
        for step in steps:
            try:
                step()
            except Exception:  # noqa: S110 (the device may already be gone; nothing left to undo)
                pass
        self.client = self.device = self.server = None
        self.streaming = False


def _sdk_decoder() -> Any:
    from aria.image_decoder import ImageDecoder

    return ImageDecoder()


def _sdk_adb() -> str:
    import importlib.util

    spec = importlib.util.find_spec("aria")
    adb = Path(spec.origin).parent / "tools" / "adb" if spec and spec.origin else None
    return str(adb) if adb is not None and adb.is_file() else ""
