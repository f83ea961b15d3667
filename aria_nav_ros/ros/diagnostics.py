"""A node's health as diagnostic_msgs/DiagnosticArray on /diagnostics."""

from __future__ import annotations

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.node import Node

DIAGNOSTICS_TOPIC = "/diagnostics"
OK, WARN, ERROR = DiagnosticStatus.OK, DiagnosticStatus.WARN, DiagnosticStatus.ERROR


def diagnostic(node: Node, level: bytes, message: str, values: dict[str, object]) -> DiagnosticArray:
    status = DiagnosticStatus(
        level=level,
        name=f"aria_nav_ros{node.get_fully_qualified_name()}",  # two graphs in two namespaces stay apart
        message=message,
        hardware_id=node.get_fully_qualified_name(),
    )
    status.values = [KeyValue(key=k, value=f"{v:.2f}" if isinstance(v, float) else str(v)) for k, v in values.items()]
    out = DiagnosticArray(status=[status])
    out.header.stamp = node.get_clock().now().to_msg()
    return out
