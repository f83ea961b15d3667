"""Frames from a rosbag2 file (MCAP or sqlite3), as the driver recorded them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rosbags.rosbag2 import Reader

from aria_nav_ros.core.bag_types import typestore
from aria_nav_ros.core.camera_model import CameraModel, from_camera_info
from aria_nav_ros.core.cameras import CAMERAS, IMU_TOPIC, TF_STATIC_TOPIC, camera_info_topic, image_topic, in_bag
from aria_nav_ros.core.image import ImageFormatError, ImageLayout, to_array
from aria_nav_ros.core.mounting import Mount, mounts_from_transforms
from aria_nav_ros.core.sources.base import Frame, ImuSample, Item, SourceError
from aria_nav_ros.core.sources.recording import Recording
from aria_nav_ros.core.timebase import stamp_ns


class BagSource(Recording):
    def __init__(
        self, path: str | Path, speed: float = 1.0, loop: bool = False, cameras: tuple[str, ...] = CAMERAS
    ) -> None:
        super().__init__(f"bag {path}", speed, loop)
        self.path = Path(path)
        if not self.path.exists():
            raise SourceError(f"bag {self.path} does not exist")
        with self._reader() as reader:
            topics = set(reader.topics)
        # The bag's own names for them: a graph recorded in a namespace has /<namespace>/aria/...
        self.image_topics = in_bag(topics, {image_topic(c): c for c in cameras})
        self.info_topics = in_bag(topics, {camera_info_topic(c): c for c in cameras})
        self.imu_topics = set(in_bag(topics, {IMU_TOPIC: True}))
        if not self.image_topics:
            found = sorted(topics) or "no topics"
            wanted = sorted(image_topic(c) for c in cameras)
            raise SourceError(f"bag {self.path} holds none of {wanted} in any namespace (it has {found})")
        self._calibration: dict[str, CameraModel] | None = None
        self._mounts: dict[str, Mount] | None = None

    @contextmanager
    def _reader(self) -> Iterator[Reader]:
        try:
            reader = Reader(self.path)
            reader.open()
        except Exception as error:  # rosbags raises several types for unreadable files
            raise SourceError(f"bag {self.path} cannot be read: {error}") from error
        try:
            yield reader
        finally:
            reader.close()

    def calibration(self) -> dict[str, CameraModel]:
        """The first CameraInfo recorded for each camera."""
        if self._calibration is None:
            self._calibration = {}
            with self._reader() as reader:
                connections = [c for c in reader.connections if c.topic in self.info_topics]
                for connection, _, raw in reader.messages(connections=connections) if connections else ():
                    camera = self.info_topics[connection.topic]
                    if camera not in self._calibration:
                        info = typestore().deserialize_cdr(raw, connection.msgtype)
                        try:
                            self._calibration[camera] = from_camera_info(
                                info.width, info.height, info.k, info.distortion_model, info.d
                            )
                        except ValueError as error:
                            raise SourceError(f"bag {self.path}: {connection.topic}: {error}") from error
                    if len(self._calibration) == len(self.info_topics):
                        break
        return self._calibration

    def mounts(self) -> dict[str, Mount]:
        """The head-frame transforms recorded on /tf_static ({} for a bag without them)."""
        if self._mounts is None:
            self._mounts = {}
            with self._reader() as reader:
                tf_topics = in_bag(reader.topics, {TF_STATIC_TOPIC: True})
                connections = [c for c in reader.connections if c.topic in tf_topics]
                # (no connections at all would read every message: rosbags takes an empty list as "all")
                for connection, _, raw in reader.messages(connections=connections) if connections else ():
                    msg = typestore().deserialize_cdr(raw, connection.msgtype)
                    self._mounts.update(mounts_from_transforms(msg.transforms))
        return self._mounts

    def items(self) -> Iterator[Item]:
        store = typestore()
        with self._reader() as reader:
            wanted = set(self.image_topics) | self.imu_topics
            connections = [c for c in reader.connections if c.topic in wanted]
            try:
                for connection, _, raw in reader.messages(connections=connections):
                    msg = store.deserialize_cdr(raw, connection.msgtype)
                    t_ns = stamp_ns(msg.header.stamp)
                    if connection.topic in self.imu_topics:
                        a, w = msg.linear_acceleration, msg.angular_velocity
                        yield ImuSample(t_ns, (a.x, a.y, a.z), (w.x, w.y, w.z))
                        continue
                    layout = ImageLayout(msg.encoding, msg.height, msg.width, msg.step, bool(msg.is_bigendian))
                    pixels = to_array(layout, msg.data)  # a view of this message's own buffer: no copy needed
                    yield Frame(self.image_topics[connection.topic], pixels, msg.encoding, t_ns)
            except ImageFormatError as error:
                raise SourceError(f"bag {self.path}: {connection.topic}: {error}") from error
            except SourceError:
                raise
            except Exception as error:
                raise SourceError(f"bag {self.path} is corrupt: {error}") from error
