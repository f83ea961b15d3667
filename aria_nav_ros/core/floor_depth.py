"""Metric depth from the ground itself, and the nearest obstacle in the walking corridor (issue 28 item 3).

A monocular depth model (Depth Anything V2) gives relative inverse depth: metric only up to a scale and a
shift, inv = a / z + b (z: depth along the optical axis). `geometry.depth_fit` finds them from boxes that already
have a geometric distance, so a frame whose only object is close (its foot out of view) stays relative. But the
floor is nearly always in view: for each pixel below the horizon, the camera's own lens model, its mounting and
the eye height say where its ray meets the ground, so how far the floor is there. Fitting a and b on those
pixels (in the walking corridor, where the floor is most likely free) makes the whole map metric every frame,
with no box at all. Pixels of the corridor that are not floor (a wall, a pole, a person) are outliers to that
fit, hence a robust one (RANSAC over pairs, then least squares on its inliers). Their outliers are one-sided:
what stands on the floor hides the floor behind it, so it looks nearer than the floor would, never farther. A
model that puts pixels behind its floor is contradicted by them (a line through the base of a wall and the wall
itself would otherwise catch more pixels than the floor's strip alone).

With metric depth, whatever stands in the corridor is found without a detector class: points that rise above
the fitted floor, within the corridor's width, nearer than `max_range_m`. The nearest dense group of them, not
inside a detected box (that box tells of it already), is an "obstacle" detection: "Obstacle ahead, one meter".

What a run without depth weights knows (this machine, the sample walk): nothing of this. No depth map comes,
so there is no floor fit, no metric depth and no class-less obstacle; distances are geometric only (ground
point, class size, the ground-edge and class-width bounds). The tests render depth maps from the real camera
models instead (a floor and a wall or pole at a known distance), which checks the geometry and the fit, not a
depth model's accuracy on real images.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from aria_nav_ros.core.camera_model import CameraModel
from aria_nav_ros.core.detection import (
    DISTANCE_DEPTH,
    OBSTACLE,
    Detection,
    RawDetection,
    source_bits,
)
from aria_nav_ros.core.geometry import (
    AHEAD,
    DepthFit,
    Estimate,
    GeometryConfig,
    bearing_deg,
    cut_edges,
    head_rays,
    tilt,
    view_share,
)
from aria_nav_ros.core.geometry import locate as locate_boxes
from aria_nav_ros.core.mounting import Mount

OBSTACLE_CLASS_ID = -1  # no model's class: the depth map's


@dataclass(frozen=True)
class FloorConfig:
    corridor_half_width_m: float = 0.5  # the wearer's path: half the shoulders and a margin
    fit_near_m: float = 0.6  # floor pixels fitted: ground points this far ...
    fit_far_m: float = 8.0  # ... to this far ahead (farther, a pixel spans metres of floor)
    step_px: int = 4  # every step_px-th pixel of the depth map, both ways
    iterations: int = 128  # RANSAC draws
    tolerance: float = 0.06  # an inlier's inverse depth within this share of the model's
    min_floor_points: int = 40
    # Of the pixels that would see the corridor's floor, the share that do: less, and something covers it. Low:
    # a wall a metre ahead leaves only the floor's first metre in view, and that metre fits it well.
    min_inlier_share: float = 0.15
    min_floor_span: float = 1.2  # the floor inliers' farthest over nearest distance: a strip, not a line of pixels
    # The floor's inverse depth changes across its inliers by at least this many tolerances of its median: a
    # wall or a door filling the view has one inverse depth everywhere, which a line with no slope would "fit".
    min_relief: float = 3.0
    behind_weight: int = 2  # a pixel seen through a model's floor counts against it this many inliers
    shift_span: float = 2.0  # the shift is fitted only where the floor inliers' distances span this factor
    fit_shift: bool = True  # fit the shift b as well as the scale a
    obstacle_height_m: float = 0.15  # a point this far above the fitted floor stands on it
    overhead_m: float = 0.3  # ... up to this far above the eyes (an overhang at head height counts)
    min_range_m: float = 0.4  # nearer is the wearer's own body or the glasses' frame
    max_range_m: float = 6.0
    # Around a tracked wrist or palm (Aria Gen 2's hand tracking): the wearer's hand and forearm, not an obstacle.
    # Only those points go, so what stands behind an arm held out is still found.
    hand_radius_m: float = 0.25
    min_obstacle_points: int = 12  # a group this dense: not a speck of noise
    group_depth_m: float = 0.3  # the group's depth
    seed: int = 0  # RANSAC's draws are the same for the same frame


@dataclass(frozen=True)
class FloorFit(DepthFit):
    """metres (along the optical axis) = 1 / (scale * (inverse_depth - shift)), fitted on the floor."""

    inlier_share: float = 0.0


@dataclass(frozen=True)
class _Samples:
    pixels: np.ndarray  # (N, 2) image pixels
    inverse: np.ndarray  # (N,) the map's relative inverse depth there
    rays: np.ndarray  # (N, 3) head-frame unit rays
    axial: np.ndarray  # (N,) each ray's cosine to the optical axis: depth z = range * axial
    origin: np.ndarray  # the camera in the head frame


_GRIDS: dict[tuple, tuple[np.ndarray, ...]] = {}


def _grid(
    camera: CameraModel, mount: Mount, pitch_deg: float, shape: tuple[int, int], step: int
) -> tuple[np.ndarray, ...]:
    """The sampled map cells (rows, columns), their image pixels, head rays and optical-axis cosines, and the
    camera's place: fixed for a camera, its mounting and the map's size, so worked out once (unprojecting
    17,000 fisheye pixels took most of 44 ms a frame)."""
    key = (camera, mount.rotation.tobytes(), tuple(mount.translation), pitch_deg, shape, step)
    if key not in _GRIDS:
        rows, cols = shape
        jj, ii = np.meshgrid(np.arange(step // 2, cols, step), np.arange(step // 2, rows, step))
        pixels = np.stack(
            [(jj.ravel() + 0.5) * camera.width / cols - 0.5, (ii.ravel() + 0.5) * camera.height / rows - 0.5],
            axis=1,
        )
        optical = camera.unproject(pixels)
        ahead = optical[:, 2] > 0.05  # a fisheye's rays beyond 87 degrees: no depth along the axis
        origin, rays = head_rays(pixels[ahead], camera, mount, pitch_deg)
        if len(_GRIDS) >= 8:  # a few cameras and map sizes at most; never grows without bound
            _GRIDS.pop(next(iter(_GRIDS)))
        _GRIDS[key] = (ii.ravel()[ahead], jj.ravel()[ahead], pixels[ahead], rays, optical[ahead, 2], origin)
    return _GRIDS[key]


def _sample(
    inverse_depth: np.ndarray, camera: CameraModel, mount: Mount, pitch_deg: float, step: int
) -> _Samples | None:
    """A grid of the map's pixels with a usable value and a ray in front of the camera (a fisheye's dark
    corners and NaNs are left out). The map covers the whole image, at its own size."""
    ii, jj, pixels, rays, axial, origin = _grid(camera, mount, pitch_deg, inverse_depth.shape, step)
    values = inverse_depth[ii, jj].astype(np.float64)
    keep = np.isfinite(values)
    if not keep.any():
        return None
    return _Samples(pixels[keep], values[keep], rays[keep], axial[keep], origin)


def _floor_depth(samples: _Samples, camera_height_m: float, config: FloorConfig) -> tuple[np.ndarray, np.ndarray]:
    """Which samples look at the corridor's floor between fit_near_m and fit_far_m, and the depth z the floor
    has there (NaN elsewhere)."""
    down = -samples.rays[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        reach = np.where(down > 1e-3, camera_height_m / down, np.nan)  # range along the ray to the ground
    point = samples.origin + samples.rays * reach[:, None]
    forward, lateral = point[:, 0], point[:, 1]
    floor = (
        np.isfinite(reach)
        & (forward >= config.fit_near_m)
        & (forward <= config.fit_far_m)
        & (np.abs(lateral) <= config.corridor_half_width_m)
    )
    return floor, np.where(floor, reach * samples.axial, np.nan)


def fit_floor(
    inverse_depth: np.ndarray,
    camera: CameraModel,
    geometry: GeometryConfig,
    mount: Mount = AHEAD,
    config: FloorConfig = FloorConfig(),
) -> FloorFit | None:
    """The map's scale (and shift) fitted on the corridor's floor, robustly; None when too little of what the
    corridor's floor pixels see fits one floor (something covers it, or the map is not of this camera)."""
    samples = _sample(inverse_depth, camera, mount, geometry.pitch_deg, config.step_px)
    if samples is None:
        return None
    floor, z = _floor_depth(samples, geometry.eye_height_m + samples.origin[2], config)
    x, y = 1.0 / z[floor], samples.inverse[floor]  # y = a x + b on the floor
    if len(x) < config.min_floor_points:
        return None
    relief = config.min_relief * config.tolerance * float(np.median(np.abs(y))) / max(float(np.ptp(x)), 1e-9)

    def judged(a: float, b: float) -> tuple[int, np.ndarray]:
        model = a * x + b
        inliers = np.abs(y - model) <= config.tolerance * np.abs(model)
        behind = y < model * (1 - config.tolerance)  # seen farther than its floor: through it
        return int(inliers.sum()) - config.behind_weight * int(behind.sum()), inliers

    # The scale alone first (one pixel's ratio per draw): a short strip of floor (a wall a metre ahead) fixes a
    # scale but not a shift, and a line through the strip and the wall would catch more pixels than the strip.
    rng = np.random.default_rng(config.seed)
    best_score, best, a, b = 0, np.zeros(len(x), dtype=bool), 0.0, 0.0
    for i in rng.choice(len(x), min(len(x), config.iterations), replace=False):
        score, inliers = judged(y[i] / x[i], 0.0)
        if score > best_score:
            best_score, best, a = score, inliers, float(y[i] / x[i])
    # Then the shift, where the floor's distances span enough to tell the two apart: refitted on the inliers
    # and kept while it explains the floor better (its inliers grow as the model nears the floor's own).
    if config.fit_shift and best.sum() >= 2 and x.max() >= config.shift_span * x.min():
        for _ in range(5):
            a2, b2 = (float(v) for v in np.polyfit(x[best], y[best], 1))
            score, inliers = judged(a2, b2)
            if not a2 > relief or score <= best_score:
                break
            best_score, best, a, b = score, inliers, a2, b2
    share = float(best.mean())
    if best.sum() < config.min_floor_points or share < config.min_inlier_share:
        return None
    if x[best].max() < config.min_floor_span * x[best].min():  # x = 1 / z: the span of the floor's distances
        return None
    if b == 0.0:
        a = float(np.median(y[best] / x[best]))
    if not a > relief:
        return None
    # A distance's relative error is the inverse depth's over (inverse - shift): the inliers' spread of it.
    relative = (y[best] - (a * x[best] + b)) / (a * x[best])
    spread = float(1.4826 * np.median(np.abs(relative - np.median(relative))))
    return FloorFit(1.0 / float(a), float(b), spread, int(best.sum()), True, share)


def corridor_obstacle(
    inverse_depth: np.ndarray,
    fit: FloorFit,
    camera: CameraModel,
    geometry: GeometryConfig,
    mount: Mount = AHEAD,
    config: FloorConfig = FloorConfig(),
    explained: Sequence[tuple[float, float, float, float]] = (),
    hands: np.ndarray | None = None,
) -> Detection | None:
    """The nearest thing that stands in the walking corridor, by the metric map: points above the fitted floor
    within the corridor's width, outside the `explained` boxes (detections say those) and farther than
    `hand_radius_m` from the wearer's tracked `hands` (head frame, (N, 3)), the nearest group of at least
    `min_obstacle_points` within `group_depth_m`; None when the corridor is clear to max_range_m."""
    samples = _sample(inverse_depth, camera, mount, geometry.pitch_deg, config.step_px)
    if samples is None:
        return None
    eye = geometry.eye_height_m + samples.origin[2]  # the camera's height above the floor
    with np.errstate(divide="ignore", invalid="ignore"):
        inverse = fit.scale * (samples.inverse - fit.shift)
        depth = np.where(inverse > 0, 1.0 / inverse, np.nan)  # metres along the optical axis
    point = samples.origin + samples.rays * (depth / samples.axial)[:, None]
    forward, lateral, height = point[:, 0], point[:, 1], point[:, 2] + geometry.eye_height_m
    standing = (
        np.isfinite(depth)
        & (np.abs(lateral) <= config.corridor_half_width_m)
        & (forward >= config.min_range_m)
        & (forward <= config.max_range_m)
        & (height >= config.obstacle_height_m)
        & (height <= eye + config.overhead_m)
    )
    for x1, y1, x2, y2 in explained:
        u, v = samples.pixels[:, 0], samples.pixels[:, 1]
        standing &= ~((u >= x1) & (u <= x2) & (v >= y1) & (v <= y2))
    if hands is not None and len(hands) and standing.any():
        level = np.asarray(hands, dtype=np.float64) @ tilt(geometry.pitch_deg).T  # as the rays: the level frame
        near = np.linalg.norm(point[standing][:, None, :] - level[None, :, :], axis=2).min(axis=1)
        standing[np.nonzero(standing)[0][near <= config.hand_radius_m]] = False
    if standing.sum() < config.min_obstacle_points:
        return None
    order = np.argsort(forward[standing])
    near = forward[standing][order]
    counts = np.searchsorted(near, near + config.group_depth_m, side="right") - np.arange(len(near))
    dense = np.nonzero(counts >= config.min_obstacle_points)[0]
    if not len(dense):
        return None
    first = dense[0]
    group = np.nonzero(standing)[0][order[first : first + counts[first]]]
    horizontal = np.hypot(point[group, 0], point[group, 1])
    distance = float(np.median(horizontal))
    u, v = samples.pixels[group, 0], samples.pixels[group, 1]
    half = config.step_px * camera.width / inverse_depth.shape[1] / 2  # each sample stands for a cell
    box = (
        float(max(0.0, u.min() - half)),
        float(max(0.0, v.min() - half)),
        float(min(camera.width - 1.0, u.max() + half)),
        float(min(camera.height - 1.0, v.max() + half)),
    )
    spread = max(geometry.depth_spread, fit.spread) * distance
    where = np.median(point[group], axis=0)
    return Detection(
        OBSTACLE_CLASS_ID,
        OBSTACLE,
        float(fit.inlier_share),  # how much of the corridor's floor the fit explains: how far to trust it
        box,
        distance,
        DISTANCE_DEPTH,
        bearing_deg(where),
        cut_edges=cut_edges(box, camera, geometry.edge_margin_px),
        view_share=view_share(box, camera),
        distance_spread_m=spread,
        distance_sources=source_bits(DISTANCE_DEPTH),
    )


def locate_with_floor(
    raw: Sequence[RawDetection],
    camera: CameraModel,
    geometry: GeometryConfig,
    mount: Mount = AHEAD,
    inverse_depth: np.ndarray | None = None,
    config: FloorConfig = FloorConfig(),
    fit: FloorFit | None = None,
    more: Sequence[Estimate | None] = (),
    hands: np.ndarray | None = None,
) -> list[Detection]:
    """`geometry.locate`, with the frame's depth map made metric by its floor where it fits (the boxes' depth
    estimates then use it, not the boxes' own geometric fit), and the corridor's nearest class-less obstacle
    appended. Without a map, or where the floor does not fit, exactly `geometry.locate`. `fit`: the floor's fit
    of an earlier map, for a frame without a map of its own (depth every Nth frame: the boxes' inverse depth is
    still that map's); no obstacle is looked for then. `more`: `geometry.locate`'s; `hands`: the wearer's tracked
    hand points (head frame), never an obstacle."""
    if fit is None and inverse_depth is not None:
        fit = fit_floor(inverse_depth, camera, geometry, mount, config)
    located = locate_boxes(raw, camera, geometry, mount, depth=fit, more=more)
    if fit is None or inverse_depth is None:
        return located
    obstacle = corridor_obstacle(inverse_depth, fit, camera, geometry, mount, config, [d.box for d in located], hands)
    return located if obstacle is None or not math.isfinite(obstacle.distance_m) else [*located, obstacle]
