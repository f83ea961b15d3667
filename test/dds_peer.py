"""A node for test_dds_exchange.py, run in its own process.

`dds_peer.py publish N`: once the subscriber says it has matched every
topic (a latched message on /dds_test/ready), publishes N distinct sets of
three messages (1408x1408 rgb8, 640x480 mono8, a DetectionArray), 10 per
second, with best-effort sensor QoS, then exits.
`dds_peer.py receive N OUT`: receives them, checks each against what frame
`frame_id` should hold, and writes a JSON report to OUT.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import rclpy
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image
from std_msgs.msg import Empty, Header

from aria_nav_ros.msg import Detection, DetectionArray
from aria_nav_ros.ros.image import image_to_numpy, numpy_to_image
from aria_nav_ros.ros.qos import SENSOR_QOS

TOPICS = {"rgb": "/dds_test/rgb", "mono": "/dds_test/mono", "detections": "/dds_test/detections"}
READY_TOPIC = "/dds_test/ready"  # the subscriber's word that it has matched the publisher on every topic
READY_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
_BASE = np.random.default_rng(20261122)
_RGB = _BASE.integers(0, 256, (1408, 1408, 3), dtype=np.uint8)
_MONO = _BASE.integers(0, 256, (480, 640), dtype=np.uint8)


def expected_rgb(i: int) -> np.ndarray:
    return np.roll(_RGB, i * 7, axis=1)  # every frame differs in every row


def expected_mono(i: int) -> np.ndarray:
    return np.roll(_MONO, i * 5, axis=0)


def expected_detections(i: int) -> DetectionArray:
    msg = DetectionArray(header=Header(frame_id=str(i)), camera="slam_left")
    msg.image_width, msg.image_height = 640, 480
    msg.detections = [
        Detection(
            class_id=0,
            class_name="person",
            score=0.875,
            x_min=float(i),
            y_min=2.0,
            x_max=30.0,
            y_max=400.5,
            distance_m=2.25,
            distance_source=Detection.DISTANCE_CLASS_SIZE,
            bearing_deg=-71.5,
            track_id=i,
        )
    ]
    return msg


def publish(count: int) -> int:
    node = Node("dds_test_publisher")
    publishers = {
        kind: node.create_publisher(DetectionArray if kind == "detections" else Image, topic, SENSOR_QOS)
        for kind, topic in TOPICS.items()
    }
    ready: list[Empty] = []
    node.create_subscription(Empty, READY_TOPIC, ready.append, READY_QOS)
    deadline = time.monotonic() + 30
    while not ready:  # matching on our side is not enough: the subscriber must have matched us too
        if time.monotonic() > deadline:
            print("the subscriber never said it matched", file=sys.stderr)
            return 1
        rclpy.spin_once(node, timeout_sec=0.05)
    for i in range(count):
        header = Header(frame_id=str(i))
        publishers["rgb"].publish(numpy_to_image(expected_rgb(i), "rgb8", header))
        publishers["mono"].publish(numpy_to_image(expected_mono(i), "mono8", header))
        publishers["detections"].publish(expected_detections(i))
        time.sleep(0.1)
    return 0


def receive(count: int, out: str) -> int:
    node = Node("dds_test_subscriber")
    report: dict[str, dict[str, list[int]]] = {kind: {"exact": [], "wrong": []} for kind in TOPICS}

    def check(kind: str, msg) -> None:
        i = int(msg.header.frame_id)
        if kind == "rgb":
            ok = np.array_equal(image_to_numpy(msg), expected_rgb(i))
        elif kind == "mono":
            ok = np.array_equal(image_to_numpy(msg), expected_mono(i))
        else:
            ok = msg == expected_detections(i)
        report[kind]["exact" if ok else "wrong"].append(i)

    for kind, topic in TOPICS.items():
        node.create_subscription(
            DetectionArray if kind == "detections" else Image,
            topic,
            lambda m, k=kind: check(k, m),
            SENSOR_QOS,
        )
    subscriptions = list(node.subscriptions)
    ready = node.create_publisher(Empty, READY_TOPIC, READY_QOS)
    deadline = time.monotonic() + 60
    while any(sub.get_publisher_count() == 0 for sub in subscriptions) and time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.05)
    ready.publish(Empty())
    last_seen = {kind: -1 for kind in TOPICS}
    while time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.1)
        for kind, seen in report.items():
            last_seen[kind] = max(seen["exact"] + seen["wrong"], default=-1)
        if all(v == count - 1 for v in last_seen.values()):
            break
    with open(out, "w") as f:
        json.dump(report, f)
    return 0


if __name__ == "__main__":
    rclpy.init()
    try:
        if sys.argv[1] == "publish":
            code = publish(int(sys.argv[2]))
        else:
            code = receive(int(sys.argv[2]), sys.argv[3])
    finally:
        rclpy.try_shutdown()
    sys.exit(code)
