"""A located detection: what, where in the image, how far, in which direction. Mirrors msg/Detection."""

from __future__ import annotations

from dataclasses import dataclass

# Where distance_m came from (the same numbers as msg/Detection's constants).
DISTANCE_UNKNOWN = 0
DISTANCE_CLASS_SIZE = 1
DISTANCE_GROUND_PLANE = 2
DISTANCE_DEPTH = 3


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
