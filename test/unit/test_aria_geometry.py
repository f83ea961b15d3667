"""Bearings and ground distances on a real Aria calibration, against projectaria-tools (no ROS, no torch).

Points on level ground 1-6 m from the wearer, at bearings over each camera's
whole view, are projected into the raw sensor image by projectaria-tools
through the recording's own factory calibration, turned upright as the
driver publishes them, and located by the code the nodes run (the VRS
source's camera models and mounts, core.geometry). Target (issue 16):
bearing within 1 degree and ground distance within 5 %, everywhere.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from locations import ARIA_DATA

from aria_nav_ros.core.camera_model import CameraModel
from aria_nav_ros.core.cameras import IMU_FRAME, optical_frame
from aria_nav_ros.core.detection import DISTANCE_GROUND_PLANE, RawDetection
from aria_nav_ros.core.geometry import GeometryConfig, locate
from aria_nav_ros.core.mounting import NOMINAL_ARIA
from aria_nav_ros.core.sources.factory import SourceSettings, open_source

REAL_VRS = ARIA_DATA / "adt_video.vrs"
pytestmark = pytest.mark.skipif(
    not REAL_VRS.is_file(), reason=f"the real Aria recording {REAL_VRS} is absent (../shared)"
)
LABELS = {"rgb": "camera-rgb", "slam_left": "camera-slam-left", "slam_right": "camera-slam-right"}
EYE_HEIGHT_M = 1.6
# The head frame (x forward, y left, z up) in projectaria's central pupil frame (x left, y up, z forward):
# the definition the code must follow, written out here independently of it.
HEAD_IN_CPF = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])


@pytest.fixture(scope="module")
def recording():
    from projectaria_tools.core import data_provider

    source = open_source(SourceSettings(kind="vrs", path=str(REAL_VRS)))
    calibration = data_provider.create_vrs_data_provider(str(REAL_VRS)).get_device_calibration()
    return source, calibration


def ground_points(calibration, label: str, camera: CameraModel) -> list[tuple[float, float, float, float]]:
    """(bearing, range, u, v) of ground points the camera sees, in its upright image, projected by
    projectaria-tools."""
    sensor = calibration.get_camera_calib(label)
    device_from_cpf = calibration.get_transform_device_cpf().to_matrix()
    camera_from_device = np.linalg.inv(sensor.get_transform_device_camera().to_matrix())
    raw_height = int(sensor.get_image_size()[1])
    points = []
    for bearing in np.arange(-120.0, 121.0, 4.0):
        for distance in np.arange(1.0, 6.01, 0.5):
            b = math.radians(bearing)
            head = np.array([distance * math.cos(b), -distance * math.sin(b), -EYE_HEIGHT_M])
            in_camera = camera_from_device @ device_from_cpf @ np.append(HEAD_IN_CPF @ head, 1.0)
            if in_camera[2] <= 0:
                continue
            pixel = sensor.project(in_camera[:3])
            if pixel is None:
                continue  # outside the lens's valid field
            u, v = raw_height - 1 - pixel[1], pixel[0]  # turned upright, as the driver publishes
            if 3 <= u <= camera.width - 4 and 3 <= v <= camera.height - 4:
                points.append((bearing, distance, u, v))
    return points


@pytest.mark.parametrize("camera", list(LABELS))
def test_bearing_and_ground_distance_over_the_whole_image(recording, camera: str) -> None:
    source, calibration = recording
    model = source.calibration()[camera]
    mount = source.mounts()[optical_frame(camera)]
    config = GeometryConfig(eye_height_m=EYE_HEIGHT_M, edge_margin_px=1.0)
    points = ground_points(calibration, LABELS[camera], model)
    assert len(points) >= 40, f"{camera}: only {len(points)} ground points in view"
    boxes = [RawDetection((u - 1, v - 2, u + 1, v), 0.9, 0, "thing", math.nan) for _, _, u, v in points]
    located = locate(boxes, model, config, mount)
    bearing_error = [abs(d.bearing_deg - b) for d, (b, *_) in zip(located, points, strict=True)]
    distance_error = [abs(d.distance_m / r - 1) for d, (_, r, *_) in zip(located, points, strict=True)]
    assert all(d.distance_source == DISTANCE_GROUND_PLANE for d in located)
    span = (min(p[0] for p in points), max(p[0] for p in points))
    assert max(bearing_error) <= 1.0, f"{camera}: bearing off by {max(bearing_error):.2f} deg over {span}"
    assert max(distance_error) <= 0.05, f"{camera}: distance off by {100 * max(distance_error):.1f} % over {span}"
    # The whole image: the SLAM cameras see far to their side, the RGB camera both ways.
    assert span[1] - span[0] >= (90.0 if camera == "rgb" else 120.0), span


def test_the_nominal_mounting_is_this_gen1_calibration_rounded(recording) -> None:
    """Glasses whose calibration cannot be read fall back on NOMINAL_ARIA: within a degree of a real Gen 1."""
    source, _ = recording
    for frame, mount in source.mounts().items():
        nominal = NOMINAL_ARIA[frame]
        cos = (np.trace(nominal.rotation.T @ mount.rotation) - 1) / 2
        assert math.degrees(math.acos(min(1.0, cos))) < 1.0, frame
        assert np.allclose(nominal.translation, mount.translation, atol=0.002), frame
    assert set(source.mounts()) == {*map(optical_frame, LABELS), IMU_FRAME}
