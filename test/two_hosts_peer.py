"""A node for test_two_hosts.py, run inside one of bench/two_hosts.py's network namespaces.

`two_hosts_peer.py publish`: publishes one 640x480 mono8 frame (several UDP fragments), ten a second, with
reliable QoS, until SIGINT/SIGTERM or 60 s. `two_hosts_peer.py receive`: exits 0 once a frame with the
expected pixels has arrived (1 if its pixels differ, 2 if none came within 60 s).
"""

from __future__ import annotations

import signal
import sys
import time

import numpy as np
import rclpy
from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image

from aria_nav_ros.ros.image import image_to_numpy, numpy_to_image

TOPIC = "/two_hosts_test/image"
QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)
FRAME = np.random.default_rng(20).integers(0, 256, (480, 640), dtype=np.uint8)
LIMIT_S = 60.0


def main(role: str) -> int:
    stop: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, _frame: stop.append(signum))
    rclpy.init(signal_handler_options=rclpy.signals.SignalHandlerOptions.NO)
    node = Node(f"two_hosts_{role}")
    got: list[np.ndarray] = []
    if role == "publish":
        publisher = node.create_publisher(Image, TOPIC, QOS)
        timer = node.create_timer(0.1, lambda: publisher.publish(numpy_to_image(FRAME, "mono8")))
    else:
        node.create_subscription(Image, TOPIC, lambda msg: got.append(image_to_numpy(msg, copy=True)), QOS)
    end = time.monotonic() + LIMIT_S
    while not stop and not got and time.monotonic() < end:
        rclpy.spin_once(node, timeout_sec=0.1)
    if role == "publish":
        node.destroy_timer(timer)
    node.destroy_node()
    rclpy.shutdown()
    if role == "publish":
        return 0
    if not got:
        return 2
    return 0 if np.array_equal(got[0], FRAME) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
