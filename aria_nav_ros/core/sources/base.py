"""What every frame source yields, and how it fails."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np


class SourceError(RuntimeError):
    """A source that cannot deliver frames; the message names the file or device."""


@dataclass(frozen=True)
class Frame:
    """One image of one camera, upright as published."""

    camera: str  # "rgb", "slam_left" or "slam_right"
    pixels: np.ndarray  # (H, W, 3) uint8 for rgb8, (H, W) uint8 for mono8
    encoding: str  # "rgb8" or "mono8"
    device_time_ns: int  # the source's own clock; mapped to ROS time by the driver


class FrameSource(Protocol):
    def frames(self) -> Iterator[Frame]:
        """Frames in capture order; ends when the source is exhausted."""
        ...

    def close(self) -> None: ...
