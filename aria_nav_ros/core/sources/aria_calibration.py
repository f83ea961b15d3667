"""Camera models and mounting of the published images from an Aria device calibration (projectaria-tools).

One driver for both generations; which one comes from the calibration itself
(its device version), never from a setting. Every camera is a FISHEYE624 lens,
published as is (not rectified): its CameraModel carries the full model.
- Aria Gen 1: RGB and two SLAM cameras, mounted sideways: published turned
  upright (90 degrees clockwise: the recording's gravity then points down the
  image, test_sources checks it on a real recording); models and optical
  frames are turned with them.
- Aria Gen 2: RGB and four CV cameras (slam-front-left/right, slam-side-left/
  right), recorded upright (gravity already points down every raw image):
  published as recorded. Which CV camera plays which role is read from the
  extrinsics (gen2_roles), not from the labels: the side pair (looking out
  most) take Gen 1's SLAM roles, slam_left and slam_right; the front pair are
  slam_front_left and slam_front_right.
Mounts are in the head frame (core.mounting), which sits at the calibration's central pupil frame (CPF).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from aria_nav_ros.core.camera_model import CameraModel
from aria_nav_ros.core.cameras import (
    IMU_FRAME,
    RGB,
    SLAM_FRONT_LEFT,
    SLAM_FRONT_RIGHT,
    SLAM_LEFT,
    SLAM_RIGHT,
    optical_frame,
)
from aria_nav_ros.core.mounting import Mount, mount_of

GEN1, GEN2 = "Gen1", "Gen2"  # projectaria-tools' DeviceVersion names
ARIA_LABELS = {RGB: "camera-rgb", SLAM_LEFT: "camera-slam-left", SLAM_RIGHT: "camera-slam-right"}  # Gen 1
GEN2_CV_PREFIX = "slam-"  # Gen 2's four CV (SLAM) cameras: slam-front-left, ..., slam-side-right
IMU_LABEL = "imu-right"  # the IMU the sources read (both generations have it)
# Axes as columns: the CPF (x left, y up, z forward) in the head frame (x forward, y left, z up), and an
# upright image's optical axes in the raw sensor's (its x is the raw -y, its y the raw x).
CPF_IN_HEAD = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
UPRIGHT_IN_RAW = np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
QUARTER_TURNS = {GEN1: 1, GEN2: 0}  # clockwise quarter turns from a raw image to an upright one


@dataclass(frozen=True)
class AriaLayout:
    """What a device calibration says about the glasses: their generation and which sensor plays which role."""

    generation: str  # GEN1 or GEN2
    labels: dict[str, str]  # camera name -> the calibration's (and recording's stream) label
    quarter_turns: int  # clockwise quarter turns from a raw image to an upright one
    roles: str = ""  # how the roles were decided, to be said (Gen 2: from the extrinsics)


def layout_of(device_calibration: Any) -> AriaLayout:
    """ValueError for a device version this package does not know."""
    version = device_calibration.get_device_version().name
    if version == GEN1:
        return AriaLayout(GEN1, dict(ARIA_LABELS), QUARTER_TURNS[GEN1])
    if version == GEN2:
        labels, roles = gen2_roles(device_calibration)
        return AriaLayout(GEN2, {RGB: "camera-rgb", **labels}, QUARTER_TURNS[GEN2], roles)
    raise ValueError(f"Aria device version {version}: only Gen1 and Gen2 are known")


def gen2_roles(device_calibration: Any) -> tuple[dict[str, str], str]:
    """Gen 2's CV cameras by role, from where each looks in the CPF: the two that look out most (sideways) are
    the side pair, the other two the front pair; in each pair the one on the wearer's left (CPF +x) is left.
    Also a sentence that says it. ValueError unless there are four."""
    cpf_from_device = np.linalg.inv(device_calibration.get_transform_device_cpf().to_matrix())
    placed = []  # (label, position, optical axis), in the CPF
    for label in device_calibration.get_camera_labels():
        if label.startswith(GEN2_CV_PREFIX):
            device_from_camera = device_calibration.get_camera_calib(label).get_transform_device_camera()
            pose = cpf_from_device @ device_from_camera.to_matrix()
            placed.append((label, pose[:3, 3], pose[:3, 2]))
    if len(placed) != 4:
        raise ValueError(f"Aria Gen 2 calibration with CV cameras {[p[0] for p in placed]}: expected four")
    placed.sort(key=lambda p: abs(p[2][0]))  # how far sideways each looks
    front, side = placed[:2], placed[2:]
    roles: dict[str, str] = {}
    said = []
    for pair, (left, right) in ((side, (SLAM_LEFT, SLAM_RIGHT)), (front, (SLAM_FRONT_LEFT, SLAM_FRONT_RIGHT))):
        ordered = sorted(pair, key=lambda p: -p[1][0])  # CPF x points left: the leftmost first
        for camera, (label, position, axis) in zip((left, right), ordered, strict=True):
            roles[camera] = label
            yaw = math.degrees(math.atan2(axis[0], axis[2]))  # positive: to the left
            side_word = "left" if position[0] > 0 else "right"
            look = f"{abs(yaw):.0f} deg {'left' if yaw > 0 else 'right'}"
            said.append(f"{camera} = {label} ({100 * abs(position[0]):.1f} cm {side_word}, looking {look})")
    return roles, "; ".join(said)


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
    """By camera name, from a projectaria_tools DeviceCalibration (either generation)."""
    layout = layout_of(device_calibration)
    cameras = {}
    for camera, label in layout.labels.items():
        calib = device_calibration.get_camera_calib(label)
        if calib is None:
            continue
        if calib.get_model_name().name != "FISHEYE624":
            raise ValueError(f"{label}: lens model {calib.get_model_name().name}, expected FISHEYE624")
        width, height = (int(v) for v in calib.get_image_size())
        f, cx, cy, *distortion = (float(v) for v in calib.get_projection_params())
        model = CameraModel(width, height, f, f, cx, cy, tuple(distortion))
        for _ in range(layout.quarter_turns if upright else 0):
            model = model.rotated_clockwise()
        cameras[camera] = model
    return cameras


def aria_mounts(device_calibration: Any, upright: bool = True) -> dict[str, Mount]:
    """By frame: the cameras' optical frames (of the published images) and the IMU, in the head frame."""
    layout = layout_of(device_calibration)
    head_from_device = head_from_device_of(device_calibration)
    raw_from_upright = np.linalg.matrix_power(UPRIGHT_IN_RAW, layout.quarter_turns if upright else 0)
    mounts = {}
    for camera, label in layout.labels.items():
        calib = device_calibration.get_camera_calib(label)
        if calib is not None:
            pose = head_from_device @ calib.get_transform_device_camera().to_matrix() @ _pose(raw_from_upright)
            mounts[optical_frame(camera)] = mount_of(pose[:3, :3], pose[:3, 3])
    imu = device_calibration.get_imu_calib(IMU_LABEL)
    if imu is not None:
        pose = head_from_device @ imu.get_transform_device_imu().to_matrix()
        mounts[IMU_FRAME] = mount_of(pose[:3, :3], pose[:3, 3])
    return mounts


def head_from_device_of(device_calibration: Any) -> np.ndarray:
    """4x4: the device frame in the head frame (the CPF, axes turned to x forward, y left, z up)."""
    return _pose(CPF_IN_HEAD) @ np.linalg.inv(device_calibration.get_transform_device_cpf().to_matrix())


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
