"""Raw image layout (the fields of sensor_msgs/Image) <-> numpy, without ROS.

Every inconsistency is refused with an ImageFormatError that names the field,
so a node can log exactly what was wrong with a message and keep running.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# encoding -> (numpy dtype, channels). Only what this package publishes or reads.
ENCODINGS: dict[str, tuple[np.dtype, int]] = {
    "rgb8": (np.dtype(np.uint8), 3),
    "bgr8": (np.dtype(np.uint8), 3),
    "mono8": (np.dtype(np.uint8), 1),
    "mono16": (np.dtype(np.uint16), 1),
    "32FC1": (np.dtype(np.float32), 1),
}


class ImageFormatError(ValueError):
    """An image whose fields do not describe its data. `field` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"invalid image: {field}: {message}")
        self.field = field


@dataclass(frozen=True)
class ImageLayout:
    """The fields of sensor_msgs/Image that describe how `data` is laid out."""

    encoding: str
    height: int
    width: int
    step: int
    is_bigendian: bool = False


def layout_for(array: np.ndarray, encoding: str) -> ImageLayout:
    """Layout of a dense (unpadded) image built from `array`."""
    dtype, channels = _encoding(encoding)
    expected_ndim = 2 if channels == 1 else 3
    if array.ndim == 3 and channels == 1 and array.shape[2] == 1:
        expected_ndim = 3
    if array.ndim != expected_ndim or (array.ndim == 3 and array.shape[2] != channels):
        raise ImageFormatError("encoding", f"{encoding!r} needs {channels} channel(s), array has shape {array.shape}")
    if array.dtype != dtype:
        raise ImageFormatError("encoding", f"{encoding!r} needs {dtype}, array is {array.dtype}")
    height, width = array.shape[:2]
    return ImageLayout(encoding, height, width, width * channels * dtype.itemsize)


def check_layout(layout: ImageLayout, data_size: int) -> None:
    """Raise ImageFormatError unless `layout` describes `data_size` bytes exactly."""
    dtype, channels = _encoding(layout.encoding)
    if layout.height <= 0:
        raise ImageFormatError("height", f"must be positive, got {layout.height}")
    if layout.width <= 0:
        raise ImageFormatError("width", f"must be positive, got {layout.width}")
    row_bytes = layout.width * channels * dtype.itemsize
    if layout.step < row_bytes:
        raise ImageFormatError(
            "step",
            f"{layout.step} bytes is less than width {layout.width} x {channels} channel(s)"
            f" x {dtype.itemsize} byte(s) = {row_bytes} for {layout.encoding!r}",
        )
    if layout.step % dtype.itemsize:
        raise ImageFormatError("step", f"{layout.step} is not a multiple of {dtype.itemsize}")
    if data_size != layout.step * layout.height:
        raise ImageFormatError(
            "data",
            f"{data_size} bytes, but step {layout.step} x height {layout.height} = {layout.step * layout.height}",
        )


MAX_SIDE = 8192  # pixels; no camera of the glasses comes near, and a bigger frame would only fill memory


def check_frame(layout: ImageLayout, data_size: int, encodings: tuple[str, ...]) -> None:
    """A camera frame a node can take: one of `encodings`, a sane size, consistent fields."""
    if layout.encoding not in encodings:
        raise ImageFormatError("encoding", f"{layout.encoding[:32]!r}: this node takes {', '.join(encodings)}")
    if not (0 < layout.height <= MAX_SIDE and 0 < layout.width <= MAX_SIDE):
        raise ImageFormatError("size", f"{layout.width}x{layout.height}: each side must be 1..{MAX_SIDE}")
    check_layout(layout, data_size)


def to_array(layout: ImageLayout, data: bytes | bytearray | memoryview | np.ndarray) -> np.ndarray:
    """View `data` as an (H, W) or (H, W, C) array; checks the layout first.

    The result shares memory with `data` where it can (no copy); copy it before
    keeping it beyond the life of the message.
    """
    buffer = np.frombuffer(data, dtype=np.uint8)
    check_layout(layout, buffer.size)
    dtype, channels = _encoding(layout.encoding)
    rows = buffer.reshape(layout.height, layout.step)[:, : layout.width * channels * dtype.itemsize]
    # Read in the message's byte order, then hand out native order (a no-op
    # for 8-bit images and for little-endian data on this machine).
    pixels = rows.view(dtype.newbyteorder(">" if layout.is_bigendian else "<"))
    pixels = pixels.astype(dtype, copy=False)
    if channels == 1:
        return pixels.reshape(layout.height, layout.width)
    return pixels.reshape(layout.height, layout.width, channels)


def _encoding(encoding: str) -> tuple[np.dtype, int]:
    try:
        return ENCODINGS[encoding]
    except KeyError:
        raise ImageFormatError(
            "encoding", f"{encoding!r} is not supported (supported: {', '.join(ENCODINGS)})"
        ) from None
