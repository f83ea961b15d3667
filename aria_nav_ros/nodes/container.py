"""aria_nav_container: several of this package's nodes in one process, one executor.

rclpy has no component container; spinning several nodes in one
MultiThreadedExecutor is its form of composition (shared process, no
transport between them).

    python -m aria_nav_ros.nodes.container rgb_perception navigation --ros-args --params-file config/x.yaml
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import rclpy
from rclpy.node import Node

from aria_nav_ros.ros.spin import exit_now, run_nodes


def factories() -> dict[str, Callable[[], Node]]:
    from aria_nav_ros.nodes.aria_driver import AriaDriver
    from aria_nav_ros.nodes.navigation import Navigation
    from aria_nav_ros.nodes.perception import RgbPerception, SlamDetector
    from aria_nav_ros.nodes.recorder import Recorder
    from aria_nav_ros.nodes.stream_monitor import StreamMonitor

    return {
        "aria_driver": AriaDriver,
        "navigation": Navigation,
        "rgb_perception": RgbPerception,
        "slam_detector": SlamDetector,
        "recorder": Recorder,
        "stream_monitor": StreamMonitor,
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv if argv is None else argv
    names = rclpy.utilities.remove_ros_args(argv)[1:]
    known = factories()
    unknown = [n for n in names if n not in known]
    if not names or unknown:
        print(
            f"usage: container NODE... [--ros-args ...]; nodes: {', '.join(known)}"
            + (f" (unknown: {', '.join(unknown)})" if unknown else ""),
            file=sys.stderr,
        )
        return 2
    return run_nodes([known[n] for n in names], argv)


if __name__ == "__main__":
    exit_now(main())
