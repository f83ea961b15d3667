"""A detector's results drawn for people watching: the annotated image (rgb8 for rqt_image_view, and the same as
JPEG, image_transport's compressed: what the run's bag keeps and a remote viewer takes) and RViz markers.

Built by the worker after a frame's detections are out and timed, and only for the topics someone subscribes
to: drawing, copying a GPU-decoded frame back and encoding JPEG cost nothing while nobody watches. In this
process rather than a node of its own (yolo_ros's debug node): a second process would need every 5.9 MB frame
again (17 ms over shared memory, DESIGN.md) and a second interpreter's memory, to draw what this one has at hand.
"""

from __future__ import annotations

import numpy as np
import torch
from rclpy.lifecycle import LifecycleNode
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from aria_nav_ros.core.annotate import annotate
from aria_nav_ros.core.cameras import annotated_topic, compressed_topic, markers_topic
from aria_nav_ros.core.detection import Detection
from aria_nav_ros.core.perception.engine import gpu_turn
from aria_nav_ros.ros.compressed import compressed_image
from aria_nav_ros.ros.detections import markers
from aria_nav_ros.ros.image import numpy_to_image
from aria_nav_ros.ros.qos import RESULT_QOS, SENSOR_QOS


class Visualisation:
    def __init__(self, node: LifecycleNode, camera: str, jpeg_quality: int) -> None:
        """Lifecycle publishers of `node`: they publish while it is active."""
        self.camera, self.jpeg_quality = camera, jpeg_quality
        publisher = node.create_lifecycle_publisher
        self.image_pub = publisher(Image, annotated_topic(camera), SENSOR_QOS)
        self.jpeg_pub = publisher(CompressedImage, compressed_topic(annotated_topic(camera)), SENSOR_QOS)
        self.markers_pub = publisher(MarkerArray, markers_topic(camera), RESULT_QOS)

    def publish(
        self,
        header: Header,
        pixels: np.ndarray | torch.Tensor,
        detections: list[Detection],
        aliases: dict[str, str],
        eye_height_m: float,
    ) -> None:
        """The frame's drawings, to the topics that have readers now (none: nothing is drawn or built)."""
        to_image = self.image_pub.get_subscription_count() > 0
        to_jpeg = self.jpeg_pub.get_subscription_count() > 0
        if to_image or to_jpeg:
            if isinstance(pixels, torch.Tensor):  # decoded on the GPU: copied back in the process's GPU turn
                with gpu_turn(pixels.device):
                    pixels = pixels.cpu().numpy()
            drawn = annotate(pixels, detections, aliases)
            if to_image:
                self.image_pub.publish(numpy_to_image(drawn, "rgb8", header))
            if to_jpeg:
                self.jpeg_pub.publish(compressed_image(drawn, "rgb8", header, self.jpeg_quality))
        if self.markers_pub.get_subscription_count() > 0:
            self.markers_pub.publish(markers(header, self.camera, detections, eye_height_m))
