"""recorder: writes chosen topics into a rosbag2 MCAP file, as they arrive.

Messages are taken serialized (no decode, no copy into Python objects) and
written with their receive time. Each topic is subscribed once it appears in
the graph, with the reliability its publishers offer.
"""

from __future__ import annotations

import importlib

from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy

from aria_nav_ros.core.bag_writer import BagWriter
from aria_nav_ros.ros.qos import IMU_QOS, RESULT_QOS
from aria_nav_ros.ros.spin import run_node

DEFAULT_TOPICS = [
    "/aria/rgb/image_raw", "/aria/rgb/camera_info",
    "/aria/slam_left/image_raw", "/aria/slam_left/camera_info",
    "/aria/slam_right/image_raw", "/aria/slam_right/camera_info",
    "/aria/imu",
]  # fmt: skip


# Best effort like the cameras, but a short queue: a disk write may stall a frame or two.
RECORD_SENSOR_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.BEST_EFFORT)


def message_class(msgtype: str) -> type:
    package, _, name = msgtype.split("/")
    return getattr(importlib.import_module(f"{package}.msg"), name)


class Recorder(Node):
    def __init__(self) -> None:
        super().__init__("recorder")
        self.path = str(self.declare_parameter("path", "").value)
        self.topics = list(self.declare_parameter("topics", DEFAULT_TOPICS).value)
        if not self.path:
            raise ValueError("recorder: parameter 'path' (the bag to write) is required")
        self.bag = BagWriter(self.path)
        self.pending = set(self.topics)
        self.get_logger().info(f"recording {len(self.topics)} topics into {self.path}")
        self.create_timer(0.2, self._subscribe_new_topics)

    def _subscribe_new_topics(self) -> None:
        if not self.pending:
            return
        types = dict(self.get_topic_names_and_types())
        for topic in sorted(self.pending & set(types)):
            msgtype = types[topic][0]
            try:
                self.bag.add_topic(topic, msgtype)
                cls = message_class(msgtype)
            except (KeyError, ImportError, AttributeError) as error:
                self.get_logger().error(f"cannot record {topic}: {error}")
                self.pending.discard(topic)
                continue
            qos = self._qos(topic, msgtype)
            self.create_subscription(cls, topic, lambda data, t=topic: self._write(t, data), qos, raw=True)
            self.pending.discard(topic)
            self.get_logger().info(f"recording {topic} ({msgtype})")

    def _qos(self, topic: str, msgtype: str) -> QoSProfile:
        """Reliable only when every publisher is: a reliable reader ignores best-effort writers."""
        if msgtype == "sensor_msgs/msg/Imu":
            return IMU_QOS  # bursts of small samples: a deeper queue
        publishers = self.get_publishers_info_by_topic(topic)
        reliable = publishers and all(p.qos_profile.reliability == ReliabilityPolicy.RELIABLE for p in publishers)
        return RESULT_QOS if reliable else RECORD_SENSOR_QOS

    def _write(self, topic: str, data: bytes) -> None:
        self.bag.write(topic, self.get_clock().now().nanoseconds, data)

    def destroy_node(self) -> None:
        if hasattr(self, "bag"):
            self.bag.close()
            counts = ", ".join(f"{t} {n}" for t, n in self.bag.counts.items())
            self.get_logger().info(f"wrote {self.path}: {counts or 'nothing'}")
        super().destroy_node()


def main() -> None:
    run_node(Recorder)


if __name__ == "__main__":
    main()
