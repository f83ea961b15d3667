"""Ordinary pictures as an Aria-like stream: a folder of photos or a video file.

Each picture becomes one upright RGB frame (its centre square, resized) and,
with `with_slam`, two grey 640x480 views of its left and right halves,
standing in for the peripheral SLAM cameras that such media lack. Media carry
no calibration: the picture is a pinhole camera with a stated horizontal
field of view (`hfov_deg`, across the whole picture), looking straight ahead
from the head. Each view is a crop of that one camera, so its intrinsics are
the crop's and a pixel's bearing is the same in every view that shows it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

import cv2
import numpy as np

from aria_nav_ros.core.camera_model import CameraModel
from aria_nav_ros.core.cameras import PICTURE_HFOV_DEG, RGB, SLAM_LEFT, SLAM_RIGHT
from aria_nav_ros.core.mounting import Mount, ahead_mounts
from aria_nav_ros.core.sources.base import Frame, Item, SourceError
from aria_nav_ros.core.sources.recording import Recording

if TYPE_CHECKING:  # typing.Unpack is Python 3.11's; the core also installs on 3.10 (setup.py)
    from typing import Unpack

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
RGB_SIZE = 1408  # the Aria RGB camera's full resolution (square)
SLAM_SIZE = (640, 480)  # width, height of an Aria SLAM camera


class PictureOptions(TypedDict, total=False):
    """How pictures are played (both sources take them by keyword; the defaults are _Pictures's)."""

    speed: float
    loop: bool
    rgb_size: int
    with_slam: bool
    hfov_deg: float


class _Pictures(Recording):
    def __init__(
        self,
        name: str,
        speed: float = 1.0,
        loop: bool = False,
        rgb_size: int = RGB_SIZE,
        with_slam: bool = True,
        hfov_deg: float = PICTURE_HFOV_DEG,
    ) -> None:
        super().__init__(name, speed, loop)
        self.rgb_size = rgb_size
        self.with_slam = with_slam
        self.hfov_deg = hfov_deg
        self._calibration: dict[str, CameraModel] = {}
        self._size = (0, 0)
        self._mounts = ahead_mounts((RGB, SLAM_LEFT, SLAM_RIGHT) if with_slam else (RGB,))

    def calibration(self) -> dict[str, CameraModel]:
        return self._calibration

    def mounts(self) -> dict[str, Mount]:
        return self._mounts

    def _calibrate(self, width: int, height: int) -> None:
        """The views' cameras for a picture of this size (photos of a folder may differ)."""
        if self._size == (width, height):
            return
        self._size = (width, height)
        picture = CameraModel.from_fov(width, height, self.hfov_deg)
        side = min(width, height)
        square = picture.cropped((width - side) // 2, (height - side) // 2, side, side)
        cameras = {RGB: square.resized(self.rgb_size / side, self.rgb_size / side)}
        if self.with_slam:
            half = width // 2
            for camera, left in ((SLAM_LEFT, 0), (SLAM_RIGHT, half)):
                view = picture.cropped(left, 0, width - half if left else half, height)
                cameras[camera] = view.resized(SLAM_SIZE[0] / view.width, SLAM_SIZE[1] / view.height)
        self._calibration = cameras

    def frames_of(self, bgr: np.ndarray, t_ns: int) -> Iterator[Frame]:
        self._calibrate(bgr.shape[1], bgr.shape[0])
        rgb = cv2.cvtColor(square(bgr, self.rgb_size), cv2.COLOR_BGR2RGB)
        yield Frame(RGB, rgb, "rgb8", t_ns)
        if self.with_slam:
            grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
            half = grey.shape[1] // 2
            yield Frame(SLAM_LEFT, cv2.resize(grey[:, :half], SLAM_SIZE, interpolation=cv2.INTER_AREA), "mono8", t_ns)
            yield Frame(SLAM_RIGHT, cv2.resize(grey[:, half:], SLAM_SIZE, interpolation=cv2.INTER_AREA), "mono8", t_ns)


class ImageFolderSource(_Pictures):
    """Photos of a folder in name order, `fps` per second of recorded time."""

    def __init__(self, folder: str | Path, fps: float = 10.0, **options: Unpack[PictureOptions]) -> None:
        super().__init__(f"image folder {folder}", **options)
        folder = Path(folder)
        if not folder.is_dir():
            raise SourceError(f"image folder {folder} does not exist")
        self.paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
        if not self.paths:
            raise SourceError(f"image folder {folder} holds no {'/'.join(PHOTO_SUFFIXES)} files")
        if cv2.imread(str(self.paths[0]), cv2.IMREAD_REDUCED_COLOR_8) is None:  # the first, now: before any model
            raise SourceError(f"cannot decode image {self.paths[0]}")
        self.period_ns = int(1e9 / fps)

    def items(self) -> Iterator[Item]:
        for index, path in enumerate(self.paths):
            bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if bgr is None:
                raise SourceError(f"cannot decode image {path}")
            yield from self.frames_of(bgr, index * self.period_ns)


class VideoSource(_Pictures):
    """The frames of a video file, at the video's own frame rate."""

    def __init__(self, path: str | Path, **options: Unpack[PictureOptions]) -> None:
        super().__init__(f"video {path}", **options)
        self.path = Path(path)
        if not self.path.is_file():
            raise SourceError(f"video {self.path} does not exist")
        # Opened is decoded: a file that is no video (or a codec OpenCV lacks) is said now, before a model loads.
        capture = cv2.VideoCapture(str(self.path))
        try:
            if not capture.isOpened() or not capture.read()[0]:
                raise SourceError(f"video {self.path} cannot be decoded (not a video, or corrupt)")
        finally:
            capture.release()

    def items(self) -> Iterator[Item]:
        capture = cv2.VideoCapture(str(self.path))
        try:
            if not capture.isOpened():
                raise SourceError(f"video {self.path} cannot be decoded (not a video, or corrupt)")
            fps = capture.get(cv2.CAP_PROP_FPS)
            period_ns = int(1e9 / fps) if fps and fps > 0 else 100_000_000
            index = 0
            while True:
                ok, bgr = capture.read()
                if not ok:
                    return
                yield from self.frames_of(bgr, index * period_ns)
                index += 1
        finally:
            capture.release()


def square(image: np.ndarray, size: int) -> np.ndarray:
    """Centre-crop to a square and resize: the Aria RGB camera is square."""
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = image[top : top + side, left : left + side]
    return crop if side == size else cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
