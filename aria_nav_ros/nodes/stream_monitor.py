"""stream_monitor: checks and counts what arrives on the camera topics.

It decodes every image (a malformed one is counted and logged, not fatal), measures the
age of each frame on arrival, logs a line per second, and writes a JSON
summary at exit when `summary_path` is set.
"""

from __future__ import annotations

import json
from pathlib import Path

from rclpy.node import Node
from sensor_msgs.msg import Image

from aria_nav_ros.core.cameras import CAMERAS, image_topic
from aria_nav_ros.core.image import ImageFormatError
from aria_nav_ros.core.stream_stats import StreamStats
from aria_nav_ros.core.timebase import stamp_ns
from aria_nav_ros.ros.image import image_to_numpy
from aria_nav_ros.ros.params import Param, declare
from aria_nav_ros.ros.qos import SENSOR_QOS
from aria_nav_ros.ros.refusals import Refusals
from aria_nav_ros.ros.spin import run_node

PARAMETERS = (
    Param("cameras", list(CAMERAS), "the cameras whose frames are counted"),
    Param("summary_path", "", "where the frame counts and ages go at the end (JSON); empty: nowhere"),
)


class StreamMonitor(Node):
    def __init__(self) -> None:
        super().__init__("stream_monitor")
        v = declare(self, PARAMETERS)
        cameras = list(v["cameras"])
        self.summary_path = str(v["summary_path"])
        self.stats = {camera: StreamStats() for camera in cameras}
        self.refusals = Refusals(self.get_logger())
        for camera in cameras:
            self.create_subscription(
                Image, image_topic(camera), lambda msg, c=camera: self._on_image(c, msg), SENSOR_QOS
            )
        self.create_timer(1.0, self._report)

    def _on_image(self, camera: str, msg: Image) -> None:
        now_ns = self.get_clock().now().nanoseconds
        try:
            pixels = image_to_numpy(msg)
        except ImageFormatError as error:
            self.stats[camera].rejected += 1
            self.refusals.refuse("image", f"{camera}: {error}")
            return
        age_ns = now_ns - stamp_ns(msg.header.stamp)
        self.stats[camera].add(age_ns / 1e6, pixels.shape)

    def _report(self) -> None:
        # Per second: a debug detail (the launcher's progress line and streams.json are what a user reads).
        line = ", ".join(f"{camera} {stats.brief()}" for camera, stats in self.stats.items())
        self.get_logger().debug(line)

    def destroy_node(self) -> None:
        received = ", ".join(f"{camera} {stats.received}" for camera, stats in self.stats.items())
        self.get_logger().info(f"frames received: {received}")
        if self.summary_path:
            summary = {camera: stats.summary() for camera, stats in self.stats.items()}
            try:
                Path(self.summary_path).parent.mkdir(parents=True, exist_ok=True)
                Path(self.summary_path).write_text(json.dumps(summary, indent=2))
            except OSError as error:  # a full disk at the very end: the run is over, but say it
                self.get_logger().error(f"cannot write {self.summary_path}: {error}")
        super().destroy_node()


def main() -> None:
    run_node(StreamMonitor)


if __name__ == "__main__":
    main()
