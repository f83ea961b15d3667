"""Pinhole intrinsics of the published images from an Aria device calibration.

The Aria cameras are fisheyes; the pinhole model keeps their focal lengths
and principal point (the images are not undistorted), which is what bearing
and ground-plane geometry need near the image centre. Every camera is
mounted sideways and published turned upright (90 degrees clockwise: the
recording's gravity then points down the image, test_sources checks it on
a real recording), so the intrinsics are turned with it.
"""

from __future__ import annotations

from typing import Any

from aria_nav_ros.core.cameras import RGB, SLAM_LEFT, SLAM_RIGHT
from aria_nav_ros.core.sources.base import PinholeCamera

ARIA_LABELS = {RGB: "camera-rgb", SLAM_LEFT: "camera-slam-left", SLAM_RIGHT: "camera-slam-right"}


def pinholes(device_calibration: Any, upright: bool = True) -> dict[str, PinholeCamera]:
    """By camera name, from a projectaria_tools DeviceCalibration."""
    cameras = {}
    for camera, label in ARIA_LABELS.items():
        calib = device_calibration.get_camera_calib(label)
        if calib is None:
            continue
        width, height = (int(v) for v in calib.get_image_size())
        fx, fy = (float(v) for v in calib.get_focal_lengths())
        cx, cy = (float(v) for v in calib.get_principal_point())
        pinhole = PinholeCamera(width, height, fx, fy, cx, cy)
        cameras[camera] = pinhole.rotated_clockwise() if upright else pinhole
    return cameras


def pinholes_from_json(calibration_json: str, upright: bool = True) -> dict[str, PinholeCamera]:
    from projectaria_tools.core.calibration import device_calibration_from_json_string

    return pinholes(device_calibration_from_json_string(calibration_json), upright)
