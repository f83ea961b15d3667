"""An outsider for test_network_guard.py: `outsider_peer.py DETAIL SECONDS` publishes a fake SystemEvent
("the source failed", with DETAIL) on aria_nav/events, as the graph's own nodes do, twice a second for SECONDS.

It runs with whatever discovery its environment gives it (another network namespace, SUBNET, or this
machine's LOCALHOST): what reaches the navigation node is what the wearer would hear.
"""

from __future__ import annotations

import sys
import time

import rclpy
from rclpy.node import Node

from aria_nav_ros.core.cameras import EVENTS_TOPIC
from aria_nav_ros.msg import SystemEvent
from aria_nav_ros.ros.qos import EVENTS_QOS


def main(detail: str, seconds: float) -> None:
    rclpy.init()
    node = Node("outsider")
    pub = node.create_publisher(SystemEvent, EVENTS_TOPIC, EVENTS_QOS)
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            msg = SystemEvent(event=SystemEvent.SOURCE_FAILED, node="outsider", detail=detail)
            msg.header.stamp = node.get_clock().now().to_msg()
            pub.publish(msg)
            rclpy.spin_once(node, timeout_sec=0.5)
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
