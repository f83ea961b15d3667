"""What every frame source delivers, and how it fails."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, Union

import numpy as np

from aria_nav_ros.core.camera_model import CameraModel
from aria_nav_ros.core.mounting import Mount


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


class FrameSource(Protocol):
    """Anything that delivers frames: glasses, recordings, bags, videos, photos."""

    name: str  # what to name in errors: a file or a device
    reconnects: bool  # live sources are retried after a failure; recordings are not

    def calibration(self) -> dict[str, CameraModel]:
        """Intrinsics and lens model of each camera's published image, where the source knows them."""
        ...

    def mounts(self) -> dict[str, Mount]:
        """Where each camera's optical frame (and the IMU) sits in the head frame, where the source knows it.

        The same mapping every call until the source learns more (live glasses' calibration): the driver
        republishes /tf_static only when it gets another one.
        """
        ...

    def run(self, emit: Emit, stop: threading.Event) -> None:
        """Deliver items until the source ends or `stop` is set.

        Raises SourceError, naming the file or device, when it cannot go on.
        """
        ...
