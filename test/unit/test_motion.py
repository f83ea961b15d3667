"""The head's motion from a device's VIO (core.sources.motion), on poses made up here (no recording needed)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from aria_nav_ros.core.sources.motion import head_motion


def about(axis: list[float], angle: float) -> np.ndarray:
    a = np.asarray(axis, dtype=np.float64) / np.linalg.norm(axis)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + math.sin(angle) * k + (1 - math.cos(angle)) * (k @ k)


def pose(rotation: np.ndarray, translation) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3], m[:3, 3] = rotation, translation
    return m


# The head 6 cm ahead of and 3 cm above the device origin, its axes turned from the device's.
HEAD_FROM_DEVICE = np.linalg.inv(pose(about([1, 2, 3], 0.7), [0.06, 0.0, 0.03]))


def test_a_turning_head_moves_as_a_point_on_the_turning_device() -> None:
    """The device stands still and turns at 3 rad/s about its z: the head, 6.7 cm from that axis, moves at
    3 * 0.06 m/s (the lever along z adds nothing), which the device origin's zero velocity does not say."""
    omega = np.array([0.0, 0.0, 3.0])
    motion = head_motion(0, np.eye(4), np.zeros(3), omega, HEAD_FROM_DEVICE)
    head_axes = motion.rotation
    assert np.allclose(motion.translation, [0.06, 0.0, 0.03])
    assert np.allclose(head_axes @ motion.linear_velocity, np.cross(omega, [0.06, 0.0, 0.03]))
    assert np.linalg.norm(motion.linear_velocity) == pytest.approx(0.18)
    assert np.allclose(head_axes @ motion.angular_velocity, omega)  # the same turn, said in the head frame


def test_the_head_follows_the_device_through_time() -> None:
    """Finite differences of the head's poses agree with the velocities handed out."""
    omega, velocity = np.array([0.3, -0.5, 1.2]), np.array([0.4, 0.1, -0.05])
    dt = 1e-4

    def at(t: float):
        device = pose(about(omega, np.linalg.norm(omega) * t) if t else np.eye(3), velocity * t)
        return head_motion(0, device, velocity, omega, HEAD_FROM_DEVICE)

    before, now, after = at(-dt), at(0.0), at(dt)
    moved = (np.asarray(after.translation) - np.asarray(before.translation)) / (2 * dt)
    assert np.allclose(now.rotation @ now.linear_velocity, moved, atol=1e-6)


def test_an_odometry_frame_not_level_is_made_level() -> None:
    """REP 105's odom is z up: a VIO whose gravity is not along -z has its frame turned until it is; a level one is
    left as it is."""
    tilt = about([1.0, 0.0, 0.0], 0.2)
    device = pose(np.eye(3), [1.0, 2.0, 0.5])
    level = head_motion(0, device, np.zeros(3), np.zeros(3), HEAD_FROM_DEVICE)
    tilted = head_motion(0, pose(tilt, [0, 0, 0]) @ device, np.zeros(3), np.zeros(3), HEAD_FROM_DEVICE,
                         gravity_in_odometry=tilt @ np.array([0.0, 0.0, -9.81]))  # fmt: skip
    assert np.allclose(tilted.rotation, level.rotation) and np.allclose(tilted.translation, level.translation)
    same = head_motion(0, device, np.zeros(3), np.zeros(3), HEAD_FROM_DEVICE, gravity_in_odometry=(0.0, 0.0, -9.81))
    assert np.allclose(same.translation, [1.06, 2.0, 0.53])
