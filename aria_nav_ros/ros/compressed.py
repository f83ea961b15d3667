"""sensor_msgs/CompressedImage (image_transport's "compressed" transport) from and to pixels (core.jpeg)."""

from __future__ import annotations

import numpy as np
from sensor_msgs.msg import CompressedImage
from std_msgs.msg import Header

from aria_nav_ros.core.jpeg import compress, decompress


def compressed_image(pixels: np.ndarray, encoding: str, header: Header, quality: int) -> CompressedImage:
    data, fmt = compress(pixels, encoding, quality)
    msg = CompressedImage(header=header, format=fmt)
    msg.data = data
    return msg


def pixels_of(msg: CompressedImage) -> tuple[np.ndarray, str]:
    return decompress(bytes(msg.data), msg.format)
