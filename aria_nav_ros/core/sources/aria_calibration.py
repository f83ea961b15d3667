"""Camera models and mounting of the published images from an Aria device calibration (projectaria-tools).

Every camera is a FISHEYE624 lens, published as is (not rectified): its
CameraModel carries the full model. Every camera is also mounted sideways
and published turned upright (90 degrees clockwise: the recording's gravity
then points down the image, test_sources checks it on a real recording), so
models and optical frames are turned with it. Mounts are in the head frame
(core.mounting), which sits at the calibration's central pupil frame (CPF).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from aria_nav_ros.core.camera_model import CameraModel
from aria_nav_ros.core.cameras import IMU_FRAME, RGB, SLAM_LEFT, SLAM_RIGHT, optical_frame
from aria_nav_ros.core.mounting import Mount, mount_of

ARIA_LABELS = {RGB: "camera-rgb", SLAM_LEFT: "camera-slam-left", SLAM_RIGHT: "camera-slam-right"}
IMU_LABEL = "imu-right"  # the IMU the sources read
# Axes as columns: the CPF (x left, y up, z forward) in the head frame (x forward, y left, z up), and an
# upright image's optical axes in the raw sensor's (its x is the raw -y, its y the raw x).
CPF_IN_HEAD = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
UPRIGHT_IN_RAW = np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])


# Aria Gen 1's lenses, nominal (a factory calibration, ../shared/data/aria, rounded; the sensor's own sideways
# image): for glasses whose calibration cannot be read, far nearer the truth than any pinhole at 150 degrees.
NOMINAL_LENSES = {
    RGB: CameraModel(1408, 1408, 610.9, 610.9, 715.1, 716.7,
                     (0.406, -0.490, 0.175, 1.133, -1.702, 0.651, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)),
    SLAM_LEFT: CameraModel(640, 480, 241.1, 241.1, 316.6, 237.0,
                           (-0.0256, 0.0985, -0.0675, 0.00948, 0.00233, -0.000575, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)),
    SLAM_RIGHT: CameraModel(640, 480, 241.1, 241.1, 317.9, 238.2,
                            (-0.0253, 0.0975, -0.0669, 0.00969, 0.00204, -0.000503, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)),
}  # fmt: skip


def nominal_models(upright: bool = True) -> dict[str, CameraModel]:
    return {c: m.rotated_clockwise() if upright else m for c, m in NOMINAL_LENSES.items()}


def camera_models(device_calibration: Any, upright: bool = True) -> dict[str, CameraModel]:
    """By camera name, from a projectaria_tools DeviceCalibration."""
    cameras = {}
    for camera, label in ARIA_LABELS.items():
        calib = device_calibration.get_camera_calib(label)
        if calib is None:
            continue
        if calib.get_model_name().name != "FISHEYE624":
            raise ValueError(f"{label}: lens model {calib.get_model_name().name}, expected FISHEYE624")
        width, height = (int(v) for v in calib.get_image_size())
        f, cx, cy, *distortion = (float(v) for v in calib.get_projection_params())
        model = CameraModel(width, height, f, f, cx, cy, tuple(distortion))
        cameras[camera] = model.rotated_clockwise() if upright else model
    return cameras


def aria_mounts(device_calibration: Any, upright: bool = True) -> dict[str, Mount]:
    """By frame: the cameras' optical frames (of the published images) and the IMU, in the head frame."""
    head_from_device = _pose(CPF_IN_HEAD) @ np.linalg.inv(device_calibration.get_transform_device_cpf().to_matrix())
    mounts = {}
    for camera, label in ARIA_LABELS.items():
        calib = device_calibration.get_camera_calib(label)
        if calib is not None:
            pose = head_from_device @ calib.get_transform_device_camera().to_matrix()
            pose = pose @ _pose(UPRIGHT_IN_RAW) if upright else pose
            mounts[optical_frame(camera)] = mount_of(pose[:3, :3], pose[:3, 3])
    imu = device_calibration.get_imu_calib(IMU_LABEL)
    if imu is not None:
        pose = head_from_device @ imu.get_transform_device_imu().to_matrix()
        mounts[IMU_FRAME] = mount_of(pose[:3, :3], pose[:3, 3])
    return mounts


def from_json(calibration_json: str, upright: bool = True) -> tuple[dict[str, CameraModel], dict[str, Mount]]:
    """Camera models and mounts from the calibration JSON live glasses send."""
    from projectaria_tools.core.calibration import device_calibration_from_json_string

    calibration = device_calibration_from_json_string(calibration_json)
    if calibration is None:
        raise ValueError("projectaria-tools could not parse it")
    return camera_models(calibration, upright), aria_mounts(calibration, upright)


def _pose(rotation: np.ndarray) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3] = rotation
    return m
