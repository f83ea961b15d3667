"""Where each sensor sits on the head: the static transforms published as /tf_static.

Frames (REP 103/105):
- `aria_head`: the wearer's head, at the glasses' central pupil frame (CPF),
  x forward, y left, z up. Bearings are measured here: 0 straight ahead,
  positive to the right (as the wearer hears them).
- `aria_<camera>_optical`: each published (upright) image, x right, y down,
  z forward.
- `aria_imu`: the IMU whose samples /aria/imu carries.

From an Aria device calibration the transforms are exact (projectaria-tools
gives each sensor and the CPF in the device frame). Without one, Aria Gen 1's
nominal mounting is used (the values below are a Gen 1 factory calibration,
rounded; within a few degrees of any Gen 1 frame); a video or photos has one
camera looking straight ahead, which is the head.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from aria_nav_ros.core.cameras import CAMERAS, IMU_FRAME, RGB, SLAM_LEFT, SLAM_RIGHT, optical_frame

HEAD_FRAME = "aria_head"
# Axes of a frame, as columns in the head frame.
OPTICAL_IN_HEAD = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])  # a camera looking ahead


@dataclass(frozen=True)
class Mount:
    """A frame's pose in the head frame: rotation (columns: its axes) and position in metres."""

    rotation: np.ndarray  # 3x3
    translation: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def in_head(self, ray: np.ndarray) -> np.ndarray:
        return np.asarray(ray).reshape(-1, 3) @ self.rotation.T

    def quaternion(self) -> tuple[float, float, float, float]:
        """(x, y, z, w) of the rotation, as geometry_msgs wants it."""
        return quaternion_of(self.rotation)


def looking(yaw_deg: float, pitch_deg: float = 0.0, roll_deg: float = 0.0, at=(0.0, 0.0, 0.0)) -> Mount:
    """An optical frame that looks `yaw_deg` right and `pitch_deg` down of straight ahead, rolled clockwise."""
    yaw, pitch, roll = (math.radians(a) for a in (yaw_deg, pitch_deg, roll_deg))
    turn = _about([0, 0, 1], -yaw) @ _about([0, 1, 0], pitch)  # REP 103: yaw right is about -z; pitch down about +y
    return Mount(turn @ OPTICAL_IN_HEAD @ _about([0, 0, 1], roll), tuple(float(v) for v in at))


def nominal_mounts(cameras: tuple[str, ...] = CAMERAS) -> dict[str, Mount]:
    """Aria Gen 1's nominal mounting of these cameras and the IMU, for glasses whose calibration is unknown."""
    return {frame: NOMINAL_ARIA[frame] for frame in (*map(optical_frame, cameras), IMU_FRAME)}


def ahead_mounts(cameras: tuple[str, ...]) -> dict[str, Mount]:
    """Every camera looking straight ahead from the head: a video or photos, and views cut from it."""
    return {optical_frame(c): looking(0.0) for c in cameras}


def mounts_from_transforms(transforms) -> dict[str, Mount]:
    """geometry_msgs/TransformStamped-like items (rclpy's, or read from a bag) that hang from the head frame;
    others (other publishers' frames) are not ours."""
    mounts = {}
    for transform in transforms:
        if transform.header.frame_id == HEAD_FRAME:
            t, r = transform.transform.translation, transform.transform.rotation
            mounts[transform.child_frame_id] = Mount(rotation_of(r.x, r.y, r.z, r.w), (t.x, t.y, t.z))
    return mounts


def quaternion_of(rotation: np.ndarray) -> tuple[float, float, float, float]:
    r = rotation
    w = math.sqrt(max(0.0, 1.0 + r[0, 0] + r[1, 1] + r[2, 2])) / 2
    x = math.copysign(math.sqrt(max(0.0, 1.0 + r[0, 0] - r[1, 1] - r[2, 2])) / 2, r[2, 1] - r[1, 2])
    y = math.copysign(math.sqrt(max(0.0, 1.0 - r[0, 0] + r[1, 1] - r[2, 2])) / 2, r[0, 2] - r[2, 0])
    z = math.copysign(math.sqrt(max(0.0, 1.0 - r[0, 0] - r[1, 1] + r[2, 2])) / 2, r[1, 0] - r[0, 1])
    return x, y, z, w


def rotation_of(x: float, y: float, z: float, w: float) -> np.ndarray:
    """The rotation matrix of a unit quaternion (x, y, z, w)."""
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def _about(axis: list[float], angle: float) -> np.ndarray:
    a = np.asarray(axis, dtype=np.float64)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * (k @ k)


def mount_of(rotation, translation) -> Mount:
    u, _, vt = np.linalg.svd(np.asarray(rotation, dtype=np.float64))  # the nearest true rotation: values are rounded
    return Mount(u @ vt, tuple(float(v) for v in translation))


# Aria Gen 1, nominal: (yaw right, pitch down, roll) in degrees and position (m) of each upright optical frame
# in the head frame, from a factory calibration (../shared/data/aria, rounded). The RGB camera looks 8 degrees
# down; the SLAM cameras look about 38 degrees out to each side (and, 150 degrees wide, see to about 113).
NOMINAL_ARIA = {
    optical_frame(RGB): looking(0.5, 8.3, 1.1, (0.012, 0.059, 0.007)),
    optical_frame(SLAM_LEFT): looking(-37.5, 3.0, 0.0, (0.009, 0.071, 0.002)),
    optical_frame(SLAM_RIGHT): looking(38.8, 3.3, -0.9, (0.008, -0.071, 0.001)),
    IMU_FRAME: mount_of(
        [[-0.138, -0.628, -0.766], [0.164, -0.777, 0.608], [-0.977, -0.042, 0.21]], (0.003, -0.067, 0.001)
    ),
}
