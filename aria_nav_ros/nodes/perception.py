"""rgb_perception and slam_detector: YOLO (and, for RGB, depth) on the newest frame of one camera.

Publishes /aria/<camera>/detections (DetectionArray), /aria/<camera>/annotated
(rgb8, for rqt_image_view), /aria/<camera>/markers (RViz, in the head frame), /aria/<camera>/inverse_depth
(32FC1 relative inverse depth, the depth model's resolution) and /diagnostics. Frames are taken
newest-first: one waits at most, older ones are dropped and counted. A
malformed frame or CameraInfo is refused on arrival, counted and logged. Bearings
and distances come from the camera's CameraInfo (its lens model) and its mounting
on /tf_static (core.geometry); a camera without either is said, and counted. A
GPU that runs out of memory makes the engine step down (FallbackEngine); a
worker thread that died is started again. The node itself keeps running.
"""

from __future__ import annotations

import math
import time
import traceback
from dataclasses import replace

import numpy as np
import torch
from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.msg import SetParametersResult
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header
from tf2_msgs.msg import TFMessage
from visualization_msgs.msg import MarkerArray

from aria_nav_ros.core.annotate import annotate
from aria_nav_ros.core.camera_model import CameraModel
from aria_nav_ros.core.cameras import (
    CAMERAS,
    EVENTS_TOPIC,
    NOMINAL_HFOV_DEG,
    RGB,
    TF_STATIC_TOPIC,
    annotated_topic,
    camera_info_topic,
    detections_topic,
    image_topic,
    inverse_depth_topic,
    markers_topic,
    optical_frame,
)
from aria_nav_ros.core.detection import DISTANCE_UNKNOWN
from aria_nav_ros.core.geometry import AHEAD, GeometryConfig, locate, why_no_distance
from aria_nav_ros.core.image import MAX_SIDE, ImageFormatError, ImageLayout, check_frame
from aria_nav_ros.core.mounting import HEAD_FRAME, NOMINAL_ARIA, Mount, mounts_from_transforms
from aria_nav_ros.core.perception.engine import EngineConfig, PerceptionEngine
from aria_nav_ros.core.perception.fallback import GRAPH_CAPTURE_FAILED, FallbackEngine
from aria_nav_ros.core.perception.models import ModelError, load_depth, load_detector
from aria_nav_ros.core.perception.scheduler import NewestFrameWorker
from aria_nav_ros.core.timebase import stamp_ns
from aria_nav_ros.core.trace import TraceLog, now_ns
from aria_nav_ros.msg import DetectionArray, SystemEvent
from aria_nav_ros.ros.camera_info import camera_model_of
from aria_nav_ros.ros.detections import detection_array, markers
from aria_nav_ros.ros.diagnostics import DIAGNOSTICS_TOPIC, ERROR, OK, WARN, diagnostic
from aria_nav_ros.ros.events import system_event
from aria_nav_ros.ros.image import image_to_numpy, numpy_to_image
from aria_nav_ros.ros.qos import EVENTS_QOS, RESULT_QOS, SENSOR_QOS, TF_STATIC_QOS
from aria_nav_ros.ros.refusals import Refusals
from aria_nav_ros.ros.spin import run_node

SETTLE_S = 1.0  # after the readers matched: for them to match this writer back
FAILED_AFTER = 2  # frames failing in a row before the camera is said not working (one bad frame is no loss)

FRAME_ENCODINGS = ("rgb8", "bgr8", "mono8")


class PerceptionNode(Node):
    def __init__(self, name: str, camera: str, with_depth: bool) -> None:
        super().__init__(name)
        p = self.declare_parameter
        classes = tuple(c for c in p("classes", [""]).value if c)  # [""]: all (ROS has no typed empty list)
        self.camera = str(p("camera", camera).value)
        if self.camera not in CAMERAS:
            raise ValueError(f"camera {self.camera!r}: choose one of {', '.join(CAMERAS)}")
        self.config = EngineConfig(
            mode=str(p("mode", "graphs").value),
            half=bool(p("half", True).value),
            imgsz=int(p("imgsz", 640).value),
            depth_size=int(p("depth_size", 518).value),
            depth_every=int(p("depth_every", 1).value),
            conf=float(p("conf", 0.25).value),
            iou=float(p("iou", 0.45).value),
            classes=classes,
            two_streams=bool(p("two_streams", True).value),
        )
        aliases = [a.split(":", 1) for a in p("class_aliases", ["Normal:person", "Fall:person"]).value if ":" in a]
        self.geometry = GeometryConfig(
            eye_height_m=float(p("eye_height_m", 1.6).value),
            pitch_deg=float(p("pitch_deg", 0.0).value),
            class_aliases={k: v for k, v in aliases},
        )
        device = str(p("device", "auto").value)
        threads = int(p("threads", 0).value)  # torch's CPU threads; 0: its default (every core)
        if threads > 0:
            # Three detector processes each using every core fight over them: on a CPU give each its share.
            torch.set_num_threads(threads)
        self.download = bool(p("download_models", False).value)
        self.trace = TraceLog(str(p("trace_dir", "").value), self.get_name())  # per-frame timings (graph benchmark)
        # At most this many detections a second (0: as many as the detector manages): on a machine without
        # a GPU, frames left alone on arrival cost nothing, where a detector that is always busy makes every
        # frame wait for the previous one. 10% slack, so that 7.5 Hz takes every 4th frame of a 30 Hz camera.
        rate = float(p("detect_rate", 0.0).value)
        min_gap_ns = int(0.9e9 / rate) if rate > 0 else 0
        # For fault drills, and only where allowed at start (anyone on the network could set it): "gpu_lost"
        # makes every frame fail as frames do on a GPU that is gone (the CUDA error torch raises); "" ends it.
        # Settable at run time (ros2 param set), like a real loss.
        self.faults_allowed = bool(p("allow_fault_injection", False).value)
        self.injected_fault = ""
        self._inject(str(p("inject_fault", "").value))
        self.add_on_set_parameters_callback(self._on_set_parameters)
        model = str(p("model", "pkg:fall_detection/models/best.pt").value)
        depth_model = str(p("depth_model", "depth-anything/Depth-Anything-V2-Small-hf" if with_depth else "").value)

        self.detections_pub = self.create_publisher(DetectionArray, detections_topic(self.camera), RESULT_QOS)
        self.annotated_pub = self.create_publisher(Image, annotated_topic(self.camera), SENSOR_QOS)
        self.markers_pub = self.create_publisher(MarkerArray, markers_topic(self.camera), RESULT_QOS)
        # Depth Anything's relative inverse depth (larger is nearer, no unit): not a REP 118 depth image (metres),
        # so not named one. Distances in metres are in the detections.
        self.depth_pub = self.create_publisher(Image, inverse_depth_topic(self.camera), SENSOR_QOS)
        self.diagnostics_pub = self.create_publisher(DiagnosticArray, DIAGNOSTICS_TOPIC, RESULT_QOS)
        self.events_pub = self.create_publisher(SystemEvent, EVENTS_TOPIC, EVENTS_QOS)

        self.engine: FallbackEngine | None = None
        self.fallbacks: list[str] = []  # each step down of the engine, by kind (diagnostics)
        self.refusals = Refusals(self.get_logger())
        self.depth_trusted = False
        self.problem = ""  # what keeps the node from working, said in logs and diagnostics
        self.warning = ""
        self._load(model, depth_model, device)
        # Ready (images subscribed: a replay waiting for perception starts) only once the results have a
        # reader: a reliable message published before its reader has matched is lost to that reader.
        self._await_reader(int(p("readers", 1).value), float(p("reader_timeout", 10.0).value))

        self.camera_model: CameraModel | None = None
        self.mounts: dict[str, Mount] = {}  # optical frame -> where it sits on the head (/tf_static)
        self._no_distance_said: set[str] = set()
        self.create_subscription(TFMessage, TF_STATIC_TOPIC, self._on_tf_static, TF_STATIC_QOS)
        self.create_subscription(CameraInfo, camera_info_topic(self.camera), self._on_info, SENSOR_QOS)
        self.create_subscription(Image, image_topic(self.camera), self._on_image, SENSOR_QOS)
        self.stats = {
            "frames": 0, "dropped": 0, "errors": 0, "nominal_intrinsics": 0, "nominal_mounting": 0, "worker_restarts": 0
        }  # fmt: skip
        self._window: list[tuple[float, dict[str, float]]] = []
        self.worker = NewestFrameWorker(
            self._take, self._skip, min_gap_ns, FAILED_AFTER, self._failing, self._recovered, self._frame_failed,
            name=f"{self.get_name()}_worker",
        )  # fmt: skip
        self.create_timer(1.0, self._report)

    def _load(self, model: str, depth_model: str, device_name: str) -> None:
        if device_name == "auto":
            device_name = "cuda" if torch.cuda.is_available() else "cpu"
        device = torch.device(device_name)
        half = self.config.half and device.type == "cuda"
        try:
            detector = load_detector(model, device, half, self.download)
        except ModelError as error:
            self.problem = str(error)
            self.get_logger().error(f"no detection: {error}")
            # Said to the wearer now (navigation: "<camera> not working"), not after the camera's silence.
            detail = f"{self.camera}: no detection: {error}"
            self.events_pub.publish(system_event(self, SystemEvent.CAMERA_FAILED, detail, camera=self.camera))
            return
        depth = None
        if depth_model:
            try:
                depth = load_depth(depth_model, device, half, self.download)
            except ModelError as error:
                self.warning = f"running without depth (geometric distances only): {error}"
                self.get_logger().warning(self.warning)
        if depth is not None and not depth.trained:
            self.warning = f"depth model {depth.source} has random weights: not used for distances"
            self.get_logger().warning(self.warning)
        self.depth_trusted = depth is not None and depth.trained
        self.engine = FallbackEngine(PerceptionEngine(detector, depth, self.config), self._stepped_down)
        self.get_logger().info(
            f"{self.camera}: {model} on {device} ({self.engine.engine.mode}),"
            f" depth: {depth.source if depth else 'none'},"
            f" classes {sorted(set(detector.names.values()))}"
        )

    def _await_reader(self, readers: int, timeout_s: float) -> None:
        """Until `readers` subscribers of the detections have matched (navigation, and the recorder in a graph
        that records), and then SETTLE_S more: matching is two one-way messages, and a reliable result sent
        before the reader has matched this writer back is lost to it."""
        end = time.monotonic() + timeout_s
        while self.detections_pub.get_subscription_count() < readers and time.monotonic() < end:
            time.sleep(0.05)
        if self.detections_pub.get_subscription_count() > 0:
            time.sleep(min(SETTLE_S, max(0.0, end - time.monotonic())))

    def _stepped_down(self, step: str) -> None:
        """The engine stepped down: named as what happened (a graph capture that failed is not memory)."""
        self.fallbacks.append("graph_capture" if step.startswith(GRAPH_CAPTURE_FAILED) else "out_of_memory")
        self.warning = f"{self.camera}: {step}"
        self.get_logger().warning(self.warning)

    def _on_info(self, msg: CameraInfo) -> None:
        k = msg.k
        if not (0 < msg.width <= MAX_SIDE and 0 < msg.height <= MAX_SIDE):
            self.refusals.refuse("camera_info", f"{self.camera}: size {msg.width}x{msg.height}")
        elif not all(math.isfinite(v) for v in (*k, *msg.d)):
            self.refusals.refuse("camera_info", f"{self.camera}: K or D holds NaN or infinity")
        elif not (k[0] > 0 and k[4] > 0 and 0 <= k[2] <= msg.width and 0 <= k[5] <= msg.height):
            self.refusals.refuse(
                "camera_info", f"{self.camera}: fx {k[0]}, fy {k[4]} must be > 0, cx {k[2]}, cy {k[5]} in the image"
            )
        else:
            try:  # the driver publishes every camera upright, with its intrinsics and lens model
                self.camera_model = camera_model_of(msg)
            except ValueError as error:
                self.refusals.refuse("camera_info", f"{self.camera}: {error}")

    def _on_tf_static(self, msg: TFMessage) -> None:
        self.mounts.update(mounts_from_transforms(msg.transforms))

    def _mount(self, frame: str) -> Mount:
        """Where the camera of `frame` looks; without /tf_static for it, Aria Gen 1's nominal mounting, said."""
        mount = self.mounts.get(frame)
        if mount is not None:
            return mount
        self.stats["nominal_mounting"] += 1
        self.get_logger().warning(
            f"{self.camera}: no {TF_STATIC_TOPIC} transform {HEAD_FRAME} -> {frame!r}:"
            " bearings from Aria Gen 1's nominal mounting",
            throttle_duration_sec=5.0,
        )
        return NOMINAL_ARIA.get(optical_frame(self.camera), AHEAD)

    def _on_image(self, msg: Image) -> None:
        received = now_ns()
        try:  # cheap checks of the fields only, so that a broken frame never takes the slot of a good one
            layout = ImageLayout(msg.encoding, msg.height, msg.width, msg.step, bool(msg.is_bigendian))
            check_frame(layout, len(msg.data), FRAME_ENCODINGS)
        except ImageFormatError as error:
            self.refusals.refuse("image", f"{self.camera}: {error}")
            self.trace.write(stamp=stamp_ns(msg.header.stamp), received=received, failed="refused")
            return
        self.worker.offer(msg, received)

    def _skip(self, msg: Image, received: int) -> None:
        """A frame left alone on purpose (detect_rate, or a newer one came first): counted, never queued."""
        self.stats["dropped"] += 1
        self.trace.write(stamp=stamp_ns(msg.header.stamp), received=received, skipped=True)

    def _take(self, msg: Image, received: int) -> None:
        """The worker's frame (in its thread)."""
        if self.engine is None:
            return  # no model: said at start, and in diagnostics every second
        try:
            self._process(msg, received)
        except ImageFormatError as error:  # the frame's fault, not perception's
            self.refusals.refuse("image", f"{self.camera}: {error}")
            self.trace.write(stamp=stamp_ns(msg.header.stamp), received=received, failed="refused")

    def _frame_failed(self, msg: Image, received: int, error: Exception) -> None:
        self.stats["errors"] += 1
        self.trace.write(stamp=stamp_ns(msg.header.stamp), received=received, failed=type(error).__name__)
        self.get_logger().error(
            f"{self.camera}: frame failed: {error!r}\n{''.join(traceback.format_exception(error))}",
            throttle_duration_sec=5.0,
        )

    def _failing(self, error: Exception, count: int) -> None:
        """Frames keep failing (a GPU gone, a driver error): said now, not after the camera's silence runs out;
        navigation says "back" once results flow again."""
        detail = f"{self.camera}: perception failing ({count} frames in a row): {error}"
        self.events_pub.publish(system_event(self, SystemEvent.CAMERA_FAILED, detail, camera=self.camera))

    def _recovered(self) -> None:
        detail = f"{self.camera}: perception works again"
        self.events_pub.publish(system_event(self, SystemEvent.CAMERA_RECOVERED, detail, camera=self.camera))

    def _inject(self, fault: str) -> str:
        """Why `fault` cannot be injected ("" once it is)."""
        if fault and not self.faults_allowed:
            return "inject_fault: fault injection is off (allow_fault_injection:=true at start turns it on)"
        if fault not in ("", "gpu_lost"):
            return f"inject_fault {fault!r}: '' or 'gpu_lost'"
        if fault or self.injected_fault:
            self.get_logger().warning(f"injected fault: {fault or 'none'}")
        self.injected_fault = fault
        return ""

    def _on_set_parameters(self, params: list[Parameter]) -> SetParametersResult:
        for param in params:
            if param.name == "inject_fault":
                refused = self._inject(str(param.value))
                if refused:
                    return SetParametersResult(successful=False, reason=refused)
        return SetParametersResult(successful=True)

    def _process(self, msg: Image, received: int) -> None:
        if self.injected_fault == "gpu_lost":
            raise RuntimeError("CUDA error: unspecified launch failure (injected: inject_fault=gpu_lost)")
        started = now_ns()
        pixels = image_to_numpy(msg)
        if msg.encoding == "bgr8":
            pixels = pixels[:, :, ::-1]
        pixels = np.ascontiguousarray(pixels)
        height, width = pixels.shape[:2]
        camera = self.camera_model
        guessed = camera is None or (camera.width, camera.height) != (width, height)
        if guessed:
            # Distances and bearings then rest on a guess: say so, and count it in the diagnostics.
            self.stats["nominal_intrinsics"] += 1
            self.get_logger().warning(
                f"{self.camera}: no matching CameraInfo on {camera_info_topic(self.camera)}"
                f" (have {camera and (camera.width, camera.height)}, frame {(width, height)}):"
                " bearing from a nominal field of view, no distance",
                throttle_duration_sec=5.0,
            )
            camera = CameraModel.from_fov(width, height, NOMINAL_HFOV_DEG[self.camera])
        want_depth = self.depth_pub.get_subscription_count() > 0
        out = self.engine.process(pixels, want_depth_map=want_depth)
        raw = out.detections
        if not self.depth_trusted:
            raw = [replace(d, inverse_depth=math.nan) for d in raw]
        detections = locate(raw, camera, self.geometry, self._mount(msg.header.frame_id))
        self._say_missing_distances(raw, detections, camera)
        if guessed:  # a distance from guessed intrinsics could raise a false alarm: say none
            detections = [replace(d, distance_m=math.nan, distance_source=DISTANCE_UNKNOWN) for d in detections]
        self.detections_pub.publish(detection_array(msg.header, self.camera, width, height, detections, out.timings_ms))
        self.trace.write(
            stamp=stamp_ns(msg.header.stamp),
            received=received,
            started=started,
            published=now_ns(),
            inference_ms=out.timings_ms["total"],
        )
        self.stats["frames"] += 1
        self._window.append((time.monotonic(), out.timings_ms))
        if self.annotated_pub.get_subscription_count() > 0:
            self.annotated_pub.publish(
                numpy_to_image(annotate(pixels, detections, self.geometry.class_aliases), "rgb8", msg.header)
            )
        if self.markers_pub.get_subscription_count() > 0:
            self.markers_pub.publish(markers(msg.header, self.camera, detections, self.geometry.eye_height_m))
        if out.depth_map is not None:
            header = Header(stamp=msg.header.stamp, frame_id=msg.header.frame_id)
            self.depth_pub.publish(numpy_to_image(out.depth_map.astype(np.float32), "32FC1", header))

    def _say_missing_distances(self, raw: list, detections: list, camera: CameraModel) -> None:
        """A hazard without a distance is told without one ("person, left"): say why in the log, once per reason."""
        for det, located in zip(raw, detections, strict=True):
            if math.isnan(located.distance_m):
                why = why_no_distance(det, camera, self.geometry)
                if why not in self._no_distance_said:
                    self._no_distance_said.add(why)
                    self.get_logger().info(f"{self.camera}: no distance: {why}")

    def _report(self) -> None:
        now = time.monotonic()
        self._window = [(t, ms) for t, ms in self._window if now - t <= 5.0]
        if self.worker.ensure_alive():  # it should never end; if it did, say so and go on
            self.stats["worker_restarts"] = self.worker.restarts
            self.get_logger().error(f"{self.camera}: the perception worker thread had stopped: started again")
        values: dict[str, object] = {**self.stats, **self.refusals.values()}
        values["fps"] = len(self._window) / 5.0
        for stage in self._window[-1][1] if self._window else {}:
            values[f"{stage}_ms"] = float(np.median([ms.get(stage, 0.0) for _, ms in self._window]))
        if self.engine is not None:
            engine = self.engine.engine  # the one in use now (it may have stepped down)
            values["gpu_memory_mb"] = engine.gpu_memory_mb()
            values["mode"] = engine.mode
            values["fallbacks"] = ",".join(self.fallbacks) or "none"
            values["imgsz"] = engine.config.imgsz
            values["device"] = str(engine.device)
        if self.problem:
            level, message = ERROR, self.problem
            self.get_logger().error(f"no detection: {self.problem}", throttle_duration_sec=10.0)
        elif self.warning:
            level, message = WARN, self.warning
        else:
            level, message = OK, "running"
        self.diagnostics_pub.publish(diagnostic(self, level, message, values))

    def destroy_node(self) -> None:
        if hasattr(self, "worker"):  # may be called on a node whose start failed half-way
            self.worker.stop(5.0)
        if hasattr(self, "trace"):
            self.trace.close()
        super().destroy_node()


class RgbPerception(PerceptionNode):
    def __init__(self) -> None:
        super().__init__("rgb_perception", RGB, with_depth=True)


class SlamDetector(PerceptionNode):
    def __init__(self) -> None:
        super().__init__("slam_detector", "slam_left", with_depth=False)


def rgb_main() -> None:
    run_node(RgbPerception)


def slam_main() -> None:
    run_node(SlamDetector)
