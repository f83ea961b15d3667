"""Calling a node's ROS services from a test, with a timeout as a ceiling."""

from __future__ import annotations

import rclpy
from rclpy.node import Node


def call(node: Node, service_type: type, name: str, request: object, timeout_s: float = 60.0) -> object:
    """The response of service `name`; fails the test when the service is missing or does not answer."""
    client = node.create_client(service_type, name)
    assert client.wait_for_service(timeout_sec=timeout_s), f"no service {name}"
    future = client.call_async(request)
    rclpy.spin_until_future_complete(node, future, timeout_sec=timeout_s)
    assert future.done(), f"{name} did not answer"
    return future.result()
