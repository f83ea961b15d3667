"""Distance and bearing from boxes, calibration and depth (core, no ROS, no torch)."""

from __future__ import annotations

import math

import pytest

from aria_nav_ros.core.detection import (
    DISTANCE_CLASS_SIZE,
    DISTANCE_DEPTH,
    DISTANCE_GROUND_PLANE,
    DISTANCE_UNKNOWN,
    RawDetection,
)
from aria_nav_ros.core.geometry import GeometryConfig, bearing_deg, locate
from aria_nav_ros.core.sources.base import PinholeCamera

CAMERA = PinholeCamera(1408, 1408, 600.0, 600.0, 703.5, 703.5)
CONFIG = GeometryConfig(eye_height_m=1.6, class_aliases={"Normal": "person"})


def person_at(distance_m: float, u: float = 703.5, inverse_depth: float = math.nan) -> RawDetection:
    """The box a 1.7 m person standing on level ground at `distance_m` makes in CAMERA."""
    foot = CAMERA.cy + CAMERA.fy * 1.6 / distance_m
    head = CAMERA.cy + CAMERA.fy * (1.6 - 1.7) / distance_m
    half_width = CAMERA.fx * 0.25 / distance_m
    return RawDetection((u - half_width, head, u + half_width, foot), 0.9, 0, "Normal", inverse_depth)


def test_bearing_follows_the_calibration_and_the_mounting() -> None:
    assert bearing_deg(CAMERA.cx, CAMERA) == 0.0
    assert bearing_deg(CAMERA.cx + CAMERA.fx, CAMERA) == pytest.approx(45.0)
    assert bearing_deg(CAMERA.cx - CAMERA.fx, CAMERA, yaw_deg=-50.0) == pytest.approx(-95.0)


@pytest.mark.parametrize("distance", [2.0, 4.0, 8.0])
def test_person_distance_from_its_size(distance: float) -> None:
    [det] = locate([person_at(distance)], CAMERA, CONFIG)
    assert det.distance_source == DISTANCE_CLASS_SIZE
    assert det.distance_m == pytest.approx(distance, rel=1e-6)
    assert det.bearing_deg == pytest.approx(0.0, abs=1e-6)


def test_ground_plane_for_objects_without_a_known_size() -> None:
    foot = CAMERA.cy + CAMERA.fy * 1.6 / 5.0
    box = RawDetection((600.0, foot - 80, 700.0, foot), 0.8, 3, "suitcase_like_thing", math.nan)
    [det] = locate([box], CAMERA, CONFIG)
    assert det.distance_source == DISTANCE_GROUND_PLANE
    assert det.distance_m == pytest.approx(5.0, rel=1e-6)


def test_cut_box_above_the_horizon_has_no_distance_without_depth() -> None:
    box = RawDetection((100.0, 0.0, 300.0, 600.0), 0.8, 0, "Normal", math.nan)  # cut at the top, foot above cy
    [det] = locate([box], CAMERA, CONFIG)
    assert det.distance_source == DISTANCE_UNKNOWN and math.isnan(det.distance_m)


def test_depth_is_scaled_by_the_geometric_estimates_and_reaches_cut_boxes() -> None:
    k = 0.37  # the unknown scale of relative inverse depth: inverse_depth = 1 / (k * metres)
    near, far = person_at(2.0, inverse_depth=1 / (k * 2.0)), person_at(6.0, u=300.0, inverse_depth=1 / (k * 6.0))
    cut = RawDetection((1200.0, 0.0, 1407.0, 1407.0), 0.7, 0, "Normal", 1 / (k * 1.2))  # cut: no geometry
    dets = locate([near, far, cut], CAMERA, CONFIG)
    assert [d.distance_source for d in dets] == [DISTANCE_DEPTH] * 3
    assert [d.distance_m for d in dets] == pytest.approx([2.0, 6.0, 1.2], rel=1e-6)
    assert dets[1].bearing_deg < 0 < dets[2].bearing_deg


def test_rotated_camera_keeps_the_geometry() -> None:
    """A SLAM camera turned upright: its bearings come from the turned intrinsics."""
    sideways = PinholeCamera(640, 480, 250.0, 260.0, 330.0, 240.0)
    upright = sideways.rotated_clockwise()
    assert bearing_deg(upright.cx, upright, yaw_deg=60.0) == pytest.approx(60.0)
