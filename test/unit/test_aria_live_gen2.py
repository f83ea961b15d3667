"""Live Aria Gen 2 glasses (aria_live_gen2) through the real session code, fed by FakeGen2Glasses: the SDK's own
StreamDataInterface and replay of the real Gen 2 recording, with the device and its link stood in for.

Upright is judged as test_gen2 judges the recording: from the recording's own VIO gravity and calibration, the
quarter turn that makes gravity point down each raw image, and each live frame must be its raw image turned by
exactly that.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import numpy as np
import pytest
from fake_glasses import MARK, FakeGlasses
from fake_glasses_gen2 import GEN2_VRS, NO_DEVICE, FakeGen2Glasses, fake_sdk
from test_gen2 import LABELS, _device_time, gravity_in_device, provider, quarter_turns_down, vio_poses

from aria_nav_ros.core.cameras import ALL_CAMERAS, IMU_FRAME, optical_frame
from aria_nav_ros.core.hands import Hands
from aria_nav_ros.core.sources import Frame, ImuSample
from aria_nav_ros.core.sources import aria_live_gen2 as gen2
from aria_nav_ros.core.sources.aria_live import AriaLiveConfig, AriaLiveSource
from aria_nav_ros.core.sources.aria_live_gen2 import Gen2Session
from aria_nav_ros.core.sources.motion import Motion
from aria_nav_ros.core.sources.runner import SourceRunner

pytestmark = pytest.mark.skipif(
    not GEN2_VRS.is_file(), reason=f"the real Aria Gen 2 recording {GEN2_VRS} is absent (../shared): the fake plays it"
)
CONFIG = AriaLiveConfig()
FAILED = "the stream from the Aria Gen 2 glasses over USB failed: "


def wait_until(condition, timeout_s: float) -> bool:
    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def run_live(source: AriaLiveSource, done, timeout_s: float = 30.0) -> tuple[list, list[tuple[str, str]]]:
    """Run the source as the driver does (SourceRunner, reconnecting, 0.1 s backoff) until `done(items, log)`."""
    items: list = []
    log: list[tuple[str, str]] = []
    runner = SourceRunner(lambda: source, items.append, lambda level, m: log.append((level, m)), True, (0.1,))
    runner.start()
    try:
        assert wait_until(lambda: done(items, log), timeout_s), (Counter(map(kind, items)), log)
    finally:
        assert runner.stop(10)
    return items, log


def kind(item: object) -> str:
    return item.camera if isinstance(item, Frame) else type(item).__name__


def test_gen2_glasses_are_found_and_stream_all_five_cameras_upright_imu_and_the_head_motion() -> None:
    glasses = FakeGen2Glasses()
    FakeGlasses.sessions.clear()
    # As the helper tries the generations: Gen 2's SDK first; Gen 1's never opens when Gen 2 glasses answer.
    source = AriaLiveSource(CONFIG, sessions=(lambda: Gen2Session(CONFIG, fake_sdk(glasses)), FakeGlasses))
    items, log = run_live(source, lambda items, _: set(ALL_CAMERAS) <= set(map(kind, items)) and glasses.passes >= 1)
    assert not FakeGlasses.sessions and not log
    assert glasses.servers == [] and glasses.devices == []  # the stop stopped the receiver and disconnected

    # The calibration came with the stream: the real lenses and mounts of all five cameras and the IMU.
    assert set(source.calibration()) == set(ALL_CAMERAS) and source.calibration_problem == ""
    assert all(source.calibration()[c].model == "fisheye624" for c in ALL_CAMERAS)
    assert set(source.mounts()) == {*map(optical_frame, ALL_CAMERAS), IMU_FRAME}

    p = provider()
    calibration = p.get_device_calibration()
    poses = vio_poses(p)
    frames = {}
    for item in items:
        if isinstance(item, Frame):
            frames.setdefault(item.camera, item)
    for camera, label in LABELS.items():
        frame = frames[camera]
        assert frame.encoding == ("rgb8" if camera == "rgb" else "mono8")
        sensor = calibration.get_camera_calib(label)
        down = sensor.get_transform_device_camera().rotation().to_matrix().T @ gravity_in_device(
            poses, frame.device_time_ns
        )
        turns = quarter_turns_down(down)
        stream = p.get_stream_id_from_label(label)
        index = p.get_index_by_time_ns(stream, frame.device_time_ns, _device_time())
        raw, record = p.get_image_data_by_index(stream, index)
        assert record.capture_timestamp_ns == frame.device_time_ns, camera  # the same frame of the same sensor
        # The live frame is that raw image (decoded by the SDK's decoder) turned by exactly the gravity's turn.
        assert np.array_equal(frame.pixels, np.rot90(raw.to_numpy_array(), -turns)), camera
        assert frame.pixels.shape[:2] == tuple(int(v) for v in sensor.get_image_size())[::-1], camera

    # IMU: imu-right only, sample for sample as recorded; the head's motion: as the VRS source makes it.
    imu_right = p.get_stream_id_from_label("imu-right")
    recorded = {p.get_imu_data_by_index(imu_right, i).capture_timestamp_ns for i in range(p.get_num_data(imu_right))}
    imu = [i for i in items if isinstance(i, ImuSample)]
    assert imu and {s.device_time_ns for s in imu} <= recorded
    motions = [i for i in items if isinstance(i, Motion)]
    assert motions
    from aria_nav_ros.core.sources.vrs import VrsSource

    by_time = {m.device_time_ns: m for m in VrsSource(GEN2_VRS).items() if isinstance(m, Motion)}
    for motion in motions[:20]:
        expected = by_time[motion.device_time_ns]
        # The same pose and velocity (the SDK's delivery rounds in the 7th digit; a lever arm or frame mix-up is cm)
        assert np.allclose(motion.rotation, expected.rotation, atol=1e-6)
        assert np.allclose(motion.translation, expected.translation, atol=1e-6)
        assert np.allclose(motion.linear_velocity, expected.linear_velocity, atol=1e-5)
    # The device's hand tracking: each sample as the VRS source reads it (wrists and palms in the head frame).
    hands = [i for i in items if isinstance(i, Hands)]
    recorded_hands = {h.device_time_ns: h for h in VrsSource(GEN2_VRS).items() if isinstance(h, Hands)}
    assert hands and len(recorded_hands) == 9
    for sample in hands:
        assert np.allclose(sample.points, recorded_hands[sample.device_time_ns].points, atol=1e-6)


def test_without_gen2_glasses_gen1_glasses_are_served_by_gen1s_sdk() -> None:
    glasses = FakeGen2Glasses(present=False)
    FakeGlasses.sessions.clear()
    source = AriaLiveSource(CONFIG, sessions=(lambda: Gen2Session(CONFIG, fake_sdk(glasses)), FakeGlasses))
    items, log = run_live(source, lambda items, _: sum(kind(i) == "rgb" for i in items) >= 3)
    assert len(FakeGlasses.sessions) == 1 and not log
    rgb = next(i for i in items if kind(i) == "rgb")
    assert (rgb.pixels[:MARK, -MARK:] == 255).all()  # Gen 1's sideways sensor, turned clockwise as for Gen 1
    assert not any(isinstance(i, Motion) for i in items)


def test_no_glasses_of_either_generation_is_one_error_naming_both_sdks() -> None:
    glasses = FakeGen2Glasses(present=False)

    class NoGen1(FakeGlasses):
        def open(self) -> str:
            raise gen2.NoGlasses("Aria Gen 1: (-4) There are no devices connected over USB")

    source = AriaLiveSource(CONFIG, sessions=(lambda: Gen2Session(CONFIG, fake_sdk(glasses)), NoGen1))
    with pytest.raises(gen2.SourceError) as error:
        source.run(lambda item: None, threading.Event())
    assert str(error.value) == (
        f"no Aria glasses over USB found (Aria Gen 2: {NO_DEVICE}; Aria Gen 1: (-4) There are no devices connected"
        " over USB); check that they are on, plugged in (or on the same Wi-Fi) and paired with this computer"
    )


def test_gen2_glasses_dropping_off_mid_stream_are_said_and_reconnected() -> None:
    glasses = FakeGen2Glasses(fail_after_passes=1)
    source = AriaLiveSource(CONFIG, sessions=(lambda: Gen2Session(CONFIG, fake_sdk(glasses)),))
    after_failure: list = []

    def done(items: list, log: list) -> bool:
        if log and not after_failure:
            after_failure.append(len(items))  # items delivered before the failure was said
        return bool(after_failure) and sum(kind(i) == "rgb" for i in items[after_failure[0] :]) >= 2

    items, log = run_live(source, done, timeout_s=40)
    assert log[:2] == [("error", FAILED + "the glasses closed their stream connection"),
                       ("warning", "trying again in 0.1 s")]  # fmt: skip
    assert len(glasses.devices) == 0 and glasses.servers == []  # each session closed what it opened
    after = Counter(map(kind, items[after_failure[0] :]))
    assert after["rgb"] >= 2 and after["Motion"] > 0  # the reconnected session streams again


def test_gen2_glasses_that_go_silent_are_a_failure_and_reconnected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gen2, "STALL_S", 1.0)
    glasses = FakeGen2Glasses(freeze_after_passes=1)
    source = AriaLiveSource(CONFIG, sessions=(lambda: Gen2Session(CONFIG, fake_sdk(glasses)),))
    items, log = run_live(source, lambda items, log: len(log) >= 2 and glasses.passes >= 2, timeout_s=40)
    assert log[:2] == [("error", FAILED + "nothing arrived for 1 s"), ("warning", "trying again in 0.1 s")]


def test_nothing_is_emitted_once_the_session_has_ended() -> None:
    """The SDK's callback threads can deliver after the session closed; the driver may be gone by then."""
    from projectaria_tools.core.sensor_data import MotionData

    items: list = []
    observer = gen2.Gen2Observer(items.append, CONFIG.cameras, decoder=object())
    sample = MotionData()
    sample.capture_timestamp_ns = 5
    sample.accel_msec2, sample.gyro_radsec = [0.0, 0.0, -9.8], [0.0, 0.0, 0.0]
    observer.on_imu(sample, "imu-right")
    observer.on_imu(sample, "imu-left")  # the other IMU: left out
    observer.closed.set()
    observer.on_imu(sample, "imu-right")
    assert [i.device_time_ns for i in items] == [5]
