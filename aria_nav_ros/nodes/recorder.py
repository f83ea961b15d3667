"""recorder: writes chosen topics into a rosbag2 MCAP file, as they arrive.

Messages are taken serialized (no decode, no copy into Python objects) and
written with their receive time. Each topic is subscribed once it appears in
the graph, with the reliability its publishers offer.

Disk guard: free space is checked at the start, every second and every
`CHECK_EVERY_BYTES` written. Below `min_free_mb`, or when a write fails (a
full disk, a folder gone read-only), recording stops: the bag is closed
(what it holds stays readable), the reason is logged and told on
/aria_nav/events (navigation says "Recording stopped"), and every other
node of the graph goes on.
"""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

from rclpy.node import Node
from rclpy.qos import QoSProfile, ReliabilityPolicy

from aria_nav_ros.core.bag_writer import BagWriter
from aria_nav_ros.core.cameras import EVENTS_TOPIC, TF_STATIC_TOPIC
from aria_nav_ros.msg import SystemEvent
from aria_nav_ros.ros.events import system_event
from aria_nav_ros.ros.params import Param, declare
from aria_nav_ros.ros.qos import EVENTS_QOS, IMU_QOS, RECORD_SENSOR_QOS, RESULT_QOS, TF_STATIC_QOS
from aria_nav_ros.ros.spin import run_node

CHECK_EVERY_BYTES = 8 * 1024 * 1024

# Everything the driver publishes of the glasses (Aria Gen 2 adds the front pair, the VIO's odometry with its
# odom -> head transforms, the device's hand tracking); a Gen 1 run simply has no such topics.
DEFAULT_TOPICS = [
    "aria/rgb/image_raw", "aria/rgb/camera_info",
    "aria/slam_left/image_raw", "aria/slam_left/camera_info",
    "aria/slam_right/image_raw", "aria/slam_right/camera_info",
    "aria/slam_front_left/image_raw", "aria/slam_front_left/camera_info",
    "aria/slam_front_right/image_raw", "aria/slam_front_right/camera_info",
    "aria/imu", "aria/odometry", "tf", "tf_static", "aria/hands",
]  # fmt: skip


def message_class(msgtype: str) -> type:
    package, _, name = msgtype.split("/")
    return getattr(importlib.import_module(f"{package}.msg"), name)


PARAMETERS = (
    Param("path", "", "the bag folder to write (a new one)"),
    Param("topics", DEFAULT_TOPICS, "the topics to record (relative ones in the recorder's namespace)"),
    Param("min_free_mb", 500.0, "recording stops (and says so) when the disk has less free space (MB)", low=0.0,
          high=1e7),
)  # fmt: skip


class Recorder(Node):
    def __init__(self) -> None:
        super().__init__("recorder")
        v = declare(self, PARAMETERS)
        self.path = str(v["path"])
        # Relative names are in the recorder's namespace; the bag keeps the resolved names.
        self.topics = [self.resolve_topic_name(t) for t in v["topics"]]
        self.min_free_mb = float(v["min_free_mb"])
        if not self.path:
            raise ValueError("recorder: parameter 'path' (the bag to write) is required")
        self.events_pub = self.create_publisher(SystemEvent, EVENTS_TOPIC, EVENTS_QOS)
        self.recording = True
        self._unchecked = 0  # bytes written since the last look at the free space
        self.bag: BagWriter | None = None
        if self._guard_disk():
            return
        self.bag = BagWriter(self.path)
        self.pending = set(self.topics)
        self.get_logger().info(f"recording {len(self.topics)} topics into {self.path}")
        self.create_timer(0.2, self._subscribe_new_topics)
        self.create_timer(1.0, self._guard_disk)

    def _free_mb(self) -> float:
        folder = Path(self.path).parent  # the bag's own folder may not exist yet
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        return shutil.disk_usage(folder).free / 1e6

    def _guard_disk(self) -> bool:
        """Stops recording when free space is below min_free_mb; True when recording is (now) stopped."""
        if not self.recording:
            return True
        self._unchecked = 0
        free = self._free_mb()
        if free < self.min_free_mb:
            self._stop_recording(
                f"{free:.0f} MB free on the disk of {self.path}, under min_free_mb {self.min_free_mb:g}"
            )
        return not self.recording

    def _stop_recording(self, why: str) -> None:
        self.recording = False
        if self.bag is not None:
            try:
                self.bag.close()
            except OSError as error:
                why += f"; closing the bag failed too: {error}"
        self.get_logger().warning(f"recording stopped: {why}; the rest of the graph goes on")
        self.events_pub.publish(system_event(self, SystemEvent.RECORDING_STOPPED, why))

    def _subscribe_new_topics(self) -> None:
        if not self.pending or not self.recording:
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
            self.get_logger().debug(f"recording {topic} ({msgtype})")  # per topic: a debug detail, not a console line
            if not self.pending:
                self.get_logger().info(f"every topic found: recording all {len(self.topics)}")

    def _qos(self, topic: str, msgtype: str) -> QoSProfile:
        """Reliable only when every publisher is: a reliable reader ignores best-effort writers."""
        if msgtype in ("sensor_msgs/msg/Imu", "nav_msgs/msg/Odometry"):
            return IMU_QOS  # bursts of small samples (Gen 2's VIO: 800 Hz): a deeper queue
        if topic == self.resolve_topic_name(TF_STATIC_TOPIC):  # `topic` is resolved, the constant relative
            return TF_STATIC_QOS  # latched: the transforms were published once, before the recorder came
        publishers = self.get_publishers_info_by_topic(topic)
        reliable = publishers and all(p.qos_profile.reliability == ReliabilityPolicy.RELIABLE for p in publishers)
        return RESULT_QOS if reliable else RECORD_SENSOR_QOS

    def _write(self, topic: str, data: bytes) -> None:
        if not self.recording:
            return
        self._unchecked += len(data)
        if self._unchecked >= CHECK_EVERY_BYTES and self._guard_disk():
            return
        try:
            self.bag.write(topic, self.get_clock().now().nanoseconds, data)
        except OSError as error:
            self._stop_recording(f"writing {self.path} failed: {error}")
            return
        if self.bag.counts.get(topic) == 1:  # once per topic: what flows into the bag, as it starts to
            self.get_logger().debug(f"first message on {topic} written")

    def destroy_node(self) -> None:
        if getattr(self, "bag", None) is not None:
            if self.recording:
                self.bag.close()
            counts = ", ".join(f"{t} {n}" for t, n in self.bag.counts.items())
            self.get_logger().info(f"wrote {self.path}: {counts or 'nothing'}")
        super().destroy_node()


def main() -> None:
    run_node(Recorder)


if __name__ == "__main__":
    main()
