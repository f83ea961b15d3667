"""A located detection: what, where in the image, how far, in which direction. Mirrors msg/Detection."""

from __future__ import annotations

import math
from dataclasses import dataclass

# Where distance_m came from (the same numbers as msg/Detection's constants).
DISTANCE_UNKNOWN = 0
DISTANCE_CLASS_SIZE = 1
DISTANCE_GROUND_PLANE = 2
DISTANCE_DEPTH = 3
# The box reaches the image's lower edge: the foot is nearer than where the lowest visible ray under the box
# meets the ground. distance_m is then that bound (distance_is_bound), never a measurement.
DISTANCE_GROUND_EDGE = 4
# The box spans an angle no object of its class could fill from farther: it is at most that far (an upper
# bound, distance_is_bound): a person filling most of the view is within reach.
DISTANCE_CLASS_WIDTH = 5
# Metric depth from Aria Gen 2's front stereo pair (/aria/stereo/depth), in the box's lower middle: a measurement.
DISTANCE_STEREO = 6
DISTANCE_SOURCES = (
    DISTANCE_UNKNOWN, DISTANCE_CLASS_SIZE, DISTANCE_GROUND_PLANE, DISTANCE_DEPTH, DISTANCE_GROUND_EDGE,
    DISTANCE_CLASS_WIDTH, DISTANCE_STEREO,
)  # fmt: skip

ALL_SOURCES = sum(1 << s for s in DISTANCE_SOURCES if s != DISTANCE_UNKNOWN)  # distance_sources' valid bits


def source_bits(*sources: int) -> int:
    """The distance_sources bits of these sources (DISTANCE_UNKNOWN has none)."""
    return sum({1 << s for s in sources if s != DISTANCE_UNKNOWN})


# What stands in the walking corridor by the metric depth map, without a detector class (core.floor_depth).
OBSTACLE = "obstacle"
OBSTACLE_PRIORITY = 0.8  # a wall or a pole in the path: said, just after people and vehicles

# The image edges a box touches (bits of cut_edges): cut there, its extent across that edge is unknown.
EDGE_LEFT, EDGE_TOP, EDGE_RIGHT, EDGE_BOTTOM = 1, 2, 4, 8
ALL_EDGES = EDGE_LEFT | EDGE_TOP | EDGE_RIGHT | EDGE_BOTTOM


@dataclass(frozen=True)
class RawDetection:
    """What the engine finds, before geometry."""

    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in source pixels
    score: float
    class_id: int
    class_name: str
    inverse_depth: float  # relative, larger is nearer; NaN without depth


@dataclass(frozen=True)
class Detection:
    class_id: int
    class_name: str
    score: float
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels of the published image
    distance_m: float  # NaN when unknown
    distance_source: int  # one of DISTANCE_*
    bearing_deg: float  # from the wearer's straight ahead: negative left, positive right
    track_id: int = -1
    distance_is_bound: bool = False  # distance_m is an upper bound: the object is at most that far (or nearer)
    cut_edges: int = 0  # EDGE_* bits: the image edges the box touches
    view_share: float = 0.0  # the share of the image's area the box covers, 0..1
    # Too low to stand on the ground within its bound: the wearer's own hands and arms (or a thing held), not an
    # obstacle; never said to the wearer.
    wearer_body: bool = False
    # One standard deviation of distance_m (m), from the estimates combined into it; NaN when unknown, or for a
    # bound (the object is anywhere nearer: distance_is_bound says so).
    distance_spread_m: float = math.nan
    # Bits (1 << DISTANCE_*) of every estimate that went into distance_m: the measurements combined (their
    # inverse-variance mean) and the bounds that held it (distance_source: the one that weighed most, or the bound).
    distance_sources: int = 0


MAX_CLASS_NAME = 64  # characters; longer is not a class name
MAX_DISTANCE_M = 1000.0


def detection_problem(det: Detection) -> str:
    """Why a received detection cannot be used ("" when it can): values no detector makes."""
    if not det.class_name or len(det.class_name) > MAX_CLASS_NAME or not det.class_name.isprintable():
        return f"class name {det.class_name[:MAX_CLASS_NAME]!r}: 1 to {MAX_CLASS_NAME} printable characters"
    if not 0.0 <= det.score <= 1.0:  # also false for NaN
        return f"score {det.score}: must be in [0, 1]"
    if not abs(det.bearing_deg) <= 180.0:
        return f"bearing {det.bearing_deg} deg: must be finite, within +-180"
    if not (math.isnan(det.distance_m) or 0.0 < det.distance_m <= MAX_DISTANCE_M):
        return f"distance {det.distance_m} m: must be NaN (unknown) or in (0, {MAX_DISTANCE_M:g}]"
    if det.distance_source not in DISTANCE_SOURCES:
        return f"distance source {det.distance_source}: unknown"
    if det.distance_is_bound and math.isnan(det.distance_m):
        return "a distance bound without a distance"
    if not 0 <= det.cut_edges <= ALL_EDGES:
        return f"cut edges {det.cut_edges}: bits of 1 (left), 2 (top), 4 (right), 8 (bottom)"
    if not 0.0 <= det.view_share <= 1.0:  # also false for NaN
        return f"view share {det.view_share}: must be in [0, 1]"
    if not (math.isnan(det.distance_spread_m) or 0.0 <= det.distance_spread_m <= MAX_DISTANCE_M):
        return f"distance spread {det.distance_spread_m} m: must be NaN (unknown) or in [0, {MAX_DISTANCE_M:g}]"
    if det.distance_sources & ~ALL_SOURCES or det.distance_sources < 0:
        return f"distance sources {det.distance_sources}: bits 1 << DISTANCE_* (1 to {len(DISTANCE_SOURCES) - 1})"
    if not all(math.isfinite(v) for v in det.box):
        return f"box {det.box}: must be finite"
    return ""
