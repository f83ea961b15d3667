"""aria_driver: publishes the glasses' camera streams from a frame source."""

from __future__ import annotations

from rclpy.node import Node
from rclpy.time import Time
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from aria_nav_ros.core.cameras import CAMERAS, image_topic, optical_frame
from aria_nav_ros.core.image import ImageFormatError
from aria_nav_ros.core.sources import Frame, ImageFolderSource, SourceError
from aria_nav_ros.ros.image import numpy_to_image
from aria_nav_ros.ros.qos import SENSOR_QOS
from aria_nav_ros.ros.spin import run_node


class AriaDriver(Node):
    def __init__(self) -> None:
        super().__init__("aria_driver")
        self.source_kind = self.declare_parameter("source", "images").value
        self.path = self.declare_parameter("path", "").value
        rate = float(self.declare_parameter("rate", 10.0).value)
        self.loop = bool(self.declare_parameter("loop", False).value)
        cameras = list(self.declare_parameter("cameras", list(CAMERAS)).value)
        self.publishers_ = {
            camera: self.create_publisher(Image, image_topic(camera), SENSOR_QOS) for camera in cameras
        }
        self.rate = rate
        self.source = self._open_source()
        self._frames = self.source.frames() if self.source else iter(())
        self.published = 0
        self._pending: Frame | None = None
        self._due_ns = 0
        self._finished = False
        self.create_timer(1.0 / rate, self._tick)

    def _open_source(self) -> ImageFolderSource | None:
        if self.source_kind != "images":
            self.get_logger().error(f"source {self.source_kind!r} is not available yet (only 'images')")
            return None
        try:
            return ImageFolderSource(self.path, rate_hz=self.rate)
        except SourceError as error:
            self.get_logger().error(str(error))
            return None

    def _tick(self) -> None:
        """Publish every frame whose device time has come, all with one stamp."""
        if self.source is None:
            return
        stamp = self.get_clock().now()
        while True:
            if self._pending is None:
                self._pending = self._next_frame()
                if self._pending is None:
                    return
            if self._pending.device_time_ns > self._due_ns:
                break
            self._publish(self._pending, stamp)
            self._pending = None
        self._due_ns += int(1e9 / self.rate)

    def _next_frame(self) -> Frame | None:
        try:
            return next(self._frames)
        except StopIteration:
            if not self.loop:
                if not self._finished:
                    self._finished = True
                    self.get_logger().info(f"source finished after {self.published} frames")
                return None
            self._frames = self.source.frames()
            return next(self._frames, None)
        except SourceError as error:
            self.get_logger().error(str(error))
            return None

    def _publish(self, frame: Frame, stamp: Time) -> None:
        publisher = self.publishers_.get(frame.camera)
        if publisher is None:
            return
        header = Header(stamp=stamp.to_msg(), frame_id=optical_frame(frame.camera))
        try:
            publisher.publish(numpy_to_image(frame.pixels, frame.encoding, header))
        except ImageFormatError as error:
            self.get_logger().error(f"{frame.camera}: {error}")
            return
        self.published += 1


def main() -> None:
    run_node(AriaDriver)


if __name__ == "__main__":
    main()
