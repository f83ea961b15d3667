"""aria_driver: publishes the glasses' streams (images, CameraInfo, IMU) from a frame source.

The source runs in a thread of its own (core.sources.runner); this node only
turns its items into messages. Topics: /aria/<camera>/image_raw and
/aria/<camera>/camera_info for rgb, slam_left, slam_right (and, where the
glasses have them, Aria Gen 2's front pair slam_front_left and
slam_front_right, which no detector reads), /aria/imu, and
/tf_static: where each camera's optical frame and the IMU sit in the head
frame `aria_head` (core.mounting), from the source's calibration or, for
Aria glasses or recordings without one, Aria Gen 1's nominal mounting (said
once, and in diagnostics). Every camera is published upright, and its
CameraInfo states its real lens model (Aria: fisheye624, not rectified).
The device's own motion, where the source has it (Gen 2's on-device VIO):
/aria/odometry (nav_msgs/Odometry: pose in odom, velocity in aria_head) and
odom -> aria_head on /tf, stamped as the frames are; the device's hand
tracking as /aria/hands (geometry_msgs/PoseArray in aria_head: each tracked
hand's wrist and palm, ros.hands), which perception uses to tell the
wearer's own hands from other people: one message per frame of a camera
perception reads, stamped as that frame, with the sample nearest its device
time (a replay stamps with the time of publishing, and decoding a Gen 2 RGB
frame takes 0.1 s here: a sample's own time would not find its frame).
Metric depth from the front pair (core.sources.stereo), where it exists:
/aria/stereo/depth (REP 118) and /aria/stereo/camera_info in the rectified
view's frame aria_stereo_optical, matched in a thread of its own.

For replays that must come out the same every time (regression tests):
`clock:=recorded` stamps with the recording's own times and publishes them
on /clock (nodes then run with use_sim_time), and `lockstep:=true` holds
each image back until the previous one's detections have come out, so no
frame is skipped however slow perception is. `exit_at_end` ends the process
when the recording is over, as `ros2 bag play` does.

Start and end: the source is opened at once. `wait_for` holds a replay's
first frame until every camera topic has a subscriber (`subscribers`, e.g.
a recorder) or a perception node ready (`perception`: one that subscribes
its images and publishes its detections, so its model has loaded), at most
`wait_for_timeout`: then the replay starts and each camera still missing is
said not working.
`exit_on_open_failure` ends the process with EXIT_SOURCE when the source
cannot open (a missing file, no glasses), so that a graph never runs
without it; the launcher learns of both through the pipe in ARIA_NAV_READY_FD.
The end of a replay, or a replay that fails, is told on /aria_nav/events.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

import cv2
import numpy as np
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseArray
from nav_msgs.msg import Odometry
from rclpy.duration import Duration
from rclpy.lifecycle import LifecycleState, TransitionCallbackReturn
from rclpy.publisher import Publisher
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import CameraInfo, CompressedImage, Image, Imu
from std_msgs.msg import Header
from tf2_msgs.msg import TFMessage
from visualization_msgs.msg import Marker, MarkerArray

from aria_nav_ros.core.camera_model import CameraModel
from aria_nav_ros.core.cameras import (
    CAMERAS,
    EVENTS_TOPIC,
    FRONT_CAMERAS,
    HANDS_TOPIC,
    IMU_FRAME,
    IMU_TOPIC,
    NOMINAL_HFOV_DEG,
    ODOMETRY_TOPIC,
    PICTURE_HFOV_DEG,
    RGB,
    STEREO,
    STEREO_DEPTH_TOPIC,
    TF_STATIC_TOPIC,
    TF_TOPIC,
    camera_info_topic,
    compressed_topic,
    detections_topic,
    image_topic,
    optical_frame,
)
from aria_nav_ros.core.hands import MAX_AGE_NS as HANDS_MAX_AGE_NS
from aria_nav_ros.core.hands import Hands, nearest
from aria_nav_ros.core.image import ImageFormatError
from aria_nav_ros.core.jpeg import JpegError
from aria_nav_ros.core.mounting import nominal_mounts
from aria_nav_ros.core.sources import Frame, FrameSource, ImuSample, Item
from aria_nav_ros.core.sources.aria_calibration import nominal_models
from aria_nav_ros.core.sources.aria_live import AriaLiveConfig
from aria_nav_ros.core.sources.factory import MEDIA_KINDS, SourceSettings, open_source, source_cameras
from aria_nav_ros.core.sources.motion import Motion
from aria_nav_ros.core.sources.runner import SourceRunner
from aria_nav_ros.core.sources.stereo import PairedDepth, StereoDepth, rectified_view
from aria_nav_ros.core.timebase import DeviceClock, stamp_ns
from aria_nav_ros.core.trace import StampBatch, TraceLog, now_ns
from aria_nav_ros.graph.protocol import EXIT_SOURCE, FAILED, READY, tell_launcher
from aria_nav_ros.msg import DetectionArray, SystemEvent
from aria_nav_ros.ros import handover
from aria_nav_ros.ros.camera_info import camera_info
from aria_nav_ros.ros.compressed import compressed_image
from aria_nav_ros.ros.diagnostics import DIAGNOSTICS_TOPIC, ERROR, OK, diagnostic
from aria_nav_ros.ros.events import system_event
from aria_nav_ros.ros.frusta import FRUSTA_TOPIC, frustum_marker
from aria_nav_ros.ros.hands import hands_message
from aria_nav_ros.ros.image import numpy_to_image
from aria_nav_ros.ros.lifecycle import ManagedNode
from aria_nav_ros.ros.odometry import motion_messages
from aria_nav_ros.ros.params import Param, declare
from aria_nav_ros.ros.qos import (
    EVENTS_QOS,
    HANDS_QOS,
    IMU_QOS,
    ODOMETRY_QOS,
    RESULT_QOS,
    SENSOR_QOS,
    TF_QOS,
    TF_STATIC_QOS,
)
from aria_nav_ros.ros.spin import run_node
from aria_nav_ros.ros.transforms import tf_message

CLOCKS = ("now", "recorded")
WAIT_FOR = ("none", "subscribers", "perception")  # what a replay waits for before its first frame
WAITING_SAID_EVERY_S = 10.0
# Discovery is two one-way messages: this publisher can have matched a reader before that reader has
# matched it back, and a best-effort frame sent in between is lost to it. Readiness must hold this long.
SETTLE_S = 1.0
NO_MOUNTS: dict = {}  # a source that says nothing of where its cameras sit (one mapping: see _publish_mounts)


PARAMETERS = (
    Param("source", "images", "live, vrs, bag, video or images (one that cannot open is said, naming the file)"),
    Param("path", "", "the recording, bag, video or photo folder"),
    Param("cameras", list(CAMERAS), "the cameras to publish"),
    Param("stand_in_slam", False, "videos and photos: also two stand-in SLAM views, the picture's halves"),
    Param("hfov_deg", PICTURE_HFOV_DEG, "videos and photos: the picture's horizontal field of view (degrees)", low=10.0,
          high=179.0),
    Param("image_fps", 10.0, "photo folders: photos per second of recorded time", low=0.01, high=1000.0),
    Param("rate", 1.0, "recordings: x recorded speed; 0: as fast as they are taken", low=0.0, high=100.0),
    Param("loop", False, "recordings: start over at the end"),
    Param("rgb_scale", 1.0, "resize the RGB image (its CameraInfo follows)", low=0.05, high=1.0),
    Param("interface", "usb", "live glasses: usb or wifi", choices=("usb", "wifi")),
    Param("ip", "", "live glasses over Wi-Fi: their address"),
    Param("serial", "", "live glasses: which ones (empty: the first)"),
    Param("profile", "profile18", "live glasses: the streaming profile (profile18: 10 Hz, profile28: 30 Hz)"),
    Param("wait_for", "none", "replays: hold the first frame until every camera has a subscriber, or a ready "
          "perception node", choices=WAIT_FOR),
    Param("wait_for_timeout", 240.0, "replays: after this long (s) the replay starts without the cameras still "
          "missing, and each is said not working (perception compiles its models at configure: about a minute on a "
          "machine's first start with a GPU, longer on a small one)", low=1.0, high=3600.0),
    Param("clock", "now", "stamps: now (ROS time) or recorded (the recording's, published on /clock)",
          choices=CLOCKS),
    Param("lockstep", False, "hold each image until its detections are out (deterministic replays)"),
    Param("lockstep_timeout", 30.0, "lockstep: give up waiting after this long (s), saying so", low=0.1,
          high=3600.0),
    Param("exit_at_end", False, "end the process when a replay is over"),
    Param("exit_on_open_failure", False, "end the process (code 3) when the source cannot open"),
    Param("transport", "raw", "camera images as raw image_raw, JPEG image_raw/compressed (image_transport's "
          "compressed: for a link that cannot carry raw frames), or both", choices=("raw", "compressed", "both")),
    Param("jpeg_quality", 80, "JPEG quality of image_raw/compressed", low=1, high=100),
    Param("trace_dir", "", "per-frame timings into this folder (graph benchmark); empty: none"),
    Param("autostart", True, "configure (open the source) and activate (publish) at start"),
)  # fmt: skip


class AriaDriver(ManagedNode):
    def __init__(self, source_factory: Callable[[], FrameSource] | None = None) -> None:
        super().__init__("aria_driver")
        v = declare(self, PARAMETERS)
        kind = str(v["source"])
        # A video or photos is one camera: two stand-in SLAM views (the picture's halves) only when asked for.
        cameras = source_cameras(kind, tuple(v["cameras"]), bool(v["stand_in_slam"]))
        self.settings = SourceSettings(
            kind=kind,
            path=str(v["path"]),
            speed=float(v["rate"]),
            loop=bool(v["loop"]),
            cameras=cameras,
            image_fps=float(v["image_fps"]),
            hfov_deg=float(v["hfov_deg"]),
            live=AriaLiveConfig(
                interface=str(v["interface"]),
                ip=str(v["ip"]),
                serial=str(v["serial"]),
                profile=str(v["profile"]),
                cameras=cameras,
            ),
        )
        self.rgb_scale = float(v["rgb_scale"])
        self.trace = TraceLog(str(v["trace_dir"]), "aria_driver")  # per-frame timings (graph benchmark)
        self.imu_stamps = StampBatch(self.trace, "imu_published")
        if self.trace.enabled:
            self.create_timer(1.0, self.imu_stamps.flush)
        live = self.settings.kind == "live"
        self.clock_map = DeviceClock(live=live)
        self.recorded_clock = self._choose_clock(str(v["clock"]), live)
        self.clock_pub = self.create_publisher(Clock, "/clock", RESULT_QOS) if self.recorded_clock else None
        self._clock_ns = -1  # the newest time published on /clock
        self.finished = threading.Event()  # set when the process should end (exit_at_end, a source that failed)
        self.exit_code = 0
        self.exit_at_end = bool(v["exit_at_end"])
        self.exit_on_open_failure = bool(v["exit_on_open_failure"])
        self.lockstep = bool(v["lockstep"])
        self.lockstep_timeout = float(v["lockstep_timeout"])
        self._results: dict[str, int] = {}  # camera -> stamp of its newest detections (lockstep)
        self._result_seen = threading.Condition()
        if self.lockstep:
            for camera in self.settings.cameras:
                self.create_subscription(
                    DetectionArray, detections_topic(camera), lambda m, c=camera: self._on_result(c, m), RESULT_QOS
                )
        self.transport, self.jpeg_quality = str(v["transport"]), int(v["jpeg_quality"])
        self.image_pubs: dict[str, Publisher] = {}
        self.info_pubs: dict[str, Publisher] = {}
        self.compressed_pubs: dict[str, Publisher] = {}
        self.handed: list[str] = []  # handed over as objects to a perception node composed into this process too
        self.published: dict[str, int] = {}
        for camera in cameras:
            self._add_camera(camera)
        self.imu_pub = self.create_publisher(Imu, IMU_TOPIC, IMU_QOS)
        self.events_pub = self.create_publisher(SystemEvent, EVENTS_TOPIC, EVENTS_QOS)
        # What only some glasses have (Aria Gen 2) is published from the source's first item of it, so that other
        # sources advertise no topic they never fill: the front pair (waited for by nothing: no detector reads it,
        # settings.cameras stays the cameras perception reads), the front pair's metric depth (matched in a thread
        # of its own, newest pair first), and the device's own motion (the VIO: the head in odom, its velocity,
        # odom -> head on tf).
        self.front = () if kind in MEDIA_KINDS else tuple(c for c in FRONT_CAMERAS if c not in cameras)
        self.motion_pubs: tuple[Publisher, Publisher] | None = None
        self.motions_published = 0
        self.hands_pub: Publisher | None = None  # the device's hand tracking (Gen 2)
        self.hands_published = 0
        self.hand_samples: deque[Hands] = deque(maxlen=8)  # the newest samples, by device time
        self.awaiting_hands: dict[str, tuple[int, Header]] = {}  # camera -> its newest frame no sample was near yet
        self.depth_pubs: tuple[Publisher, Publisher] | None = None
        self.paired_depth: PairedDepth | None = None
        self.depths_published = 0
        self.intrinsics: dict[str, str] = {}  # camera -> "calibration" or what nominal intrinsics it got
        self.tf_pub = self.create_publisher(TFMessage, TF_STATIC_TOPIC, TF_STATIC_QOS)
        self.frusta_pub = self.create_publisher(MarkerArray, FRUSTA_TOPIC, TF_STATIC_QOS)  # for RViz, latched
        self._frusta: dict[str, Marker] = {}
        self._models: dict[str, CameraModel] = {}
        self.mounting = ""  # where the published mounts come from: "calibration", "nominal ..."
        self._source_mounts: object = None  # the source's mapping /tf_static was last made from
        self.diagnostics_pub = self.create_publisher(DiagnosticArray, DIAGNOSTICS_TOPIC, RESULT_QOS)
        self.create_timer(1.0, self._report)
        self.wait_for = str(v["wait_for"])
        self.wait_for_timeout = float(v["wait_for_timeout"])
        if live:
            self.wait_for = "none"  # glasses do not wait: their frames are now or never
        self._source_factory = source_factory or (lambda: open_source(self.settings))
        self.runner: SourceRunner | None = None  # while configured
        self.active = False
        self.inactive_dropped = 0  # items the source delivered while the node was inactive
        self.create_timer(0.1, self._watch_source)
        if v["autostart"] and self.trigger_configure() == TransitionCallbackReturn.SUCCESS:
            self.trigger_activate()

    # --- lifecycle: configure opens the source, activate publishes, deactivate stops publishing (a replay
    # --- keeps its pace; what it plays meanwhile is dropped and counted), cleanup closes the source.

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.runner = SourceRunner(
            self._source_factory,
            self._on_item,
            self._log,
            reconnect=self.settings.kind == "live",
            give_up_at_start=self.exit_on_open_failure,
            hold=self.wait_for != "none",
        )
        self.get_logger().info(f"source {self.settings.kind} {self.settings.path}".rstrip())
        self._end_told = False
        self._waiting_since = time.monotonic()
        self._ready_since: float | None = None  # when every camera was first found ready (see SETTLE_S)
        self._waiting_said = 0.0
        self._waiting_told = False  # navigation knows the replay is held (SOURCE_WAITING)
        self.runner.start()
        # The launcher starts the rest of the graph on this line: from a thread of its own, so that nodes composed
        # into this process after the driver (rgb_perception loading its models: driver_with_rgb) do not hold it.
        threading.Thread(target=self._tell_when_open, args=(self.runner,), name="ready_line", daemon=True).start()
        return TransitionCallbackReturn.SUCCESS

    def _tell_when_open(self, runner: SourceRunner) -> None:
        while not runner.opened.wait(0.05):
            if runner.ended.is_set():  # it could not open: _source_ended says why (and exits) from the timer
                return
        tell_launcher(READY)

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.active = True
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.active = False
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_source()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.active = False
        self._stop_source()
        return TransitionCallbackReturn.SUCCESS

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.get_logger().error(f"a transition failed from {state.label}: source closed, unconfigured")
        return self.on_shutdown(state)

    def _stop_source(self) -> None:
        runner = self.runner
        if runner is None:
            return
        runner.stop_event.set()
        with self._result_seen:  # a lockstep wait for detections that will not come ends now
            self._result_seen.notify_all()
        if runner.started and not runner.stop(5.0):
            self.get_logger().warning("the frame source did not stop within 5 s")
        if self.paired_depth is not None:
            self.paired_depth.stop()
            self.paired_depth = None
        # Only now: until its thread has ended, the runner still hands over frames, which read its source.
        self.runner = None

    def _choose_clock(self, clock: str, live: bool) -> bool:
        if clock not in CLOCKS:
            raise ValueError(f"clock {clock!r}: choose one of {', '.join(CLOCKS)}")
        if clock == "recorded" and live:
            raise ValueError("clock:=recorded needs a recording; live glasses are stamped in ROS time")
        return clock == "recorded"

    def _on_result(self, camera: str, msg: DetectionArray) -> None:
        with self._result_seen:
            self._results[camera] = stamp_ns(msg.header.stamp)
            self._result_seen.notify_all()

    def _await_result(self, camera: str, stamp: int) -> None:
        """Lockstep: wait until the detections of this image are out (or give up, saying so)."""
        runner = self.runner
        stop = runner.stop_event if runner is not None else threading.Event()
        with self._result_seen:
            came = self._result_seen.wait_for(
                lambda: self._results.get(camera, -1) >= stamp or stop.is_set(), self.lockstep_timeout
            )
        if not came:
            self.get_logger().error(
                f"lockstep: no detections for the {camera} image stamped {stamp} within "
                f"{self.lockstep_timeout:g} s; going on"
            )

    def _not_ready(self) -> list[str]:
        """Cameras whose images nobody (`wait_for:=subscribers`) or no ready perception node would take."""

        def nodes(endpoints: list) -> set[tuple[str, str]]:
            return {(e.node_namespace, e.node_name) for e in endpoints}

        missing = []
        for camera in self.settings.cameras:
            jpeg = self.transport == "compressed"
            topic = compressed_topic(image_topic(camera)) if jpeg else image_topic(camera)
            publisher = (self.compressed_pubs if jpeg else self.image_pubs)[camera]
            local = handover.takers(publisher.topic_name)  # composed here: they read without DDS
            readers = nodes(self.get_subscriptions_info_by_topic(topic)) | local
            if self.wait_for == "perception":  # a perception node publishes the detections of what it reads
                readers &= nodes(self.get_publishers_info_by_topic(detections_topic(camera)))
            if not readers or (publisher.get_subscription_count() == 0 and not local):  # matched by this side too
                missing.append(camera)
        return missing

    def _watch_source(self) -> None:
        runner = self.runner
        if runner is None:
            return  # not configured
        if runner.opened.is_set():
            self._publish_mounts()
        if not runner.released.is_set() and runner.opened.is_set():
            if not self._waiting_told:  # the held replay's silence (models loading) is no fault to say
                self._waiting_told = True
                self.events_pub.publish(system_event(self, SystemEvent.SOURCE_WAITING, f"waiting for {self.wait_for}"))
            missing = self._not_ready()
            now = time.monotonic()
            if missing:
                self._ready_since = None
            elif self._ready_since is None:
                self._ready_since = now
            elif now - self._ready_since >= SETTLE_S:
                self.get_logger().info(f"{self.wait_for} ready for every camera: starting the replay")
                runner.release()
            waited = now - self._waiting_since
            if missing and waited >= self.wait_for_timeout:
                self._give_up_waiting(runner, missing)
            elif missing and now - self._waiting_said >= WAITING_SAID_EVERY_S:
                self._waiting_said = now
                self.get_logger().info(f"waiting for {self.wait_for} on {', '.join(missing)} ({waited:.0f} s so far)")
        if runner.ended.is_set() and not self._end_told:
            self._end_told = True
            self._source_ended(runner.failure, opened=runner.opened.is_set())

    def _give_up_waiting(self, runner: SourceRunner, missing: list[str]) -> None:
        """A perception node that never became ready must not hold the replay for ever, nor silently: the replay
        starts, and each camera still missing is told as not working (said "back" once its results come)."""
        why = f"no {self.wait_for} took its images within wait_for_timeout {self.wait_for_timeout:g} s"
        self.get_logger().error(f"{', '.join(missing)}: {why}; starting the replay without them")
        for camera in missing:
            self.events_pub.publish(system_event(self, SystemEvent.CAMERA_FAILED, why, camera=camera))
        runner.release()

    def _publish_mounts(self) -> None:
        """/tf_static, again whenever the source's mounts change (live glasses send their calibration late)."""
        try:
            known = self.runner.source.mounts() if self.runner.source is not None else NO_MOUNTS
        except Exception as error:  # an unreadable calibration or /tf_static in a recording: nominal, said below
            known = NO_MOUNTS
            self.get_logger().error(f"where the cameras sit cannot be read: {error!r}", once=True)
        if known is self._source_mounts:
            return  # unchanged: a source hands out the same mapping until it learns more
        self._source_mounts = known
        if getattr(self.runner.source, "hand_tracking", False):
            # Advertised before the replay starts (as the cameras are): a publisher made at its first message
            # loses that message to readers that have not matched it yet (the first frame's hands, the bag's).
            self._hands_publisher()
        roles = getattr(self.runner.source, "roles", "")
        if roles:
            self.get_logger().info(f"camera roles, from the calibration's extrinsics: {roles}")
        frames = [*map(optical_frame, (*self.settings.cameras, *self.front)), IMU_FRAME]
        mounts = {f: known[f] for f in frames if f in known}
        front = [known.get(optical_frame(c)) for c in FRONT_CAMERAS]
        if self.front and None not in front:  # the pair's depth image, in its rectified view
            mounts[optical_frame(STEREO)] = rectified_view(*front)[0]
        # Media say where their one camera looks (ahead) and have no IMU; glasses and their recordings fall back
        # on the nominal mounting of Aria Gen 1.
        nominal = {} if self.settings.kind in MEDIA_KINDS else nominal_mounts(self.settings.cameras)
        missing = [f for f in frames if f not in mounts and f in nominal]
        mounts.update({f: nominal[f] for f in missing})
        if missing:
            problem = getattr(self.runner.source, "calibration_problem", "")
            self.mounting = f"nominal Aria Gen 1 for {', '.join(missing)}"
            say = self.get_logger().error if problem else self.get_logger().warning
            say(f"{self.mounting}: {problem or 'the source does not say where its cameras look'}")
        else:
            self.mounting = "source"
        self.tf_pub.publish(tf_message(mounts, self.get_clock().now().to_msg()))

    def _source_ended(self, failure: str, opened: bool) -> None:
        if failure and not opened:  # the runner has logged why
            tell_launcher(f"{FAILED}{failure}")
            if self.exit_on_open_failure:
                self._finish(EXIT_SOURCE)
            return
        kind = SystemEvent.SOURCE_FAILED if failure else SystemEvent.SOURCE_ENDED
        detail = failure or f"{self.runner.source.name} is over"
        # When it happened: on the recorded clock, the last time published (a replay then ends the same every time).
        stamp = self._clock_ns if self.recorded_clock else None
        self.events_pub.publish(system_event(self, kind, detail, stamp_ns=stamp))
        if self.exit_at_end:
            # Said before leaving: navigation must hear that this is an end, not a fault.
            self.events_pub.wait_for_all_acked(Duration(seconds=2.0))
            self.get_logger().info("the source has ended: exiting (exit_at_end)")
            self._finish(EXIT_SOURCE if failure else 0)

    def _finish(self, code: int) -> None:
        self.exit_code = code
        self.finished.set()

    def _log(self, level: str, message: str) -> None:
        # One call per severity: rclpy refuses two severities from one call site.
        logger = self.get_logger()
        if level == "error":
            logger.error(message)
        elif level == "warning":
            logger.warning(message)
        else:
            logger.info(message)

    def _stamp(self, stream: str, device_ns: int) -> int:
        if not self.recorded_clock:
            return self.clock_map.stamp(stream, device_ns, self.get_clock().now().nanoseconds)
        if device_ns > self._clock_ns:
            self._clock_ns = device_ns
            msg = Clock()
            msg.clock.sec, msg.clock.nanosec = divmod(device_ns, 1_000_000_000)
            self.clock_pub.publish(msg)
        return device_ns

    def _on_item(self, item: Item) -> None:
        if not self.active:
            self.inactive_dropped += 1
            return
        if isinstance(item, ImuSample):
            self._publish_imu(item)
        elif isinstance(item, Motion):
            self._publish_motion(item)
        elif isinstance(item, Hands):
            self._on_hands(item)
        elif item.camera in self.published or (item.camera in self.front and self._added(item.camera)):
            self._publish_frame(item)

    def _add_camera(self, camera: str) -> None:
        if self.transport != "compressed":  # with JPEG only, no raw image topic exists at all
            self.image_pubs[camera] = self.create_publisher(Image, image_topic(camera), SENSOR_QOS)
        self.info_pubs[camera] = self.create_publisher(CameraInfo, camera_info_topic(camera), SENSOR_QOS)
        if self.transport != "raw":
            topic = compressed_topic(image_topic(camera))
            self.compressed_pubs[camera] = self.create_publisher(CompressedImage, topic, SENSOR_QOS)
        for publisher in (self.image_pubs.get(camera), self.info_pubs[camera]):
            if publisher is not None:
                self.handed.append(publisher.topic_name)
                handover.provide(publisher.topic_name)
        self.published[camera] = 0
        if all(c in self.published for c in FRONT_CAMERAS):
            self.depth_pubs = (
                self.create_publisher(Image, STEREO_DEPTH_TOPIC, SENSOR_QOS),
                self.create_publisher(CameraInfo, camera_info_topic(STEREO), SENSOR_QOS),
            )

    def _publish_frame(self, frame: Frame) -> None:
        pixels = frame.pixels
        if frame.camera == RGB and self.rgb_scale != 1.0:
            pixels = cv2.resize(pixels, None, fx=self.rgb_scale, fy=self.rgb_scale, interpolation=cv2.INTER_AREA)
        stamp = self._stamp(frame.camera, frame.device_time_ns)
        header = Header(frame_id=optical_frame(frame.camera))
        header.stamp.sec, header.stamp.nanosec = divmod(stamp, 1_000_000_000)
        try:
            image = numpy_to_image(pixels, frame.encoding, header)
        except ImageFormatError as error:
            self.get_logger().error(f"{frame.camera}: frame not published: {error}", throttle_duration_sec=5.0)
            return
        # The frame leaves the driver now: the trace's `published`, where its transport starts (CameraInfo, the
        # frustum marker, the hand-over and serializing included).
        out = now_ns()
        # CameraInfo first: a consumer then has the intrinsics when the image arrives.
        model = self._camera_model(frame.camera, image)
        info = self.info_pubs[frame.camera]
        message = camera_info(model, header)
        handover.hand(info.topic_name, message, self._taker_failed)
        info.publish(message)
        self._publish_frustum(frame.camera, model)
        if frame.camera in CAMERAS:
            self._hands_for(frame, header)
        if self.transport != "compressed":
            publisher = self.image_pubs[frame.camera]
            handover.hand(publisher.topic_name, image, self._taker_failed)  # a composed perception node first
            publisher.publish(image)
        if self.transport != "raw":  # JPEG, for a link that cannot carry raw frames (image_transport's compressed)
            try:
                compressed = compressed_image(pixels, frame.encoding, header, self.jpeg_quality)
            except JpegError as error:
                self.get_logger().error(f"{frame.camera}: not compressed: {error}", throttle_duration_sec=5.0)
            else:
                self.compressed_pubs[frame.camera].publish(compressed)
        self.published[frame.camera] += 1
        self.trace.write(camera=frame.camera, stamp=stamp, published=out)
        if self.depth_pubs is not None and frame.camera in FRONT_CAMERAS:
            self._pair(frame, stamp)
        if self.lockstep:
            self._await_result(frame.camera, stamp)

    def _added(self, camera: str) -> bool:
        """A camera only some glasses have, published from its first frame on (False, said once, if it cannot
        be: an SROS2 policy that does not name its topics)."""
        try:
            self._add_camera(camera)
        except Exception as error:
            self.front = tuple(c for c in self.front if c != camera)
            self.get_logger().error(f"{camera}: not published: {error!r}")
            return False
        return True

    def _pair(self, frame: Frame, stamp: int) -> None:
        source = self.runner.source if self.runner is not None else None
        if source is None:
            return
        if self.paired_depth is None:
            self.paired_depth = PairedDepth(self._publish_depth)
        self.paired_depth.frame(frame.camera, frame.device_time_ns, stamp, frame.pixels, source.calibration(),
                                source.mounts())  # fmt: skip

    def _publish_depth(self, depth: np.ndarray, stamp: int, view: StereoDepth) -> None:
        header = Header(frame_id=optical_frame(STEREO))
        header.stamp.sec, header.stamp.nanosec = divmod(stamp, 1_000_000_000)
        depth_pub, info_pub = self.depth_pubs
        info_pub.publish(camera_info(view.model, header))
        depth_pub.publish(numpy_to_image(depth, "32FC1", header))
        self.depths_published += 1

    def _taker_failed(self, node: tuple[str, str], error: Exception) -> None:
        """A node composed here failed on a frame handed over: its fault, said; the source goes on."""
        name = node[0].rstrip("/") + "/" + node[1]
        self.get_logger().error(f"{name} failed on a frame handed over: {error!r}", throttle_duration_sec=5.0)

    def _publish_frustum(self, camera: str, model: CameraModel) -> None:
        """The camera's field of view for RViz, once per camera (again if its model changes)."""
        if self._models.get(camera) == model:
            return
        self._models[camera] = model
        self._frusta[camera] = frustum_marker(camera, model, self.get_clock().now().to_msg())
        self.frusta_pub.publish(MarkerArray(markers=list(self._frusta.values())))

    def _camera_model(self, camera: str, image: Image) -> CameraModel:
        """The source's calibration scaled to the published size, else a nominal one (said once per camera):
        Aria Gen 1's lens for glasses and their recordings, a pinhole of the camera's nominal field otherwise."""
        runner = self.runner  # None once stopped (a frame of a source that outlived its stop)
        source = runner.source if runner is not None else None
        known = source.calibration().get(camera) if source is not None else None
        if known is not None:
            self.intrinsics[camera] = "calibration"
            return known.scaled(image.width / known.width)
        lens = None if self.settings.kind in MEDIA_KINDS else nominal_models().get(camera)
        if lens is not None and lens.width * image.height == lens.height * image.width:
            model, how = lens.scaled(image.width / lens.width), "nominal Aria Gen 1 lens"
        else:
            hfov = NOMINAL_HFOV_DEG[camera]
            model, how = CameraModel.from_fov(image.width, image.height, hfov), f"nominal ({hfov:g} degrees across)"
        if camera not in self.intrinsics:
            self.intrinsics[camera] = how
            problem = getattr(source, "calibration_problem", "")
            say = self.get_logger().error if problem else self.get_logger().info
            say(f"{camera}: {problem or 'the source has no calibration'}; {how}")
        return model

    def _report(self) -> None:
        """/diagnostics once a second: ERROR when a calibration the source should have cannot be read."""
        problem = getattr(self.runner and self.runner.source, "calibration_problem", "")
        values: dict[str, object] = {f"{c}_published": n for c, n in self.published.items()}
        values["inactive_dropped"] = self.inactive_dropped
        values.update({f"{c}_intrinsics": how for c, how in self.intrinsics.items()})
        values["mounting"] = self.mounting
        if self.motion_pubs is not None:
            values["odometry_published"] = self.motions_published
        if self.hands_pub is not None:
            values["hands_published"] = self.hands_published
        if self.depth_pubs is not None:
            values["stereo_depth_published"] = self.depths_published
        self.diagnostics_pub.publish(diagnostic(self, ERROR if problem else OK, problem or "running", values))

    def _publish_imu(self, sample: ImuSample) -> None:
        stamp = self._stamp("imu", sample.device_time_ns)
        msg = Imu()
        msg.header.frame_id = IMU_FRAME
        msg.header.stamp.sec, msg.header.stamp.nanosec = divmod(stamp, 1_000_000_000)
        msg.orientation_covariance[0] = -1.0  # no orientation estimate
        msg.linear_acceleration.x, msg.linear_acceleration.y, msg.linear_acceleration.z = sample.accel
        msg.angular_velocity.x, msg.angular_velocity.y, msg.angular_velocity.z = sample.gyro
        self.imu_pub.publish(msg)
        self.imu_stamps.add(stamp)

    def _publish_motion(self, motion: Motion) -> None:
        stamp = self._stamp("odometry", motion.device_time_ns)
        header = Header()
        header.stamp.sec, header.stamp.nanosec = divmod(stamp, 1_000_000_000)
        odometry, transform = motion_messages(motion, header.stamp)
        if self.motion_pubs is None:
            self.motion_pubs = (
                self.create_publisher(Odometry, ODOMETRY_TOPIC, ODOMETRY_QOS),
                self.create_publisher(TFMessage, TF_TOPIC, TF_QOS),
            )
        for publisher, message in zip(self.motion_pubs, (odometry, transform), strict=True):
            publisher.publish(message)
        self.motions_published += 1

    def _on_hands(self, hands: Hands) -> None:
        """A hand-tracking sample: sent for the frames that waited for one near their time."""
        self._hands_publisher()  # live glasses: from the first sample (before the frames it will be sent with)
        self.hand_samples.append(hands)
        for camera, (device_ns, header) in list(self.awaiting_hands.items()):
            if abs(hands.device_time_ns - device_ns) <= HANDS_MAX_AGE_NS:
                self._publish_hands(hands, header)
            if hands.device_time_ns - device_ns >= -HANDS_MAX_AGE_NS:  # sent, or no sample will be near it now
                del self.awaiting_hands[camera]

    def _hands_for(self, frame: Frame, header: Header) -> None:
        """The hands at a frame's time, stamped as the frame (before its image: perception finds them with it)."""
        sample = nearest(self.hand_samples, frame.device_time_ns)
        if sample is not None:
            self._publish_hands(sample, header)
        else:  # the sample near its time may come just after it
            self.awaiting_hands[frame.camera] = (frame.device_time_ns, header)

    def _hands_publisher(self) -> Publisher:
        if self.hands_pub is None:
            self.hands_pub = self.create_publisher(PoseArray, HANDS_TOPIC, HANDS_QOS)
        return self.hands_pub

    def _publish_hands(self, hands: Hands, header: Header) -> None:
        self._hands_publisher().publish(hands_message(hands, header.stamp))
        self.hands_published += 1

    def destroy_node(self) -> None:
        if hasattr(self, "runner"):
            self._stop_source()
        for topic in getattr(self, "handed", []):
            handover.withdraw(topic)
        if hasattr(self, "trace"):
            self.imu_stamps.flush()
            self.trace.close()
        super().destroy_node()


def main() -> None:
    run_node(AriaDriver)


if __name__ == "__main__":
    main()
