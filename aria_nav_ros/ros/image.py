"""sensor_msgs/Image <-> numpy, exact and fast.

`data` goes in as an array.array('B') built from the buffer (rclpy's fast
path); assigning a list or bytes makes rclpy check every element.
"""

from __future__ import annotations

import array

import numpy as np
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from aria_nav_ros.core.image import ImageLayout, layout_for, to_array


def image_to_numpy(msg: Image, copy: bool = False) -> np.ndarray:
    """Pixels of `msg` as an array; raises ImageFormatError naming a bad field.

    Unless `copy`, a view of the message's data: never write into it, since a message handed over in-process
    (ros/handover.py) is the one its publisher is still sending (the engine and annotation copy first; a
    read-only view would make torch warn on every process's first frame)."""
    layout = ImageLayout(msg.encoding, msg.height, msg.width, msg.step, bool(msg.is_bigendian))
    pixels = to_array(layout, msg.data)
    return pixels.copy() if copy else pixels


def numpy_to_image(pixels: np.ndarray, encoding: str, header: Header | None = None) -> Image:
    """A dense sensor_msgs/Image of `pixels`; raises ImageFormatError on a mismatch."""
    layout = layout_for(pixels, encoding)
    msg = Image()
    if header is not None:
        msg.header = header
    msg.height = layout.height
    msg.width = layout.width
    msg.encoding = encoding
    msg.is_bigendian = 0
    msg.step = layout.step
    data = array.array("B")
    little_endian = pixels.astype(pixels.dtype.newbyteorder("<"), copy=False)
    data.frombytes(np.ascontiguousarray(little_endian).reshape(-1).view(np.uint8))
    msg.data = data
    return msg
