"""sensor_msgs/CompressedImage (image_transport's "compressed" transport) from and to pixels (core.jpeg)."""

from __future__ import annotations

import numpy as np
from sensor_msgs.msg import CompressedImage
from std_msgs.msg import Header

from aria_nav_ros.core.jpeg import compress, decompress, decompress_on


def compressed_image(pixels: np.ndarray, encoding: str, header: Header, quality: int) -> CompressedImage:
    data, fmt = compress(pixels, encoding, quality)
    msg = CompressedImage(header=header, format=fmt)
    msg.data = data
    return msg


def pixels_of(msg: CompressedImage, device: object = None) -> tuple[object, str]:
    """(pixels, encoding): a numpy array decoded on the CPU, or, for a CUDA `device`, a tensor decoded there."""
    if device is not None and getattr(device, "type", str(device).split(":")[0]) == "cuda":
        return decompress_on(bytes(msg.data), msg.format, device)
    return decompress(bytes(msg.data), msg.format)
