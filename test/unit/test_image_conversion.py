"""numpy <-> sensor_msgs/Image is exact, and inconsistent messages are refused by field."""

import numpy as np
import pytest
from sensor_msgs.msg import Image

from aria_nav_ros.core.image import ImageFormatError
from aria_nav_ros.ros.image import image_to_numpy, numpy_to_image

RNG = np.random.default_rng(7)

CASES = {
    "rgb8": RNG.integers(0, 256, (37, 53, 3), dtype=np.uint8),
    "bgr8": RNG.integers(0, 256, (41, 29, 3), dtype=np.uint8),
    "mono8": RNG.integers(0, 256, (480, 640), dtype=np.uint8),
    "32FC1": RNG.normal(3.0, 2.0, (31, 47)).astype(np.float32),
}


@pytest.mark.parametrize("encoding", sorted(CASES))
def test_round_trip_is_exact(encoding: str) -> None:
    pixels = CASES[encoding]
    msg = numpy_to_image(pixels, encoding)
    assert (msg.encoding, msg.height, msg.width) == (encoding, pixels.shape[0], pixels.shape[1])
    assert msg.step * msg.height == len(msg.data)
    back = image_to_numpy(msg)
    assert back.dtype == pixels.dtype and back.shape == pixels.shape
    assert np.array_equal(back, pixels)


def test_full_size_rgb_round_trip_is_exact() -> None:
    pixels = RNG.integers(0, 256, (1408, 1408, 3), dtype=np.uint8)
    assert np.array_equal(image_to_numpy(numpy_to_image(pixels, "rgb8")), pixels)


def test_float_specials_survive() -> None:
    depth = np.array([[np.nan, np.inf], [-np.inf, 1.5]], dtype=np.float32)
    back = image_to_numpy(numpy_to_image(depth, "32FC1"))
    assert np.array_equal(back, depth, equal_nan=True)


def test_padded_rows_are_read_without_padding() -> None:
    pixels = CASES["mono8"][:4, :5]
    msg = Image(encoding="mono8", height=4, width=5, step=8)
    padded = np.full((4, 8), 255, dtype=np.uint8)
    padded[:, :5] = pixels
    msg.data = padded.tobytes()
    assert np.array_equal(image_to_numpy(msg), pixels)


def test_big_endian_float_is_read_in_native_order() -> None:
    depth = np.array([[1.0, -2.5], [1e6, 0.125]], dtype=np.float32)
    msg = Image(encoding="32FC1", height=2, width=2, step=8, is_bigendian=1)
    msg.data = depth.astype(">f4").tobytes()
    assert np.array_equal(image_to_numpy(msg), depth)


def _msg(**fields) -> Image:
    base = {"encoding": "rgb8", "height": 4, "width": 5, "step": 15}
    base.update(fields)
    msg = Image(**{k: v for k, v in base.items() if k != "data"})
    msg.data = base.get("data", bytes(base["step"] * base["height"]))
    return msg


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"data": bytes(59)}, "data"),  # one byte short
        ({"data": bytes(61)}, "data"),  # one byte long
        ({"step": 14, "data": bytes(56)}, "step"),  # step below width x 3
        ({"encoding": "yuv422"}, "encoding"),
        ({"encoding": "32FC1", "step": 15}, "step"),  # 15 < 5 x 4 bytes
        ({"height": 5, "data": bytes(60)}, "data"),  # data holds 4 rows
        ({"height": 0, "data": b""}, "height"),
        ({"width": 0}, "width"),
    ],
)
def test_inconsistent_message_is_refused_naming_the_field(fields: dict, field: str) -> None:
    msg = _msg(**fields)
    with pytest.raises(ImageFormatError) as caught:
        image_to_numpy(msg)
    assert caught.value.field == field
    assert field in str(caught.value)


def test_array_that_does_not_match_encoding_is_refused() -> None:
    with pytest.raises(ImageFormatError, match="encoding"):
        numpy_to_image(CASES["mono8"], "rgb8")
    with pytest.raises(ImageFormatError, match="encoding"):
        numpy_to_image(CASES["rgb8"].astype(np.float32), "rgb8")
