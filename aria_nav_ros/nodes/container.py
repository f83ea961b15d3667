"""aria_nav_container: several of this package's nodes in one process, one executor.

rclpy has no component container; spinning several nodes in one
MultiThreadedExecutor is its form of composition (shared process, no
transport between them).

    python -m aria_nav_ros.nodes.container rgb_perception navigation --ros-args --params-file config/x.yaml
    python -m aria_nav_ros.nodes.container rgb_perception slam_detector:slam_detector_left \
        slam_detector:slam_detector_right --ros-args --params-file config/aria_nav.yaml   # one CUDA context
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import rclpy
from rclpy.exceptions import InvalidNodeNameException
from rclpy.node import Node
from rclpy.validate_node_name import validate_node_name

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


NAMEABLE = ("rgb_perception", "slam_detector")  # the nodes made under another name (two SLAM detectors in one)


def maker(argument: str, known: dict[str, Callable[..., Node]]) -> Callable[[], Node] | None:
    """The node an argument asks for: EXECUTABLE, or EXECUTABLE:NAME (a perception node under that name)."""
    executable, _, name = argument.partition(":")
    if executable not in known or (name and executable not in NAMEABLE):
        return None
    if name:
        try:
            validate_node_name(name)
        except InvalidNodeNameException:  # said with the usage line, not as a traceback
            return None
    return (lambda: known[executable](name)) if name else known[executable]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv if argv is None else argv
    arguments = rclpy.utilities.remove_ros_args(argv)[1:]
    known = factories()
    makers = [maker(argument, known) for argument in arguments]
    unknown = [a for a, m in zip(arguments, makers, strict=True) if m is None]
    if not arguments or unknown:
        print(
            f"usage: container NODE[:NAME]... [--ros-args ...]; nodes: {', '.join(known)}"
            f" (NAME: {', '.join(NAMEABLE)} only)" + (f" (unknown: {', '.join(unknown)})" if unknown else ""),
            file=sys.stderr,
        )
        return 2
    return run_nodes(makers, argv)


if __name__ == "__main__":
    exit_now(main())
