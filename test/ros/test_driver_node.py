"""The aria_driver node in a process of its own, checked over real DDS by a subscriber here."""

from __future__ import annotations

import os
import sys
import time

import psutil
import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from fake_glasses import MARK
from locations import HELPERS
from processes import NodeProcess, node_command
from rclpy.time import Time
from sensor_msgs.msg import CameraInfo, Image, Imu

from aria_nav_ros.core.sources.aria_live import adb_server_running
from aria_nav_ros.ros.image import image_to_numpy
from aria_nav_ros.ros.qos import SENSOR_QOS

HERE = HELPERS
NO_GLASSES = "no Aria glasses over USB found"


def test_live_driver_publishes_upright_frames_info_and_imu_and_survives_a_failure(listener, ros_env) -> None:
    node = listener
    env = dict(ros_env, PYTHONPATH=f"{HERE}{os.pathsep}{ros_env.get('PYTHONPATH', '')}")
    driver = NodeProcess([sys.executable, str(HERE / "live_driver_peer.py"), "30"], env)
    got: dict[str, list] = {"rgb": [], "info": [], "slam_left": [], "imu": []}

    def on_rgb(msg: Image) -> None:
        arrival = node.get_clock().now().nanoseconds
        got["rgb"].append((msg.header, image_to_numpy(msg, copy=True), msg.encoding, arrival))

    node.create_subscription(Image, "/aria/rgb/image_raw", on_rgb, SENSOR_QOS)
    node.create_subscription(CameraInfo, "/aria/rgb/camera_info", got["info"].append, SENSOR_QOS)
    node.create_subscription(Image, "/aria/slam_left/image_raw", got["slam_left"].append, SENSOR_QOS)
    node.create_subscription(Imu, "/aria/imu", got["imu"].append, SENSOR_QOS)
    health: list = []  # the driver's /diagnostics
    node.create_subscription(
        DiagnosticArray, "/diagnostics", lambda m: health.extend(s for s in m.status if "aria_driver" in s.name), 10
    )
    try:
        end = time.monotonic() + 40
        while time.monotonic() < end and (len(got["rgb"]) < 45 or not health):  # 30 before the failure, more after
            rclpy.spin_once(listener, timeout_sec=0.1)
    finally:
        code = driver.stop()
    log = driver.log
    assert code == 0, log[-2000:]
    assert len(got["rgb"]) >= 45, f"only {len(got['rgb'])} RGB frames\n{log[-2000:]}"
    assert "ConnectionLost: USB cable pulled" in log and "trying again in 1 s" in log

    header, pixels, encoding, arrival = got["rgb"][-1]
    assert encoding == "rgb8" and pixels.shape == (1408, 1408, 3)
    assert header.frame_id == "aria_rgb_optical"
    assert (pixels[:MARK, -MARK:] == 255).all() and not (pixels[:MARK, :MARK] == 255).all()  # upright
    stamps = [Time.from_msg(h.stamp).nanoseconds for h, *_ in got["rgb"]]
    assert all(s <= a for s, (*_, a) in zip(stamps, got["rgb"], strict=True))  # never ahead of arrival
    first_session = stamps[:25]
    assert all(b > a for a, b in zip(first_session, first_session[1:], strict=False))

    # The fake glasses send no factory calibration: nominal intrinsics, said as an error in the log and diagnostics.
    assert "the glasses sent no calibration: nominal intrinsics and mounting are used" in log
    status = health[-1]
    assert status.level == DiagnosticStatus.ERROR and "no calibration" in status.message, status
    values = {v.key: v.value for v in status.values}
    assert values["rgb_intrinsics"] == "nominal Aria Gen 1 lens", values
    assert values["mounting"].startswith("nominal Aria Gen 1 for aria_rgb_optical"), values
    info = got["info"][-1]
    assert (info.width, info.height) == (1408, 1408) and info.header.frame_id == "aria_rgb_optical"
    # Aria Gen 1's own lens, turned upright with the image: cx = 1407 - 716.7, cy = 715.1.
    assert info.distortion_model == "fisheye624" and info.k[2] == pytest.approx(690.3) and info.k[5] == 715.1
    slam = got["slam_left"][-1]  # mounted sideways like the RGB camera: published upright (480 wide, 640 high)
    assert slam.encoding == "mono8" and (slam.width, slam.height) == (480, 640)
    imu = got["imu"][-1]
    assert imu.header.frame_id == "aria_imu"
    assert imu.linear_acceleration.y == pytest.approx(-9.81, abs=1e-5)
    assert imu.orientation_covariance[0] == -1.0


def test_driver_without_glasses_says_so_retries_and_stops_clean(ros_env, usb_search) -> None:
    adb_before = adb_server_running()
    driver = NodeProcess(node_command("aria_driver", source="live"), ros_env)
    first: set[int] = set()  # the SDK helper processes of the first search
    again: set[int] = set()  # those started once the driver said it tries again: the retry's search
    start = time.monotonic()
    try:
        # Both SDKs are asked (Gen 2, then Gen 1): 15 s on a loaded 2-core machine. 60 s is a ceiling, not a target.
        while time.monotonic() - start < 60 and not (again - first):
            retrying = "trying again in 1 s" in driver.log
            helpers = {c.pid for c in psutil.Process(driver.process.pid).children(recursive=True)}
            (again if retrying else first).update(helpers)
            time.sleep(0.1)
        said = driver.count(NO_GLASSES) > 0
    finally:
        code = driver.stop()  # in the middle of the retry's search: it ends too
    assert said, driver.log[-2000:]
    assert first, "the SDK never ran in a helper process"
    assert again - first, ("no second search after 'trying again'", driver.log[-2000:])
    assert code == 0
    helpers = first | again
    end = time.monotonic() + 10  # the helpers end with the driver (a ceiling, not a pause)
    while [pid for pid in helpers if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]:
        assert time.monotonic() < end, "SDK helper processes outlived the driver"
        time.sleep(0.05)
    assert adb_server_running() == adb_before


def test_driver_with_a_missing_bag_names_it_and_keeps_running(ros_env, tmp_path) -> None:
    missing = tmp_path / "walk_bag"
    driver = NodeProcess(node_command("aria_driver", source="bag", path=missing), ros_env)
    try:
        assert driver.wait_for(f"bag {missing} does not exist", timeout_s=20), driver.log[-2000:]
        # Still up a second later (alone, a driver reports and stays up): its log goes on.
        assert not driver.wait_for("the source has ended", timeout_s=1.0), driver.log[-2000:]
        assert driver.process.poll() is None, "the driver died on a missing bag"
    finally:
        assert driver.stop() == 0
    assert driver.count("does not exist") == 1  # a recording is not retried in a loop
