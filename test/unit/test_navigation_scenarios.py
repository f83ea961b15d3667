"""Timed synthetic detection sequences through the navigation policy, and the sound it makes."""

from __future__ import annotations

import math
import wave
from collections.abc import Callable

import numpy as np
import pytest

from aria_nav_ros.core.detection import DISTANCE_CLASS_SIZE, Detection
from aria_nav_ros.core.navigation.audio import AudioPlayer, WavSink, earcon, pan_gains, render
from aria_nav_ros.core.navigation.config import NavigationConfig
from aria_nav_ros.core.navigation.policy import (
    CRITICAL,
    INFO,
    KIND_HAZARD,
    KIND_SYSTEM,
    WARNING,
    Cue,
    NavigationPolicy,
)

CONFIG = NavigationConfig.load()
EARCON = CONFIG["earcon"]
STEP = 0.1  # 10 Hz cameras


def det(name: str, distance: float, bearing: float) -> Detection:
    return Detection(0, name, 0.9, (0.0, 0.0, 1.0, 1.0), distance, DISTANCE_CLASS_SIZE, bearing)


def hazards(cues: list[Cue]) -> list[Cue]:
    return [c for c in cues if c.kind == KIND_HAZARD]


def standing(policy: NavigationPolicy, until: float) -> None:
    for i in range(int(until / 0.01)):
        policy.on_imu(i * 0.01, (0.0, 9.81 + 0.01 * math.sin(i), 0.0))


def test_person_walking_towards_the_wearer_escalates_to_critical_on_the_first_frame_past_it() -> None:
    policy = NavigationPolicy(CONFIG, "en")
    cues, frames = [], []
    for i in range(51):  # 6 m to 1 m straight ahead at 1 m/s
        t, d = i * STEP, round(6.0 - i * STEP, 6)
        frames.append((t, d))
        cues += hazards(policy.on_detections(t, "rgb", [det("Normal", d, 2.0)]))
    urgencies = [c.urgency for c in cues]
    assert urgencies == sorted(urgencies) and set(urgencies) == {INFO, WARNING, CRITICAL}
    assert urgencies.count(CRITICAL) == 1
    first_past = next(t for t, d in frames if d <= CONFIG.tier_distances("person")["critical"])
    critical = next(c for c in cues if c.urgency == CRITICAL)
    # Time to contact (1.5 s at 1 m/s) and the 1.5 m line coincide here: critical on that very frame.
    assert critical.time == pytest.approx(first_past, abs=1e-9)
    assert critical.text == "Careful! Person ahead, one and a half meters"
    assert cues[0].text == "Person ahead, six meters" and cues[0].zone == "ahead"


def test_spanish_phrases() -> None:
    policy = NavigationPolicy(CONFIG, "es")
    [cue] = hazards(policy.on_detections(0.0, "rgb", [det("person", 2.0, 0.0)]))
    assert cue.text == "Persona delante, a dos metros"
    [cue] = hazards(NavigationPolicy(CONFIG, "es").on_detections(0.0, "rgb", [det("car", 7.6, -50.0)]))
    assert cue.text == "Coche a la izquierda, a ocho metros"


def test_car_passing_on_the_left_is_said_left_and_sounds_left() -> None:
    policy = NavigationPolicy(CONFIG, "en")
    cues = []
    for i in range(40):  # a car on the left, 12 m closing to 4 m, seen by the left SLAM camera
        cues += hazards(policy.on_detections(i * STEP, "slam_left", [det("car", 12.0 - i * 0.2, -65.0)]))
    assert cues and all(c.zone == "left" for c in cues)
    assert any(c.urgency >= WARNING for c in cues)
    assert cues[0].cameras == ("slam_left",)
    sound = earcon(cues[-1], EARCON)
    left, right = (float(np.sum(sound[:, k] ** 2)) for k in (0, 1))
    assert left > 5 * right > 0


def test_earcon_pans_with_equal_power_and_grows_louder_nearer() -> None:
    for bearing in (-90.0, -30.0, 0.0, 45.0, 90.0):
        left, right = pan_gains(bearing)
        assert left**2 + right**2 == pytest.approx(1.0)
    policy = NavigationPolicy(CONFIG, "en")
    [far] = hazards(policy.on_detections(0.0, "rgb", [det("person", 5.0, 0.0)]))
    [near] = hazards(NavigationPolicy(CONFIG, "en").on_detections(0.0, "rgb", [det("person", 1.0, 0.0)]))
    far_sound, near_sound = earcon(far, EARCON), earcon(near, EARCON)
    assert np.abs(near_sound).max() > 3 * np.abs(far_sound).max()
    assert len(near_sound) > len(far_sound)  # more pulses when nearer
    left, right = (float(np.sum(near_sound[:, k] ** 2)) for k in (0, 1))
    assert left == pytest.approx(right, rel=1e-3)  # ahead: centred


def test_critical_earcon_is_distinct() -> None:
    [critical] = hazards(NavigationPolicy(CONFIG, "en").on_detections(0.0, "rgb", [det("person", 1.0, 0.0)]))
    assert critical.urgency == CRITICAL
    sound = earcon(critical, EARCON)[:, 0]
    spectrum = np.abs(np.fft.rfft(sound))
    freqs = np.fft.rfftfreq(len(sound), 1 / EARCON["sample_rate"])
    peaks = {round(freqs[i]) for i in np.argsort(spectrum)[-40:]}
    base = EARCON["frequency_hz"]["critical"]
    assert any(abs(f - base) < 15 for f in peaks) and any(abs(f - 1.5 * base) < 15 for f in peaks)


def test_chair_standing_still_ahead_while_standing_is_said_once_then_silence() -> None:
    policy = NavigationPolicy(CONFIG, "en")
    standing(policy, 20.0)
    assert not policy.motion.walking
    cues = []
    for i in range(200):  # 20 s
        cues += hazards(policy.on_detections(i * STEP, "rgb", [det("chair", 5.0, 3.0)]))
    assert len(cues) == 1
    assert (cues[0].urgency, cues[0].text) == (INFO, "Chair ahead, five meters")
    interval = CONFIG["habituation"]["first_repeat_s"] * CONFIG["motion"]["standing_info_cooldown_factor"]
    assert interval > 20.0  # the whole 20 s lie inside its first repeat interval


def test_ten_objects_at_once_one_cue_per_cooldown_most_urgent_first() -> None:
    policy = NavigationPolicy(CONFIG, "en")
    scene = [det("person", 4.0 + i, -80 + 16 * i) for i in range(8)]
    scene += [det("car", 3.0, 70.0), det("person", 1.2, -5.0)]  # the car is critical too; the person is nearer
    cues = []
    for i in range(100):
        cues += hazards(policy.on_detections(i * STEP, "rgb", scene))
    assert cues[0].urgency == CRITICAL and cues[0].class_name == "person" and cues[0].distance_m == 1.2
    # The car is critical too: said at once, after the person's cue (queued behind it, not cutting it).
    assert [c.urgency for c in cues[:2]] == [CRITICAL, CRITICAL] and cues[1].class_name == "car"
    assert cues[0].interrupts and not cues[1].interrupts and cues[1].time - cues[0].time < CONFIG["cooldown"]["global"]
    for a, b in zip(cues, cues[1:], strict=False):  # one cue per cooldown, but for a more urgent one
        more_urgent = b.urgency > a.urgency or (a.urgency == b.urgency == CRITICAL and a.track_ids != b.track_ids)
        assert more_urgent or b.time - a.time >= CONFIG["cooldown"]["global"] - 1e-9, (a, b)


def test_detection_flickering_at_a_threshold_does_not_flip_flop() -> None:
    policy = NavigationPolicy(CONFIG, "en")
    warning_line = CONFIG.tier_distances("person")["warning"]
    cues = []
    for i in range(100):  # 10 s, every other frame just over the line
        distance = warning_line - 0.05 if i % 2 == 0 else warning_line + 0.05
        cues += hazards(policy.on_detections(i * STEP, "rgb", [det("person", distance, 0.0)]))
    assert [c.urgency for c in cues] == [WARNING] * len(cues)
    assert 1 <= len(cues) <= 2  # the first, and at most one reminder after its cooldown


def test_a_slam_camera_going_quiet_is_said_once_and_its_return_once() -> None:
    policy = NavigationPolicy(CONFIG, "en")
    cues = []
    for i in range(100):
        t = i * STEP
        for camera in ("rgb", "slam_left", "slam_right"):
            if camera == "slam_left" and 3.0 <= t < 6.0:
                continue  # unplugged for three seconds
            cues += policy.on_detections(t, camera, [])
        cues += policy.tick(t)
    system = [c for c in cues if c.kind == KIND_SYSTEM]
    assert [c.text for c in system] == ["System ready", "Left camera lost", "Left camera back"]
    _, lost, back = system
    assert 3.9 <= lost.time <= 4.2  # one second without a result
    assert back.time == pytest.approx(6.0 + CONFIG["camera_back_after"])


def test_rendered_cue_holds_speech() -> None:
    [cue] = hazards(NavigationPolicy(CONFIG, "en").on_detections(0.0, "rgb", [det("person", 2.0, 30.0)]))
    with_speech = render(cue, "en", EARCON, speak=True)
    without = render(cue, "en", EARCON, speak=False)
    speech_part = with_speech[len(without) :]
    assert len(speech_part) > 0.5 * EARCON["sample_rate"]  # at least half a second of words
    rms = float(np.sqrt(np.mean(speech_part**2)))
    assert rms > 0.02
    left, right = (float(np.sum(speech_part[:, k] ** 2)) for k in (0, 1))
    assert left == pytest.approx(right)  # speech is centred; the earcon carries the direction


def run_cameras(policy: NavigationPolicy, seconds: float, quiet: Callable[[float, str], bool],
                frames: Callable[[float], bool]) -> list[Cue]:  # fmt: skip
    """10 Hz results from three cameras (arrival = stamp), except where `quiet`; frames arrive where `frames`."""
    cues = []
    for i in range(int(seconds / STEP)):
        t = i * STEP
        if frames(t):
            policy.on_frame(t)
        for camera in ("rgb", "slam_left", "slam_right"):
            if not quiet(t, camera):
                cues += policy.on_detections(t, camera, [det("person", 2.5, 0.0)] if camera == "rgb" else [])
        cues += policy.tick(t + 0.05)
    return cues


def test_glasses_unplugged_is_one_cue_within_two_seconds_and_one_when_they_return() -> None:
    policy = NavigationPolicy(CONFIG, "en")
    cues = run_cameras(policy, 10.0, lambda t, _: 3.0 <= t < 6.0, lambda t: not 3.0 <= t < 6.0)
    system = [c for c in cues if c.kind == KIND_SYSTEM]
    assert [c.text for c in system] == ["System ready", "Cameras lost", "Cameras back"]
    assert 3.0 < system[1].time - 0.1 <= 3.0 + CONFIG["watchdog_timeout"] + 0.15  # last result at 2.9 s
    assert system[2].time == pytest.approx(6.0 + CONFIG["camera_back_after"])
    assert [c for c in hazards(cues) if c.time >= 6.0]  # hazard cues resume by themselves


def test_perception_stopped_while_frames_flow_is_system_paused_then_back_in_spanish() -> None:
    policy = NavigationPolicy(CONFIG, "es")
    cues = run_cameras(policy, 10.0, lambda t, _: 3.0 <= t < 6.0, lambda t: True)
    assert [c.text for c in cues if c.kind == KIND_SYSTEM] == ["Sistema listo", "Sistema en pausa", "Sistema activo"]


def test_a_stutter_shorter_than_the_watchdog_says_nothing() -> None:
    policy = NavigationPolicy(CONFIG, "en")
    cues = run_cameras(policy, 10.0, lambda t, _: 3.0 <= t < 3.8, lambda t: True)
    assert [c.text for c in cues if c.kind == KIND_SYSTEM] == ["System ready"]


def test_a_camera_that_never_delivers_is_said_lost_after_the_start_timeout() -> None:
    policy = NavigationPolicy(CONFIG, "en")
    policy.start(0.0, ["rgb", "slam_left", "slam_right"])
    seconds = CONFIG["start_timeout"] + 3.0
    cues = run_cameras(policy, seconds, lambda t, camera: camera == "rgb", lambda t: True)
    system = [c for c in cues if c.kind == KIND_SYSTEM]
    assert [c.text for c in system] == ["System ready", "Front camera lost"]
    assert system[1].time == pytest.approx(CONFIG["start_timeout"], abs=0.2)


def test_nothing_ever_delivered_is_said_once_after_the_start_timeout() -> None:
    policy = NavigationPolicy(CONFIG, "en")
    policy.start(0.0, ["rgb", "slam_left", "slam_right"])
    cues = run_cameras(policy, CONFIG["start_timeout"] + 5.0, lambda t, _: True, lambda t: True)
    assert [c.text for c in cues] == ["System paused"]


class _UnpluggedDevice:
    """Shaped like DeviceSink: its first cue plays, then the device is gone (headphones pulled out)."""

    def __init__(self) -> None:
        self.played = 0

    def play(self, samples: np.ndarray, at_s: float, interrupt: bool) -> None:
        if self.played:
            raise OSError("PortAudio: Device unavailable")
        self.played += 1

    def close(self) -> None:
        raise OSError("PortAudio: Device unavailable")


def test_a_sound_device_that_fails_hands_over_to_the_wav_file_and_says_so(tmp_path) -> None:
    device, errors, wav = _UnpluggedDevice(), [], tmp_path / "after.wav"
    player = AudioPlayer(device, "en", EARCON, on_error=errors.append, fallback=lambda: WavSink(wav, 22050))
    policy = NavigationPolicy(CONFIG, "en")
    for i, distance in enumerate((5.0, 2.5, 1.0)):  # three cues: the second finds the device gone
        for cue in hazards(policy.on_detections(i * 10.0, "rgb", [det("person", distance, 0.0)])):
            player.say(cue)
        assert player.played(10.0)  # one by one (close() would drop what still waits)
    player.close()
    assert device.played == 1
    assert len(errors) == 1 and "Device unavailable" in errors[0] and str(wav) in errors[0]
    with wave.open(str(wav)) as w:
        audio = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    assert int(np.abs(audio).max()) > 1000 and len(audio) / 2 > 10.0 * 22050  # both later cues, 10 s apart


def test_glasses_unplugged_are_said_lost_when_results_come_less_often_than_frames() -> None:
    """With detect_rate (or a slow CPU) the last result comes before the last frame: still "Cameras lost"."""
    policy = NavigationPolicy(CONFIG, "en")
    cues = []
    for i in range(100):  # frames at 10 Hz until 3.0 s, then 3 s of nothing; a result every 0.4 s
        t = i * STEP
        if not 3.0 <= t < 6.0:
            policy.on_frame(t)
            if i % 4 == 0:
                cues += policy.on_detections(t, "rgb", [])
        cues += policy.tick(t + 0.05)
    assert [c.text for c in cues if c.kind == KIND_SYSTEM][:2] == ["System ready", "Cameras lost"]


@pytest.mark.parametrize("named", [True, False], ids=["frames_of_each_camera", "frames_unnamed"])
def test_frozen_glasses_are_one_cue_though_a_slow_camera_finishes_its_last_frames_later(named: bool) -> None:
    """The frames stop at 3 s; the SLAM results too, the RGB results 0.6 s later (a slow detector's backlog):
    no camera is said lost alone, once for the stall, as the fault drill's frozen driver wants it."""
    policy = NavigationPolicy(CONFIG, "en")
    cues = []
    for i in range(100):
        t = i * STEP
        if not 3.0 <= t < 6.0:
            for camera in ("rgb", "slam_left", "slam_right") if named else ("",):
                policy.on_frame(t, camera)
        for camera in ("rgb", "slam_left", "slam_right"):
            if not (3.0 <= t < 6.0 and (camera != "rgb" or t >= 3.6)):
                cues += policy.on_detections(t, camera, [])
        cues += policy.tick(t + 0.05)
    assert system_texts(cues) == ["System ready", "Cameras lost", "Cameras back"]


def test_a_camera_unplugged_is_said_lost_though_the_camera_still_delivering_has_no_camera_info() -> None:
    """Its own frames stopping is no freeze of the others: the RGB camera's frames and results stop at 3 s,
    the SLAM camera (no CameraInfo, say a detector of another package) delivers on."""
    policy = NavigationPolicy(CONFIG, "en")
    cues = []
    for i in range(60):
        t = i * STEP
        if t < 3.0:
            policy.on_frame(t, "rgb")
            cues += policy.on_detections(t, "rgb", [])
        cues += policy.on_detections(t, "slam_left", [])
        cues += policy.tick(t + 0.05)
    system = [c for c in cues if c.kind == KIND_SYSTEM]
    assert [c.text for c in system] == ["System ready", "Front camera lost"]
    assert system[1].time <= 3.0 + CONFIG["camera_timeout"] + 0.2


def system_texts(cues: list[Cue]) -> list[str]:
    return [c.text for c in cues if c.kind == KIND_SYSTEM]


def run_paced(policy: NavigationPolicy, stop_at: float, gaps: Callable[[int], float], frames_each: float,
              frames_go_on: bool = False) -> list[Cue]:  # fmt: skip
    """Frames every `frames_each` s; results of all three cameras after gaps(i) s, until `stop_at`; then 15 s
    more, with frames (`frames_go_on`: perception stopped) or without (the cameras stopped)."""
    cues, t, i, next_frame = [], 0.0, 0, 0.0
    clock = 0.0
    while clock < stop_at + 15.0:
        if clock >= next_frame and (clock < stop_at or frames_go_on):
            for camera in ("rgb", "slam_left", "slam_right"):
                policy.on_frame(clock, camera)
            next_frame += frames_each
        if clock >= t and clock < stop_at:
            for camera in ("rgb", "slam_left", "slam_right"):
                cues += policy.on_detections(clock, camera, [])
            t, i = t + gaps(i), i + 1
        cues += policy.tick(clock)
        clock = round(clock + 0.05, 6)
    return cues


def test_slow_photos_are_not_lost_between_photos_and_a_real_stop_is_still_said() -> None:
    """The 1 s floors would flap on a 1.4 s pace: the timeouts follow the pace (3 x its p95), no further."""
    policy = NavigationPolicy(CONFIG, "en")
    cues = run_paced(policy, 28.0, lambda i: (1.4, 1.3, 1.5)[i % 3], frames_each=1.4)
    assert system_texts(cues) == ["System ready", "Cameras lost"]
    last_result = 27.9  # results at 0, 1.4, 2.7, 4.2, ... (4.2 s per three), the last before 28 s
    lost = next(c for c in cues if c.text == "Cameras lost").time - last_result
    assert CONFIG["watchdog_timeout"] < lost <= CONFIG["liveness"]["factor"] * 1.5 + 0.1, lost


def test_a_slow_machine_whose_results_come_every_one_to_two_seconds_never_pauses() -> None:
    policy = NavigationPolicy(CONFIG, "en")
    cues = run_paced(policy, 120.0, lambda i: (1.0, 1.9, 1.4, 1.7, 1.2)[i % 5], frames_each=0.1, frames_go_on=True)
    system = system_texts(cues)
    assert system == ["System ready", "System paused"], system  # the one pause: the pipeline's real stop
    paused = next(c for c in cues if c.text == "System paused")
    assert paused.time - 119.0 <= CONFIG["liveness"]["ceiling"]


def test_a_stall_does_not_make_the_next_one_slower_to_notice() -> None:
    """Gaps that ended a loss are not the stream's pace: after a 5 s stall, the next is said as fast."""
    policy = NavigationPolicy(CONFIG, "en")
    stalls = lambda t, _: 3.0 <= t < 8.0 or 12.0 <= t < 16.0  # noqa: E731
    cues = run_cameras(policy, 16.0, stalls, lambda t: True)
    paused = [c.time for c in cues if c.text == "System paused"]
    assert system_texts(cues) == ["System ready", "System paused", "System back", "System paused"]
    assert paused[1] - 11.9 == pytest.approx(paused[0] - 2.9, abs=0.11)


def test_the_end_of_a_replay_is_said_as_such_and_nothing_is_lost_after_it() -> None:
    policy = NavigationPolicy(CONFIG, "en")
    cues = run_cameras(policy, 3.0, lambda t, _: False, lambda t: True)
    cues += policy.on_event(3.0, "recording_ended")
    for i in range(200):  # 20 s of silence after the end
        cues += policy.tick(3.0 + i * STEP)
    assert system_texts(cues) == ["System ready", "Recording ended"]
    # The replay starts over (a new pass): frames and results are watched again, a stop is said again.
    policy.on_frame(25.0, "rgb")
    cues = policy.on_detections(25.0, "rgb", []) + [c for i in range(40) for c in policy.tick(25.0 + i * STEP)]
    assert system_texts(cues) == ["Cameras lost"]


def test_the_end_of_a_replay_can_be_silent_and_a_stopped_recorder_is_said() -> None:
    policy = NavigationPolicy(NavigationConfig({**CONFIG.raw, "say_recording_ended": False}), "es")
    assert policy.on_event(1.0, "recording_ended") == []
    assert [c.text for c in policy.on_event(2.0, "recording_stopped")] == ["Grabación detenida"]
    assert policy.stopping(3.0).text == "Navegación detenida"


def test_a_camera_whose_perception_cannot_work_is_said_at_once_then_not_again_and_back_when_it_delivers() -> None:
    policy = NavigationPolicy(CONFIG, "en")
    hold = CONFIG["camera_failure_hold_s"]
    assert policy.on_event(0.5, "camera_failed", "rgb") == []  # before the start: its model is missing
    assert policy.tick(0.5 + hold / 2) == []  # held a moment (a recovery may come with it)
    said = policy.tick(0.5 + hold)
    policy.start(1.0, ["rgb", "slam_left", "slam_right"])
    assert [c.text for c in said] == ["Front camera not working"] and said[0].cameras == ("rgb",)
    assert policy.on_event(0.6, "camera_failed", "rgb") == [] and policy.tick(0.6 + hold) == []  # once
    # The other cameras deliver; past the start timeout the front camera is not said lost a second time.
    cues = run_cameras(policy, CONFIG["start_timeout"] + 5.0, lambda t, camera: camera == "rgb", lambda t: True)
    assert system_texts(cues) == ["System ready"]
    # Restarted with its model, it delivers again: "back".
    t = CONFIG["start_timeout"] + 5.0
    cues = [c for i in range(10) for c in policy.on_detections(t + i * STEP, "rgb", [])]
    assert system_texts(cues) == ["Front camera back"]
    policy.on_event(t + 2.0, "camera_failed", "slam_left")
    assert "Left camera not working" in system_texts(policy.tick(t + 2.0 + hold + 1e-6))


def test_a_camera_failure_replayed_with_its_recovery_is_not_said() -> None:
    # A navigation restarted after a GPU hiccup hears the latched events: the failure, then the recovery.
    policy = NavigationPolicy(CONFIG, "en")
    policy.start(0.0, ["rgb", "slam_left", "slam_right"])
    assert policy.on_event(5.0, "camera_failed", "rgb") == []
    assert policy.tick(5.05) == []  # a tick between them (the hold is on arrival time)
    assert policy.on_event(5.06, "camera_recovered", "rgb") == []
    cues = run_cameras(policy, 10.0, lambda t, camera: False, lambda t: True)
    assert system_texts(cues) == ["System ready"]  # neither "not working" nor "back"
