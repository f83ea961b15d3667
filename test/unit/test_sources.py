"""Frame sources of the core (no ROS): real photos, a real video, and every way a file can be bad."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from locations import ARIA_DATA

from aria_nav_ros.core.camera_model import CameraModel
from aria_nav_ros.core.cameras import CAMERAS
from aria_nav_ros.core.photos import photo_folder
from aria_nav_ros.core.sources import Frame, SourceError
from aria_nav_ros.core.sources.factory import SourceSettings, open_source, source_cameras
from aria_nav_ros.core.sources.media import ImageFolderSource, VideoSource


def collect(source, timeout_s: float = 30.0) -> list:
    items: list = []
    stop = threading.Event()
    timer = threading.Timer(timeout_s, stop.set)
    timer.start()
    try:
        source.run(items.append, stop)
    finally:
        timer.cancel()
    return items


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    return photo_folder(tmp_path_factory.mktemp("photos"))


def test_image_folder_plays_real_photos_as_aria_frames(photos: Path) -> None:
    items = collect(ImageFolderSource(photos, fps=50, speed=0))
    count = len(list(photos.iterdir()))
    assert count >= 2
    rgb = [i for i in items if i.camera == "rgb"]
    assert len(rgb) == count and len(items) == 3 * count
    assert all(f.pixels.shape == (1408, 1408, 3) and f.encoding == "rgb8" for f in rgb)
    slam = [i for i in items if i.camera != "rgb"]
    assert all(f.pixels.shape == (480, 640) and f.encoding == "mono8" for f in slam)
    # A real photo is not flat: the frames carry its content.
    assert all(f.pixels.std() > 10 for f in items)
    assert [f.device_time_ns for f in rgb] == [i * 20_000_000 for i in range(count)]


def test_recording_is_paced_at_recorded_speed(photos: Path) -> None:
    source = ImageFolderSource(photos, fps=20, speed=1.0, with_slam=False)
    start = time.monotonic()
    items = collect(source)
    elapsed = time.monotonic() - start
    # n frames at 20 fps span (n - 1) / 20 s of recorded time.
    assert elapsed >= (len(items) - 1) / 20 * 0.9


def test_loop_keeps_device_time_growing(photos: Path) -> None:
    source = ImageFolderSource(photos, fps=100, speed=0, loop=True, with_slam=False)
    items: list[Frame] = []
    stop = threading.Event()

    def take(item: Frame) -> None:
        items.append(item)
        if len(items) >= 3 * len(source.paths):
            stop.set()

    source.run(take, stop)
    times = [f.device_time_ns for f in items]
    assert len(times) >= 3 * len(source.paths)
    assert all(b > a for a, b in zip(times, times[1:], strict=False))
    assert np.array_equal(items[0].pixels, items[len(source.paths)].pixels)


def test_video_file_frames(tmp_path: Path, photos: Path) -> None:
    video = tmp_path / "walk.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 480))
    assert writer.isOpened()
    pictures = sorted(photos.iterdir())
    for path in pictures:
        writer.write(cv2.resize(cv2.imread(str(path)), (640, 480)))
    writer.release()
    items = collect(VideoSource(video, speed=0))
    rgb = [i for i in items if i.camera == "rgb"]
    assert len(rgb) == len(pictures)
    assert rgb[0].pixels.shape == (1408, 1408, 3)
    assert rgb[1].device_time_ns - rgb[0].device_time_ns == 100_000_000  # the video's 10 fps
    # Opened as the driver opens it: one camera unless stand-in SLAM views are asked for.
    alone = collect(open_source(SourceSettings(kind="video", path=str(video), speed=0, cameras=("rgb",))))
    assert {i.camera for i in alone if isinstance(i, Frame)} == {"rgb"} and set(
        source_cameras("video", CAMERAS, False)
    ) == {"rgb"}
    stand_ins = collect(open_source(SourceSettings(kind="video", path=str(video), speed=0)))
    assert {i.camera for i in stand_ins if isinstance(i, Frame)} == {"rgb", "slam_left", "slam_right"}


@pytest.mark.parametrize("kind", ["images", "video", "bag", "vrs"])
def test_missing_file_is_named(kind: str, tmp_path: Path) -> None:
    missing = tmp_path / f"no_such_{kind}"
    with pytest.raises(SourceError, match=str(missing)):
        open_source(SourceSettings(kind=kind, path=str(missing)))


def test_empty_inputs_are_named(tmp_path: Path) -> None:
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    with pytest.raises(SourceError, match=f"{empty_dir}.*holds no"):
        open_source(SourceSettings(kind="images", path=str(empty_dir)))
    empty_vrs = tmp_path / "empty.vrs"
    empty_vrs.write_bytes(b"")
    with pytest.raises(SourceError, match=f"{empty_vrs} is empty"):
        open_source(SourceSettings(kind="vrs", path=str(empty_vrs)))
    with pytest.raises(SourceError, match=str(empty_dir)):
        open_source(SourceSettings(kind="bag", path=str(empty_dir)))


def test_corrupt_files_are_named(tmp_path: Path) -> None:
    junk = np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    corrupt_vrs = tmp_path / "corrupt.vrs"
    corrupt_vrs.write_bytes(junk)
    with pytest.raises(SourceError, match=f"{corrupt_vrs}.*cannot be opened"):
        open_source(SourceSettings(kind="vrs", path=str(corrupt_vrs)))
    corrupt_video = tmp_path / "corrupt.mp4"
    corrupt_video.write_bytes(junk)
    with pytest.raises(SourceError, match=str(corrupt_video)):
        collect(open_source(SourceSettings(kind="video", path=str(corrupt_video), speed=0)))
    corrupt_bag = tmp_path / "corrupt_bag"
    corrupt_bag.mkdir()
    (corrupt_bag / "corrupt_bag_0.mcap").write_bytes(junk)
    with pytest.raises(SourceError, match=str(corrupt_bag)):
        open_source(SourceSettings(kind="bag", path=str(corrupt_bag)))
    broken_photo = tmp_path / "photos"
    broken_photo.mkdir()
    (broken_photo / "0.jpg").write_bytes(junk)
    with pytest.raises(SourceError, match="0.jpg"):
        collect(open_source(SourceSettings(kind="images", path=str(broken_photo), speed=0)))


def test_unknown_source_kind_is_refused() -> None:
    with pytest.raises(SourceError, match="unknown source 'usb'.*live, vrs, bag, video, images"):
        open_source(SourceSettings(kind="usb"))


def test_rotated_intrinsics_follow_the_rotated_image() -> None:
    """A 3D point seen in the sideways image lands, after the turn, where the turned intrinsics say."""
    cam = CameraModel(width=640, height=480, fx=300.0, fy=310.0, cx=330.0, cy=250.0)
    turned = cam.rotated_clockwise()
    assert (turned.width, turned.height) == (480, 640)
    point = np.array([0.3, -0.2, 2.0])  # x right, y down, z forward, in the sideways camera
    u, v = cam.fx * point[0] / point[2] + cam.cx, cam.fy * point[1] / point[2] + cam.cy
    # Turning the image clockwise turns the camera frame too: x' = -y, y' = x.
    x2, y2 = -point[1], point[0]
    u2, v2 = turned.fx * x2 / point[2] + turned.cx, turned.fy * y2 / point[2] + turned.cy
    assert (u2, v2) == pytest.approx((cam.height - 1 - v, u))
    # And the pixel rule matches numpy's clockwise turn.
    image = np.zeros((cam.height, cam.width), np.uint8)
    image[int(round(v)), int(round(u))] = 255
    rows, cols = np.nonzero(np.rot90(image, k=-1))
    assert (cols[0], rows[0]) == (cam.height - 1 - int(round(v)), int(round(u)))


def test_scaled_intrinsics_keep_pixel_centres() -> None:
    cam = CameraModel(1408, 1408, 610.0, 610.0, 703.5, 703.5)
    half = cam.scaled(0.5)
    assert (half.width, half.fx, half.cx) == (704, 305.0, 351.5)


REAL_VRS = ARIA_DATA / "adt_video.vrs"


@pytest.mark.skipif(not REAL_VRS.is_file(), reason=f"the real Aria recording {REAL_VRS} is absent (../shared)")
def test_a_real_aria_recording_plays_every_camera_upright_with_its_intrinsics() -> None:
    """adt_video.vrs (a real Aria Gen 1 recording, factory calibration): each camera's frames come turned upright
    (the recording's own gravity, through its own calibration, points down the published image), and the
    published intrinsics are those of the turned image."""
    from projectaria_tools.core import data_provider

    source = open_source(SourceSettings(kind="vrs", path=str(REAL_VRS)))
    frames = {}
    for item in source.items():
        if isinstance(item, Frame) and item.camera not in frames:
            frames[item.camera] = item
    assert set(frames) == {"rgb", "slam_left", "slam_right"}
    provider = data_provider.create_vrs_data_provider(str(REAL_VRS))
    calibration = provider.get_device_calibration()
    imu = provider.get_stream_id_from_label("imu-right")
    accel = np.mean([provider.get_imu_data_by_index(imu, i).accel_msec2 for i in range(provider.get_num_data(imu))], 0)
    up_in_device = calibration.get_imu_calib("imu-right").get_transform_device_imu().rotation().to_matrix() @ accel
    intrinsics = source.calibration()
    for camera, label in (
        ("rgb", "camera-rgb"),
        ("slam_left", "camera-slam-left"),
        ("slam_right", "camera-slam-right"),
    ):
        sensor = calibration.get_camera_calib(label)
        width, height = (int(v) for v in sensor.get_image_size())
        frame = frames[camera]
        assert frame.pixels.shape[:2] == (width, height)  # turned: the sensor's width is now the height
        pinhole = intrinsics[camera]
        assert (pinhole.width, pinhole.height) == (height, width)
        cx, cy = (float(v) for v in sensor.get_principal_point())
        assert (pinhole.cx, pinhole.cy) == pytest.approx((height - 1 - cy, cx), abs=1.0)
        # Gravity in the sensor's frame (x right, y down, z forward), then in the turned image: x' = -y, y' = x.
        rotation = sensor.get_transform_device_camera().rotation().to_matrix()
        down = -(rotation.T @ up_in_device)
        down_upright = np.array([-down[1], down[0]])
        assert down_upright[1] > 0.8 * np.linalg.norm(down) and abs(down_upright[0]) < 0.4 * np.linalg.norm(down), (
            camera
        )
