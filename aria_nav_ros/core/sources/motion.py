"""The device's own motion: its on-device VIO (Aria Gen 2), as the head's pose and velocity.

The VIO gives the device frame's pose in its odometry frame (gravity along -z:
REP 105's `odom`, z up, continuous, drifting), the device origin's velocity in
that frame and the angular velocity in the device frame (checked against the
poses' finite differences on the real recording, test_gen2). The wearer moves
with the head frame (core.mounting: the CPF, x forward, y left, z up), a few
centimetres from the device origin: turning the head at 3 rad/s moves it
differently, so the velocity is carried over to the head, not copied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Motion:
    """The head in the odometry frame at one device time (a source item, like Frame and ImuSample)."""

    device_time_ns: int
    rotation: np.ndarray  # 3x3: the head's axes (columns) in the odometry frame
    translation: tuple[float, float, float]  # the head's origin in the odometry frame, m
    linear_velocity: tuple[float, float, float]  # the head origin's velocity in the head frame, m/s
    angular_velocity: tuple[float, float, float]  # in the head frame, rad/s
    quality: float  # the VIO's own score (1.0: good)


def head_motion(
    device_time_ns: int,
    odometry_from_device: np.ndarray,
    velocity_in_odometry: np.ndarray,
    angular_velocity_in_device: np.ndarray,
    head_from_device: np.ndarray,
    quality: float = 1.0,
    gravity_in_odometry: np.ndarray = (0.0, 0.0, -9.81),
) -> Motion:
    """The head's motion from the device's (4x4 poses; velocities as the VIO gives them, see above). An odometry
    frame whose gravity is not along -z is first turned so that it is (REP 105's odom is z up)."""
    level = np.eye(4)
    level[:3, :3] = _turn_onto(np.asarray(gravity_in_odometry, dtype=np.float64), np.array([0.0, 0.0, -1.0]))
    odometry_from_device = level @ odometry_from_device
    velocity_in_odometry = level[:3, :3] @ np.asarray(velocity_in_odometry, dtype=np.float64)
    device_from_head = np.linalg.inv(head_from_device)
    odometry_from_head = odometry_from_device @ device_from_head
    lever = device_from_head[:3, 3]  # the head's origin in the device frame
    omega = np.asarray(angular_velocity_in_device, dtype=np.float64)
    # A point fixed to a turning body moves with v + omega x r (r from the origin whose velocity v is).
    velocity = velocity_in_odometry + odometry_from_device[:3, :3] @ np.cross(omega, lever)
    head_axes = odometry_from_head[:3, :3]
    return Motion(
        device_time_ns,
        head_axes,
        tuple(float(v) for v in odometry_from_head[:3, 3]),
        tuple(float(v) for v in head_axes.T @ velocity),
        tuple(float(v) for v in head_from_device[:3, :3] @ omega),
        float(quality),
    )


def motion_of_vio(device_time_ns: int, pose: Any, head_from_device: np.ndarray) -> Motion:
    """From a projectaria-tools VIO high-frequency pose (OpenLoopTrajectoryPose)."""
    return head_motion(
        device_time_ns,
        pose.transform_odometry_device.to_matrix(),
        np.asarray(pose.device_linear_velocity_odometry),
        np.asarray(pose.angular_velocity_device),
        head_from_device,
        pose.quality_score,
        np.asarray(pose.gravity_odometry),
    )


def _turn_onto(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation taking direction a onto unit vector b (identity when they agree)."""
    a = a / np.linalg.norm(a)
    axis, cos = np.cross(a, b), float(np.dot(a, b))
    if cos < -1.0 + 1e-9:  # opposite: half a turn about any axis across them
        across = np.cross(a, [1.0, 0.0, 0.0] if abs(a[0]) < 0.9 else [0.0, 1.0, 0.0])
        across /= np.linalg.norm(across)
        return 2.0 * np.outer(across, across) - np.eye(3)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + k + k @ k / (1.0 + cos)
