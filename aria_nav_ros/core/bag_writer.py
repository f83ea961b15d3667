"""Writing serialized messages into a rosbag2 MCAP file, with our types' schemas."""

from __future__ import annotations

from pathlib import Path

from rosbags.rosbag2 import StoragePlugin, Writer

from aria_nav_ros.core.bag_types import typestore


class BagWriter:
    """A rosbag2 (MCAP) file being written: one connection per topic.

    Every message type, this package's included, is written with its full
    definition, so `ros2 bag`, rosbags and mcap-ros2-support can decode it.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.exists():
            raise FileExistsError(f"bag {self.path} exists already: choose a new path")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = Writer(self.path, version=9, storage_plugin=StoragePlugin.MCAP)
        self._writer.open()
        self._connections: dict[str, object] = {}
        self.counts: dict[str, int] = {}

    def add_topic(self, topic: str, msgtype: str) -> None:
        """Add a topic of type `msgtype` ("sensor_msgs/msg/Image"); KeyError for an unknown type."""
        if topic not in self._connections:
            store = typestore()
            if msgtype not in store.fielddefs:
                raise KeyError(f"no definition of {msgtype} for topic {topic}")
            self._connections[topic] = self._writer.add_connection(topic, msgtype, typestore=store)
            self.counts[topic] = 0

    def write(self, topic: str, time_ns: int, data: bytes) -> None:
        self._writer.write(self._connections[topic], time_ns, data)
        self.counts[topic] += 1

    def close(self) -> None:
        self._writer.close()
