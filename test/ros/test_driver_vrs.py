"""The driver plays a real Aria recording over DDS: upright images, honest CameraInfo, /tf_static, IMU.

adt_video.vrs (../shared/data/aria: a real Aria Gen 1 recording with its
factory calibration) through the aria_driver node in a process of its own.
What arrives here must be enough to place an obstacle: the recording's own
gravity, carried through the published transforms, points down each
published image, and a ground point projected by projectaria-tools is
located, from the published CameraInfo and transforms alone, where it is.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import rclpy
from processes import NodeProcess, node_command
from sensor_msgs.msg import CameraInfo, Image, Imu
from test_aria_geometry import EYE_HEIGHT_M, LABELS, REAL_VRS, ground_points
from tf2_msgs.msg import TFMessage
from visualization_msgs.msg import MarkerArray

from aria_nav_ros.core.cameras import CAMERAS, IMU_FRAME, optical_frame
from aria_nav_ros.core.detection import RawDetection
from aria_nav_ros.core.geometry import GeometryConfig, locate
from aria_nav_ros.core.mounting import HEAD_FRAME, mounts_from_transforms
from aria_nav_ros.ros.camera_info import camera_model_of
from aria_nav_ros.ros.qos import IMU_QOS, SENSOR_QOS, TF_STATIC_QOS

pytestmark = pytest.mark.skipif(
    not REAL_VRS.is_file(), reason=f"the real Aria recording {REAL_VRS} is absent (../shared)"
)
UPRIGHT_SIZE = {"rgb": (1408, 1408), "slam_left": (480, 640), "slam_right": (480, 640)}  # width, height


def test_a_real_recording_through_the_driver_is_upright_calibrated_and_placed(listener, ros_env) -> None:
    node = listener
    got: dict[str, list] = {"tf": [], "imu": []}
    node.create_subscription(TFMessage, "/tf_static", got["tf"].append, TF_STATIC_QOS)
    got["frusta"] = []
    node.create_subscription(MarkerArray, "/aria/frusta", got["frusta"].append, TF_STATIC_QOS)
    node.create_subscription(Imu, "/aria/imu", got["imu"].append, IMU_QOS)
    for camera in CAMERAS:
        got[camera], got[f"{camera}_info"] = [], []
        node.create_subscription(Image, f"/aria/{camera}/image_raw", got[camera].append, SENSOR_QOS)
        node.create_subscription(CameraInfo, f"/aria/{camera}/camera_info", got[f"{camera}_info"].append, SENSOR_QOS)
    params = {"source": "vrs", "path": str(REAL_VRS), "wait_for": "subscribers", "loop": True}
    driver = NodeProcess(node_command("aria_driver", **params), ros_env)

    def enough() -> bool:
        cameras = all(got[c] and got[f"{c}_info"] for c in CAMERAS)
        frusta = bool(got["frusta"]) and len(got["frusta"][-1].markers) == len(CAMERAS)
        return bool(got["tf"]) and cameras and frusta and len(got["imu"]) >= 100

    try:
        end = time.monotonic() + 60
        while time.monotonic() < end and not enough():
            rclpy.spin_once(node, timeout_sec=0.1)
    finally:
        code = driver.stop()
    log = driver.log[-3000:]
    assert code == 0, log
    assert enough(), f"{ {k: len(v) for k, v in got.items()} }\n{log}"

    transforms = got["tf"][-1].transforms
    assert {t.header.frame_id for t in transforms} == {HEAD_FRAME}
    assert {t.child_frame_id for t in transforms} == {*map(optical_frame, CAMERAS), IMU_FRAME}
    mounts = mounts_from_transforms(transforms)
    assert "nominal" not in log  # the recording's own calibration, not the fallback

    imu = got["imu"]
    assert {m.header.frame_id for m in imu} == {IMU_FRAME}
    at_rest = np.mean([[m.linear_acceleration.x, m.linear_acceleration.y, m.linear_acceleration.z] for m in imu], 0)
    down_in_head = -(mounts[IMU_FRAME].rotation @ at_rest)  # an accelerometer at rest reads "up"
    assert 9.0 < np.linalg.norm(down_in_head) < 10.6

    # RViz's view of each camera: its field of view, drawn through its lens in its own optical frame.
    frusta = {m.header.frame_id: m for m in got["frusta"][-1].markers}
    assert set(frusta) == set(map(optical_frame, CAMERAS))
    for frame, marker in frusta.items():
        ends = np.array([[p.x, p.y, p.z] for p in marker.points])
        ends = ends[np.linalg.norm(ends, axis=1) > 0]  # the lines' ends, not the apex they start from
        widest = max(math.degrees(math.acos(np.clip(e[2] / np.linalg.norm(e), -1, 1))) for e in ends)  # off-axis
        assert widest > (50 if frame == "aria_rgb_optical" else 70), (frame, widest)  # fisheyes: 110 and 150 across

    for camera in CAMERAS:
        image, info = got[camera][-1], got[f"{camera}_info"][-1]
        frame = optical_frame(camera)
        assert image.header.frame_id == info.header.frame_id == frame
        assert (image.width, image.height) == (info.width, info.height) == UPRIGHT_SIZE[camera]
        assert info.distortion_model == "fisheye624" and len(info.d) == 12, (info.distortion_model, info.d)
        # Upright: gravity, through the published transforms, points down the published image (+y).
        down = mounts[frame].rotation.T @ down_in_head
        assert down[1] > 0.8 * np.linalg.norm(down) and abs(down[0]) < 0.4 * np.linalg.norm(down), (camera, down)
        # Placed: a ground point 3 m away, in the middle of this camera's view, projected by projectaria-tools,
        # is located from what was published alone.
        from projectaria_tools.core import data_provider

        calibration = data_provider.create_vrs_data_provider(str(REAL_VRS)).get_device_calibration()
        model = camera_model_of(info)
        points = [p for p in ground_points(calibration, LABELS[camera], model) if p[1] == 3.0]
        bearing, distance, u, v = points[len(points) // 2]
        box = RawDetection((u - 1, v - 2, u + 1, v), 0.9, 0, "thing", math.nan)
        [found] = locate([box], model, GeometryConfig(eye_height_m=EYE_HEIGHT_M, edge_margin_px=1.0), mounts[frame])
        assert found.bearing_deg == pytest.approx(bearing, abs=1.0), camera
        assert found.distance_m == pytest.approx(distance, rel=0.05), camera
