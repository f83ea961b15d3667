"""The package's lifecycle node: rclpy's LifecycleNode, torn down whole.

rclpy's LifecycleNode.destroy_node leaves the node's state machine alive, and
the state machine holds the node: the node, its context and the process's DDS
participant then live until the interpreter's own teardown, which our
processes skip (aria_nav_ros.ros.spin.exit_now). A participant that is never
deleted leaves its Fast DDS shared-memory segments in /dev/shm (RAM, 35.7 MB
a process): measured, 10 segments (350 MB) after every run of the graph,
until reboot (aria_nav_ros.graph.dds_shm). Destroying the state machine as well lets the participant go
(test_start_stop checks that a stopped graph leaves none).
"""

from __future__ import annotations

from rclpy.lifecycle import LifecycleNode


class ManagedNode(LifecycleNode):
    """A lifecycle ("managed") node whose destroy_node also frees its state machine."""

    def destroy_node(self) -> None:
        try:
            super().destroy_node()
        finally:  # even when a teardown above failed: the participant must go
            machine = getattr(self, "_state_machine", None)  # rclpy's own attribute: no public way to reach it
            if machine is not None:
                machine.destroy_when_not_in_use()
