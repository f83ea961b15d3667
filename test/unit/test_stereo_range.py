"""Stereo distances for the RGB camera's boxes (issue 29 item 5, core.perception.stereo_range): synthetic stereo
depth rendered in a pinhole view mounted beside Aria's RGB camera (fisheye624, its nominal mounting), as Gen 2's
rectified front view sits, of a board (a person-sized slab) 0.6 m ahead in front of a wall 5 m ahead. Core only:
no ROS."""

from __future__ import annotations

import math

import numpy as np
import pytest

from aria_nav_ros.core.camera_model import CameraModel
from aria_nav_ros.core.cameras import optical_frame
from aria_nav_ros.core.detection import DISTANCE_STEREO, RawDetection, source_bits
from aria_nav_ros.core.geometry import GeometryConfig, locate
from aria_nav_ros.core.mounting import NOMINAL_ARIA, looking
from aria_nav_ros.core.perception.placement import Placement, stereo_depth_problem
from aria_nav_ros.core.perception.stereo_range import StereoFrame, lower_middle, nearest, stereo_estimates
from aria_nav_ros.core.sources.aria_calibration import nominal_models

RGB_MODEL = nominal_models()["rgb"]
RGB_MOUNT = NOMINAL_ARIA[optical_frame("rgb")]
# The stereo view: a 480x400 pinhole (f 180 px) looking level ahead, 8 cm left of and 3 cm above the RGB camera.
VIEW = CameraModel(480, 400, 180.0, 180.0, 239.5, 199.5)
VIEW_MOUNT = looking(0.0, at=tuple(np.asarray(RGB_MOUNT.translation) + (0.0, 0.08, 0.03)))
BOARD_M, WALL_M = 0.6, 5.0
BOARD_HALF_M = (0.25, 1.2)  # half its width and height, centred on the RGB camera: the frame cuts it


def render_view() -> np.ndarray:
    """Depth along the view's z (REP 118 metres): the board (x = BOARD_M from the RGB camera, |y| and |z| within
    BOARD_HALF_M of the camera's), else the wall."""
    v, u = np.mgrid[0 : VIEW.height, 0 : VIEW.width]
    optical = VIEW.unproject(np.stack([u.ravel(), v.ravel()], axis=1))
    rays = VIEW_MOUNT.in_head(optical)
    origin, centre = np.asarray(VIEW_MOUNT.translation), np.asarray(RGB_MOUNT.translation)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_board = (centre[0] + BOARD_M - origin[0]) / rays[:, 0]
        t_wall = (centre[0] + WALL_M - origin[0]) / rays[:, 0]
    hit = origin + rays * t_board[:, None]
    on_board = np.all(np.abs(hit[:, 1:] - centre[1:]) <= BOARD_HALF_M, axis=1)
    reach = np.where(on_board, t_board, t_wall)
    return (reach * optical[:, 2]).reshape(VIEW.height, VIEW.width).astype(np.float32)


def board_box() -> tuple[float, float, float, float]:
    """The board's box in the RGB image: its sides at the camera's height, cut by the top and bottom edges."""
    sides = np.array([(BOARD_M, y, 0.0) for y in (-BOARD_HALF_M[0], BOARD_HALF_M[0])])
    u = RGB_MODEL.project(sides @ RGB_MOUNT.rotation)[:, 0]  # from the RGB camera, in its optical frame
    return (float(u.min()), 0.0, float(u.max()), RGB_MODEL.height - 1.0)


def expected_distance(box: tuple[float, float, float, float]) -> float:
    """The median horizontal distance from the RGB camera to the board along the box's lower-middle rays."""
    rays = RGB_MOUNT.in_head(RGB_MODEL.unproject(lower_middle(box)))
    points = rays * (BOARD_M / rays[:, 0])[:, None]
    return float(np.median(np.hypot(points[:, 0], points[:, 1])))


def test_the_boards_distance_is_the_median_stereo_depth_of_its_box_through_both_mountings() -> None:
    depth = render_view()
    frame = StereoFrame(0, depth, VIEW, "aria_stereo_optical")
    box = board_box()
    [estimate] = stereo_estimates([box], RGB_MODEL, RGB_MOUNT, 0.0, frame, VIEW_MOUNT)
    assert estimate is not None and estimate.source == DISTANCE_STEREO
    # The board, not the wall behind it 5 m away: the 8 cm offset between the views shifts the board by 24 px,
    # corrected by placing the rays at the range the stereo depth said.
    assert estimate.distance_m == pytest.approx(expected_distance(box), rel=0.01)
    z = float(np.median(depth[depth < 1.0]))
    assert estimate.spread_m == pytest.approx(0.010 * z * z, rel=0.05)
    # A pair older than the frame: a walker moves meanwhile (1.4 m/s x 0.1 s), so the measurement is less sure.
    [older] = stereo_estimates([box], RGB_MODEL, RGB_MOUNT, 0.0, frame, VIEW_MOUNT, age_ns=100_000_000)
    assert older.distance_m == estimate.distance_m
    assert older.spread_m == pytest.approx(math.hypot(0.010 * z * z, 0.14), rel=0.01)


def test_no_stereo_measurement_where_the_view_has_no_depth_or_does_not_see_the_box() -> None:
    box = board_box()
    unmatched = np.full((VIEW.height, VIEW.width), np.nan, np.float32)
    unmatched[::2] = np.inf  # and what no matcher gives: infinities, depths nearer than it can match
    unmatched[1::4] = 0.1
    assert stereo_estimates([box], RGB_MODEL, RGB_MOUNT, 0.0, StereoFrame(0, unmatched, VIEW, ""), VIEW_MOUNT) == [None]
    # The RGB fisheye's upper left corner, outside the stereo view (106 x 96 degrees); its left edge is inside.
    frame = StereoFrame(0, render_view(), VIEW, "")
    corner, edge = (10.0, 10.0, 150.0, 150.0), (50.0, 300.0, 200.0, 500.0)
    assert stereo_estimates([corner], RGB_MODEL, RGB_MOUNT, 0.0, frame, VIEW_MOUNT) == [None]
    [wall] = stereo_estimates([edge], RGB_MODEL, RGB_MOUNT, 0.0, frame, VIEW_MOUNT)
    assert wall is not None and wall.distance_m > WALL_M  # the wall, seen obliquely there


def test_a_box_cut_by_the_frame_gets_a_measurement_from_stereo_held_by_its_bound() -> None:
    """The close-range case: a box cut at the top and bottom has only bounds; stereo measures it."""
    cut = board_box()
    raw = [RawDetection(cut, 0.9, 0, "person", math.nan)]
    geometry = GeometryConfig(eye_height_m=1.6)
    [alone] = locate(raw, RGB_MODEL, geometry, RGB_MOUNT)
    assert alone.distance_is_bound and not alone.distance_sources & source_bits(DISTANCE_STEREO)
    more = stereo_estimates([cut], RGB_MODEL, RGB_MOUNT, 0.0, StereoFrame(0, render_view(), VIEW, ""), VIEW_MOUNT)
    [measured] = locate(raw, RGB_MODEL, geometry, RGB_MOUNT, more=more)
    assert not measured.distance_is_bound and measured.distance_source == DISTANCE_STEREO
    assert measured.distance_sources == source_bits(DISTANCE_STEREO) and measured.distance_m < alone.distance_m
    # (published from the head: the camera sits a few centimetres in front of its centre)
    assert measured.distance_m == pytest.approx(expected_distance(cut), rel=0.05)
    assert 0 < measured.distance_spread_m < 0.01


def test_placement_pairs_the_frame_with_the_nearest_stereo_depth_of_the_rgb_camera_only() -> None:
    depth = render_view()
    box = board_box()
    raw = [RawDetection(box, 0.9, 0, "person", math.nan)]
    placement = Placement("rgb", GeometryConfig())
    placement.mounts.update({"aria_rgb_optical": RGB_MOUNT, "aria_stereo_optical": VIEW_MOUNT})
    far = np.full_like(depth, 3.0)  # another time's depth: everything 3 m away
    placement.stereo.extend(
        [StereoFrame(t, far, VIEW, "aria_stereo_optical") for t in (0, 400_000_000)]
        + [StereoFrame(200_000_000, depth, VIEW, "aria_stereo_optical")]
    )
    [det] = placement.place(raw, RGB_MODEL, False, "aria_rgb_optical", 230_000_000, False).detections
    assert det.distance_sources & source_bits(DISTANCE_STEREO)
    # The depth 30 ms from the frame (the board), not those 230 and 170 ms away (3 m); from the head, as above.
    assert det.distance_m == pytest.approx(expected_distance(box), rel=0.05)
    [late] = placement.place(raw, RGB_MODEL, False, "aria_rgb_optical", 800_000_000, False).detections
    assert not late.distance_sources & source_bits(DISTANCE_STEREO)  # none within 150 ms of the frame
    assert nearest(list(placement.stereo), 350_000_000).stamp_ns == 400_000_000
    slam = Placement("slam_left", GeometryConfig())
    slam.mounts.update(placement.mounts)
    slam.stereo.extend(placement.stereo)
    [side] = slam.place(raw, RGB_MODEL, False, "aria_rgb_optical", 200_000_000, False).detections
    assert not side.distance_sources & source_bits(DISTANCE_STEREO)


def test_stereo_depth_of_the_wrong_kind_is_refused() -> None:
    assert stereo_depth_problem("32FC1", 480, 400, VIEW) == ""
    assert "32FC1" in stereo_depth_problem("16UC1", 480, 400, VIEW)
    assert "640x480" in stereo_depth_problem("32FC1", 640, 480, VIEW)
