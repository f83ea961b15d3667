"""Distance in metres and bearing in degrees from a box, the calibration and (optionally) depth.

Three estimates, each stating its source:
- class size: a pinhole camera sees an object of real height H at distance
  d as fy * H / d pixels tall (only when the box is not cut by the image edge);
- ground plane: the box's bottom touches the ground; with the camera at the
  wearer's eye height and level, a point v pixels below the principal point
  lies at eye_height / tan(atan((v - cy) / fy));
- depth: Depth Anything's relative inverse depth, turned into metres by the
  scale that best fits the geometric estimates of the same frame (median of
  the per-object ratios), so every box, also the cut ones, gets a distance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from aria_nav_ros.core.detection import (
    DISTANCE_CLASS_SIZE,
    DISTANCE_DEPTH,
    DISTANCE_GROUND_PLANE,
    DISTANCE_UNKNOWN,
    Detection,
    RawDetection,
)
from aria_nav_ros.core.sources.base import PinholeCamera

# Typical real heights (m) of the COCO classes a walker meets.
CLASS_HEIGHTS_M = {
    "person": 1.7, "bicycle": 1.1, "car": 1.5, "motorcycle": 1.2, "bus": 3.0, "truck": 3.0,
    "traffic light": 0.9, "fire hydrant": 0.75, "stop sign": 0.75, "bench": 0.85, "dog": 0.6,
    "chair": 0.9, "couch": 0.85, "potted plant": 0.6, "dining table": 0.75, "suitcase": 0.65,
}  # fmt: skip


@dataclass(frozen=True)
class GeometryConfig:
    eye_height_m: float = 1.6  # the camera's height above the ground
    pitch_deg: float = 0.0  # camera tilt below level (positive: looking down)
    class_heights_m: dict[str, float] = field(default_factory=lambda: dict(CLASS_HEIGHTS_M))
    class_aliases: dict[str, str] = field(default_factory=dict)  # model name -> a name above
    edge_margin_px: float = 2.0  # a box this close to an edge is cut by it
    max_distance_m: float = 50.0  # estimates beyond this are not believed


def bearing_deg(u: float, camera: PinholeCamera, yaw_deg: float = 0.0) -> float:
    """Horizontal angle of pixel column u, plus where the camera looks (its yaw on the head)."""
    return math.degrees(math.atan2(u - camera.cx, camera.fx)) + yaw_deg


def class_size_distance(box: Sequence[float], camera: PinholeCamera, height_m: float, margin: float) -> float:
    x1, y1, x2, y2 = box
    if y1 <= margin or y2 >= camera.height - 1 - margin or y2 - y1 < 4:
        return math.nan  # cut at the top or bottom: its pixel height says nothing
    return camera.fy * height_m / (y2 - y1)


def ground_plane_distance(box: Sequence[float], camera: PinholeCamera, config: GeometryConfig) -> float:
    bottom = box[3]
    if bottom >= camera.height - 1 - config.edge_margin_px:
        return math.nan  # the foot point is out of the image
    below_horizon = math.atan2(bottom - camera.cy, camera.fy) + math.radians(config.pitch_deg)
    if below_horizon <= math.radians(0.5):
        return math.nan  # at or above the horizon: not on the ground ahead
    return config.eye_height_m / math.tan(below_horizon)


def locate(
    raw: Sequence[RawDetection], camera: PinholeCamera, config: GeometryConfig, yaw_deg: float = 0.0
) -> list[Detection]:
    """Distances and bearings for one frame's detections."""
    geometric: list[tuple[float, int]] = []
    for det in raw:
        name = config.class_aliases.get(det.class_name, det.class_name)
        ground = ground_plane_distance(det.box, camera, config)
        height = config.class_heights_m.get(name)
        size = class_size_distance(det.box, camera, height, config.edge_margin_px) if height else math.nan
        # People and vehicles have well known heights; the ground point is better for the rest.
        if not math.isnan(size) and (math.isnan(ground) or name == "person"):
            geometric.append((size, DISTANCE_CLASS_SIZE))
        elif not math.isnan(ground):
            geometric.append((ground, DISTANCE_GROUND_PLANE))
        else:
            geometric.append((math.nan, DISTANCE_UNKNOWN))
    scale = depth_scale(raw, [d for d, _ in geometric], config.max_distance_m)
    located = []
    for det, (distance, source) in zip(raw, geometric, strict=True):
        if scale is not None and det.inverse_depth > 0:
            distance, source = 1.0 / (scale * det.inverse_depth), DISTANCE_DEPTH
        if not (0 < distance <= config.max_distance_m):
            distance, source = math.nan, DISTANCE_UNKNOWN
        centre = (det.box[0] + det.box[2]) / 2
        located.append(
            Detection(
                det.class_id,
                det.class_name,
                det.score,
                det.box,
                distance,
                source,
                bearing_deg(centre, camera, yaw_deg),
            )
        )
    return located


def depth_scale(raw: Sequence[RawDetection], geometric_m: Sequence[float], max_m: float) -> float | None:
    """k such that metres = 1 / (k * inverse_depth), fitted on the boxes that have both; None if none do."""
    ratios = [
        1.0 / (d * det.inverse_depth)
        for det, d in zip(raw, geometric_m, strict=True)
        if 0 < d <= max_m and det.inverse_depth > 0 and math.isfinite(det.inverse_depth)
    ]
    return float(np.median(ratios)) if ratios else None
