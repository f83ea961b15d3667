"""Distance and bearing from boxes, calibration and depth (core, no ROS, no torch)."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from aria_nav_ros.core.camera_model import CameraModel
from aria_nav_ros.core.detection import (
    DISTANCE_CLASS_SIZE,
    DISTANCE_CLASS_WIDTH,
    DISTANCE_DEPTH,
    DISTANCE_GROUND_EDGE,
    DISTANCE_GROUND_PLANE,
    DISTANCE_UNKNOWN,
    RawDetection,
)
from aria_nav_ros.core.geometry import GeometryConfig, locate, why_no_distance
from aria_nav_ros.core.mounting import looking

CAMERA = CameraModel(1408, 1408, 600.0, 600.0, 703.5, 703.5)
CONFIG = GeometryConfig(eye_height_m=1.6, class_aliases={"Normal": "person"})


def person_at(distance_m: float, u: float = 703.5, inverse_depth: float = math.nan) -> RawDetection:
    """The box a 1.7 m person standing on level ground `distance_m` from the camera (horizontally), seen at
    column `u`, makes in CAMERA (looking level)."""
    bearing = math.atan2(u - CAMERA.cx, CAMERA.fx)
    z = distance_m * math.cos(bearing)  # depth along the optical axis
    foot = CAMERA.cy + CAMERA.fy * 1.6 / z
    head = CAMERA.cy + CAMERA.fy * (1.6 - 1.7) / z
    half_width = CAMERA.fx * 0.25 / z
    return RawDetection((u - half_width, head, u + half_width, foot), 0.9, 0, "Normal", inverse_depth)


def bearing_of(u: float, camera: CameraModel = CAMERA, **mount) -> float:
    v = camera.cy
    [det] = locate([RawDetection((u - 1, v - 1, u + 1, v + 1), 0.9, 0, "Normal", math.nan)], camera, CONFIG,
                   looking(**mount) if mount else looking(0.0))  # fmt: skip
    return det.bearing_deg


def test_bearing_follows_the_calibration_and_the_mounting() -> None:
    assert bearing_of(CAMERA.cx) == pytest.approx(0.0, abs=1e-9)
    assert bearing_of(CAMERA.cx + CAMERA.fx) == pytest.approx(45.0)
    assert bearing_of(CAMERA.cx - CAMERA.fx, yaw_deg=-50.0) == pytest.approx(-95.0)


def test_a_camera_looking_down_sees_the_ground_nearer() -> None:
    """The RGB camera of Aria looks about 8 degrees down: the same foot pixel is then nearer."""
    foot = CAMERA.cy + CAMERA.fy * 1.6 / 5.0  # 5 m away for a level camera
    box = RawDetection((653.5, foot - 80, 753.5, foot), 0.8, 3, "suitcase_like_thing", math.nan)
    [level] = locate([box], CAMERA, CONFIG, looking(0.0))
    [down] = locate([box], CAMERA, CONFIG, looking(0.0, pitch_deg=8.0))
    below = math.atan2(1.6, 5.0) + math.radians(8.0)
    assert level.distance_m == pytest.approx(5.0, rel=1e-6)
    assert down.distance_m == pytest.approx(1.6 / math.tan(below), rel=1e-6)


@pytest.mark.parametrize("distance", [2.0, 4.0, 8.0])
def test_person_distance_from_its_size(distance: float) -> None:
    [det] = locate([person_at(distance)], CAMERA, CONFIG)
    assert det.distance_source == DISTANCE_CLASS_SIZE
    assert det.distance_m == pytest.approx(distance, rel=1e-6)
    assert det.bearing_deg == pytest.approx(0.0, abs=1e-6)


def test_ground_plane_for_objects_without_a_known_size() -> None:
    foot = CAMERA.cy + CAMERA.fy * 1.6 / 5.0
    box = RawDetection((653.5, foot - 80, 753.5, foot), 0.8, 3, "suitcase_like_thing", math.nan)
    [det] = locate([box], CAMERA, CONFIG)
    assert det.distance_source == DISTANCE_GROUND_PLANE
    assert det.distance_m == pytest.approx(5.0, rel=1e-6)


def test_cut_box_above_the_horizon_has_no_distance_without_depth_and_says_why() -> None:
    box = RawDetection((100.0, 0.0, 300.0, 600.0), 0.8, 0, "Normal", math.nan)  # cut at the top, foot above cy
    without_bounds = replace(CONFIG, distance_bounds=False)  # as before issue 28
    [det] = locate([box], CAMERA, without_bounds)
    assert det.distance_source == DISTANCE_UNKNOWN and math.isnan(det.distance_m)
    assert (
        why_no_distance(box, CAMERA, without_bounds)
        == "'person' is cut by the image edge and its foot is not on the ground ahead"
    )
    # Now its width bounds it: a person (at most 0.8 m wide) spanning 19 degrees is within 2.4 m of that plane.
    [det] = locate([box], CAMERA, CONFIG)
    assert det.distance_source == DISTANCE_CLASS_WIDTH and det.distance_is_bound and det.distance_m < 5.0
    # Cut by the lower edge: before issue 28 (no bounds) nothing at all; now the ground the edge sees bounds it.
    bag = RawDetection((100.0, 900.0, 300.0, 1407.0), 0.8, 5, "Fall", math.nan)
    assert math.isnan(locate([bag], CAMERA, without_bounds)[0].distance_m)
    assert why_no_distance(bag, CAMERA, without_bounds) == "no known height for 'Fall' and its foot is out of the image"
    [bounded] = locate([bag], CAMERA, CONFIG)
    assert bounded.distance_source == DISTANCE_GROUND_EDGE and bounded.distance_is_bound


def test_depth_is_scaled_by_the_geometric_estimates_and_reaches_cut_boxes() -> None:
    k = 0.37  # the unknown scale of relative inverse depth: inverse_depth = 1 / (k * metres)
    near, far = person_at(2.0, inverse_depth=1 / (k * 2.0)), person_at(6.0, u=300.0, inverse_depth=1 / (k * 6.0))
    cut = RawDetection((1200.0, 0.0, 1407.0, 1407.0), 0.7, 0, "Normal", 1 / (k * 1.2))  # cut: no geometry
    dets = locate([near, far, cut], CAMERA, CONFIG)
    assert [d.distance_source for d in dets] == [DISTANCE_DEPTH] * 3
    assert [d.distance_m for d in dets] == pytest.approx([2.0, 6.0, 1.2], rel=1e-6)
    assert dets[1].bearing_deg < 0 < dets[2].bearing_deg


def test_rotated_camera_keeps_the_geometry() -> None:
    """A SLAM camera turned upright: its bearings come from the turned intrinsics and its mounting."""
    sideways = CameraModel(640, 480, 250.0, 260.0, 330.0, 240.0)
    upright = sideways.rotated_clockwise()
    assert bearing_of(upright.cx, upright, yaw_deg=60.0) == pytest.approx(60.0)
    assert bearing_of(upright.cx + upright.fx, upright, yaw_deg=60.0) == pytest.approx(105.0)


def test_a_crop_of_a_picture_keeps_each_pixels_bearing() -> None:
    """Stand-in SLAM views are halves of a video frame, resized: a point has the same bearing in each view."""
    picture = CameraModel.from_fov(1280, 720, 70.0)
    right = picture.cropped(640, 0, 640, 720).resized(640 / 640, 480 / 720)
    u = 1000.0  # a column of the right half
    assert bearing_of(u - 640, right) == pytest.approx(bearing_of(u, picture), abs=1e-9)
    assert bearing_of(1279.5, picture) == pytest.approx(35.0, abs=0.1)
