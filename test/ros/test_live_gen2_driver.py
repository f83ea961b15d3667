"""The aria_driver node with live Aria Gen 2 glasses (FakeGen2Glasses through the real live source, in a process of
its own), checked over real DDS by a subscriber here: every camera as recorded (upright), CameraInfo from the
calibration the glasses stream, the front pair's topics and depth, the head's odometry, /tf_static naming every
camera, and a cable pulled mid-stream said and reconnected."""

from __future__ import annotations

import math
import os
import sys
import time

import pytest
import rclpy
from fake_glasses_gen2 import GEN2_VRS
from geometry_msgs.msg import PoseArray
from locations import HELPERS
from nav_msgs.msg import Odometry
from processes import NodeProcess
from sensor_msgs.msg import CameraInfo, Image
from tf2_msgs.msg import TFMessage

from aria_nav_ros.core.cameras import ALL_CAMERAS, IMU_FRAME, STEREO, optical_frame
from aria_nav_ros.ros.qos import HANDS_QOS, ODOMETRY_QOS, SENSOR_QOS, TF_STATIC_QOS

HERE = HELPERS
pytestmark = pytest.mark.skipif(
    not GEN2_VRS.is_file(), reason=f"the real Aria Gen 2 recording {GEN2_VRS} is absent (../shared): the fake plays it"
)
# Width x height of each camera's image as the glasses' calibration gives it (as recorded: Gen 2 is upright).
SIZES = {"rgb": (2016, 1512), **{c: (512, 512) for c in ALL_CAMERAS if c != "rgb"}}


def test_live_gen2_driver_publishes_five_cameras_depth_odometry_and_reconnects(listener, ros_env) -> None:
    node = listener
    env = dict(ros_env, PYTHONPATH=f"{HERE}{os.pathsep}{ros_env.get('PYTHONPATH', '')}")
    driver = NodeProcess([sys.executable, str(HERE / "live_driver_peer.py"), "2", "gen2"], env)
    images: dict[str, list[Image]] = {c: [] for c in ALL_CAMERAS}
    infos: dict[str, list[CameraInfo]] = {c: [] for c in ALL_CAMERAS}
    for camera in ALL_CAMERAS:
        node.create_subscription(Image, f"/aria/{camera}/image_raw", images[camera].append, SENSOR_QOS)
        node.create_subscription(CameraInfo, f"/aria/{camera}/camera_info", infos[camera].append, SENSOR_QOS)
    poses: list[Odometry] = []
    depths: list[Image] = []
    static: dict[str, object] = {}
    node.create_subscription(Odometry, "/aria/odometry", poses.append, ODOMETRY_QOS)
    hands: list[PoseArray] = []
    node.create_subscription(PoseArray, "/aria/hands", hands.append, HANDS_QOS)
    node.create_subscription(Image, "/aria/stereo/depth", depths.append, SENSOR_QOS)
    node.create_subscription(
        TFMessage, "/tf_static", lambda m: static.update({t.child_frame_id: t for t in m.transforms}), TF_STATIC_QOS
    )
    failed = "the stream from the Aria Gen 2 glasses over USB failed: the glasses closed their stream connection"
    rgb_after_failure: list[int] = []

    def done() -> bool:
        if failed in driver.log and not rgb_after_failure:
            rgb_after_failure.append(len(images["rgb"]))
        return (
            bool(rgb_after_failure)
            and len(images["rgb"]) >= rgb_after_failure[0] + 2
            and all(images[c] for c in ALL_CAMERAS)
            and bool(poses)
            and bool(depths)
            and bool(hands)
        )

    try:
        end = time.monotonic() + 90
        while time.monotonic() < end and not done():
            rclpy.spin_once(node, timeout_sec=0.1)
    finally:
        code = driver.stop()
    log = driver.log
    assert code == 0, log[-3000:]
    assert done(), ({c: len(v) for c, v in images.items()}, len(poses), len(depths), len(hands), log[-3000:])
    assert "trying again in 1 s" in log  # the runner's reconnect, as for Gen 1
    for camera in ALL_CAMERAS:
        image, info = images[camera][-1], infos[camera][-1]
        assert (image.width, image.height) == SIZES[camera], camera  # as recorded: not turned
        assert image.encoding == ("rgb8" if camera == "rgb" else "mono8")
        assert image.header.frame_id == info.header.frame_id == optical_frame(camera)
        # The streamed calibration's own lens, not Gen 1's nominal one.
        assert info.distortion_model == "fisheye624" and (info.width, info.height) == SIZES[camera], camera
    assert "nominal" not in log
    assert {*map(optical_frame, ALL_CAMERAS), optical_frame(STEREO), IMU_FRAME} <= set(static), sorted(static)
    assert (poses[-1].header.frame_id, poses[-1].child_frame_id) == ("odom", "aria_head")
    # The glasses' own hand tracking: each tracked hand's wrist and palm, in the head frame, within reach.
    assert {m.header.frame_id for m in hands} == {"aria_head"} and max(len(m.poses) for m in hands) == 4
    assert all(math.dist((0, 0, 0), (p.position.x, p.position.y, p.position.z)) < 1.0 for m in hands for p in m.poses)
    assert depths[-1].encoding == "32FC1" and depths[-1].header.frame_id == optical_frame(STEREO)
