"""Stand-in for Aria Gen 2 glasses, built to aria.sdk_gen2's .pyi: the device and the link are what cannot exist here.

`fake_sdk(glasses)` is the aria.sdk_gen2 module as a session sees it: the SDK's own classes for everything that is
data or configuration (DeviceClientConfig, DeviceTarget, HttpServerConfig, HttpStreamingConfig, StreamingInterface,
StreamDataInterface), and stand-ins for DeviceClient, Device and AriaGen2HttpServer. As real glasses do once
started, the stand-in connects to the receiver: it asks the server's handler factory for the connection's
StreamDataInterface, and what arrives there is a real Gen 2 recording (../shared/data/aria/gen2_unit_test.vrs)
played by the SDK's own `create_replay_source` into that interface, over and over while streaming: encoded H.265
frames with their ImageDataRecords (camera_id one bit per sensor), MotionData per IMU sample, the VIO's
OpenLoopTrajectoryPose and the DeviceCalibration, through the SDK's own queues and callback threads.

`FakeGen2Glasses(fail_after_passes=N)`: the glasses drop off the link (the USB cable pulled) after N passes:
streaming ends, the receiver loses the connection and the client the device; `freeze_after_passes=N`: they stay
connected and streaming but send nothing more (once). `present=False`: none plugged in.
"""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aria.sdk_gen2 as sdk_gen2

GEN2_VRS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "aria" / "gen2_unit_test.vrs"
NO_DEVICE = "(-4) No devices found. Check USB connection and USB networking."  # the real SDK's, without glasses
SERIAL = "1M0YDB5H7B0020"
KEPT: list[Any] = []  # every replay made (see FakeDevice._push)


class FakeGen2Glasses:
    """The physical glasses: plugged in or not, and when they drop off the link or go silent."""

    def __init__(
        self, present: bool = True, fail_after_passes: int | None = None, freeze_after_passes: int | None = None
    ) -> None:
        self.present = present
        self.fail_after_passes = fail_after_passes
        self.freeze_after_passes = freeze_after_passes
        self.connected = False
        self.passes = 0  # whole plays of the recording into the receiver
        self.servers: list[FakeHttpServer] = []  # receivers running on this computer, newest last
        self.devices: list[FakeDevice] = []  # connected device handles

    def pull_cable(self) -> None:
        self.connected = False
        for server in self.servers:
            server.drop()


class FakeDevice:
    """aria.sdk_gen2.Device: the calls a streaming session makes."""

    def __init__(self, glasses: FakeGen2Glasses) -> None:
        self.glasses = glasses
        self.config: Any = None
        self.streaming = threading.Event()
        self._thread: threading.Thread | None = None

    def serial(self) -> str:
        return SERIAL

    def set_streaming_config(self, streaming_config: Any) -> None:
        assert isinstance(streaming_config, sdk_gen2.HttpStreamingConfig)
        self.config = streaming_config

    def start_streaming(self, record: bool = False) -> None:
        if not self.glasses.connected:
            raise RuntimeError("(-1) device disconnected")
        if self.config is None:
            raise RuntimeError("(-1) no streaming config")
        if not self.glasses.servers:
            raise RuntimeError("(-1) no receiver to stream to")
        self.streaming.set()
        self._thread = threading.Thread(target=self._push, args=(self.glasses.servers[-1],), daemon=True)
        self._thread.start()

    def _push(self, server: FakeHttpServer) -> None:
        """Connect to the receiver and play the recording into the connection's interface until stopped."""
        data = server.accept(SERIAL)
        while self.streaming.is_set() and self.glasses.connected:
            replay_config = sdk_gen2.ReplaySourceConfig()
            replay_config.filename = str(GEN2_VRS)
            replay_config.speed_multiplier = 1.0
            replay = sdk_gen2.create_replay_source(replay_config, data)
            # Never freed while this process runs: freeing a replay joins the SDK's callback threads with the GIL
            # held, and one of them waiting for the GIL to deliver a frame then never ends (seen: a hang).
            KEPT.append(replay)
            while not replay.is_finished():
                if not (self.streaming.is_set() and self.glasses.connected):
                    replay.stop()
                time.sleep(0.02)
            self.glasses.passes += 1
            if self.glasses.fail_after_passes is not None and self.glasses.passes >= self.glasses.fail_after_passes:
                self.glasses.fail_after_passes = None  # plugged back in: the next connection streams on
                self.glasses.pull_cable()
            if self.glasses.freeze_after_passes is not None and self.glasses.passes >= self.glasses.freeze_after_passes:
                self.glasses.freeze_after_passes = None  # the next connection streams on
                while self.streaming.is_set():  # connected and streaming, yet nothing is sent
                    time.sleep(0.02)

    def is_streaming(self) -> bool:
        return self.streaming.is_set()

    def stop_streaming(self) -> None:
        if not self.glasses.connected:
            raise RuntimeError("(-1) device disconnected")
        self.streaming.clear()
        if self._thread is not None:
            self._thread.join(5)


class FakeDeviceClient:
    """aria.sdk_gen2.DeviceClient: connect / is_connected / disconnect."""

    def __init__(self, glasses: FakeGen2Glasses) -> None:
        self.glasses = glasses
        self.config: Any = None

    def set_client_config(self, config: Any) -> None:
        assert isinstance(config, sdk_gen2.DeviceClientConfig)
        self.config = config

    def connect(self, target: Any = None) -> FakeDevice:
        assert target is None or isinstance(target, sdk_gen2.DeviceTarget)
        if not self.glasses.present:
            raise RuntimeError(NO_DEVICE)
        if target is not None and target.serial and target.serial != SERIAL:
            raise RuntimeError(f"(-1) device '{target.serial}' not found")
        self.glasses.connected = True
        device = FakeDevice(self.glasses)
        self.glasses.devices.append(device)
        return device

    def is_connected(self, device: FakeDevice) -> bool:
        return self.glasses.connected and device in self.glasses.devices

    def disconnect(self, device: FakeDevice) -> None:
        if device in self.glasses.devices:
            self.glasses.devices.remove(device)


class FakeHttpServer:
    """aria.sdk_gen2.AriaGen2HttpServer: the receiver; its handler factory is called once per connection."""

    _ids = itertools.count(1)

    def __init__(self, config: Any, handler: Any, time_sync_ref: Any = None, *, glasses: FakeGen2Glasses) -> None:
        assert isinstance(config, sdk_gen2.HttpServerConfig)
        self.config = config
        self.handler = handler
        self.glasses = glasses
        self.stopped = threading.Event()
        self._connections: list[dict[str, str]] = []
        glasses.servers.append(self)

    def accept(self, serial: str) -> Any:
        data = self.handler()
        assert isinstance(data, sdk_gen2.StreamDataInterface), type(data)
        self._connections = [{"device_serial": serial, "connection_id": str(next(self._ids)), "client_ip": "fake"}]
        return data

    def drop(self) -> None:
        self._connections = []

    def connections(self) -> list[dict[str, str]]:
        return list(self._connections)

    def stop(self) -> None:
        self.stopped.set()
        self._connections = []
        if self in self.glasses.servers:
            self.glasses.servers.remove(self)

    def join(self) -> None:
        self.stopped.wait()


def fake_sdk(glasses: FakeGen2Glasses) -> SimpleNamespace:
    """aria.sdk_gen2 as a session uses it, with the device and the receiver stood in for."""
    return SimpleNamespace(
        DeviceClient=lambda: FakeDeviceClient(glasses),
        AriaGen2HttpServer=lambda config, handler, time_sync_ref=None: FakeHttpServer(
            config, handler, time_sync_ref, glasses=glasses
        ),
        DeviceClientConfig=sdk_gen2.DeviceClientConfig,
        DeviceTarget=sdk_gen2.DeviceTarget,
        HttpServerConfig=sdk_gen2.HttpServerConfig,
        HttpStreamingConfig=sdk_gen2.HttpStreamingConfig,
        StreamingInterface=sdk_gen2.StreamingInterface,
        StreamDataInterface=sdk_gen2.StreamDataInterface,
    )
