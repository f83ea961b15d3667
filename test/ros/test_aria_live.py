"""Live glasses: the observer with the SDK's own types, failures mid-stream, and no glasses at all."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import aria.sdk as sdk
import numpy as np
from fake_glasses import MARK, FakeGlasses, sideways_rgb, sideways_slam
from locations import HELPERS
from projectaria_tools.core.sensor_data import ImageDataRecord, MotionData

from aria_nav_ros.core.sources import Frame, ImuSample, SourceError
from aria_nav_ros.core.sources.aria_live import (
    AriaLiveConfig,
    AriaLiveSource,
    AriaObserver,
    adb_server_running,
)
from aria_nav_ros.core.sources.runner import SourceRunner


def test_observer_turns_every_camera_upright_and_keeps_the_imu() -> None:
    items: list = []
    observer = AriaObserver(items.append)
    for camera_id, image in ((sdk.CameraId.Rgb, sideways_rgb(3)), (sdk.CameraId.Slam2, sideways_slam(3))):
        record = ImageDataRecord()
        record.camera_id = camera_id
        record.capture_timestamp_ns = 42_000
        observer.on_image_received(image, record)
    sample = MotionData()
    sample.capture_timestamp_ns = 41_000
    sample.accel_msec2 = [0.5, -9.8, 0.25]
    sample.gyro_radsec = [0.125, 0.0, -0.5]
    observer.on_imu_received([sample], 0)
    observer.on_imu_received([sample], 1)

    rgb, slam, imu = items
    assert isinstance(rgb, Frame) and rgb.camera == "rgb" and rgb.encoding == "rgb8"
    assert rgb.device_time_ns == 42_000
    # The sensor's top-left block is at the top right once the image is turned clockwise.
    assert (rgb.pixels[:MARK, -MARK:] == 255).all()
    assert (rgb.pixels[:MARK, :MARK] == 3).all()
    assert slam.camera == "slam_right" and slam.encoding == "mono8" and slam.pixels.shape == (640, 480)
    assert (slam.pixels[:MARK, -MARK:] == 255).all()  # the SLAM cameras are mounted sideways too: turned the same
    assert isinstance(imu, ImuSample) and imu.device_time_ns == 41_000
    assert imu.accel == (0.5, np.float32(-9.8), 0.25) and imu.gyro == (0.125, 0.0, -0.5)
    assert len(items) == 3  # the second IMU is left out


def test_observer_records_a_stream_failure() -> None:
    observer = AriaObserver(lambda item: None)
    observer.on_streaming_client_failure(sdk.ErrorCode.ConnectionLost, "cable pulled")
    assert observer.failed.is_set()
    assert observer.failure == "ConnectionLost: cable pulled"


def test_stream_failure_mid_run_is_logged_and_reconnected() -> None:
    FakeGlasses.sessions.clear()
    sessions = iter([FakeGlasses(fail_after=5), FakeGlasses()])
    source = AriaLiveSource(AriaLiveConfig(), session_factory=lambda: next(sessions))
    frames: list = []
    log: list[tuple[str, str]] = []
    runner = SourceRunner(lambda: source, frames.append, lambda lvl, m: log.append((lvl, m)), True, (0.1,))
    runner.start()
    end = time.monotonic() + 20
    while time.monotonic() < end and sum(isinstance(f, Frame) and f.camera == "rgb" for f in frames) < 10:
        time.sleep(0.05)
    assert runner.stop(5)
    first, second = FakeGlasses.sessions
    assert first.closed.is_set() and second.closed.is_set()  # each session was cleanly closed
    failure = "the stream from the Aria glasses over USB failed: ConnectionLost: USB cable pulled"
    assert ("error", failure) in log
    assert ("warning", "trying again in 0.1 s") in log
    assert sum(isinstance(f, Frame) and f.camera == "rgb" for f in frames) >= 10  # frames flowed again


def test_no_glasses_is_a_clear_error_within_seconds_and_leaves_no_adb(usb_search) -> None:
    adb_before = adb_server_running()
    source = AriaLiveSource(AriaLiveConfig())
    stop = threading.Event()
    start = time.monotonic()
    try:
        source.run(lambda item: None, stop)
        raise AssertionError("run() returned without glasses")
    except SourceError as error:
        message = str(error)
    elapsed = time.monotonic() - start
    assert "no Aria glasses over USB found" in message and "plugged in" in message
    # Both generations' SDKs were asked (the generation comes from the device): each one's own answer is said.
    assert "(Aria Gen 2: (-4) No devices found" in message and "; Aria Gen 1: (-4) " in message, message
    assert elapsed < 20
    assert adb_server_running() == adb_before


def test_sdk_and_rclpy_load_side_by_side(ros_env) -> None:
    """The finding behind the helper process: they coexist as far as can be checked without glasses."""
    peer = HELPERS / "sdk_coexistence_peer.py"
    result = subprocess.run([sys.executable, str(peer)], env=ros_env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "received 20" in result.stdout


def test_a_calibration_that_cannot_be_read_is_said_and_nominal_intrinsics_are_used() -> None:
    source = AriaLiveSource(AriaLiveConfig())
    source._set_calibration('{"not": "an Aria calibration"')
    assert source.calibration() == {}
    assert "calibration cannot be read" in source.calibration_problem and "nominal" in source.calibration_problem
    source._set_calibration("")
    assert source.calibration_problem == "the glasses sent no calibration: nominal intrinsics and mounting are used"
