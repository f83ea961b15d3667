"""What every frame source delivers, and how it fails."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol, Union

import numpy as np


class SourceError(RuntimeError):
    """A source that cannot deliver frames; the message names the file or device."""


@dataclass(frozen=True)
class Frame:
    """One image of one camera, upright as published."""

    camera: str  # "rgb", "slam_left" or "slam_right"
    pixels: np.ndarray  # (H, W, 3) uint8 for rgb8, (H, W) uint8 for mono8
    encoding: str  # "rgb8" or "mono8"
    device_time_ns: int  # the source's own clock; the driver maps it to ROS time


@dataclass(frozen=True)
class ImuSample:
    device_time_ns: int
    accel: tuple[float, float, float]  # m/s^2, in the IMU's frame
    gyro: tuple[float, float, float]  # rad/s


Item = Union[Frame, ImuSample]  # noqa: UP007 (a runtime alias, also on Python 3.10)
Emit = Callable[[Item], None]


@dataclass(frozen=True)
class PinholeCamera:
    """Intrinsics of a published image (pixels, no distortion)."""

    width: int
    height: int
    fx: float
    fy: float
    cx: float
    cy: float

    def rotated_clockwise(self) -> PinholeCamera:
        """The same camera after its image is turned 90 degrees clockwise.

        A pixel (u, v) of the W x H original lands at (H - 1 - v, u).
        """
        return PinholeCamera(
            width=self.height,
            height=self.width,
            fx=self.fy,
            fy=self.fx,
            cx=self.height - 1 - self.cy,
            cy=self.cx,
        )

    def scaled(self, factor: float) -> PinholeCamera:
        """The same camera after its image is resized by `factor`."""
        if factor == 1.0:
            return self
        return replace(
            self,
            width=round(self.width * factor),
            height=round(self.height * factor),
            fx=self.fx * factor,
            fy=self.fy * factor,
            cx=(self.cx + 0.5) * factor - 0.5,
            cy=(self.cy + 0.5) * factor - 0.5,
        )

    @staticmethod
    def from_fov(width: int, height: int, hfov_deg: float) -> PinholeCamera:
        """A centred camera with the given horizontal field of view."""
        f = (width / 2) / np.tan(np.radians(hfov_deg) / 2)
        return PinholeCamera(width, height, float(f), float(f), (width - 1) / 2, (height - 1) / 2)


class FrameSource(Protocol):
    """Anything that delivers frames: glasses, recordings, bags, videos, photos."""

    name: str  # what to name in errors: a file or a device
    reconnects: bool  # live sources are retried after a failure; recordings are not

    def calibration(self) -> dict[str, PinholeCamera]:
        """Intrinsics of each camera's published image, where the source knows them."""
        ...

    def run(self, emit: Emit, stop: threading.Event) -> None:
        """Deliver items until the source ends or `stop` is set.

        Raises SourceError, naming the file or device, when it cannot go on.
        """
        ...
