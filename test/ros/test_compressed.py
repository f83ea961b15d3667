"""JPEG images as image_transport's compressed transport: the core codec, and the driver over DDS."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import rclpy
import torch
from processes import NodeProcess, node_command
from sensor_msgs.msg import CompressedImage, Image

from aria_nav_ros.core.jpeg import JpegError, compress, decompress, decompress_on
from aria_nav_ros.core.photos import photo_folder, real_photos
from aria_nav_ros.ros.compressed import pixels_of
from aria_nav_ros.ros.image import image_to_numpy
from aria_nav_ros.ros.qos import SENSOR_QOS


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    error = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / max(error, 1e-12)))


@pytest.fixture(scope="module")
def bus() -> np.ndarray:
    [path] = [p for p in real_photos() if p.name == "bus.jpg"]
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def test_jpeg_round_trip_keeps_encoding_colours_and_one_channel_for_mono(bus: np.ndarray) -> None:
    data, fmt = compress(bus, "rgb8", 80)
    assert fmt == "rgb8; jpeg compressed bgr8"  # image_transport's compressed format
    back, encoding = decompress(data, fmt)
    assert encoding == "rgb8" and back.shape == bus.shape and psnr(back, bus) > 30
    assert len(data) * 10 < bus.nbytes  # the point of it
    grey = cv2.cvtColor(bus, cv2.COLOR_RGB2GRAY)
    data, fmt = compress(grey, "mono8", 80)
    back, encoding = decompress(data, fmt)
    assert fmt == "mono8; jpeg compressed mono8" and encoding == "mono8" and back.shape == grey.shape
    assert psnr(back, grey) > 30


def test_the_device_decoder_gives_the_picture_the_cpu_decoder_gives(bus: np.ndarray) -> None:
    """decompress_on is what perception decodes with on a GPU (nvJPEG there; bench/decode_bench.py ran it on the
    H200); torchvision's same call on the CPU checks its formats, channels and errors here."""
    data, fmt = compress(bus, "rgb8", 80)
    tensor, encoding = decompress_on(data, fmt, "cpu")
    assert encoding == "rgb8" and tuple(tensor.shape) == bus.shape and tensor.dtype == torch.uint8
    assert psnr(tensor.numpy(), decompress(data, fmt)[0]) > 35  # two decoders round apart, no more
    grey = cv2.cvtColor(bus, cv2.COLOR_RGB2GRAY)
    tensor, encoding = decompress_on(*compress(grey, "mono8", 80), "cpu")
    assert encoding == "mono8" and tuple(tensor.shape) == grey.shape  # one channel, as the engine takes grey
    with pytest.raises(JpegError, match="cannot decode"):
        decompress_on(data[: len(data) // 3] + b"\x00" * 64, fmt, "cpu")
    with pytest.raises(JpegError, match="not a JPEG"):
        decompress_on(data, "rgb8; png compressed bgr8", "cpu")


def test_a_device_that_cannot_decode_is_its_own_error_not_the_frames(bus: np.ndarray) -> None:
    """Good bytes and a failing device raise the device's error (perception then decodes on the CPU and says
    so); bad bytes stay the frame's fault (JpegError: refused and counted). Here the failing device is CUDA
    on a machine without a GPU driver."""
    if torch.cuda.is_available():
        pytest.skip("this machine's CUDA works: the failing device is a CUDA build without a GPU")
    data, fmt = compress(bus, "rgb8", 80)
    with pytest.raises(RuntimeError) as failed:
        decompress_on(data, fmt, "cuda")
    assert not isinstance(failed.value, JpegError)
    with pytest.raises(JpegError, match="cannot decode"):
        decompress_on(data[:64] + b"\x00" * 64, fmt, "cuda")


def test_bad_input_is_refused_with_the_reason(bus: np.ndarray) -> None:
    with pytest.raises(JpegError, match="32FC1"):
        compress(bus.astype(np.float32), "32FC1", 80)
    with pytest.raises(JpegError, match="quality 0"):
        compress(bus, "rgb8", 0)
    with pytest.raises(JpegError, match="cannot decode"):
        decompress(b"not a jpeg at all", "rgb8; jpeg compressed bgr8")
    with pytest.raises(JpegError, match="not a JPEG"):
        decompress(b"", "rgb8; png compressed bgr8")


def test_driver_publishes_raw_and_compressed_alike(listener, ros_env, tmp_path: Path) -> None:
    photos = photo_folder(tmp_path / "photos", ("bus.jpg",))
    params = {"path": photos, "image_fps": 4.0, "loop": True, "stand_in_slam": True, "transport": "both"}
    driver = NodeProcess(node_command("aria_driver", **params), ros_env)
    got: dict[str, list] = {}
    for camera in ("rgb", "slam_left"):
        topic = f"/aria/{camera}/image_raw"
        jpeg = f"{topic}/compressed"
        got[topic], got[jpeg] = [], []
        listener.create_subscription(Image, topic, got[topic].append, SENSOR_QOS)
        listener.create_subscription(CompressedImage, jpeg, got[jpeg].append, SENSOR_QOS)
    try:
        end = time.monotonic() + 60
        while time.monotonic() < end and not all(got.values()):
            rclpy.spin_once(listener, timeout_sec=0.1)
    finally:
        code = driver.stop()
    assert code == 0 and all(got.values()), ({k: len(v) for k, v in got.items()}, driver.log[-2000:])
    for camera, encoding in (("rgb", "rgb8"), ("slam_left", "mono8")):
        raw, jpeg = got[f"/aria/{camera}/image_raw"][-1], got[f"/aria/{camera}/image_raw/compressed"][-1]
        assert jpeg.header.frame_id == raw.header.frame_id and jpeg.format.startswith(f"{encoding}; jpeg")
        pixels, decoded = pixels_of(jpeg)
        assert decoded == raw.encoding == encoding
        assert psnr(pixels, image_to_numpy(raw)) > 30  # the same picture (one photo, looped)
        assert len(jpeg.data) * 3 < len(raw.data)  # a detailed street half: about 4x for mono, more for colour


def test_perception_takes_jpeg_frames_when_raw_ones_cannot_travel(listener, ros_env, tmp_path: Path) -> None:
    """The driver sends JPEG only (a Wi-Fi link); perception, told so, decodes and finds the people."""
    from aria_nav_ros.msg import DetectionArray
    from aria_nav_ros.ros.qos import RESULT_QOS

    photos = photo_folder(tmp_path / "photos", ("zidane.jpg",))
    driver = NodeProcess(
        node_command("aria_driver", path=photos, image_fps=4.0, loop=True, transport="compressed"), ros_env
    )
    perception = NodeProcess(
        node_command("rgb_perception", depth_model="''", imgsz=320, device="cpu", compressed_input=True), ros_env
    )
    arrays: list[DetectionArray] = []
    listener.create_subscription(DetectionArray, "/aria/rgb/detections", arrays.append, RESULT_QOS)
    try:
        end = time.monotonic() + 90
        while time.monotonic() < end and sum(bool(a.detections) for a in arrays) < 2:
            rclpy.spin_once(listener, timeout_sec=0.1)
        raw_writers = listener.get_publishers_info_by_topic("/aria/rgb/image_raw")
    finally:
        codes = [driver.stop(), perception.stop()]
    assert codes == [0, 0], perception.log[-2000:]
    assert not raw_writers  # nothing raw travelled
    found = [a for a in arrays if a.detections]
    assert len(found) >= 2, perception.log[-2000:]
    assert (found[-1].image_width, found[-1].image_height) == (1408, 1408)
    assert sum(d.class_name in ("Normal", "Fall") for d in found[-1].detections) >= 2  # the two people
