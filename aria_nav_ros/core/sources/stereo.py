"""Metric depth from Aria Gen 2's front pair of CV cameras, without learned weights.

The two front cameras (slam_front_left/right: fisheye624, 13.6 cm apart,
looking 36 degrees apart) overlap ahead. Both images are resampled through
their real lens models into one rectified pinhole view each: the same
rotation (x along the baseline, z the mean of the two optical axes), each at
its own camera's centre, so a scene point lies on the same row in both and its
disparity d gives its depth f * baseline / d. OpenCV's semi-global matcher
finds d. The depth image follows REP 118 (32FC1, metres along the rectified
view's z, NaN where nothing was matched) in the rectified left view's optical
frame, which is a pinhole with no distortion.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from aria_nav_ros.core.camera_model import CameraModel
from aria_nav_ros.core.cameras import FRONT_CAMERAS, optical_frame
from aria_nav_ros.core.mounting import Mount

# The rectified view: wide enough for the overlap ahead, fine enough for metres at walking distances (at 3 m the
# disparity is 8 px, and the matcher's 1/16 px steps resolve depth there to about 2 cm).
RECTIFIED_SIZE = (480, 400)  # width, height
RECTIFIED_F_PX = 180.0  # 106 x 96 degrees across
MAX_DISPARITY_PX = 64  # nearest depth: 180 * 0.136 / 64 = 0.38 m
MIN_DISPARITY_PX = 1.0  # farthest depth kept: 24 m
PAIR_WITHIN_NS = 5_000_000  # two front frames this close in device time were taken together (measured: < 1 us)


@dataclass(frozen=True)
class StereoDepth:
    """Rectifies the front pair and turns their disparity into metric depth."""

    model: CameraModel  # the rectified (pinhole) view, left and right alike
    mount: Mount  # the rectified left view's optical frame, in the head frame
    baseline_m: float
    left_maps: tuple[np.ndarray, np.ndarray]  # cv2.remap maps: rectified pixel -> left raw pixel
    right_maps: tuple[np.ndarray, np.ndarray]

    def rectify(self, left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return (
            cv2.remap(left, *self.left_maps, cv2.INTER_LINEAR, borderValue=0),
            cv2.remap(right, *self.right_maps, cv2.INTER_LINEAR, borderValue=0),
        )

    def depth(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """(H, W) float32 metres along the rectified z, NaN where unmatched; from two mono8 front images."""
        rectified_left, rectified_right = self.rectify(left, right)
        disparity = _matcher().compute(rectified_left, rectified_right).astype(np.float32) / 16.0  # fixed point
        depth = np.full(disparity.shape, np.nan, np.float32)
        matched = disparity >= MIN_DISPARITY_PX
        depth[matched] = self.model.fx * self.baseline_m / disparity[matched]
        return depth


def rectified_view(left_mount: Mount, right_mount: Mount) -> tuple[Mount, float]:
    """The rectified left view's optical frame in the head frame (x along the baseline, z the pair's mean axis
    made square to it), and the baseline in metres."""
    left_centre, right_centre = np.asarray(left_mount.translation), np.asarray(right_mount.translation)
    x = right_centre - left_centre
    baseline = float(np.linalg.norm(x))
    x /= baseline
    ahead = left_mount.rotation[:, 2] + right_mount.rotation[:, 2]
    z = ahead - x * float(ahead @ x)
    z /= np.linalg.norm(z)
    return Mount(np.column_stack([x, np.cross(z, x), z]), tuple(float(c) for c in left_centre)), baseline


def stereo_depth(
    left_model: CameraModel, left_mount: Mount, right_model: CameraModel, right_mount: Mount
) -> StereoDepth:
    """The rectification of a pair from their lens models and their optical frames in the head frame."""
    mount, baseline = rectified_view(left_mount, right_mount)
    width, height = RECTIFIED_SIZE
    model = CameraModel(width, height, RECTIFIED_F_PX, RECTIFIED_F_PX, (width - 1) / 2, (height - 1) / 2)
    u, v = np.meshgrid(np.arange(width, dtype=np.float64), np.arange(height, dtype=np.float64))
    rays = np.stack([(u - model.cx) / model.fx, (v - model.cy) / model.fy, np.ones_like(u)], -1).reshape(-1, 3)

    def maps(lens: CameraModel, camera: Mount) -> tuple[np.ndarray, np.ndarray]:
        in_camera = rays @ (camera.rotation.T @ mount.rotation).T  # both views share the rectified rotation
        pixels = lens.project(in_camera).astype(np.float32)
        pixels[in_camera[:, 2] <= 0.05] = -1.0  # behind or at the edge of the lens: nothing there (black)
        return pixels[:, 0].reshape(height, width), pixels[:, 1].reshape(height, width)

    return StereoDepth(model, mount, baseline, maps(left_model, left_mount), maps(right_model, right_mount))


class PairedDepth:
    """Depth for each pair of front frames taken together, computed in a thread of its own so that the frames'
    source never waits for it; a pair that comes while one is being matched replaces any waiting one (the
    newest counts). `publish(depth, stamp, view)` is called from that thread, with the right frame's stamp."""

    def __init__(self, publish: Callable[[np.ndarray, int, StereoDepth], None]) -> None:
        self.publish = publish
        self.view: StereoDepth | None = None
        self._lenses: tuple[dict, dict] = ({}, {})
        self._latest: dict[str, tuple[int, np.ndarray]] = {}
        self._waiting: tuple[int, np.ndarray, np.ndarray] | None = None
        self._wake = threading.Condition()
        self._stopped = False
        self.dropped = 0  # pairs replaced before they were matched
        self._thread = threading.Thread(target=self._run, name="stereo_depth", daemon=True)
        self._thread.start()

    def frame(
        self, camera: str, device_time_ns: int, stamp: int, pixels: np.ndarray, lenses: dict, mounts: dict
    ) -> None:
        """A front camera's frame (one thread calls this), with the source's lens models and mounts."""
        self._latest[camera] = (device_time_ns, pixels)
        if len(self._latest) < 2:
            return
        (t_left, left), (t_right, right) = (self._latest[c] for c in FRONT_CAMERAS)
        if abs(t_left - t_right) > PAIR_WITHIN_NS:
            return
        self._latest.clear()
        with self._wake:
            if self.view is None:
                self._lenses = (lenses, mounts)
            if self._waiting is not None:
                self.dropped += 1
            self._waiting = (stamp, left, right)
            self._wake.notify()

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()
        self._thread.join(5.0)

    def _run(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(lambda: self._waiting is not None or self._stopped)
                if self._stopped:
                    return
                (stamp, left, right), self._waiting = self._waiting, None
            if self.view is None:  # built once, here: resampling maps through both lenses take a moment
                lenses, mounts = self._lenses
                l_cam, r_cam = FRONT_CAMERAS
                self.view = stereo_depth(
                    lenses[l_cam], mounts[optical_frame(l_cam)], lenses[r_cam], mounts[optical_frame(r_cam)]
                )
            self.publish(self.view.depth(left, right), stamp, self.view)


def _matcher() -> cv2.StereoSGBM:
    block = 7
    return cv2.StereoSGBM_create(
        minDisparity=0,
        numDisparities=MAX_DISPARITY_PX,
        blockSize=block,
        P1=8 * block * block,
        P2=32 * block * block,
        uniquenessRatio=10,
        speckleWindowSize=100,
        speckleRange=2,
        mode=cv2.STEREO_SGBM_MODE_SGBM_3WAY,
    )
