"""Close range (issue 28): a box cut by the frame gets a bound, a growing box a time to contact, and the
wearer hears one sentence per moment (core, no ROS, no torch)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from aria_nav_ros.core.camera_model import CameraModel
from aria_nav_ros.core.cameras import optical_frame
from aria_nav_ros.core.detection import (
    DISTANCE_CLASS_SIZE,
    DISTANCE_CLASS_WIDTH,
    DISTANCE_GROUND_EDGE,
    DISTANCE_UNKNOWN,
    EDGE_BOTTOM,
    EDGE_TOP,
    Detection,
    RawDetection,
    detection_problem,
)
from aria_nav_ros.core.geometry import GeometryConfig, locate
from aria_nav_ros.core.mounting import NOMINAL_ARIA, looking
from aria_nav_ros.core.navigation.config import NavigationConfig
from aria_nav_ros.core.navigation.policy import CRITICAL, INFO, KIND_HAZARD, WARNING, Cue, NavigationPolicy
from aria_nav_ros.core.sources.aria_calibration import nominal_models

CONFIG = NavigationConfig.load()
GEOMETRY = GeometryConfig(eye_height_m=1.6, class_aliases={"Normal": "person"})
PINHOLE = CameraModel.from_fov(960, 720, 70.0)  # a level 70-degree view (videos): its lower edge sees 3 m ahead
ARIA_RGB = nominal_models()["rgb"]
ARIA_RGB_MOUNT = NOMINAL_ARIA[optical_frame("rgb")]
STEP = 0.1


def person_box(camera: CameraModel, mount, ahead_m: float, right_m: float = 0.0) -> tuple[float, ...] | None:
    """The box a 1.7 m x 0.5 m x 0.3 m person standing `ahead_m` in front of the head (and `right_m` to the
    right) makes in `camera`, clipped by the image as a detector sees it; None when out of view."""
    xs, ys, zs = np.meshgrid([ahead_m - 0.15, ahead_m + 0.15], np.linspace(-0.25, 0.25, 5) - right_m,
                             np.linspace(-1.6, 0.1, 18))  # fmt: skip
    head = np.stack([xs.ravel(), ys.ravel(), zs.ravel()], axis=1)  # x forward, y left, z up (eye at 0)
    optical = (head - np.asarray(mount.translation)) @ mount.rotation  # into the camera's optical frame
    optical = optical[optical[:, 2] > 0.05]
    if not len(optical):
        return None
    uv = camera.project(optical)
    x1, y1 = np.clip(uv.min(axis=0), 0, [camera.width - 1, camera.height - 1])
    x2, y2 = np.clip(uv.max(axis=0), 0, [camera.width - 1, camera.height - 1])
    return (float(x1), float(y1), float(x2), float(y2)) if x2 - x1 > 2 and y2 - y1 > 2 else None


def located(camera: CameraModel, mount, ahead_m: float, right_m: float = 0.0, config=GEOMETRY) -> Detection:
    box = person_box(camera, mount, ahead_m, right_m)
    assert box is not None
    [det] = locate([RawDetection(box, 0.9, 0, "Normal", math.nan)], camera, config, mount)
    return det


def hazards(cues: list[Cue]) -> list[Cue]:
    return [c for c in cues if c.kind == KIND_HAZARD]


# -- geometry: a bound rather than silence ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("camera", "mount", "farthest_m"),
    [(PINHOLE, looking(0.0), 3.73), (ARIA_RGB, ARIA_RGB_MOUNT, 1.75)],  # where the lower edge's corners see the ground
    ids=["pinhole70", "aria_rgb"],
)
def test_a_person_whose_feet_leave_the_frame_gets_a_true_upper_bound(camera, mount, farthest_m) -> None:
    bounded = 0
    for ahead in np.arange(0.4, 3.2, 0.1):
        for right in (-0.6, 0.0, 0.5):
            det = located(camera, mount, float(ahead), right)
            if not det.cut_edges & EDGE_BOTTOM:
                assert not det.distance_is_bound
                continue
            bounded += 1
            truth = math.hypot(ahead - 0.15, max(0.0, abs(right) - 0.25))  # the person's nearest point
            assert det.distance_is_bound and det.distance_source in (DISTANCE_GROUND_EDGE, DISTANCE_CLASS_WIDTH)
            assert truth <= det.distance_m <= farthest_m, (ahead, right, det.distance_m)
            assert not detection_problem(det)
    assert bounded >= 10  # the sweep does reach the close range
    # Without bounds (as before issue 28) the same boxes have no distance at all.
    det = located(camera, mount, 0.6, config=replace(GEOMETRY, distance_bounds=False))
    assert math.isnan(det.distance_m) and not det.distance_is_bound


def test_the_bound_is_the_ground_the_lower_edge_sees() -> None:
    """Level 70-degree view (4:3): its lower edge meets the ground 3.05 m ahead. Aria's RGB camera looks 8
    degrees down through a 110-degree fisheye: its lower edge sees the ground about 0.8 m ahead."""
    edge_only = replace(GEOMETRY, class_widths_m={})  # (a person's width bounds it tighter: 2.2 m)
    assert located(PINHOLE, looking(0.0), 1.5, config=edge_only).distance_m == pytest.approx(3.06, abs=0.1)
    assert located(PINHOLE, looking(0.0), 1.5).distance_m == pytest.approx(2.16, abs=0.1)
    under = RawDetection((ARIA_RGB.cx - 20, 1000.0, ARIA_RGB.cx + 20, 1407.0), 0.9, 56, "chair", math.nan)
    [det] = locate([under], ARIA_RGB, GEOMETRY, ARIA_RGB_MOUNT)
    assert det.distance_m == pytest.approx(0.8, abs=0.05) and det.distance_is_bound


def test_the_box_says_which_edges_cut_it_and_how_much_of_the_view_it_fills() -> None:
    det = located(PINHOLE, looking(0.0), 0.5)
    assert det.cut_edges & EDGE_BOTTOM and not det.cut_edges & EDGE_TOP
    assert det.view_share > 0.5  # at half a metre a person fills the view
    assert located(PINHOLE, looking(0.0), 5.0).view_share < 0.05


def test_an_arm_coming_up_from_the_lower_corner_is_the_wearers_body_not_a_person() -> None:
    """The wearer's forearm reaching forward in Aria's RGB camera: a 'person' box in the lower right corner, its
    top far below the horizon. Standing at its bound (1.6 m) it would be 0.6 m tall; an adult's head is above the
    eyes' horizon."""
    arm = RawDetection((930.0, 1044.0, 1407.0, 1407.0), 0.6, 0, "Normal", math.nan)  # the bench's reaching arm
    [det] = locate([arm], ARIA_RGB, GEOMETRY, ARIA_RGB_MOUNT)
    assert det.wearer_body and math.isnan(det.distance_m) and not det.distance_is_bound
    no_rule = replace(GEOMETRY, wearer_body_height_ratio=0.0, wearer_body_top_deg=90.0)
    assert not locate([arm], ARIA_RGB, no_rule, ARIA_RGB_MOUNT)[0].wearer_body
    # A person at arm's length in the same corner reaches up past the horizon: a person, bounded.
    person = located(ARIA_RGB, ARIA_RGB_MOUNT, 0.8, -0.4)
    assert not person.wearer_body and person.distance_is_bound
    # Where the lower edge sees the ground 3 m ahead (a level 70-degree view) a box from the lower corner with
    # its top 15 degrees down may be a child 2 m away: a person, not the wearer's arm.
    low = RawDetection((620.0, PINHOLE.cy + 200.0, 959.0, 719.0), 0.6, 0, "Normal", math.nan)
    [det] = locate([low], PINHOLE, GEOMETRY)
    assert not det.wearer_body and det.distance_is_bound
    # Other classes are what the detector says: a chair 2 m ahead, its legs cut by the lower edge.
    top = PINHOLE.cy + PINHOLE.fy * (1.6 - 0.9) / 2.0
    [chair] = locate([RawDetection((400.0, top, 560.0, 719.0), 0.7, 56, "chair", math.nan)], PINHOLE, GEOMETRY)
    assert not chair.wearer_body and chair.distance_is_bound and chair.distance_m >= 1.5


def test_an_arm_in_a_side_camera_whose_lower_edge_sees_the_ground_close_by_is_the_wearers_body() -> None:
    """Aria's right SLAM camera sees the ground under its lower edge within a metre: standing there, even a short
    box would be tall, so the height at the bound says little. The arm's top is 30 degrees below the horizon,
    where no standing adult's head is."""
    slam_right, mount = nominal_models()["slam_right"], NOMINAL_ARIA[optical_frame("slam_right")]
    arm = RawDetection((135.0, 434.0, 370.0, 639.0), 0.6, 0, "Normal", math.nan)  # the bench's reaching arm
    [det] = locate([arm], slam_right, GEOMETRY, mount)
    assert det.wearer_body
    [det] = locate([arm], slam_right, replace(GEOMETRY, wearer_body_top_deg=90.0), mount)
    assert not det.wearer_body and det.distance_is_bound and det.distance_m < 1.0  # it would be "Careful!"


# -- policy: bounds, fill, own body --------------------------------------------------------------------------


def bound(distance: float, bearing: float = 0.0, share: float = 0.1, box=(0.0, 0.0, 1.0, 1.0)) -> Detection:
    return Detection(0, "person", 0.9, box, distance, DISTANCE_GROUND_EDGE, bearing, -1, True, EDGE_BOTTOM, share)


@pytest.mark.parametrize(
    ("language", "distance", "text", "urgency"),
    [
        ("en", 1.9, "Person ahead, under two meters", WARNING),
        ("en", 0.8, "Careful! Person ahead, under one meter", CRITICAL),
        ("es", 1.9, "Persona delante, a menos de dos metros", WARNING),
        ("es", 1.3, "¡Cuidado! Persona delante, a menos de metro y medio", CRITICAL),
    ],
)
def test_a_bound_is_treated_as_at_least_that_close_and_said_as_a_bound(language, distance, text, urgency) -> None:
    [cue] = hazards(NavigationPolicy(CONFIG, language).on_detections(0.0, "rgb", [bound(distance)]))
    assert (cue.text, cue.urgency, cue.distance_is_bound) == (text, urgency, True)


def test_a_person_filling_most_of_the_view_is_within_reach_and_critical() -> None:
    """Cut at the top, the bottom and both sides (nothing measures it), a person box spanning most of a level
    70-degree view: no person (at most 0.8 m wide) spans that from farther than about 0.6 m."""
    filling = RawDetection((0.0, 0.0, 959.0, 719.0), 0.9, 0, "Normal", math.nan)
    [det] = locate([filling], PINHOLE, GEOMETRY)
    assert det.distance_source == DISTANCE_CLASS_WIDTH and det.distance_is_bound and det.distance_m < 0.6
    [cue] = hazards(NavigationPolicy(CONFIG, "en").on_detections(0.0, "rgb", [det]))
    assert cue.urgency == CRITICAL and cue.text == "Careful! Person ahead, under one meter"
    # A person in a fifth of the width is a bound of 2.2 m: a warning, not critical.
    [det] = locate([RawDetection((380.0, 0.0, 580.0, 719.0), 0.9, 0, "Normal", math.nan)], PINHOLE, GEOMETRY)
    assert det.distance_m == pytest.approx(0.4 / math.tan(math.atan(100 / PINHOLE.fx)), rel=0.01)
    [cue] = hazards(NavigationPolicy(CONFIG, "en").on_detections(0.0, "rgb", [det]))
    assert cue.urgency == WARNING
    # Without bounds (before issue 28) the same box has no distance at all.
    assert math.isnan(locate([filling], PINHOLE, replace(GEOMETRY, distance_bounds=False))[0].distance_m)


def test_a_far_bound_is_still_said_as_information() -> None:
    """Under eight meters: it may be anywhere nearer, so it is said at least as a thing of unknown distance."""
    [cue] = hazards(NavigationPolicy(CONFIG, "en").on_detections(0.0, "rgb", [bound(7.1, bearing=-30.0)]))
    assert (cue.urgency, cue.text) == (INFO, "Person on the left, under eight meters")


def test_the_wearers_own_body_is_never_said() -> None:
    policy = NavigationPolicy(CONFIG, "en")
    arm = replace(bound(0.6, bearing=30.0), distance_m=math.nan, distance_is_bound=False, wearer_body=True)
    said = [c for i in range(50) for c in hazards(policy.on_detections(i * STEP, "rgb", [arm]))]
    assert said == []
    # The same box, not marked as the wearer's body, is a critical person: the mark is what keeps it silent.
    assert hazards(NavigationPolicy(CONFIG, "en").on_detections(0.0, "rgb", [replace(arm, wearer_body=False)]))


# -- time to contact from a growing box ----------------------------------------------------------------------


def approach(
    policy: NavigationPolicy, start_m: float, speed: float, right_m: float = 0.0, bearing_deg: float = 0.0
) -> tuple[list[tuple[float, Cue]], float]:
    """A person walking at `speed` straight at the camera (from `bearing_deg`; or on a parallel line `right_m`
    beside it) until 0.5 m away, seen through the real geometry; (time, cue) of each hazard cue, and when it
    arrived."""
    cues, t = [], 0.0
    while (ahead := start_m - speed * t) > 0.5:
        b = math.radians(bearing_deg)
        box = person_box(PINHOLE, looking(0.0), ahead * math.cos(b), right_m + ahead * math.sin(b))
        raw = [RawDetection(box, 0.9, 0, "Normal", math.nan)] if box else []
        cues += [(t, c) for c in hazards(policy.on_detections(t, "rgb", locate(raw, PINHOLE, GEOMETRY)))]
        t = round(t + STEP, 6)
    return cues, t


def test_a_person_whose_feet_leave_the_frame_is_warned_by_their_growth_in_time() -> None:
    """In a level 70-degree view a person walking up at 1.4 m/s loses their feet at 3 m: from then on the
    distance is a bound that no longer changes (3.05 m), but their width grows: time to contact from it."""
    cues, contact = approach(NavigationPolicy(CONFIG, "en"), 6.0, 1.4)
    warned = [t for t, c in cues if c.urgency >= WARNING]
    assert warned and contact - warned[0] >= 2.0
    critical = [t for t, c in cues if c.urgency == CRITICAL]
    assert critical and critical[0] < contact - 0.5
    # Without time to contact from growth the same walk is said later, only when the bound crosses a line.
    no_growth = {**CONFIG.raw, "close_range": {**CONFIG["close_range"], "scale_ttc": False}}
    cues, _ = approach(NavigationPolicy(NavigationConfig(no_growth), "en"), 6.0, 1.4)
    late = [t for t, c in cues if c.urgency == CRITICAL]
    assert not late or late[0] > critical[0]


def test_a_person_coming_on_a_diagonal_holds_its_bearing_and_is_warned_by_growth() -> None:
    """From 20 degrees to the right, straight at the wearer: the bearing holds (a collision course)."""
    cues, contact = approach(NavigationPolicy(CONFIG, "en"), 6.0, 1.4, bearing_deg=20.0)
    critical = [t for t, c in cues if c.urgency == CRITICAL]
    assert critical and critical[0] < contact
    no_growth = NavigationConfig({**CONFIG.raw, "close_range": {**CONFIG["close_range"], "scale_ttc": False}})
    cues, _ = approach(NavigationPolicy(no_growth, "en"), 6.0, 1.4, bearing_deg=20.0)
    late = [t for t, c in cues if c.urgency == CRITICAL]  # its feet left the frame at 3.5 m: bounds only
    assert not late or late[0] > critical[0]


def test_a_critical_cue_without_a_distance_covers_nobody_nearer() -> None:
    """A box with no distance at all (a guessed lens) growing straight ahead is critical by its growth; its cue
    covers the zone for critical_repeat_s, but only against what is no nearer than it said: having said no
    distance, it covers nobody measured, and someone else at 0.8 m ahead moments later is said at once."""
    policy, said, t = NavigationPolicy(CONFIG, "en"), [], 0.0
    for i in range(15):  # doubling every 0.7 s: 1 s to contact
        t = i * STEP
        half = 50.0 * 2 ** (t / 0.7)
        box = (500.0 - half, 300.0 - half, 500.0 + half, 300.0 + half)
        seen = Detection(0, "person", 0.9, box, math.nan, DISTANCE_UNKNOWN, -15.0)
        said += [(t, c) for c in hazards(policy.on_detections(t, "rgb", [seen]))]
    first = [t for t, c in said if c.urgency == CRITICAL]
    assert first, said
    near = Detection(0, "person", 0.9, (600.0, 100.0, 700.0, 400.0), 0.8, DISTANCE_CLASS_SIZE, 15.0)
    later = []
    for i in range(1, 11):
        later += hazards(policy.on_detections(t + i * STEP, "rgb", [near]))
    assert [c for c in later if c.urgency == CRITICAL and "meter" in c.text], (said, later)


def test_a_box_growing_off_the_walking_line_is_passing_by_not_coming() -> None:
    """A person walking past 2.5 m to the right also grows in the image, but is not coming at the wearer."""
    cues, _ = approach(NavigationPolicy(CONFIG, "en"), 6.0, 1.4, right_m=2.5)
    assert cues and all(c.urgency < CRITICAL for _, c in cues)


def test_time_to_contact_from_growth_needs_a_growing_box() -> None:
    policy = NavigationPolicy(CONFIG, "en")
    standing = [bound(3.05, box=(400.0, 100.0, 560.0, 719.0)) for _ in range(1)]
    cues = [c for i in range(40) for c in hazards(policy.on_detections(i * STEP, "rgb", standing))]
    assert [c.urgency for c in cues] == [INFO]  # said once, never raised: a bound that does not grow is no news


# -- one sentence per moment ---------------------------------------------------------------------------------


def test_a_rise_moments_after_a_cue_about_the_same_object_replaces_it() -> None:
    policy = NavigationPolicy(CONFIG, "en")
    first = hazards(policy.on_detections(0.0, "rgb", [bound(2.4)]))
    [rise] = hazards(policy.on_detections(0.3, "rgb", [bound(1.4)]))
    assert [c.urgency for c in first] == [WARNING] and rise.urgency == CRITICAL
    assert rise.replaces and rise.interrupts  # the audio cuts the first sentence: one sentence is heard
    # An information cue followed by a warning (not an interruption before issue 28) is replaced as well: the
    # warning comes once the nearer bound holds (steady_s), within a second of the first cue.
    policy = NavigationPolicy(CONFIG, "en")
    hazards(policy.on_detections(0.0, "rgb", [bound(3.8)]))
    [rise] = [c for i in range(1, 8) for c in hazards(policy.on_detections(i * STEP, "rgb", [bound(2.5)]))]
    assert rise.urgency == WARNING and rise.replaces and rise.interrupts and rise.time < 1.0
    # Long after the first cue, a rise follows it as its own sentence.
    policy = NavigationPolicy(CONFIG, "en")
    for i in range(30):
        hazards(policy.on_detections(i * STEP, "rgb", [bound(3.8)]))
    [rise] = [c for i in range(8) for c in hazards(policy.on_detections(3.0 + i * STEP, "rgb", [bound(2.5)]))]
    assert rise.urgency == WARNING and not rise.replaces and not rise.interrupts


def test_no_hazard_is_said_after_the_end_of_a_replay() -> None:
    policy = NavigationPolicy(CONFIG, "en")
    assert hazards(policy.on_detections(0.0, "rgb", [bound(4.5)]))
    ended = policy.on_event(0.5, "recording_ended")
    assert [c.text for c in ended] == ["Recording ended"]
    late = Detection(0, "person", 0.9, (0.0, 0.0, 1.0, 1.0), 1.0, DISTANCE_CLASS_SIZE, 30.0)
    assert hazards(policy.on_detections(0.4, "rgb", [late], arrived=0.6)) == []  # a late result of before
    # A new pass of the replay (its frames come again) is watched afresh.
    policy.on_frame(10.0, "rgb")
    assert hazards(policy.on_detections(10.0, "rgb", [late]))
