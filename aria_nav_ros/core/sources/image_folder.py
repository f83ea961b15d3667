"""Still photos from a folder, played as an Aria-like stream.

Each photo becomes one RGB frame (square, the Aria RGB size by default) and,
when `with_slam` is set, two grey 640x480 views from its left and right part,
standing in for the peripheral SLAM cameras that a folder of photos lacks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from aria_nav_ros.core.cameras import RGB, SLAM_LEFT, SLAM_RIGHT
from aria_nav_ros.core.sources.base import Frame, SourceError

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
RGB_SIZE = 1408
SLAM_SIZE = (640, 480)  # width, height


class ImageFolderSource:
    def __init__(
        self,
        folder: str | Path,
        rate_hz: float = 10.0,
        rgb_size: int = RGB_SIZE,
        with_slam: bool = True,
    ) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise SourceError(f"image folder {self.folder} does not exist")
        self.paths = sorted(p for p in self.folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)
        if not self.paths:
            raise SourceError(f"image folder {self.folder} holds no {'/'.join(PHOTO_SUFFIXES)} files")
        self.period_ns = int(1e9 / rate_hz)
        self.rgb_size = rgb_size
        self.with_slam = with_slam
        self._tick = 0

    def frames(self) -> Iterator[Frame]:
        for path in self.paths:
            bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if bgr is None:
                raise SourceError(f"cannot decode image {path}")
            t_ns = self._tick * self.period_ns
            self._tick += 1
            rgb = cv2.cvtColor(_square(bgr, self.rgb_size), cv2.COLOR_BGR2RGB)
            yield Frame(RGB, rgb, "rgb8", t_ns)
            if self.with_slam:
                grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
                half = grey.shape[1] // 2
                yield Frame(SLAM_LEFT, cv2.resize(grey[:, :half], SLAM_SIZE), "mono8", t_ns)
                yield Frame(SLAM_RIGHT, cv2.resize(grey[:, half:], SLAM_SIZE), "mono8", t_ns)

    def close(self) -> None:
        pass


def _square(image: np.ndarray, size: int) -> np.ndarray:
    """Centre-crop to a square and resize: the Aria RGB camera is square."""
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return cv2.resize(image[top : top + side, left : left + side], (size, size))
