"""What a detector node takes in: frames (raw over DDS, handed over by a driver in this process, or JPEG), and
what places its boxes (CameraInfo, /tf_static, the wearer's hands; for the RGB camera, Gen 2's stereo depth). Each
is refused on arrival when malformed, counted and logged (Refusals), so that a broken message never takes the slot
of a good one."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch
from geometry_msgs.msg import PoseArray
from rclpy.lifecycle import LifecycleNode
from rclpy.publisher import Publisher
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from tf2_msgs.msg import TFMessage

from aria_nav_ros.core.cameras import (
    HANDS_TOPIC,
    RGB,
    STEREO,
    STEREO_DEPTH_TOPIC,
    TF_STATIC_TOPIC,
    camera_info_topic,
    compressed_topic,
    image_topic,
)
from aria_nav_ros.core.hands import Hands
from aria_nav_ros.core.image import ImageFormatError, ImageLayout, check_frame
from aria_nav_ros.core.jpeg import JpegError
from aria_nav_ros.core.mounting import mounts_from_transforms
from aria_nav_ros.core.perception.engine import gpu_turn
from aria_nav_ros.core.perception.placement import Placement, hands_problem, intrinsics_problem, stereo_depth_problem
from aria_nav_ros.core.perception.stereo_range import StereoFrame
from aria_nav_ros.core.timebase import stamp_ns
from aria_nav_ros.core.trace import TraceLog, now_ns
from aria_nav_ros.ros import handover
from aria_nav_ros.ros.camera_info import camera_model_of
from aria_nav_ros.ros.compressed import pixels_of
from aria_nav_ros.ros.hands import points_of
from aria_nav_ros.ros.image import image_to_numpy
from aria_nav_ros.ros.qos import HANDS_QOS, SENSOR_QOS, TF_STATIC_QOS
from aria_nav_ros.ros.refusals import Refusals

FRAME_ENCODINGS = ("rgb8", "bgr8", "mono8")
Frame = Image | CompressedImage
Pixels = np.ndarray | torch.Tensor


def await_readers(publisher: Publisher, readers: int, timeout_s: float, settle_s: float) -> None:
    """Until `readers` subscribers of `publisher` have matched (or `timeout_s`), then `settle_s` more: matching is
    two one-way messages, and a reliable message sent before its reader has matched this writer back is lost."""
    end = time.monotonic() + timeout_s
    while publisher.get_subscription_count() < readers and time.monotonic() < end:
        time.sleep(0.05)
    if publisher.get_subscription_count() > 0:
        time.sleep(min(settle_s, max(0.0, end - time.monotonic())))


class PlacementFeed:
    """CameraInfo (over DDS, or handed over with the images: FrameInput), /tf_static and the hands, checked, into
    a Placement."""

    def __init__(self, node: LifecycleNode, camera: str, placement: Placement, refusals: Refusals) -> None:
        self.camera, self.placement, self.refusals = camera, placement, refusals
        node.create_subscription(TFMessage, TF_STATIC_TOPIC, self._on_tf_static, TF_STATIC_QOS)
        node.create_subscription(PoseArray, HANDS_TOPIC, self._on_hands, HANDS_QOS)
        # A driver composed into this process (driver_with_rgb) hands CameraInfo over with the images, while active
        # (ros/handover.py); else it comes over DDS.
        if not handover.provided(node.resolve_topic_name(camera_info_topic(camera))):
            node.create_subscription(CameraInfo, camera_info_topic(camera), self.on_info, SENSOR_QOS)
        if camera == RGB:  # Gen 2's front pair sees most of the RGB view (only Gen 2 drivers publish these)
            node.create_subscription(CameraInfo, camera_info_topic(STEREO), self._on_stereo_info, SENSOR_QOS)
            node.create_subscription(Image, STEREO_DEPTH_TOPIC, self._on_stereo_depth, SENSOR_QOS)

    def on_info(self, msg: CameraInfo) -> None:
        refused = intrinsics_problem(msg.k, msg.d, msg.width, msg.height)
        if not refused:
            try:  # the driver publishes every camera upright, with its intrinsics and lens model
                self.placement.model = camera_model_of(msg)
                return
            except ValueError as error:
                refused = str(error)
        self.refusals.refuse("camera_info", f"{self.camera}: {refused}")

    def _on_stereo_info(self, msg: CameraInfo) -> None:
        refused = intrinsics_problem(msg.k, msg.d, msg.width, msg.height)
        if not refused:
            try:
                self.placement.stereo_model = camera_model_of(msg)
                return
            except ValueError as error:
                refused = str(error)
        self.refusals.refuse("stereo_camera_info", refused)

    def _on_stereo_depth(self, msg: Image) -> None:
        view = self.placement.stereo_model
        if view is None:  # its camera_info comes with each image (best effort: either may come first, or be lost)
            return
        refused = stereo_depth_problem(msg.encoding, msg.width, msg.height, view)
        if not refused:
            try:  # copied: kept beyond the message's life
                depth = image_to_numpy(msg, copy=True)
            except ImageFormatError as error:
                refused = str(error)
        if refused:
            self.refusals.refuse("stereo_depth", refused)
            return
        frame = StereoFrame(stamp_ns(msg.header.stamp), depth, view, msg.header.frame_id)
        self.placement.stereo.append(frame)

    def _on_hands(self, msg: PoseArray) -> None:
        points = points_of(msg)
        refused = hands_problem(msg.header.frame_id, points)
        if refused:
            self.refusals.refuse("hands", refused)
        else:
            self.placement.hands.append(Hands(stamp_ns(msg.header.stamp), points))

    def _on_tf_static(self, msg: TFMessage) -> None:
        self.placement.mounts.update(mounts_from_transforms(msg.transforms))


class FrameInput:
    """A detector's frames, offered to its worker while active: raw images (handed over by a driver composed into
    this process, with its CameraInfo, else over DDS) or JPEG (compressed_input: a link that cannot carry raw
    frames). The worker decodes them (decoding is work, and only the newest frame is worth it)."""

    def __init__(
        self,
        node: LifecycleNode,
        camera: str,
        compressed: bool,
        offer: Callable[[Frame, int], None],
        on_info: Callable[[CameraInfo], None],
        refusals: Refusals,
        trace: TraceLog,
        warn: Callable[[str, str], None],
    ) -> None:
        """`warn(warning, more)`: a GPU that fails to decode (the warning stays in diagnostics; `more` is for the
        log only)."""
        self.node, self.camera, self.compressed = node, camera, compressed
        self.offer, self.on_info, self.refusals, self.trace, self.warn = offer, on_info, refusals, trace, warn
        self.gpu_decode = True  # JPEG frames on the models' GPU until it fails once (then on the CPU)
        self.images: object = None  # the subscription or hand-over taker, while active
        self.info_taker: handover.Taker | None = None

    def start(self) -> None:
        node = self.node
        if self.compressed:
            topic = compressed_topic(image_topic(self.camera))
            self.images = node.create_subscription(CompressedImage, topic, self._on_jpeg, SENSOR_QOS)
            return
        topic, me = node.resolve_topic_name(image_topic(self.camera)), (node.get_namespace(), node.get_name())
        self.images = handover.take(topic, me, self._on_image)
        if self.images is None:
            self.images = node.create_subscription(Image, topic, self._on_image, SENSOR_QOS)
        else:
            self.info_taker = handover.take(node.resolve_topic_name(camera_info_topic(self.camera)), me, self.on_info)
            node.get_logger().info(f"{self.camera}: images handed over by the driver in this process")

    def stop(self) -> None:
        if isinstance(self.images, handover.Taker):  # and its CameraInfo, taken with it
            self.images.close()
            self.info_taker.close()
            self.info_taker = None
        elif self.images is not None:
            self.node.destroy_subscription(self.images)
        self.images = None

    def pixels(self, msg: Frame, device: torch.device) -> Pixels:
        """The frame's pixels, RGB or mono, contiguous; ImageFormatError for bytes that are no image (the frame's
        fault: refused, not a failure)."""
        if isinstance(msg, CompressedImage):
            try:
                pixels, encoding = self._decode(msg, device)
            except JpegError as error:
                raise ImageFormatError(str(error)) from error
        else:
            pixels, encoding = image_to_numpy(msg), msg.encoding
        if encoding == "bgr8":
            pixels = pixels[:, :, ::-1]
        return np.ascontiguousarray(pixels) if isinstance(pixels, np.ndarray) else pixels

    def _on_image(self, msg: Image) -> None:
        received = now_ns()
        try:  # cheap checks of the fields only
            layout = ImageLayout(msg.encoding, msg.height, msg.width, msg.step, bool(msg.is_bigendian))
            check_frame(layout, len(msg.data), FRAME_ENCODINGS)
        except ImageFormatError as error:
            self.refuse(msg, received, error)
            return
        self.offer(msg, received)

    def _on_jpeg(self, msg: CompressedImage) -> None:
        if "jpeg" not in msg.format and "jpg" not in msg.format:
            self.refusals.refuse("image", f"{self.camera}: compressed format {msg.format!r}: JPEG only")
            return
        self.offer(msg, now_ns())

    def refuse(self, msg: Frame, received: int, error: ImageFormatError) -> None:
        """A frame that is no image: counted, logged and traced, never a failure of perception."""
        self.refusals.refuse("image", f"{self.camera}: {error}")
        self.trace.write(stamp=stamp_ns(msg.header.stamp), received=received, failed="refused")

    def _decode(self, msg: CompressedImage, device: torch.device) -> tuple[Pixels, str]:
        """On the models' GPU where they run on one (nvJPEG: the frame then lies where the engine uses it), else on
        the CPU. A GPU that fails on good bytes (out of memory, no nvJPEG) is said once, and the CPU decodes from
        then on; bytes that are no JPEG raise JpegError."""
        if device.type == "cuda" and self.gpu_decode:
            try:
                with gpu_turn(device):  # not while another engine of this process captures its CUDA graph
                    return pixels_of(msg, device)
            except RuntimeError as error:
                self.gpu_decode = False
                said = (str(error).strip().splitlines() or [""])[0][:200]
                self.warn(
                    f"{self.camera}: JPEG decoding on {device} failed ({type(error).__name__}: {said})",
                    ": decoding on the CPU from now on",
                )
        return pixels_of(msg)
