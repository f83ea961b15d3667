"""Metric depth from the floor (issue 28 item 3): depth maps rendered through the real camera models (Aria's
RGB fisheye624 with its mounting, 8 degrees down; a level 70-degree pinhole), a floor and a wall or a pole at a
known distance, turned into relative inverse depth by an unknown scale and shift, as a depth model gives it.
Core only: no ROS, no torch, no depth weights (none exist here: the maps stand in for the model)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from aria_nav_ros.core.camera_model import CameraModel
from aria_nav_ros.core.cameras import optical_frame
from aria_nav_ros.core.detection import DISTANCE_DEPTH, Detection, RawDetection, detection_problem, source_bits
from aria_nav_ros.core.floor_depth import OBSTACLE, FloorConfig, corridor_obstacle, fit_floor, locate_with_floor
from aria_nav_ros.core.geometry import AHEAD, GeometryConfig, head_rays, locate
from aria_nav_ros.core.hands import Hands
from aria_nav_ros.core.mounting import NOMINAL_ARIA, Mount, looking
from aria_nav_ros.core.navigation.config import NavigationConfig
from aria_nav_ros.core.navigation.policy import KIND_HAZARD, NavigationPolicy
from aria_nav_ros.core.perception.placement import Placement
from aria_nav_ros.core.sources.aria_calibration import nominal_models

GEOMETRY = GeometryConfig(eye_height_m=1.6)
ARIA_RGB = nominal_models()["rgb"]
ARIA_RGB_MOUNT = NOMINAL_ARIA[optical_frame("rgb")]
PINHOLE = CameraModel.from_fov(640, 480, 70.0)
# A level 70-degree view sees the ground from 3.1 m on; a phone held 20 degrees down, from 1.5 m. The floor fit
# needs floor in view: Aria's RGB camera (8 degrees down, 110-degree fisheye) sees it from 0.8 m.
RIGS = {
    "aria_rgb": (ARIA_RGB, ARIA_RGB_MOUNT),
    "pinhole70": (PINHOLE, AHEAD),
    "pinhole70_down20": (PINHOLE, looking(0.0, pitch_deg=20.0)),
}
SCALE, SHIFT = 0.37, 0.05  # the model's unknowns: relative inverse depth = SCALE / z + SHIFT


def render(
    camera: CameraModel,
    mount: Mount,
    wall_m: float = math.inf,
    pole: tuple[float, float, float] | None = None,
    size: int = 256,
    ball: tuple[float, float, float, float] | None = None,
    noise: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """A size x size map of relative inverse depth over the whole image: the floor 1.6 m below the eyes, a wall
    across the path `wall_m` ahead, a pole (ahead m, right m, radius m), a ball; NaN where a ray meets nothing (sky, a
    fisheye's dark corners). z: depth along the optical axis."""
    rows, cols = np.mgrid[0:size, 0:size]
    pixels = np.stack([(cols.ravel() + 0.5) * camera.width / size - 0.5,
                       (rows.ravel() + 0.5) * camera.height / size - 0.5], axis=1)  # fmt: skip
    optical = camera.unproject(pixels)
    origin, rays = head_rays(pixels, camera, mount, 0.0)
    eye = GEOMETRY.eye_height_m + origin[2]
    reach = np.full(len(rays), np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        floor = np.where(rays[:, 2] < -1e-6, eye / -rays[:, 2], np.inf)
        wall = np.where(rays[:, 0] > 1e-6, (wall_m - origin[0]) / rays[:, 0], np.inf)
    reach = np.minimum(reach, floor)
    reach = np.minimum(reach, np.where(wall > 0, wall, np.inf))
    if pole is not None:  # a vertical cylinder: the nearer root of |(o + t r - c)_xy| = radius
        ahead, right, radius = pole
        c = np.array([ahead, -right])
        d, o = rays[:, :2], origin[:2] - c
        a, b, k = (d * d).sum(1), 2 * (d @ o), o @ o - radius**2
        disc = b * b - 4 * a * k
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(disc >= 0, (-b - np.sqrt(np.maximum(disc, 0))) / (2 * a), np.inf)
        reach = np.minimum(reach, np.where(t > 0, t, np.inf))
    if ball is not None:  # a sphere (ahead, left, up from the eyes, radius m): a hand held out
        c, radius = np.asarray(ball[:3]) - origin, ball[3]
        b = rays @ c
        disc = b * b - (rays * rays).sum(1) * (c @ c - radius**2)
        with np.errstate(invalid="ignore"):
            t = np.where(disc >= 0, (b - np.sqrt(np.maximum(disc, 0))) / (rays * rays).sum(1), np.inf)
        reach = np.minimum(reach, np.where(t > 0, t, np.inf))
    z = reach * optical[:, 2]
    valid = np.isfinite(z) & (optical[:, 2] > 0.05)
    inverse = np.full(len(z), np.nan)
    inverse[valid] = SCALE / z[valid] + SHIFT
    if noise:
        inverse[valid] *= np.random.default_rng(seed).normal(1.0, noise, valid.sum())
    return inverse.reshape(size, size)


@pytest.mark.parametrize("rig", RIGS)
def test_the_floor_alone_gives_the_maps_scale_and_shift(rig: str) -> None:
    camera, mount = RIGS[rig]
    fit = fit_floor(render(camera, mount), camera, GEOMETRY, mount)
    assert fit is not None
    assert 1.0 / fit.scale == pytest.approx(SCALE, rel=0.02) and fit.shift == pytest.approx(SHIFT, abs=0.005)
    assert fit.inlier_share > 0.95 and fit.spread < 0.01


@pytest.mark.parametrize(
    "rig, wall_m",
    [("aria_rgb", 1.0), ("aria_rgb", 2.0), ("aria_rgb", 3.5), ("pinhole70_down20", 2.0), ("pinhole70", 4.5)],
)
def test_a_wall_across_the_path_is_an_obstacle_at_its_distance(rig: str, wall_m: float) -> None:
    camera, mount = RIGS[rig]
    inverse = render(camera, mount, wall_m=wall_m, noise=0.02)
    fit = fit_floor(inverse, camera, GEOMETRY, mount)
    assert fit is not None, "the floor in front of the wall still fits"
    obstacle = corridor_obstacle(inverse, fit, camera, GEOMETRY, mount)
    assert obstacle is not None and obstacle.class_name == OBSTACLE
    # Horizontal metres from the head to the wall's points in the corridor (0.5 m either side): D to 1.03 D.
    assert wall_m * 0.95 <= obstacle.distance_m <= wall_m * 1.1, obstacle
    assert abs(obstacle.bearing_deg) < 10.0
    assert obstacle.distance_source == DISTANCE_DEPTH and obstacle.distance_sources == source_bits(DISTANCE_DEPTH)
    assert 0 < obstacle.distance_spread_m < 0.3 * wall_m
    assert detection_problem(obstacle) == ""


def test_a_pole_to_the_right_of_the_path_is_found_where_it_is_and_one_beside_the_corridor_is_not() -> None:
    camera, mount = RIGS["pinhole70_down20"]
    inverse = render(camera, mount, pole=(2.0, 0.3, 0.08))
    fit = fit_floor(inverse, camera, GEOMETRY, mount)
    assert fit is not None
    obstacle = corridor_obstacle(inverse, fit, camera, GEOMETRY, mount)
    assert obstacle is not None
    assert obstacle.distance_m == pytest.approx(math.hypot(2.0 - 0.08, 0.3), rel=0.06)
    assert obstacle.bearing_deg == pytest.approx(math.degrees(math.atan2(0.3, 2.0)), abs=3.0)
    beside = render(camera, mount, pole=(2.0, 1.2, 0.08))  # outside the corridor's 0.5 m: not in the way
    assert corridor_obstacle(beside, fit_floor(beside, camera, GEOMETRY, mount), camera, GEOMETRY, mount) is None


def test_a_clear_corridor_has_no_obstacle_and_a_map_without_floor_no_fit() -> None:
    camera, mount = RIGS["aria_rgb"]
    inverse = render(camera, mount, noise=0.02)
    fit = fit_floor(inverse, camera, GEOMETRY, mount)
    assert fit is not None and corridor_obstacle(inverse, fit, camera, GEOMETRY, mount) is None
    # A map that is not this camera's floor (the same value everywhere: a wall filling the view) fits nothing.
    assert fit_floor(np.full((256, 256), 0.4), camera, GEOMETRY, mount) is None
    # Nor does a level view whose floor begins behind a wall 2 m ahead: no floor in view, no metric depth.
    level, ahead = RIGS["pinhole70"]
    assert fit_floor(render(level, ahead, wall_m=2.0), level, GEOMETRY, ahead) is None
    # The fisheye's dark corners and the sky are NaN: no error, the floor still fits.
    assert np.isnan(inverse).any()


def test_a_frame_whose_only_person_is_close_gets_metric_depth_from_the_floor() -> None:
    """Issue 28's case: a person whose foot is out of view, nothing else: the boxes give no scale, the floor
    does. Without the floor the box has only its bound; with it, a measured distance and its spread."""
    camera, mount = RIGS["aria_rgb"]
    # The person as a round trunk 0.7 m ahead (its foot below the frame: the lower edge sees the ground 0.86 m out)
    inverse = render(camera, mount, pole=(0.95, 0.0, 0.25))
    box = (560.0, 0.0, 850.0, 1407.0)  # cut at the top and the bottom: no foot, no height
    size = inverse.shape[0] / camera.width
    rows, cols = slice(int(400 * size), int(900 * size)), slice(int(620 * size), int(790 * size))
    raw = RawDetection(box, 0.9, 0, "person", float(np.nanmedian(inverse[rows, cols])))
    [bound] = locate([raw], camera, GEOMETRY, mount)
    assert bound.distance_is_bound
    person, *rest = locate_with_floor([raw], camera, GEOMETRY, mount, inverse)
    assert not person.distance_is_bound and person.distance_source == DISTANCE_DEPTH
    assert person.distance_m == pytest.approx(0.75, rel=0.1) and person.distance_m < bound.distance_m
    assert 0 < person.distance_spread_m < 0.3 and person.distance_sources & source_bits(DISTANCE_DEPTH)
    assert all(o.class_name == OBSTACLE and o.distance_m >= 0.7 for o in rest)  # its sides, beside the box


def test_placement_keeps_the_last_floor_fit_between_depth_runs_and_trusts_only_trusted_depth() -> None:
    """The node's placement (core.perception.placement): the frame that brings a map gets the floor's fit and the
    obstacle; the next frames (depth_every > 1: no map of their own, their boxes' inverse depth is still sampled
    from it) keep that fit for their boxes, with no obstacle from an old map; untrusted depth, or a guessed lens,
    uses none of it; a change of the head (eye height) drops the kept fit."""
    camera, mount = RIGS["aria_rgb"]
    inverse = render(camera, mount, wall_m=2.0, pole=(0.95, 0.0, 0.25))
    size = inverse.shape[0] / camera.width
    rows, cols = slice(int(400 * size), int(900 * size)), slice(int(620 * size), int(790 * size))
    raw = [RawDetection((560.0, 0.0, 850.0, 1407.0), 0.9, 0, "person", float(np.nanmedian(inverse[rows, cols])))]
    placement = Placement("rgb", GEOMETRY)
    placement.mounts["aria_rgb_optical"] = mount
    depth = source_bits(DISTANCE_DEPTH)

    def placed(depth_map: np.ndarray | None, trusted: bool = True, guessed: bool = False) -> list:
        return placement.place(raw, camera, guessed, "aria_rgb_optical", 0, trusted, depth_map).detections

    person, *rest = placed(inverse)
    assert person.distance_sources & depth and not person.distance_is_bound
    assert rest and all(o.class_name == OBSTACLE for o in rest)
    [between] = placed(None)
    assert between.distance_m == person.distance_m and between.distance_sources & depth
    [untrusted] = placed(inverse, trusted=False)
    assert untrusted.distance_is_bound and not untrusted.distance_sources & depth
    [guessed] = placed(inverse, guessed=True)
    assert math.isnan(guessed.distance_m)
    placement.set_geometry("eye_height_m", 1.7)
    [moved] = placed(None)
    assert moved.distance_is_bound and not moved.distance_sources & depth


def test_the_wearers_tracked_hand_is_no_obstacle_and_hides_none_behind_it() -> None:
    """A hand held out 0.6 m ahead stands in the corridor (the depth map cannot tell it from a thing). Where the
    glasses track the hands (Aria Gen 2), the points around a tracked wrist or palm are the wearer's own and go
    before the nearest group is sought: a clear corridor stays clear, and a wall 1 m ahead behind the hand is
    still found at 1 m (marking the nearest group, the hand, would have hidden it)."""
    camera, mount = RIGS["aria_rgb"]
    hand = (0.6, 0.0, -0.35, 0.1)  # ahead, left, up from the eyes; radius
    tracked = Hands(0, np.array([[0.62, 0.0, -0.36], [0.58, 0.02, -0.33]]))  # its wrist and palm, head frame

    def obstacles(inverse: np.ndarray, hands: Hands | None) -> list[Detection]:
        placement = Placement("rgb", GEOMETRY)
        placement.mounts["aria_rgb_optical"] = mount
        if hands is not None:
            placement.hands.append(hands)
        return placement.place([], camera, False, "aria_rgb_optical", 0, True, inverse).detections

    alone = render(camera, mount, ball=hand)
    [untracked] = obstacles(alone, None)
    assert untracked.class_name == OBSTACLE and 0.4 <= untracked.distance_m <= 0.7, untracked
    assert obstacles(alone, tracked) == []
    [wall] = obstacles(render(camera, mount, wall_m=1.0, ball=hand), tracked)
    assert wall.class_name == OBSTACLE and 0.95 <= wall.distance_m <= 1.1 and not wall.wearer_body, wall


def test_without_a_depth_map_nothing_changes() -> None:
    camera, mount = RIGS["aria_rgb"]
    raw = [RawDetection((600.0, 500.0, 800.0, 1400.0), 0.9, 0, "person", math.nan)]
    assert locate_with_floor(raw, camera, GEOMETRY, mount, None) == locate(raw, camera, GEOMETRY, mount)


def test_the_wearer_hears_obstacle_ahead_one_meter() -> None:
    camera, mount = RIGS["aria_rgb"]
    policy = NavigationPolicy(NavigationConfig.load(), "en")
    cues = []
    for i in range(5):
        inverse = render(camera, mount, wall_m=2.5 - 0.3 * i, noise=0.02, seed=i)
        detections = locate_with_floor([], camera, GEOMETRY, mount, inverse, FloorConfig())
        cues += [c for c in policy.on_detections(i * 0.2, "rgb", detections) if c.kind == KIND_HAZARD]
    assert cues and cues[0].text.startswith("Obstacle ahead")
    assert any(c.text in ("Careful! Obstacle ahead, one and a half meters", "Obstacle ahead, one meter",
                          "Careful! Obstacle ahead, one meter") for c in cues), [c.text for c in cues]  # fmt: skip


def test_the_obstacle_in_spanish_and_a_config_that_silences_it() -> None:
    from aria_nav_ros.core.navigation.phrases import hazard_text

    assert hazard_text(OBSTACLE, "ahead", 1.0, False, "es") == "Obstáculo delante, a un metro"
    config = NavigationConfig.load()
    assert config.is_hazard(OBSTACLE) and not config.is_hazard("kite")
    raw = {**config.raw, "class_priority": {**config.raw["class_priority"], OBSTACLE: 0.0}}
    assert not NavigationConfig(raw).is_hazard(OBSTACLE)
