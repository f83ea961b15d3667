"""The recorder's disk guard: it stops before the disk is full, says so, and the rest goes on.

A real small disk: a 48 MB tmpfs, mounted by the test (root, as here and in
CI; skipped where mounting is not allowed). Full 1408x1408 frames fill it
within seconds.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import rclpy
from processes import NodeProcess, node_command
from rclpy.node import Node
from rosbags.rosbag2 import Reader
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from aria_nav_ros.msg import NavigationCue
from aria_nav_ros.nodes.recorder import CHECK_EVERY_BYTES
from aria_nav_ros.ros.image import numpy_to_image
from aria_nav_ros.ros.qos import RESULT_QOS, SENSOR_QOS

TOPIC = "/aria/rgb/image_raw"
DISK_MB, KEEP_FREE_MB = 48, 24
FRAME_MB = 1408 * 1408 * 3 / 1e6


def free_mb(path: Path) -> float:
    return shutil.disk_usage(path).free / 1e6


def test_recorder_stops_before_the_disk_is_full_and_navigation_says_so(tmp_path: Path, ros_env) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m", "tmpfs", str(disk)],
                           capture_output=True, text=True)  # fmt: skip
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {mount.stderr.strip()}")
    min_free = float(KEEP_FREE_MB)
    bag = disk / "bag"
    nav = NodeProcess(node_command("navigation", audio_sink="wav", wav_path=tmp_path / "nav.wav"), ros_env)
    recorder = NodeProcess([*node_command("recorder", path=bag, topics=f'["{TOPIC}"]', min_free_mb=min_free),
                            "--log-level", "debug"], ros_env)  # fmt: skip
    rclpy.init()
    node = Node("disk_filler")
    cues: list[str] = []
    heard = node.create_subscription(NavigationCue, "/navigation/cues", lambda c: cues.append(c.text), RESULT_QOS)
    pub = node.create_publisher(Image, TOPIC, SENSOR_QOS)
    frame = numpy_to_image(np.full((1408, 1408, 3), 7, np.uint8), "rgb8", Header(frame_id="aria_rgb_optical"))
    try:
        end = time.monotonic() + 60
        while time.monotonic() < end and "Recording stopped" not in cues:
            # Fill only once this node hears navigation: its cue is said once, to whoever listens then.
            ready = heard.get_publisher_count() > 0 and pub.get_subscription_count() > 0
            if ready and recorder.count(f"recording {TOPIC}"):
                frame.header.stamp = node.get_clock().now().to_msg()
                pub.publish(frame)
            rclpy.spin_once(node, timeout_sec=0.05)
        assert "Recording stopped" in cues, f"heard {cues}\n{recorder.log[-2000:]}\n{nav.log[-2000:]}"
        left = free_mb(disk)
        for _ in range(20):  # more frames after the stop: nothing more is written
            pub.publish(frame)
            rclpy.spin_once(node, timeout_sec=0.05)
        assert recorder.process.poll() is None, "the recorder died instead of stopping its recording"
        # It stopped before the disk was full: at most one look's worth of writing (8 MB) and one frame late.
        assert free_mb(disk) == left >= min_free - CHECK_EVERY_BYTES / 1e6 - FRAME_MB, (left, min_free)
        recorder_code, nav_code = recorder.stop(), nav.stop()
    finally:
        node.destroy_node()
        rclpy.shutdown()
        recorder.stop()
        nav.stop()
        kept = tmp_path / "kept"
        shutil.copytree(disk, kept)
        subprocess.run(["umount", str(disk)], check=True)
        bag = kept / "bag"
    assert (recorder_code, nav_code) == (0, 0), recorder.log[-2000:]
    assert "recording stopped:" in recorder.log and "under min_free_mb" in recorder.log, recorder.log[-2000:]
    assert "Traceback" not in recorder.log + nav.log
    with Reader(bag) as reader:  # what was written before the stop is a readable bag
        assert reader.message_count > 0 and [c.topic for c in reader.connections] == [TOPIC]


def test_recorder_keeps_the_latched_tf_static_published_before_it_came(tmp_path: Path, ros_env, listener) -> None:
    """/tf_static is published once (latched), before the recorder may start: a bag of the run still holds it."""
    from geometry_msgs.msg import TransformStamped
    from tf2_msgs.msg import TFMessage

    from aria_nav_ros.ros.qos import TF_STATIC_QOS

    pub = listener.create_publisher(TFMessage, "/tf_static", TF_STATIC_QOS)
    mount = TransformStamped(child_frame_id="aria_rgb_optical")
    mount.header.frame_id = "aria_head"
    pub.publish(TFMessage(transforms=[mount]))  # once, before the recorder exists
    bag = tmp_path / "bag"
    recorder = NodeProcess(
        [*node_command("recorder", path=bag, topics='["tf_static"]'), "--log-level", "debug"], ros_env
    )  # its per-topic lines are debug
    try:
        assert recorder.wait_for("first message on /tf_static written", timeout_s=30), recorder.log[-2000:]
        code = recorder.stop()
    finally:
        recorder.stop()
    assert code == 0, recorder.log[-2000:]
    with Reader(bag) as reader:
        [connection] = reader.connections
        assert connection.topic == "/tf_static" and connection.msgcount == 1, recorder.log[-2000:]
