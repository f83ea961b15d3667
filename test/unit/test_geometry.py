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
    detection_problem,
    source_bits,
)
from aria_nav_ros.core.geometry import (
    DepthFit,
    Estimate,
    Fused,
    GeometryConfig,
    fuse,
    ground_spread,
    locate,
    why_no_distance,
)
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
def test_person_distance_from_its_size_and_its_foot_combined(distance: float) -> None:
    [det] = locate([person_at(distance)], CAMERA, CONFIG)
    # Both measure it (a person of the usual height, standing on the ground): their inverse-variance mean.
    assert det.distance_sources == source_bits(DISTANCE_CLASS_SIZE, DISTANCE_GROUND_PLANE)
    assert det.distance_m == pytest.approx(distance, rel=1e-6)
    assert det.bearing_deg == pytest.approx(0.0, abs=1e-6)
    # The foot's spread grows as d^2 (the head's tilt), the size's as d: near, the ground point weighs most.
    size = CONFIG.class_height_spread * distance
    ground = ground_spread(distance, CONFIG.eye_height_m, CONFIG)
    assert det.distance_source == (DISTANCE_GROUND_PLANE if ground < size else DISTANCE_CLASS_SIZE)
    assert det.distance_spread_m == pytest.approx(1 / math.sqrt(1 / ground**2 + 1 / size**2), rel=0.05)
    assert detection_problem(det) == ""


def test_estimates_combine_by_inverse_variance_and_bounds_hold_them() -> None:
    size, ground = Estimate(DISTANCE_CLASS_SIZE, 4.0, 0.4), Estimate(DISTANCE_GROUND_PLANE, 3.0, 0.2)
    fused = fuse([size, ground])
    assert fused.distance_m == pytest.approx((4.0 / 0.16 + 3.0 / 0.04) / (1 / 0.16 + 1 / 0.04))  # 3.2 m
    assert fused.spread_m == pytest.approx(math.sqrt(1 / (1 / 0.16 + 1 / 0.04)))
    assert fused.source == DISTANCE_GROUND_PLANE and not fused.is_bound
    assert fused.sources == source_bits(DISTANCE_CLASS_SIZE, DISTANCE_GROUND_PLANE)
    # The ground the lower edge sees contradicts a mean beyond it: the bound then (its spread: none, NaN).
    edge = Estimate(DISTANCE_GROUND_EDGE, 2.5, math.nan, True)
    held = fuse([size, ground, edge])
    assert (held.distance_m, held.source, held.is_bound) == (2.5, DISTANCE_GROUND_EDGE, True)
    assert math.isnan(held.spread_m) and held.sources == fused.sources | source_bits(DISTANCE_GROUND_EDGE)
    # A class width bound only stands in for a missing measurement (two people side by side span more).
    width = Estimate(DISTANCE_CLASS_WIDTH, 2.0, math.nan, True)
    assert fuse([size, ground, width]).distance_m == pytest.approx(fused.distance_m)
    assert fuse([edge, width]) == Fused(2.0, DISTANCE_CLASS_WIDTH, math.nan, True, source_bits(DISTANCE_CLASS_WIDTH))
    assert math.isnan(fuse([]).distance_m) and fuse([]).sources == 0


def test_measurements_that_disagree_are_not_averaged_the_trusted_one_is_said_with_the_disagreement() -> None:
    """A person 10 m away by height whose box bottom is 3 m out (a foot behind a counter, ground that is not
    level): neither 3 nor 10 m is the mean's 3.5 m. People's height is trusted; the spread shows the conflict."""
    size, ground = Estimate(DISTANCE_CLASS_SIZE, 10.0, 1.2), Estimate(DISTANCE_GROUND_PLANE, 3.0, 0.25)
    person = fuse([size, ground], prefer=(DISTANCE_CLASS_SIZE, DISTANCE_GROUND_PLANE))
    assert (person.distance_m, person.source, person.spread_m) == (10.0, DISTANCE_CLASS_SIZE, 3.5)
    assert person.sources == source_bits(DISTANCE_CLASS_SIZE, DISTANCE_GROUND_PLANE)
    thing = fuse([size, ground], prefer=(DISTANCE_GROUND_PLANE,))  # a thing's height varies: its foot first
    assert (thing.distance_m, thing.source, thing.spread_m) == (3.0, DISTANCE_GROUND_PLANE, 3.5)


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
    # Depth is one more estimate where geometry measures (here all agree), and the only one of the cut box.
    assert all(d.distance_sources & source_bits(DISTANCE_DEPTH) for d in dets)
    assert dets[2].distance_source == DISTANCE_DEPTH and dets[2].distance_sources == source_bits(DISTANCE_DEPTH)
    assert [d.distance_m for d in dets] == pytest.approx([2.0, 6.0, 1.2], rel=1e-6)
    # The fit's spread: both boxes agree exactly, so the depth spread's floor (15 %) is the cut box's spread.
    assert dets[2].distance_spread_m == pytest.approx(CONFIG.depth_spread * 1.2, rel=1e-3)
    assert dets[1].bearing_deg < 0 < dets[2].bearing_deg


def test_a_depth_beyond_belief_is_no_estimate_and_never_drops_the_person() -> None:
    """An inverse depth just above the fit's shift (sky, a far wall) says thousands of metres: like a geometric
    estimate beyond max_distance_m it is not believed. Taken as one, its conflict with the person's height
    widened the spread past what a Detection may carry, and the person was refused: never said at all."""
    fit = DepthFit(scale=1.0, shift=0.5, spread=0.15)
    det = locate([person_at(3.0, inverse_depth=0.5001)], CAMERA, CONFIG, depth=fit)[0]  # 10 km by depth
    assert det.distance_m == pytest.approx(3.0, rel=1e-6)
    assert not det.distance_sources & source_bits(DISTANCE_DEPTH)
    assert not detection_problem(det), detection_problem(det)


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
