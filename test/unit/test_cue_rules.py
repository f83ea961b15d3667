"""The cue rules of the README's table, one test each: habituation, fairness, grouped phrases, hazard classes,
time to contact only in range. Synthetic detections through the real policy, no ROS."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest
from locations import ROOT

from aria_nav_ros.core.detection import DISTANCE_CLASS_SIZE, OBSTACLE, Detection
from aria_nav_ros.core.navigation.config import NavigationConfig
from aria_nav_ros.core.navigation.policy import (
    CRITICAL,
    KIND_HAZARD,
    WARNING,
    Cue,
    NavigationPolicy,
)
from aria_nav_ros.core.navigation.rules import table

CONFIG = NavigationConfig.load()
HABITUATION = CONFIG["habituation"]
STEP = 0.1  # 10 Hz results


def det(name: str, distance: float, bearing: float) -> Detection:
    return Detection(0, name, 0.9, (0.0, 0.0, 1.0, 1.0), distance, DISTANCE_CLASS_SIZE, bearing)


def standing_policy(config: NavigationConfig = CONFIG, language: str = "en") -> NavigationPolicy:
    policy = NavigationPolicy(config, language)
    for i in range(200):  # gravity and a little noise: the wearer stands still
        policy.on_imu(i * 0.01, (0.0, 9.81 + 0.01 * math.sin(i), 0.0))
    return policy


def play(policy: NavigationPolicy, seconds: float, scene, camera: str = "rgb", start: float = 0.0) -> list[Cue]:
    """`scene(t)` -> detections, at 10 Hz; the hazard cues said."""
    cues = []
    for i in range(int(round(seconds / STEP))):
        t = start + i * STEP
        cues += [c for c in policy.on_detections(t, camera, scene(t)) if c.kind == KIND_HAZARD]
    return cues


def test_an_unchanged_object_is_said_again_only_at_growing_intervals() -> None:
    policy = standing_policy()
    cues = play(policy, 120.0, lambda t: [det("person", 2.5, 5.0)])
    times = [round(c.time, 1) for c in cues]
    first, growth = HABITUATION["first_repeat_s"], HABITUATION["growth"]
    assert times == [0.0, first, first + first * growth, first + first * growth + first * growth**2]
    assert all(c.text == "Person ahead, two and a half meters" for c in cues)


def test_a_change_is_said_at_once_and_starts_the_intervals_afresh() -> None:
    policy = standing_policy()
    cues = play(policy, 9.0, lambda t: [det("person", 5.0, -30.0)])  # on the left, said once
    # It crosses to the right side of the path in a second: said in each zone it reaches, a cooldown apart.
    cues += play(policy, 7.0, lambda t: [det("person", 5.0, -30.0 + min(1.0, t - 9.0) * 60.0)], start=9.0)
    # Then it comes nearer at 0.6 m/s (no time-to-contact warning): said again once nearer by nearer_m.
    cues += play(policy, 5.0, lambda t: [det("person", max(3.8, 5.0 - 0.6 * (t - 16.0)), 30.0)], start=16.0)
    gap = CONFIG["cooldown"]["per_object"]
    assert [c.zone for c in cues] == ["left", "ahead", "right", "right"]
    assert cues[2].time <= 9.0 + 1.0 + gap
    nearer = 16.0 + HABITUATION["nearer_m"] / 0.6  # when it is 1 m nearer; the median over speed_window lags half of it
    assert nearer <= cues[3].time <= nearer + CONFIG["tracking"]["speed_window"] / 2 + STEP


def test_a_static_crowd_is_at_most_ten_cues_a_minute_and_no_object_more_often_than_every_fifteen_seconds() -> None:
    rng = random.Random(7)
    crowd = [("person", 2.0 + 0.5 * i, -50.0 + 15.0 * i) for i in range(7)] + [
        ("chair", 2.5, -10.0),
        ("chair", 3.5, 25.0),
        ("bench", 4.5, 40.0),
    ]

    def scene(t: float) -> list[Detection]:  # a real detector: 5 % distance noise, 1 degree, some misses
        return [det(n, d * rng.gauss(1.0, 0.05), b + rng.gauss(0.0, 1.0)) for n, d, b in crowd if rng.random() > 0.1]

    policy = standing_policy()
    cues = play(policy, 75.0, scene)
    first = cues[0].time
    in_minute = [c for c in cues if first <= c.time < first + 60.0]
    assert len(in_minute) <= 10, [(round(c.time, 1), c.text) for c in in_minute]
    said: dict[int, list[float]] = {}
    for cue in cues:
        for track_id in cue.track_ids:
            said.setdefault(track_id, []).append(cue.time)
    gaps = [b - a for times in said.values() for a, b in zip(times, times[1:], strict=False)]
    assert gaps and min(gaps) >= HABITUATION["first_repeat_s"] - 1e-9
    assert len(said) >= len(crowd)  # every one of them was said


def test_an_object_that_backs_off_and_comes_back_is_news_again() -> None:
    policy = standing_policy()

    def place(t: float) -> float:  # critical at 1.2 m; backs off to 5 m at 1 m/s and stands; comes back to 2.5 m
        return min(1.2 + t, 5.0) if t < 14.0 else max(5.0 - (t - 14.0), 2.5)

    cues = play(policy, 20.0, lambda t: [det("person", place(t), 0.0)])
    warned = [c for c in cues if c.time >= 14.0 and c.urgency >= WARNING]
    warning_line = 14.0 + 5.0 - CONFIG.tier_distances("person")["warning"]  # when it crosses 3 m again
    assert warned, [(c.time, c.text) for c in cues]
    assert warned[0].time <= warning_line + HABITUATION["steady_s"] + 2 * STEP


CRITICAL_REPEAT_S = CONFIG["close_range"]["critical_repeat_s"]


def test_an_unchanged_critical_object_is_said_every_critical_repeat_never_held_back_longer() -> None:
    policy = standing_policy()
    cues = play(policy, 40.0, lambda t: [det("person", 1.0, 0.0)])
    assert all(c.urgency == CRITICAL for c in cues)
    times = [round(c.time, 1) for c in cues]
    # Not every per-object cooldown (3 s: the looped sample's flood), nor at habituation's growing intervals.
    assert times == [round(k * CRITICAL_REPEAT_S, 1) for k in range(len(times))]
    assert len(times) == int(40.0 / CRITICAL_REPEAT_S) + 1


def test_one_person_seen_as_two_boxes_in_two_cameras_is_one_careful_per_critical_repeat() -> None:
    """The looped sample's flood: a person at arm's length, cut by the frame, whose RGB box and left SLAM box
    centres lie 12 degrees apart (two tracks: the cross-camera gate is 5 degrees), were each "Careful!" every
    per-object cooldown: a critical cue every 1.5 s. One per `critical_repeat_s` now, about the nearest."""
    policy = standing_policy()
    cues = []
    for i in range(600):  # 60 s, both cameras at 10 Hz, the left SLAM box a little farther (a bound)
        t = i * STEP
        cues += [c for c in policy.on_detections(t, "rgb", [det("person", 1.0, -5.0)]) if c.kind == KIND_HAZARD]
        cues += [c for c in policy.on_detections(t + 0.05, "slam_left", [det("person", 1.2, -17.0)])
                 if c.kind == KIND_HAZARD]  # fmt: skip
    assert len(policy.tracker.tracks) == 2  # still two tracks: the cue rule, not the tracker, makes it one
    gaps = [b.time - a.time for a, b in zip(cues, cues[1:], strict=False)]
    assert all(c.urgency == CRITICAL for c in cues) and cues[0].text == "Careful! Person ahead, one meter"
    assert min(gaps) >= CRITICAL_REPEAT_S - STEP, [(round(c.time, 2), c.text) for c in cues]
    assert len(cues) <= 60.0 / CRITICAL_REPEAT_S + 1
    assert all(c.text == "Careful! Person ahead, one meter" for c in cues)  # each zone once, at its nearest


def test_a_nearer_one_in_the_zone_of_a_critical_cue_is_said_at_once_another_zone_too() -> None:
    policy = standing_policy()
    cues = play(policy, 1.0, lambda t: [det("person", 1.4, 5.0)])
    assert [c.text for c in cues] == ["Careful! Person ahead, one and a half meters"]
    # Another person steps in nearer, ahead: not covered by the cue about the farther one.
    nearer = play(policy, 1.0, lambda t: [det("person", 1.4, 5.0), det("person", 0.6, -10.0)], start=1.0)
    assert [c.text for c in nearer] == ["Careful! Person ahead, half a meter"]
    assert nearer[0].time == pytest.approx(1.0)  # critical about something else: no cooldown
    # One on the right at the same distance: another zone, said.
    right = play(policy, 2.0, lambda t: [det("person", 1.4, 5.0), det("person", 0.6, -10.0), det("person", 1.4, 40.0)],
                 start=2.0)  # fmt: skip
    assert [c.zone for c in right] == ["right"]


def test_two_people_approaching_from_both_sides_are_said_together() -> None:
    policy = NavigationPolicy(CONFIG, "en")
    cues = play(policy, 4.0, lambda t: [det("person", 7.0 - 1.2 * t, -40.0), det("person", 7.0 - 1.2 * t, 40.0)])
    grouped = [c for c in cues if len(c.track_ids) == 2]
    assert grouped and grouped[0].text.startswith("Two people, left and right, ")
    assert grouped[0].bearing_deg == pytest.approx(0.0)  # the earcon sits between them
    said = {i for c in cues for i in c.track_ids}
    assert len(said) == 2


def test_without_grouping_no_qualifying_hazard_waits_more_than_two_cue_slots() -> None:
    config = NavigationConfig({**CONFIG.raw, "habituation": {**HABITUATION, "group": False}})
    policy = NavigationPolicy(config, "en")
    slot = CONFIG["cooldown"]["global"]
    people = [(-60.0, 2.8), (-20.0, 2.6), (25.0, 2.9)]  # three warnings at once
    cues = play(policy, 12.0, lambda t: [det("person", d, b) for b, d in people] + [det("car", 6.0, 50.0)])
    first_said = {}
    for cue in cues:
        first_said.setdefault(cue.track_id, cue.time)
    assert len(first_said) == 4
    assert sorted(first_said.values()) == pytest.approx([0.0, slot, 2 * slot, 3 * slot], abs=STEP + 1e-9)
    # After the first round, repeats take turns: each is said again before any is said a third time.
    counts = [sum(c.track_id == i for c in cues) for i in first_said]
    assert max(counts) - min(counts) <= 1


def test_a_new_hazard_goes_before_a_repeat() -> None:
    config = NavigationConfig({**CONFIG.raw, "habituation": {**HABITUATION, "group": False}})
    policy = standing_policy(config)
    first = HABITUATION["first_repeat_s"]
    # A person stands ahead, said at 0 and due again at `first_repeat_s`; a dog appears just before: it goes first,
    # the person's repeat in the next slot.
    dog = first - 0.05
    cues = play(
        policy, first + 3.0, lambda t: [det("person", 2.5, 0.0)] + ([det("dog", 2.5, 60.0)] if t >= dog else [])
    )
    assert [(c.class_name, round(c.time, 1)) for c in cues] == [
        ("person", 0.0),
        ("dog", round(first, 1)),
        ("person", round(first + CONFIG["cooldown"]["global"], 1)),
    ]


def test_a_class_that_is_no_hazard_is_not_said_unless_configured() -> None:
    fall = lambda t: [det("Fall", 2.0, 0.0)]  # noqa: E731 - the person checkpoint's second class
    assert play(NavigationPolicy(CONFIG, "en"), 3.0, fall) == []
    anything = NavigationConfig({**CONFIG.raw, "announce_unlisted_classes": True})
    [cue, *_] = play(NavigationPolicy(anything, "en"), 3.0, fall)
    assert cue.text == "Fall ahead, two meters"


def test_time_to_contact_counts_only_within_range() -> None:
    rng = random.Random(3)
    # A person far away whose distance jitters by 30 % (a detector at 20-30 m): nothing at warning or above.
    far = play(NavigationPolicy(CONFIG, "en"), 20.0, lambda t: [det("person", 20.0 * rng.uniform(0.7, 1.3), -10.0)])
    assert not [c for c in far if c.urgency >= WARNING]
    # A car coming at 10 m/s from 25 m, within twice its info distance: warned by time to contact, beyond 8 m.
    car = play(NavigationPolicy(CONFIG, "en"), 2.0, lambda t: [det("car", 25.0 - 10.0 * t, 20.0)])
    warning = next(c for c in car if c.urgency >= WARNING)
    assert warning.distance_m > CONFIG.tier_distances("car")["warning"]


def test_an_object_missed_for_a_few_seconds_keeps_what_was_said_about_it() -> None:
    policy = standing_policy()
    seen = lambda t: [] if 3.0 <= t < 7.0 else [det("chair", 2.5, -5.0)]  # noqa: E731 - gone longer than forget_after
    cues = play(policy, 14.0, seen)
    assert [round(c.time, 1) for c in cues] == [0.0]  # not said anew when it is seen again at 7 s


def test_grouped_phrases_in_spanish() -> None:
    policy = NavigationPolicy(CONFIG, "es")
    [cue, *_] = play(
        policy, 0.1, lambda t: [det("person", 2.0, -40.0), det("person", 2.5, 0.0), det("person", 3.0, 45.0)]
    )
    assert cue.text == "Tres personas, a la izquierda, delante y a la derecha, a dos metros"
    [cue, *_] = play(NavigationPolicy(CONFIG, "en"), 0.1, lambda t: [det("bus", 7.0, 5.0), det("bus", 7.5, -5.0)])
    assert cue.text == "Two buses ahead, seven meters"


def test_the_docs_hold_the_cue_rules_of_the_config() -> None:
    page = (ROOT / "docs" / "cue_rules.md").read_text()
    assert table(CONFIG) in page, "docs/cue_rules.md differs: paste `python -m aria_nav_ros.core.navigation.rules`"


def test_an_older_or_mistyped_config_cannot_start_and_names_the_key(tmp_path: Path) -> None:
    import yaml

    raw = {**CONFIG.raw, "cooldown": {"per_object": {"critical": 3.0}, "global": 1.5}}  # the older per-tier form
    raw["tracking"] = {k: v for k, v in CONFIG["tracking"].items() if k != "speed_min_span_s"}
    path = tmp_path / "navigation.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(ValueError) as error:
        NavigationConfig.load(path)
    assert "cooldown.per_object must be a number" in str(error.value)
    assert "tracking.speed_min_span_s must be a number (it is None)" in str(error.value)


def test_a_velocity_that_stopped_with_the_imu_is_not_how_fast_an_obstacle_nears() -> None:
    """The glasses' motion streams lost (the VIO at 2 m/s, then nothing, the IMU silent too), the cameras still
    running: two seconds on, an obstacle first seen 3 m ahead is not taken to come at 2 m/s (1.5 s to contact,
    critical), since the images' time says the velocity is old. Said as its distance makes it: a warning."""
    policy = NavigationPolicy(CONFIG, "en")
    for i in range(10):
        policy.motion.add_velocity(i * 0.1, 2.0, 0.0)
    policy.on_detections(1.0, "rgb", [])  # a frame as the streams stop: the velocity still current
    assert policy.motion.closing_speed(0.0) == pytest.approx(2.0)
    policy.on_detections(2.5, "rgb", [])
    said = [c for c in policy.on_detections(3.0, "rgb", [det(OBSTACLE, 3.0, 0.0)]) if c.kind == KIND_HAZARD]
    assert [c.urgency for c in said] == [WARNING], said


def test_a_rule_that_would_silently_turn_off_is_refused_and_an_empty_mapping_is_kept() -> None:
    """The node's parameters make the config (from_flat): NaN or a negative number is refused with its name (no
    distance is below NaN: a critical tier of NaN would never warn), and a mapping the file leaves empty (no
    aliases at all) has no parameters, yet the config it makes still has it, so the node starts."""
    flat = CONFIG.flat()
    for key, value in (("tiers.default.critical", math.nan), ("cooldown.global", -1.0)):
        with pytest.raises(ValueError) as error:
            NavigationConfig.from_flat({**flat, key: value})
        assert f"{key} must be a finite number, not negative" in str(error.value)
    without_aliases = {k: v for k, v in flat.items() if not k.startswith("hazard_aliases.")}
    assert len(without_aliases) < len(flat)  # the file has aliases: the test removes them all
    config = NavigationConfig.from_flat(without_aliases)
    assert config["hazard_aliases"] == {} and config.canonical("Normal") == "Normal"


def test_an_obstacle_nears_at_the_wearers_measured_speed_from_its_first_frame() -> None:
    """Gen 2's VIO says how fast the wearer walks: a still obstacle's time to contact is known at once, where the
    distance's own speed needs its span of frames; a person (who may walk ahead at the same pace) is not judged by
    the wearer's speed."""

    def first_warning(name: str, vio_speed: float | None, distance) -> float | None:
        policy = NavigationPolicy(CONFIG, "en")
        t = 0.0
        while t < 2.0:
            if vio_speed is not None:
                policy.motion.add_velocity(t, vio_speed, 0.0)
            said = policy.on_detections(t, "rgb", [det(name, distance(t), 0.0)])
            if [c for c in said if c.kind == KIND_HAZARD and c.urgency >= WARNING]:
                return round(t, 1)
            t += STEP
        return None

    walking_up = lambda t: 5.0 - 2.0 * t  # noqa: E731 - at 2 m/s towards a wall 5 m ahead: 2.5 s to contact
    assert first_warning(OBSTACLE, 2.0, walking_up) == 0.0
    assert first_warning(OBSTACLE, None, walking_up) >= 0.5  # the distance's speed needs speed_min_span_s
    assert first_warning("person", 2.0, lambda t: 5.0) is None  # followed at the same pace: never nearer
