"""JPEG images as image_transport's "compressed" transport carries them (sensor_msgs/CompressedImage).

`format` follows image_transport's compressed plugin: "<the image's encoding>; jpeg compressed <what the JPEG
holds>", a colour JPEG holding bgr8 (as OpenCV writes it) and a grey one mono8, so rqt_image_view, RViz and
`ros2 bag` tools decode what we publish and record. A mono8 camera stays one channel.
"""

from __future__ import annotations

import cv2
import numpy as np

ENCODINGS = ("rgb8", "bgr8", "mono8")


class JpegError(ValueError):
    """An image that cannot be compressed or decompressed; the message says why."""


def compress(pixels: np.ndarray, encoding: str, quality: int) -> tuple[bytes, str]:
    """(JPEG bytes, format) of an rgb8, bgr8 or mono8 image."""
    if encoding not in ENCODINGS:
        raise JpegError(f"cannot compress {encoding!r} as JPEG: {', '.join(ENCODINGS)} only")
    if not 1 <= quality <= 100:
        raise JpegError(f"JPEG quality {quality}: from 1 to 100")
    image = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR) if encoding == "rgb8" else pixels
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise JpegError(f"OpenCV could not encode a {pixels.shape} {encoding} image")
    held = "mono8" if encoding == "mono8" else "bgr8"
    return data.tobytes(), f"{encoding}; jpeg compressed {held}"


def _read_format(fmt: str) -> tuple[str, bool]:
    """(the encoding it was published from, or "" where the format does not say; grey) of a JPEG's format."""
    if "jpeg" not in fmt and "jpg" not in fmt:
        raise JpegError(f"format {fmt!r}: not a JPEG")
    original = fmt.split(";", 1)[0].strip() if ";" in fmt else ""
    return original, original == "mono8" or fmt.rstrip().endswith("mono8")


def decompress(data: bytes, fmt: str) -> tuple[np.ndarray, str]:
    """(pixels, encoding) of a CompressedImage's data and format, in the encoding it was published from."""
    original, grey = _read_format(fmt)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE if grey else cv2.IMREAD_COLOR)
    if image is None:
        raise JpegError(f"a {len(data)}-byte {fmt!r} image that OpenCV cannot decode")
    if grey:
        return image, "mono8"
    if original == "bgr8":
        return image, "bgr8"
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB), "rgb8"


def decompress_on(data: bytes, fmt: str, device: object) -> tuple[object, str]:
    """(pixels as a uint8 tensor on `device`, "rgb8" or "mono8") of a CompressedImage's data and format, decoded
    on a CUDA device by nvJPEG (torchvision's decode_jpeg): the frame never waits for the CPU, and lies where
    the engine wants it. Bytes that are no JPEG raise JpegError; a device that fails on good bytes raises its
    own error (RuntimeError). `bench/decode_bench.py` measures it against `decompress` on the same bytes."""
    import torch
    from torchvision.io import ImageReadMode, decode_jpeg

    _, grey = _read_format(fmt)
    raw = torch.frombuffer(bytearray(data), dtype=torch.uint8)  # nvJPEG reads the bytes from the host
    try:
        image = decode_jpeg(raw, mode=ImageReadMode.GRAY if grey else ImageReadMode.RGB, device=device)
    except RuntimeError:  # bad bytes, or the device failed (out of memory, a lost GPU, no nvJPEG)
        decompress(data, fmt)  # JpegError where the bytes themselves are no JPEG: the frame's fault
        raise  # they decode on the CPU: the device failed, not the frame
    return (image[0], "mono8") if grey else (image.permute(1, 2, 0), "rgb8")
