"""Distance in metres and bearing in degrees from a box, the camera, its mounting and (optionally) depth.

Every pixel is turned into a ray through the camera's own lens model
(core.camera_model: pinhole or Aria's FISHEYE624) and rotated into the level
head frame by the camera's mounting (core.mounting, /tf_static) and the head's
tilt (`pitch_deg`). All estimates are horizontal distances from the head:
- class size: an upright object of real height H whose top and bottom are seen
  at elevations e_top and e_bottom stands at H / (tan e_top - tan e_bottom)
  (only when the box is not cut by the image edge);
- ground plane: the box's bottom touches the ground; a foot ray at elevation
  e below the horizon meets it at eye_height / tan(-e);
- depth: Depth Anything's relative inverse depth, turned into metres by the
  scale that best fits the geometric estimates of the same frame (median of
  the per-object ratios), or by the floor it sees (core.floor_depth), so
  every box, also the cut ones, gets a distance;
- stereo (Aria Gen 2): the front pair's metric depth in the box's lower
  middle (core.perception.stereo_range), handed in per box (`more`).
- ground edge (a bound): a box that reaches the image's lower edge has its foot
  below the frame, so the object is nearer than where the lowest visible ray
  under the box meets the ground: the farthest of those points is an upper
  bound (`distance_is_bound`), said as "under two meters" and treated as at
  least that close. A person box that, standing at that bound, would be far
  shorter than any adult, or whose top is far below the horizon, or that its
  bound (this one or the class width) places beside the head within the
  wearer's shoulders, is the wearer's own hands and arms (`wearer_body`), not
  someone there (a small child close by looks the same: told apart only by
  item 5 of issue 28);
- class width (a bound): a box without a measurement that spans an angle
  its class could not fill from farther (a person is at most 0.8 m wide) is
  at most that far: a person filling most of the view is within reach.
A box none of them fits has no distance; `why_no_distance` says why.

Each estimate comes with its spread (one standard deviation, in metres):
- class size: the class's spread of real heights (`class_height_spread`, 12 %)
  and a box edge's pixel noise over the box's height;
- ground point: the head's tilt, known to `pitch_spread_deg` (d^2 / h per
  radian: good near, poor far), and the eye height to `eye_height_spread_m`;
- depth: the scale fit's own spread (the boxes' ratios disagree), at least
  `depth_spread` of the distance;
- stereo: the matcher's, growing with the square of the distance.
The measurements are combined by their inverse variances (`fuse`); the bounds
hold the result: one beyond the ground edge's bound is that bound (the ground
contradicts it), and a box with no measurement takes the tighter bound. The
detection publishes the combined distance, its spread (NaN for a bound), the
source that weighed most (or the bound's) and the bits of every source used.
(A person's head would be a fifth estimate where it is in view, but the
detector boxes whole people only: the crown's height above the eyes, 0.1 m
give or take 0.1 m, says nothing at any distance.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from aria_nav_ros.core.camera_model import CameraModel
from aria_nav_ros.core.detection import (
    DISTANCE_CLASS_SIZE,
    DISTANCE_CLASS_WIDTH,
    DISTANCE_DEPTH,
    DISTANCE_GROUND_EDGE,
    DISTANCE_GROUND_PLANE,
    DISTANCE_STEREO,
    DISTANCE_UNKNOWN,
    EDGE_BOTTOM,
    EDGE_LEFT,
    EDGE_RIGHT,
    EDGE_TOP,
    Detection,
    RawDetection,
    source_bits,
)
from aria_nav_ros.core.mounting import Mount, looking

# Typical real heights (m) of the COCO classes a walker meets.
CLASS_HEIGHTS_M = {
    "person": 1.7, "bicycle": 1.1, "car": 1.5, "motorcycle": 1.2, "bus": 3.0, "truck": 3.0,
    "traffic light": 0.9, "fire hydrant": 0.75, "stop sign": 0.75, "bench": 0.85, "dog": 0.6,
    "chair": 0.9, "couch": 0.85, "potted plant": 0.6, "dining table": 0.75, "suitcase": 0.65,
}  # fmt: skip
# The widest a COCO class's object looks from any side (m): a box spanning more than this can from some distance
# is nearer (arms and a bag for a person, a car seen side on).
CLASS_WIDTHS_M = {
    "person": 0.8, "bicycle": 1.9, "motorcycle": 2.3, "car": 5.0, "dog": 1.1, "chair": 0.8,
}  # fmt: skip


@dataclass(frozen=True)
class GeometryConfig:
    eye_height_m: float = 1.6  # the camera's height above the ground
    pitch_deg: float = 0.0  # the head's tilt below level (positive: looking down); cameras' own tilt is in TF
    class_heights_m: dict[str, float] = field(default_factory=lambda: dict(CLASS_HEIGHTS_M))
    class_widths_m: dict[str, float] = field(default_factory=lambda: dict(CLASS_WIDTHS_M))
    class_aliases: dict[str, str] = field(default_factory=dict)  # model name -> a name above
    edge_margin_px: float = 2.0  # a box this close to an edge is cut by it
    max_distance_m: float = 50.0  # estimates beyond this are not believed
    # A box cut by the lower edge gets an upper bound from the ground the edge sees (False: no distance, as
    # before issue 28; the close-range benchmark's `today`).
    distance_bounds: bool = True
    # A bottom-cut person box whose top, were it standing at its bound, would be under this share of a person's
    # height (1.7 m: 1.19 m) is taken for the wearer's own arm: every standing adult's head is higher. (A
    # detector calls the wearer's hands and arms "person"; other classes are what they are.)
    wearer_body_height_ratio: float = 0.7
    wearer_body_reach_m: float = 2.0  # ... where the lower edge sees the ground within this (Aria's RGB: 0.8-1.7 m)
    # ... or whose top is this far below the horizon (where the lower edge sees the ground within a metre, as
    # Aria's SLAM cameras do, the height at the bound says little: the arm's top is 30-40 degrees down).
    wearer_body_top_deg: float = 25.0
    # ... or whose bound puts it beside the head, within the wearer's own shoulders: a side camera (Gen 2's look
    # 84 degrees out) sees the arm held out from the side, its top at the horizon and its box spanning over 100
    # degrees (a person that wide is within 0.35 m), where no one else can stand. Ahead, nothing of the wearer is
    # in front of the face: a person that close there is in the wearer's face and is warned.
    wearer_body_shoulder_m: float = 0.35  # from the head's vertical axis
    wearer_body_side_deg: float = 45.0  # |bearing| from which the shoulders are beside the head
    wearer_body_classes: tuple[str, ...] = ("person",)
    edge_columns: int = 5  # rays along the lower edge under a box: the foot may be under any of them
    # Each estimate's spread (one standard deviation), for combining them: adults are 1.7 m give or take 0.1 m
    # (and stoop, sit, carry); a box edge is off by a pixel or two; the head's tilt is known to a degree or two
    # (a walker's head bobs; the IMU's gravity is not yet used for it); the eyes' height to a few centimetres.
    class_height_spread: float = 0.12  # of the distance
    box_edge_px: float = 2.0
    pitch_spread_deg: float = 1.5
    eye_height_spread_m: float = 0.05
    depth_spread: float = 0.15  # of the distance, at least: relative depth is not metric between its planes


@dataclass(frozen=True)
class Estimate:
    """One way of finding a box's distance: horizontal metres from the camera, and how sure."""

    source: int  # DISTANCE_*
    distance_m: float
    spread_m: float  # one standard deviation; NaN for a bound
    is_bound: bool = False  # distance_m is an upper bound: the object is at most that far


@dataclass(frozen=True)
class Fused:
    distance_m: float  # NaN: none
    source: int  # the measurement that weighed most, or the bound that held the result
    spread_m: float  # one standard deviation (NaN: unknown, or a bound)
    is_bound: bool
    sources: int  # bits (1 << DISTANCE_*) of every estimate that went into it


NO_DISTANCE = Fused(math.nan, DISTANCE_UNKNOWN, math.nan, False, 0)


def fuse(
    estimates: Sequence[Estimate],
    prefer: Sequence[int] = (),
    bounds_constrain_measurements: Sequence[int] = (DISTANCE_GROUND_EDGE,),
    conflict: float = 3.0,
) -> Fused:
    """The measurements' inverse-variance mean and its spread, held by the bounds: a mean beyond a bound whose
    source is in `bounds_constrain_measurements` is that bound (a measurement the ground contradicts); with no
    measurement, the tightest bound. Other bounds (a class width: a box of two people side by side spans more
    than one could) only stand in for a missing measurement.

    Measurements that disagree by more than `conflict` times their spreads are not averaged: one of them is
    wrong (a person sitting, a foot hidden behind a counter, ground that is not level: a mean of 3 and 10 m is
    neither), so the first source of `prefer` there is taken, and its spread widened to half the disagreement."""
    measured = [e for e in estimates if not e.is_bound and 0 < e.distance_m and e.spread_m > 0]
    bounds = sorted((e for e in estimates if e.is_bound and e.distance_m > 0), key=lambda e: e.distance_m)
    if measured:
        weights = [1.0 / e.spread_m**2 for e in measured]
        total = sum(weights)
        mean = sum(w * e.distance_m for w, e in zip(weights, measured, strict=True)) / total
        heaviest = max(zip(weights, measured, strict=True), key=lambda we: we[0])[1]
        used = source_bits(*(e.source for e in measured))
        spread = math.sqrt(1.0 / total)
        if any(abs(e.distance_m - mean) > conflict * e.spread_m for e in measured):
            ranked = sorted(measured, key=lambda e: prefer.index(e.source) if e.source in prefer else len(prefer))
            heaviest, mean = ranked[0], ranked[0].distance_m
            spread = max(heaviest.spread_m, max(abs(e.distance_m - mean) for e in measured) / 2)
        holding = [b for b in bounds if b.source in bounds_constrain_measurements]
        if holding and mean > holding[0].distance_m:  # contradicted: no measurement then, the tightest bound
            bound = bounds[0]
            return Fused(
                bound.distance_m, bound.source, math.nan, True, used | source_bits(holding[0].source, bound.source)
            )
        return Fused(mean, heaviest.source, spread, False, used)
    if bounds:
        return Fused(bounds[0].distance_m, bounds[0].source, math.nan, True, source_bits(bounds[0].source))
    return NO_DISTANCE


AHEAD = looking(0.0)  # a camera looking straight ahead from the head (videos, photos, tests)


def head_rays(
    pixels: Sequence[Sequence[float]], camera: CameraModel, mount: Mount, pitch_deg: float
) -> tuple[np.ndarray, np.ndarray]:
    """Where the camera is and the rays through `pixels`, in the level head frame (x forward, y left, z up)."""
    turn = tilt(pitch_deg)
    rays = mount.in_head(camera.unproject(np.asarray(pixels, dtype=np.float64)))
    return turn @ np.asarray(mount.translation), rays @ turn.T


def tilt(pitch_deg: float) -> np.ndarray:
    """The head frame to the level head frame: the head tilted down turns the cameras and every ray down."""
    p = math.radians(pitch_deg)
    return np.array([[math.cos(p), 0.0, math.sin(p)], [0.0, 1.0, 0.0], [-math.sin(p), 0.0, math.cos(p)]])


def rise(ray: np.ndarray) -> float:
    """tan(elevation) of a head-frame ray: height gained per metre of horizontal distance."""
    return float(ray[2] / max(math.hypot(ray[0], ray[1]), 1e-9))


def reach(origin: np.ndarray, ray: np.ndarray, horizontal_m: float) -> np.ndarray:
    """The head-frame point `horizontal_m` metres (horizontally) from the camera along `ray`."""
    return origin + ray * (horizontal_m / max(math.hypot(ray[0], ray[1]), 1e-9))


def bearing_deg(point: np.ndarray) -> float:
    """Horizontal angle of a head-frame point or ray: 0 straight ahead, positive to the right."""
    return math.degrees(math.atan2(-point[1], point[0]))


def foot_cut(box: Sequence[float], camera: CameraModel, margin: float) -> bool:
    """Whether the box's bottom (where it meets the ground) is at the image's lower edge, or past it."""
    return box[3] >= camera.height - 1 - margin


def cut_edges(box: Sequence[float], camera: CameraModel, margin: float) -> int:
    """The EDGE_* bits of the image edges the box touches (or crosses)."""
    x1, y1, x2, y2 = box
    return (
        (EDGE_LEFT if x1 <= margin else 0)
        | (EDGE_TOP if y1 <= margin else 0)
        | (EDGE_RIGHT if x2 >= camera.width - 1 - margin else 0)
        | (EDGE_BOTTOM if foot_cut(box, camera, margin) else 0)
    )


def view_share(box: Sequence[float], camera: CameraModel) -> float:
    """The share of the image's area that the box (clipped to the image) covers."""
    x1, y1, x2, y2 = box
    w = max(0.0, min(x2, camera.width) - max(x1, 0.0))
    h = max(0.0, min(y2, camera.height) - max(y1, 0.0))
    return min(1.0, w * h / float(camera.width * camera.height))


def ground_edge_bound(edge_rays: np.ndarray, camera_height_m: float) -> float:
    """Horizontal metres from the camera within which a box's foot lies when the box reaches the lower edge;
    `edge_rays`: the head rays of the lowest image row under the box. The foot is below the edge, so nearer
    than where any of them meets the ground: the farthest of those points bounds it. NaN when a ray is at or
    above the horizon (the ground there is not seen: no bound)."""
    below = [-rise(r) for r in edge_rays]
    if not below or min(below) <= math.tan(math.radians(0.5)):
        return math.nan
    return camera_height_m / min(below)


def class_width_bound(left: np.ndarray, right: np.ndarray, width_m: float) -> float:
    """Horizontal metres within which an object at most `width_m` wide is, when the box's left and right edges
    (their head rays at one row) span the angle they do; a box cut at a side spans less than the object, so the
    bound holds all the more."""
    span = abs(math.radians(bearing_deg(left) - bearing_deg(right)))
    if not 0.0 < span < math.pi:
        return math.nan
    return width_m / 2 / math.tan(span / 2)


def class_size_distance(
    box: Sequence[float], camera: CameraModel, top: np.ndarray, bottom: np.ndarray, height_m: float, margin: float
) -> float:
    """Horizontal metres from the camera; `top`, `bottom`: the head rays of the box's top and bottom centre."""
    x1, y1, x2, y2 = box
    if y1 <= margin or foot_cut(box, camera, margin) or y2 - y1 < 4:
        return math.nan  # cut at the top or bottom: its size in the image says nothing
    spread = rise(top) - rise(bottom)
    return height_m / spread if spread > 0 else math.nan


def ground_plane_distance(
    box: Sequence[float], camera: CameraModel, camera_height_m: float, foot: np.ndarray, margin: float
) -> float:
    """Horizontal metres from the camera; `foot`: the head ray of the box's bottom centre."""
    if foot_cut(box, camera, margin):
        return math.nan  # the foot point is out of the image
    below = -rise(foot)
    if below <= math.tan(math.radians(0.5)):
        return math.nan  # at or above the horizon: not on the ground ahead
    return camera_height_m / below


def why_no_distance(det: RawDetection, camera: CameraModel, config: GeometryConfig, wearer_body: bool = False) -> str:
    """Why `locate` found no distance for a box (for the log: said once per reason)."""
    name = config.class_aliases.get(det.class_name, det.class_name)
    if wearer_body:
        return f"{name!r} comes up from the lower edge too low to stand on the ground there: the wearer's own body"
    cut = foot_cut(det.box, camera, config.edge_margin_px)
    if cut and config.distance_bounds:
        return f"{name!r} reaches the lower edge where the image does not see the ground (no bound)"
    if name not in config.class_heights_m and cut:
        return f"no known height for {name!r} and its foot is out of the image"
    if name not in config.class_heights_m:
        return f"no known height for {name!r} and its foot is not on the ground ahead (at or above the horizon)"
    if cut or det.box[1] <= config.edge_margin_px:
        return f"{name!r} is cut by the image edge and its foot is not on the ground ahead"
    return f"{name!r}: every estimate is beyond {config.max_distance_m:g} m or unusable"


def locate(
    raw: Sequence[RawDetection],
    camera: CameraModel,
    config: GeometryConfig,
    mount: Mount = AHEAD,
    depth: DepthFit | None = None,
    more: Sequence[Estimate | None] = (),
) -> list[Detection]:
    """Distances (or bounds) and bearings for one frame's detections. `depth`: the depth map's metric fit when
    known from elsewhere (the floor: core.floor_depth); else fitted on the boxes' own geometric distances.
    `more`: one more measurement per box from outside the image (stereo depth), None where there is none; empty:
    none for any box."""
    more = list(more) or [None] * len(raw)
    geometric: list[list[Estimate]] = []  # each box's measurements (horizontal metres from the camera)
    preferences: list[tuple[int, ...]] = []  # each box's order of trust, where its measurements disagree
    bounds: list[tuple[float, float]] = []  # each box's ground-edge and class-width bounds (NaN: none)
    low: list[bool] = []  # too low to stand on the ground within its bound (wearer_body)
    centres = []  # the ray through each box's centre, in the level head frame
    # The top, bottom and centre of each box's middle column, then `edge_columns` points of the lowest image
    # row under it: one unprojection for the whole frame.
    columns = max(1, config.edge_columns)
    pixels = []
    for x1, y1, x2, y2 in (d.box for d in raw):
        u = (x1 + x2) / 2
        pixels += [(u, y1), (u, y2), (u, (y1 + y2) / 2), (x1, (y1 + y2) / 2), (x2, (y1 + y2) / 2)]
        left, right = max(0.0, x1), min(camera.width - 1.0, x2)
        pixels += [(float(c), camera.height - 1.0) for c in np.linspace(left, max(left, right), columns)]
    per_box = 5 + columns
    origin, rays = head_rays(pixels, camera, mount, config.pitch_deg) if raw else (None, np.zeros((0, 3)))
    for det, box_rays, extra in zip(raw, rays.reshape(-1, per_box, 3), more, strict=True):
        top, bottom, centre, edge = box_rays[0], box_rays[1], box_rays[2], box_rays[5:]
        centres.append(centre)
        name = config.class_aliases.get(det.class_name, det.class_name)
        camera_height = config.eye_height_m + origin[2]
        ground = ground_plane_distance(det.box, camera, camera_height, bottom, config.edge_margin_px)
        height = config.class_heights_m.get(name)
        size = class_size_distance(det.box, camera, top, bottom, height, config.edge_margin_px) if height else math.nan
        bound = math.nan
        if config.distance_bounds and foot_cut(det.box, camera, config.edge_margin_px):
            bound = ground_edge_bound(edge, camera_height)
        width = config.class_widths_m.get(name)
        by_width = math.nan
        if width and config.distance_bounds:
            by_width = class_width_bound(box_rays[3], box_rays[4], width)
        bounds.append((bound, by_width))
        # How tall the object would be, standing at its bound with its top at the box's top. An adult's head
        # is above the eyes' horizon at any distance, so a person box that comes up from the lower edge and
        # stays far below the horizon is the wearer's own arm, not someone standing there.
        from_below = foot_cut(det.box, camera, config.edge_margin_px) and det.box[1] > config.edge_margin_px
        at_bound = camera_height + bound * rise(top) if math.isfinite(bound) else math.inf
        near = bound <= config.wearer_body_reach_m  # farther, any box short of the eyes is "short" at its bound
        short = height is not None and near and at_bound < config.wearer_body_height_ratio * height
        steep = rise(top) < -math.tan(math.radians(config.wearer_body_top_deg))
        beside = _within_shoulders(origin, centre, _finite_min(bound, by_width), config)
        arm_like = name in config.wearer_body_classes and from_below and (short or steep or beside)
        low.append(bool(config.distance_bounds and arm_like))
        measurements = []
        if not math.isnan(size):
            box_px = max(det.box[3] - det.box[1], 1.0)
            spread = math.hypot(config.class_height_spread, math.sqrt(2) * config.box_edge_px / box_px)
            measurements.append(Estimate(DISTANCE_CLASS_SIZE, size, spread * size))
        if not math.isnan(ground):
            measurements.append(Estimate(DISTANCE_GROUND_PLANE, ground, ground_spread(ground, camera_height, config)))
        if extra is not None:
            measurements.append(extra)
        geometric.append([m for m in measurements if m.distance_m <= config.max_distance_m])
        # People have well known heights; the ground point is better for the rest (where the two disagree). Stereo
        # comes last there: its box region may see past the object (between a walker's legs) to what is behind.
        preferences.append(
            (DISTANCE_CLASS_SIZE, DISTANCE_GROUND_PLANE, DISTANCE_STEREO)
            if name == "person"
            else (DISTANCE_GROUND_PLANE, DISTANCE_STEREO)
        )
    # The depth map's scale, from the boxes measured by geometry (bounds are no measurements).
    measured = [fuse(m, prefer).distance_m for m, prefer in zip(geometric, preferences, strict=True)]
    fit = depth if depth is not None else depth_fit(raw, measured, config.max_distance_m)
    located = []
    _, axis = head_rays([(camera.cx, camera.cy)], camera, mount, config.pitch_deg)  # the optical axis (unit)
    for det, measurements, prefer, (edge, by_width), body, centre in zip(
        raw, geometric, preferences, bounds, low, centres, strict=True
    ):
        estimates = list(measurements)
        if fit is not None and det.inverse_depth > fit.shift and math.isfinite(det.inverse_depth):
            metres = 1.0 / (fit.scale * (det.inverse_depth - fit.shift))
            if fit.axial:  # a depth along the optical axis: the range along the box's centre ray, made horizontal
                metres = metres / max(float(centre @ axis[0]), 1e-3) * math.hypot(centre[0], centre[1])
            spread = config.depth_spread if math.isnan(fit.spread) else max(config.depth_spread, fit.spread)
            if metres <= config.max_distance_m:  # as the geometric ones: an inverse depth near the shift is sky
                estimates.append(Estimate(DISTANCE_DEPTH, metres, spread * metres))
        if math.isfinite(edge):
            estimates.append(Estimate(DISTANCE_GROUND_EDGE, edge, math.nan, True))
        if math.isfinite(by_width):
            estimates.append(Estimate(DISTANCE_CLASS_WIDTH, by_width, math.nan, True))
        fused = NO_DISTANCE if body else fuse(estimates, prefer)  # the wearer's body: no obstacle, no distance
        distance, source, is_bound = fused.distance_m, fused.source, fused.is_bound
        if 0 < distance <= config.max_distance_m:
            # Where the object is, seen from the head (`origin`: the camera, the same for every box): the cameras
            # sit a few centimetres off the head, which at 1 m turns a bearing by up to 4 degrees.
            point = reach(origin, centre, distance)
            distance = math.hypot(point[0], point[1])
        else:
            point, distance, source, is_bound = centre, math.nan, DISTANCE_UNKNOWN, False
            fused = NO_DISTANCE
        located.append(
            Detection(
                det.class_id,
                det.class_name,
                det.score,
                det.box,
                distance,
                source,
                bearing_deg(point),
                distance_is_bound=is_bound,
                cut_edges=cut_edges(det.box, camera, config.edge_margin_px),
                view_share=view_share(det.box, camera),
                wearer_body=body,
                distance_spread_m=fused.spread_m,
                distance_sources=fused.sources,
            )
        )
    return located


def ground_spread(distance_m: float, camera_height_m: float, config: GeometryConfig) -> float:
    """One standard deviation of a ground-point distance: d = h / tan(e) moves by (d^2 / h)(1 + tan^2 e) per
    radian of the head's tilt, and by d / h per metre of eye height."""
    t = camera_height_m / distance_m
    by_pitch = distance_m**2 / camera_height_m * (1 + t * t) * math.radians(config.pitch_spread_deg)
    by_height = distance_m * config.eye_height_spread_m / camera_height_m
    return math.hypot(by_pitch, by_height)


def _finite_min(a: float, b: float) -> float:
    """The tighter of two bounds (NaN: none)."""
    return min((v for v in (a, b) if math.isfinite(v)), default=math.nan)


def _within_shoulders(origin: np.ndarray, centre: np.ndarray, bound: float, config: GeometryConfig) -> bool:
    """Whether an object at most `bound` metres from the camera along `centre` lies beside the head and within
    the wearer's own shoulders: only the wearer's arm (or what they hold) comes up from below there."""
    if not math.isfinite(bound):
        return False
    point = reach(origin, centre, bound)
    return (
        math.hypot(point[0], point[1]) <= config.wearer_body_shoulder_m
        and abs(bearing_deg(point)) >= config.wearer_body_side_deg
    )


@dataclass(frozen=True)
class DepthFit:
    """metres = 1 / (scale * (inverse_depth - shift)), and how well that fits: a distance's relative spread."""

    scale: float
    shift: float = 0.0  # metres = 1 / (scale * (inverse_depth - shift))
    spread: float = math.nan  # of the distance (one standard deviation), from the fit's residuals
    points: int = 0  # how many measurements it rests on
    axial: bool = False  # metres along the optical axis (a floor fit), else horizontal from the head (boxes)


def depth_fit(raw: Sequence[RawDetection], geometric_m: Sequence[float], max_m: float) -> DepthFit | None:
    """The scale fitted on the boxes that have both a geometric distance and inverse depth (the median of their
    ratios), and its spread (1.48 x the ratios' median absolute deviation in log); None if none do. One box:
    the spread is unknown, NaN (the caller's floor applies)."""
    ratios = [
        1.0 / (d * det.inverse_depth)
        for det, d in zip(raw, geometric_m, strict=True)
        if 0 < d <= max_m and det.inverse_depth > 0 and math.isfinite(det.inverse_depth)
    ]
    if not ratios:
        return None
    logs = np.log(ratios)
    spread = float(1.4826 * np.median(np.abs(logs - np.median(logs)))) if len(ratios) > 1 else math.nan
    return DepthFit(float(np.median(ratios)), 0.0, spread, len(ratios))
