"""Distances at close range from Aria Gen 2's front stereo pair (issue 29 item 5), for the RGB camera's boxes.

The driver publishes the pair's metric depth (core.sources.stereo: /aria/stereo/depth, metres along the
rectified left view's z, NaN where unmatched) in its own view, aria_stereo_optical, which sits a few centimetres
from the RGB camera and sees 61 % of its view. A box's lower middle (where the object itself is, as the depth
model's sampling takes it) is carried into that view through both cameras' mountings: each sampled RGB ray is
placed at a range, projected into the stereo view, and the stereo depth there read. The range is unknown at
first; the cameras' offset shifts a near point by a few pixels between the views (parallax), so the range is
taken first as `FIRST_RANGE_M`, then as what the stereo depth said (one correction: the shift changes by well
under a pixel per ten per cent of range). The median of the valid depths there is one more measurement for
geometry.fuse, with the matcher's spread: 0.010 Z^2 m (1/16 px disparity steps at f 180 px, 13.6 cm apart, and
the matcher's own noise), widened by how far a walker moves between the pair and the frame.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from aria_nav_ros.core.camera_model import CameraModel
from aria_nav_ros.core.detection import DISTANCE_STEREO
from aria_nav_ros.core.geometry import Estimate, tilt
from aria_nav_ros.core.mounting import Mount

SPREAD_PER_M2 = 0.010  # the stereo depth's spread (one standard deviation, m) per squared metre of depth
MIN_RANGE_M = 0.38  # the matcher's nearest depth (its widest disparity, core.sources.stereo): nearer is no match
MAX_RANGE_M = 10.0  # farther, a pixel of disparity spans metres: nothing for close range
MAX_AGE_NS = 150_000_000  # a pair this far from a frame still says where things are (a walker moves 0.2 m)
WALKING_MPS = 1.4  # how fast the distance may change between the pair and the frame (both walking: more)
FIRST_RANGE_M = 2.0  # the range assumed before the stereo depth says one (close range is what it is for)
GRID = 7  # samples each way in a box's lower middle
MIN_VALID_SHARE = 0.25  # of a box's samples: inside the stereo view with a depth there (fewer: not this object)


@dataclass(frozen=True)
class StereoFrame:
    """One stereo depth image and where it was seen from."""

    stamp_ns: int
    depth: np.ndarray  # (H, W) float32 metres along the view's z; NaN (or anything not finite) where unmatched
    model: CameraModel  # the stereo view's lens (a pinhole: aria/stereo/camera_info)
    frame_id: str  # its optical frame (aria_stereo_optical), placed on the head by /tf_static


def nearest(frames: Sequence[StereoFrame], stamp_ns: int, max_age_ns: int = MAX_AGE_NS) -> StereoFrame | None:
    """The stereo depth nearest a frame's time, or None where none is within `max_age_ns`."""
    best = min(frames, key=lambda f: abs(f.stamp_ns - stamp_ns), default=None)
    return best if best is not None and abs(best.stamp_ns - stamp_ns) <= max_age_ns else None


def lower_middle(box: Sequence[float], grid: int = GRID) -> np.ndarray:
    """(grid^2, 2) pixels of a box's middle half in width, 40-90 % of its height: the object, not its
    surroundings (core.perception.ops.sample_inverse_depth samples the depth model's map there too)."""
    x1, y1, x2, y2 = box
    steps = (np.arange(grid) + 0.5) / grid
    u, v = np.meshgrid(x1 + (x2 - x1) * (0.25 + 0.5 * steps), y1 + (y2 - y1) * (0.4 + 0.5 * steps))
    return np.stack([u.ravel(), v.ravel()], axis=1)


def _read(depth: np.ndarray, model: CameraModel, mount: Mount, points: np.ndarray) -> np.ndarray:
    """The stereo depth at the stereo view's pixels where head-frame `points` project; NaN outside the view or
    where it has no valid depth."""
    optical = (points - np.asarray(mount.translation)) @ mount.rotation  # head -> the view's optical frame
    out = np.full(len(points), np.nan)
    ahead = optical[:, 2] > 0.05
    if not ahead.any():
        return out
    pixels = np.rint(model.project(optical[ahead])).astype(np.int64)
    rows, cols = depth.shape
    inside = (pixels[:, 0] >= 0) & (pixels[:, 0] < cols) & (pixels[:, 1] >= 0) & (pixels[:, 1] < rows)
    values = np.full(len(pixels), np.nan)
    values[inside] = depth[pixels[inside, 1], pixels[inside, 0]]
    values[~((values >= MIN_RANGE_M) & (values <= MAX_RANGE_M))] = np.nan  # also NaN and infinities
    out[ahead] = values
    return out


def stereo_estimates(
    boxes: Sequence[Sequence[float]],
    camera: CameraModel,
    mount: Mount,
    pitch_deg: float,
    frame: StereoFrame,
    stereo_mount: Mount,
    age_ns: int = 0,
) -> list[Estimate | None]:
    """Per box of `camera` (mounted at `mount`): the stereo measurement of its lower middle, in horizontal metres
    from the camera (as geometry.locate's estimates), or None where too little of it has stereo depth. `age_ns`:
    between the pair and the frame."""
    lag_m = WALKING_MPS * abs(age_ns) / 1e9
    out: list[Estimate | None] = []
    for box in boxes:
        found = _measure(box, camera, mount, frame, stereo_mount)
        if found is None:
            out.append(None)
            continue
        points, depth_m = found
        flat = (points - np.asarray(mount.translation)) @ tilt(pitch_deg).T  # the level head frame, as geometry's
        distance = float(np.median(np.hypot(flat[:, 0], flat[:, 1])))
        out.append(Estimate(DISTANCE_STEREO, distance, math.hypot(SPREAD_PER_M2 * depth_m**2, lag_m)))
    return out


def _measure(
    box: Sequence[float], camera: CameraModel, mount: Mount, frame: StereoFrame, stereo_mount: Mount
) -> tuple[np.ndarray, float] | None:
    """The head-frame points the stereo depth sees in the box's lower middle, and their median depth; None where
    fewer than MIN_VALID_SHARE of its samples have one."""
    origin = np.asarray(mount.translation, dtype=np.float64)
    rays = mount.in_head(camera.unproject(lower_middle(box)))
    rays = rays[np.isfinite(rays).all(axis=1)]  # (a fisheye's corners have no ray)
    rays = rays / np.linalg.norm(rays, axis=1, keepdims=True)
    at = np.full(len(rays), FIRST_RANGE_M)
    found = None
    for _ in range(2):  # at the first range, then at the range the stereo depth said (the views' parallax)
        guessed = origin + rays * at[:, None]
        z = _read(frame.depth, frame.model, stereo_mount, guessed)
        valid = np.isfinite(z)
        if valid.sum() < MIN_VALID_SHARE * GRID * GRID:
            return None
        points = _points(stereo_mount, guessed[valid], z[valid])
        found = points, float(np.median(z[valid]))
        at = np.full(len(rays), float(np.median(np.linalg.norm(points - origin, axis=1))))
    return found


def _points(mount: Mount, guessed: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Head-frame points of the stereo depths `z` read where the `guessed` head points project (the view's ray
    there, scaled to depth z along its axis)."""
    optical = (guessed - np.asarray(mount.translation)) @ mount.rotation
    along = optical / optical[:, 2:3] * z[:, None]  # a pinhole's ray through the pixel, at depth z
    return along @ mount.rotation.T + np.asarray(mount.translation)
