"""Thin adapters between the core and ROS 2 (messages, QoS, node helpers)."""
