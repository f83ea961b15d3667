"""Stand-in for Aria glasses, the one boundary that cannot exist here.

It plays the part of the SDK's device session (open / stream / close) and
calls the observer exactly as aria.sdk's StreamingClient does, with the SDK's
own types: a numpy image and an ImageDataRecord per frame, lists of
MotionData for the IMU, and an ErrorCode on failure. Frames are sideways, as
the glasses' sensors deliver them; each carries a bright block in its top
left corner (the sensor's), so orientation can be checked downstream.
"""

from __future__ import annotations

import threading

import aria.sdk as sdk
import numpy as np
from projectaria_tools.core.sensor_data import ImageDataRecord, MotionData

from aria_nav_ros.core.sources.aria_live import AriaLiveConfig

RGB_SIDE = 1408
MARK = 64  # side of the bright block in the sensor's top-left corner


def sideways_rgb(index: int) -> np.ndarray:
    image = np.full((RGB_SIDE, RGB_SIDE, 3), index % 200, np.uint8)
    image[:MARK, :MARK] = 255
    return image


def sideways_slam(index: int) -> np.ndarray:
    image = np.full((480, 640), index % 200, np.uint8)
    image[:MARK, :MARK] = 255
    return image


class FakeGlasses:
    """One session. `fail_after`: frames before the stream fails (None: never)."""

    sessions: list[FakeGlasses] = []

    def __init__(self, fail_after: int | None = None, fps: float = 20.0) -> None:
        self.config = AriaLiveConfig()
        self.fail_after = fail_after
        self.period_s = 1.0 / fps
        self.closed = threading.Event()
        self.opened = False
        self._thread: threading.Thread | None = None
        FakeGlasses.sessions.append(self)

    def open(self) -> str:
        self.opened = True
        return ""  # no factory calibration: the driver falls back to nominal intrinsics

    def stream(self, observer) -> None:
        self._thread = threading.Thread(target=self._play, args=(observer,), daemon=True)
        self._thread.start()

    def _play(self, observer) -> None:
        index = 0
        device_ns = 1_000_000_000 * (len(FakeGlasses.sessions))  # each session's clock starts anew
        while not self.closed.wait(self.period_s):
            device_ns += int(self.period_s * 1e9)
            for camera_id, image in (
                (sdk.CameraId.Rgb, sideways_rgb(index)),
                (sdk.CameraId.Slam1, sideways_slam(index)),
                (sdk.CameraId.Slam2, sideways_slam(index)),
            ):
                record = ImageDataRecord()
                record.camera_id = camera_id
                record.capture_timestamp_ns = device_ns
                record.frame_number = index
                observer.on_image_received(image, record)
            samples = []
            for k in range(4):
                sample = MotionData()
                sample.capture_timestamp_ns = device_ns - (3 - k) * 1_000_000
                sample.accel_valid = sample.gyro_valid = True
                sample.accel_msec2 = [0.1, -9.81, 0.2]
                sample.gyro_radsec = [0.01, 0.02, 0.03]
                samples.append(sample)
            observer.on_imu_received(samples, 0)
            observer.on_imu_received(samples, 1)  # the second IMU: the driver keeps one
            index += 1
            if self.fail_after is not None and index >= self.fail_after:
                observer.on_streaming_client_failure(sdk.ErrorCode.ConnectionLost, "USB cable pulled")
                return

    def close(self) -> None:
        self.closed.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2)
