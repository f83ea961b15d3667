"""SystemEvent: what a node tells the wearer about the aid itself (navigation speaks it)."""

from __future__ import annotations

from rclpy.node import Node

from aria_nav_ros.msg import SystemEvent


def system_event(node: Node, event: int, detail: str, camera: str = "", stamp_ns: int | None = None) -> SystemEvent:
    """An event told by `node`, stamped now on its clock unless `stamp_ns` says when it happened."""
    msg = SystemEvent(event=event, node=node.get_name(), camera=camera, detail=detail)
    stamp = node.get_clock().now().nanoseconds if stamp_ns is None else stamp_ns
    msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(max(stamp, 0), 1_000_000_000)
    return msg
