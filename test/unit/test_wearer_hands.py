"""The wearer's own hands from the device's hand tracking (issue 29 item 3), on the real Aria Gen 2 recording.

In ../shared/data/aria/gen2_unit_test.vrs the wearer raises the right hand beside the office's wall: Gen 2's RGB
camera sees it as a person box 1.6-1.9 m away by its height (its forearm ends in the fisheye's dark corner, not at
the lower edge, so no geometric rule can tell it from someone standing there), and the navigation said "Person on
the right, one and a half meters". The recording's hand tracking (9 samples, at the CV cameras' times) projected
into the camera puts the tracked wrist and palm inside that box: the wearer's body.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_wearer_body import CONFIG, GEN2_VRS, GEOMETRY, detect

from aria_nav_ros.core.cameras import RGB, SLAM_RIGHT, optical_frame
from aria_nav_ros.core.geometry import locate
from aria_nav_ros.core.hands import in_image, mark_wearer_hands, nearest, read_vrs_hands
from aria_nav_ros.core.navigation.policy import KIND_HAZARD, NavigationPolicy
from aria_nav_ros.core.sources.base import Frame

pytestmark = pytest.mark.skipif(
    not GEN2_VRS.is_file(), reason=f"the real Aria Gen 2 recording {GEN2_VRS} is absent (../shared)"
)
ALIASES = GEOMETRY.class_aliases  # rgb_perception's declared default


@pytest.fixture(scope="module")
def office() -> tuple[list[tuple[Frame, list]], dict, dict, list]:
    """The RGB and right side camera's frames with the real checkpoint's raw detections, and the hands."""
    return (*detect(GEN2_VRS, (RGB, SLAM_RIGHT)), read_vrs_hands(GEN2_VRS))


def replay(office, use_hands: bool) -> tuple[list, list[str]]:
    """(the located person boxes on the right, each with whether a tracked hand is in it; the hazard cues said)."""
    frames, models, mounts, hands = office
    policy = NavigationPolicy(CONFIG, "en")
    right, said = [], []
    for frame, raw in sorted(frames, key=lambda f: f[0].device_time_ns):
        model, mount = models[frame.camera], mounts[optical_frame(frame.camera)]
        located = locate(raw, model, GEOMETRY, mount)
        sample = nearest(hands, frame.device_time_ns)
        pixels = in_image(sample, model, mount) if sample is not None else np.zeros((0, 2))
        if use_hands:
            located = mark_wearer_hands(located, pixels, GEOMETRY.wearer_body_classes, ALIASES)
        right += [d for d in located if CONFIG.canonical(d.class_name) == "person" and d.bearing_deg > 45]
        cues = policy.on_detections(frame.device_time_ns / 1e9, frame.camera, located)
        said += [c.text for c in cues if c.kind == KIND_HAZARD]
    return right, said


def test_every_frame_has_both_hands_tracked_near_its_time(office) -> None:
    frames, models, mounts, hands = office
    assert len(hands) == 9 and all(len(h.points) == 4 for h in hands)  # wrist and palm of two hands
    for frame, _ in frames:
        sample = nearest(hands, frame.device_time_ns)
        assert sample is not None
        model, mount = models[frame.camera], mounts[optical_frame(frame.camera)]
        assert len(in_image(sample, model, mount)) >= 1  # the right hand is in both views throughout


def test_the_raised_right_hand_in_gen2s_rgb_view_is_never_said(office) -> None:
    right, said = replay(office, use_hands=True)
    rgb_hand = [d for d in right if math.isnan(d.distance_m) or d.distance_m < 3]
    assert len(rgb_hand) >= 3  # the RGB hand in each of 3 frames and the arm in slam_right's
    assert all(d.wearer_body for d in rgb_hand)
    assert not [text for text in said if "right" in text], said


def test_without_the_hands_the_raised_hand_is_a_person_on_the_right(office) -> None:
    right, said = replay(office, use_hands=False)
    assert any(not d.wearer_body and d.distance_m < 3 for d in right)
    assert any("right" in text for text in said), said  # "Two people, left and right, one and a half meters"
