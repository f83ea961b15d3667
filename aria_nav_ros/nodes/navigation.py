"""navigation: fuses the three cameras' detections into cues, publishes them and speaks them.

Subscribes /aria/<camera>/detections for rgb, slam_left, slam_right,
/aria/imu, /aria/odometry (Aria Gen 2's VIO: walking is then judged by the
wearer's measured speed, the IMU's step rule where none comes; see
core.navigation.motion), /aria/<camera>/camera_info (only to know that frames still
arrive, and at which pace) and /aria_nav/events (the end of a replay, a
recording stopped: said as they are, not as faults); publishes
/navigation/cues (NavigationCue) and /diagnostics. Sound goes to the sound
device when one exists, else to a WAV file (`audio_sink`: auto, device, wav
or none), with a warning; it is made and played off the ROS callbacks.
Input no detector would make (unknown fields, NaN, stamps far from this
node's clock) is refused, counted and logged, never used.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray
from nav_msgs.msg import Odometry
from rclpy.lifecycle import LifecycleState, TransitionCallbackReturn
from sensor_msgs.msg import CameraInfo, Imu

from aria_nav_ros.core.cameras import (
    CAMERAS,
    CUES_TOPIC,
    EVENTS_TOPIC,
    IMU_TOPIC,
    ODOMETRY_TOPIC,
    camera_info_topic,
    detections_topic,
)
from aria_nav_ros.core.detection import detection_problem
from aria_nav_ros.core.mounting import HEAD_FRAME
from aria_nav_ros.core.navigation.audio import AudioPlayer, DeviceSink, Sink, WavSink
from aria_nav_ros.core.navigation.config import TIERS, NavigationConfig, comments, config_path, described
from aria_nav_ros.core.navigation.motion import level_velocity
from aria_nav_ros.core.navigation.phrases import LANGUAGES
from aria_nav_ros.core.navigation.policy import Cue, NavigationPolicy
from aria_nav_ros.core.timebase import stamp_ns
from aria_nav_ros.core.trace import StampBatch, TraceLog, now_ns
from aria_nav_ros.msg import DetectionArray, NavigationCue, SystemEvent
from aria_nav_ros.ros.detections import detection_from_msg
from aria_nav_ros.ros.diagnostics import DIAGNOSTICS_TOPIC, OK, WARN, diagnostic
from aria_nav_ros.ros.imu import ImuReading, imu_reading
from aria_nav_ros.ros.lifecycle import ManagedNode
from aria_nav_ros.ros.params import Live, Param, declare
from aria_nav_ros.ros.qos import EVENTS_QOS, IMU_QOS, ODOMETRY_QOS, RESULT_QOS, SENSOR_QOS
from aria_nav_ros.ros.refusals import Refusals
from aria_nav_ros.ros.spin import run_node

SINKS = ("auto", "device", "wav", "none")
MAX_DETECTIONS = 256  # per image; the detectors keep at most 100
MAX_CLOCK_GAP_S = 60.0  # a stamp further than this from the node's clock is broken, not late
MAX_ACCEL = 1000.0  # m/s^2 (100 g): beyond, the IMU sample is broken
MAX_SPEED = 20.0  # m/s: a wearer's head faster than this is a broken odometry sample
EVENTS = {  # SystemEvent -> what the policy says
    SystemEvent.SOURCE_ENDED: "recording_ended",
    SystemEvent.SOURCE_FAILED: "source_failed",
    SystemEvent.RECORDING_STOPPED: "recording_stopped",
    SystemEvent.CAMERA_FAILED: "camera_failed",
    SystemEvent.CAMERA_RECOVERED: "camera_recovered",
    SystemEvent.SOURCE_WAITING: "source_waiting",
}


def _seconds(stamp: Time | ImuReading) -> float:
    return stamp_ns(stamp) / 1e9


PARAMETERS = (
    Param("language", "en", "en (\"Person ahead, two meters\") or es (\"Persona delante, a dos metros\")", live=True,
          choices=LANGUAGES),
    Param("volume", 1.0, "loudness of speech and earcons (1: as rendered; earcons still fall with distance)",
          live=True, low=0.0, high=1.0),
    Param("audio_sink", "auto", "device (PortAudio), wav, none; auto: the sound device if there is one, else the WAV "
          "file (with a warning; a device that fails later hands over to the WAV file)", choices=SINKS),
    Param("wav_path", "outputs/navigation.wav", "where the WAV sink writes"),
    Param("cues_log", "", "a JSON-lines file of every cue; empty: none (one that cannot be written is said once, "
          "WARN in diagnostics; every cue is still published and spoken)"),
    Param("config", "", "the cue rules file, whose settings are this node's parameters below (empty: "
          "config/navigation.yaml)"),
    Param("cameras", list(CAMERAS), "the cameras whose detections are read"),
    Param("trace_dir", "", "per-result timings into this folder (graph benchmark); empty: none"),
    Param("autostart", True, "configure and activate at start (false: wait for lifecycle transitions)"),
)  # fmt: skip


# Cue rules the policy reads at each use: a change holds from the next cue. The others shape what the policy builds
# at its start (tracks, liveness, motion, sound): read-only, a restart.
LIVE_RULES = ("class_priority", "default_priority", "announce_unlisted_classes", "hazard_aliases", "tiers",
              "time_to_contact", "hysteresis_m", "zones", "side_weight", "cooldown", "say_recording_ended")  # fmt: skip


def rule_parameters(path: str = "") -> tuple[Param, ...]:
    """The cue rules file's settings as parameters (`cooldown.per_object`): its values are their defaults, its
    comments their descriptions."""
    file = config_path(path or None)
    notes = comments(file.read_text())
    return tuple(
        Param(
            name,
            value,
            described(name, notes) or "a cue rule (docs/cue_rules.md)",
            live=name.split(".")[0] in LIVE_RULES,
        )
        for name, value in NavigationConfig.load(file).flat().items()
    )


RULES = rule_parameters()  # the package's file: docs/parameters.md's table


class Navigation(ManagedNode):
    def __init__(self) -> None:
        super().__init__("navigation")
        v = declare(self, PARAMETERS)
        language, sink_kind, wav_path = str(v["language"]), str(v["audio_sink"]), str(v["wav_path"])
        self.cues_log = str(v["cues_log"])  # a JSON-lines file of every cue, when set
        self.cue_log_problem = ""  # why the cue log cannot be written now ("" while it can)
        self.cue_log_failures = 0
        cameras = list(v["cameras"])
        self.trace = TraceLog(str(v["trace_dir"]), "navigation")  # per-result timings (graph benchmark)
        self.imu_stamps = StampBatch(self.trace, "imu_received")
        # The cue rules are this node's parameters (defaults: the rules file); the policy's config is made of them.
        rules = rule_parameters(str(v["config"]))
        self.config = NavigationConfig.from_flat(declare(self, rules))
        self.policy = NavigationPolicy(self.config, language)
        self.cameras = cameras
        self.started = False  # the policy's clock starts at the first tick with a time (sim time may lag)
        self.refusals = Refusals(self.get_logger())
        self._imu_clock = (-math.inf, 0.0)  # (monotonic s, the node's clock then): see _imu_now
        self.cue_count = 0
        self.cue_pub = self.create_lifecycle_publisher(NavigationCue, CUES_TOPIC, RESULT_QOS)
        self.diagnostics_pub = self.create_publisher(DiagnosticArray, DIAGNOSTICS_TOPIC, RESULT_QOS)
        self.sound = (sink_kind, wav_path)
        self.volume = float(v["volume"])  # kept here too: a change while unconfigured holds for the next sound
        self.player: AudioPlayer | None = None
        self.sink_name = "none (not configured)"
        self.inputs: list = []  # subscriptions and the decision timer, while active
        self.rule_names = {p.name for p in rules}
        Live(self, [*PARAMETERS, *rules], self._change, self._check_rules)
        self.create_timer(1.0, self._report)
        if self.trace.enabled:
            self.create_timer(1.0, self.imu_stamps.flush)
        if v["autostart"] and self.trigger_configure() == TransitionCallbackReturn.SUCCESS:
            self.trigger_activate()

    # --- lifecycle -------------------------------------------------------------------------------------

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.player = self._player(*self.sound, self.policy.language)
        if self.player is not None:
            self.player.volume = self.volume
        self.get_logger().info(
            f"navigation: language {self.policy.language}, cameras {self.cameras}, sound: {self.sink_name}"
        )
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        for camera in self.cameras:
            self.inputs.append(self.create_subscription(
                DetectionArray, detections_topic(camera), lambda msg, c=camera: self._on_detections(c, msg),
                RESULT_QOS,
            ))  # fmt: skip
            self.inputs.append(self.create_subscription(  # raw: only its arrival counts, nothing to convert
                CameraInfo, camera_info_topic(camera), lambda _, c=camera: self.policy.on_frame(self._now(), c),
                SENSOR_QOS, raw=True,
            ))  # fmt: skip
        self.inputs.append(self.create_subscription(Imu, IMU_TOPIC, self._on_imu, IMU_QOS, raw=True))
        self.inputs.append(self.create_subscription(Odometry, ODOMETRY_TOPIC, self._on_odometry, ODOMETRY_QOS))
        self.inputs.append(self.create_subscription(SystemEvent, EVENTS_TOPIC, self._on_event, EVENTS_QOS))
        self.inputs.append(self.create_timer(0.1, self._tick))
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        stopped = self._stopping_cue()
        if self.player is not None:
            self.player.say(stopped)
        self._stop_inputs()
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._close_player()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_inputs()
        self._close_player(say_stopped=True)
        return TransitionCallbackReturn.SUCCESS

    def on_error(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.get_logger().error(f"navigation: a transition failed from {state.label}: sound closed, unconfigured")
        return self.on_shutdown(state)

    def _stop_inputs(self) -> None:
        for entity in self.inputs:
            if hasattr(entity, "cancel"):
                self.destroy_timer(entity)
            else:
                self.destroy_subscription(entity)
        self.inputs = []

    def _stopping_cue(self) -> Cue:
        """ "Navigation stopped": the wearer must know the aid is off, not wonder why it went quiet (logged; not a
        cue of the run's log)."""
        last = self.policy.stopping(self._now())
        self.get_logger().info(f"[cue {TIERS[last.urgency]}] {last.text}")
        return last

    def _close_player(self, say_stopped: bool = False) -> None:
        if self.player is None:
            return
        self.player.close(last=self._stopping_cue() if say_stopped else None)
        self.player, self.sink_name = None, "none (not configured)"

    def _check_rules(self, changes: dict[str, object]) -> str:
        """The cue rules among `changes`, all at once, as the config they would make: why it is refused, or ""."""
        rules = {name: value for name, value in changes.items() if name in self.rule_names}
        if not rules:
            return ""
        try:
            NavigationConfig.from_flat({**self.config.flat(), **rules})
        except ValueError as error:
            return str(error)
        return ""

    def _change(self, name: str, value: object) -> str:
        """A live parameter changed (ros2 param set): in effect from the next cue."""
        if name in self.rule_names:
            return self._rule_change(name, value)
        if name == "language":
            self.policy.language = str(value)
            if self.player is not None:
                self.player.language = str(value)
        elif name == "volume":
            self.volume = float(value)
            if self.player is not None:
                self.player.volume = self.volume
        self.get_logger().info(f"{name} is now {value!r}")
        return ""

    def _rule_change(self, name: str, value: object) -> str:
        """A live cue rule changed: the policy reads it from the next cue."""
        try:
            config = NavigationConfig.from_flat({**self.config.flat(), name: value})
        except ValueError as error:
            return str(error)
        self.config = self.policy.config = config
        self.get_logger().info(f"{name} is now {value!r}")
        return ""

    def _player(self, kind: str, wav_path: str, language: str) -> AudioPlayer | None:
        settings = self.config["earcon"]
        if kind == "none":
            self.sink_name = "none"
            return None
        rate = int(settings["sample_rate"])

        def wav() -> Sink:
            self.sink_name = f"WAV file {wav_path}"
            return WavSink(wav_path, rate)

        sink: Sink | None = None
        if kind in ("auto", "device") and DeviceSink.available():
            try:
                sink = DeviceSink(rate)
                self.sink_name = "sound device"
            except Exception as error:  # listed, but it cannot be opened (busy, gone): the WAV file takes over
                self.get_logger().error(
                    f"the sound device cannot be opened ({error}): speech and earcons go to {wav_path}"
                )
                sink = wav()
        if sink is None:
            if kind != "wav":
                self.get_logger().warning(f"no sound device: speech and earcons go to {wav_path}")
            sink = wav()
        # A sound device that fails later (unplugged headphones) hands over to the WAV file.
        fallback = wav if isinstance(sink, DeviceSink) else None
        return AudioPlayer(sink, language, settings, on_error=lambda m: self.get_logger().error(m), fallback=fallback)

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds / 1e9

    def _imu_now(self) -> float:
        """The node's clock for the IMU's stamp check, read at most every 10 ms: a stamp is judged against it with
        a minute's tolerance, and reading rclpy's clock was a third of each of the 1000 samples' a second."""
        read_at, now = self._imu_clock
        if (monotonic := time.monotonic()) - read_at > 0.01:
            self._imu_clock = (monotonic, now := self._now())
        return now

    # Detections and IMU count at their stamps (when the image was taken, when the
    # glasses moved), not at their arrival: speeds and times to contact then come
    # from the camera's own spacing, and a replay gives the same cues every time.
    # The timer (cameras lost) runs on the node's clock.
    def _on_detections(self, camera: str, msg: DetectionArray) -> None:
        received = now_ns()
        now = self._now()
        problem = self._stamp_problem(msg.header.stamp, now)
        if msg.camera != camera:
            problem = f"camera {msg.camera[:32]!r} on the topic of {camera}"
        elif len(msg.detections) > MAX_DETECTIONS:
            problem = f"{len(msg.detections)} detections (at most {MAX_DETECTIONS})"
        if problem:
            self.refusals.refuse("detections", f"{camera}: {problem}")
            return
        detections = []
        for d in map(detection_from_msg, msg.detections):
            problem = detection_problem(d)
            if problem:
                self.refusals.refuse("detection", f"{camera}: {problem}")  # the others in the image still count
            else:
                detections.append(d)
        cues = self.policy.on_detections(_seconds(msg.header.stamp), camera, detections, now)
        self._emit(cues, msg)
        self.trace.write(camera=camera, stamp=stamp_ns(msg.header.stamp), received=received, done=now_ns(),
                         cues=len(cues))  # fmt: skip

    def _on_imu(self, raw: bytes) -> None:
        """A serialized sensor_msgs/Imu: only its stamp and acceleration are read (ros/imu.py says why)."""
        try:
            imu = imu_reading(raw)
        except Exception as error:  # bytes that are no Imu (rclpy's words)
            self.refusals.refuse("imu", f"unreadable: {error}")
            return
        a = imu.acceleration
        problem = self._stamp_problem(imu, self._imu_now())
        if not problem and not all(abs(v) <= MAX_ACCEL for v in a):  # also refuses NaN
            problem = f"acceleration ({a[0]}, {a[1]}, {a[2]}) m/s^2"
        if problem:
            self.refusals.refuse("imu", problem)
            return
        self.imu_stamps.add(stamp_ns(imu))
        self.policy.on_imu(_seconds(imu), a)

    def _on_odometry(self, msg: Odometry) -> None:
        """The wearer's measured velocity (nav_msgs/Odometry: twist in child_frame_id, pose in a z-up odom)."""
        problem = self._stamp_problem(msg.header.stamp, self._now())
        q, v = msg.pose.pose.orientation, msg.twist.twist.linear
        norm = math.sqrt(q.x * q.x + q.y * q.y + q.z * q.z + q.w * q.w)
        if not problem and msg.child_frame_id.lstrip("/") != HEAD_FRAME:
            problem = f"twist in {msg.child_frame_id[:64]!r}, not the head frame {HEAD_FRAME!r}"
        elif not problem and not abs(norm - 1.0) < 0.01:  # also refuses NaN
            problem = f"orientation ({q.x}, {q.y}, {q.z}, {q.w}) is not a unit quaternion"
        elif not problem and not math.hypot(v.x, v.y, v.z) <= MAX_SPEED:
            problem = f"velocity ({v.x}, {v.y}, {v.z}) m/s"
        if problem:
            self.refusals.refuse("odometry", problem)
            return
        forward, left = level_velocity((q.x, q.y, q.z, q.w), (v.x, v.y, v.z))
        self.policy.motion.add_velocity(_seconds(msg.header.stamp), forward, left)

    def _on_event(self, msg: SystemEvent) -> None:
        event = EVENTS.get(msg.event)
        if event is None:
            self.refusals.refuse("event", f"unknown event {msg.event} from {msg.node[:32]!r}")
            return
        self.get_logger().info(f"{msg.node[:64]}: {msg.detail[:300]}")
        # Said at when it happened (on a recorded clock: the same every replay), if that time is sane; a node
        # on another clock (or a broken stamp) would place it minutes away: then now.
        now = self._now()
        when = now if self._stamp_problem(msg.header.stamp, now) else _seconds(msg.header.stamp)
        camera = msg.camera if msg.camera in self.cameras else ""
        if event in ("camera_failed", "camera_recovered"):
            if not camera:
                self.refusals.refuse("event", f"{event} for an unknown camera {msg.camera[:32]!r}")
                return
            when = now  # held on arrival: a latched failure replayed with its recovery cancels out
        self._emit(self.policy.on_event(when, event, camera), msg)

    @staticmethod
    def _stamp_problem(stamp: Time | ImuReading, now: float) -> str:
        if stamp.nanosec >= 1_000_000_000:
            return f"stamp nanosec {stamp.nanosec} >= 1e9"
        gap = _seconds(stamp) - now
        if now > 0 and abs(gap) > MAX_CLOCK_GAP_S:  # now == 0: sim time not yet received, nothing to judge by
            return f"stamp {gap:+.3g} s from this node's clock"
        return ""

    def _tick(self) -> None:
        now = self._now()
        if not self.started:
            if now <= 0:
                return
            self.policy.start(now, self.cameras)
            self.started = True
        self._emit(self.policy.tick(now), None)

    def _report(self) -> None:
        values: dict[str, object] = {"cues": self.cue_count, "sound": self.sink_name, **self.refusals.values()}
        state = "paused: " + self.policy.cause if self.policy.system and self.policy.system.lost else "running"
        if not self.policy.ready:
            state = "waiting for the first result"
        level = OK if state == "running" else WARN
        values["cue_log_failures"] = self.cue_log_failures
        motion = self.policy.motion  # walking or standing, and from what: the measured speed or the step rule
        values["walking"], values["walking_from"] = motion.walking, motion.source
        values["speed_mps"] = round(motion.speed, 3) if motion.speed is not None else "not measured"
        # The silence each stream is allowed now (it follows the stream's pace): the fault drill reads these.
        if self.policy.system is not None:
            values["watchdog_timeout_s"] = self.policy.system.timeout
        for camera, live in self.policy.cameras.items():
            values[f"{camera}_timeout_s"] = live.timeout
        if self.cue_log_problem:  # the wearer still hears every cue; whoever reads the log must know
            level, state = WARN, f"{state}; cue log not written: {self.cue_log_problem}"
        self.diagnostics_pub.publish(diagnostic(self, level, state, values))

    def _emit(self, cues: list[Cue], source: DetectionArray | SystemEvent | None) -> None:
        for cue in cues:
            msg = NavigationCue(
                kind=cue.kind,
                urgency=cue.urgency,
                class_name=cue.class_name,
                distance_m=float(cue.distance_m),
                bearing_deg=float(cue.bearing_deg),
                zone=cue.zone,
                cameras=list(cue.cameras),
                track_id=cue.track_id,
                text=cue.text,
            )
            if source is not None:
                msg.header.stamp = source.header.stamp  # the image the cue is based on
            else:
                msg.header.stamp = self.get_clock().now().to_msg()
            msg.header.frame_id = "aria_head"
            self.cue_pub.publish(msg)
            self.cue_count += 1
            level = TIERS[cue.urgency]
            self.get_logger().info(f"[cue {level}] {cue.text}")
            if self.player is not None:
                self.player.say(cue)
            if self.cues_log:  # after the sound: a log that fails must cost the wearer nothing
                self._log_cue(cue, level)

    def _log_cue(self, cue: Cue, level: str) -> None:
        line = {
            "time": cue.time,
            "urgency": level,
            "class": cue.class_name,
            "distance_m": None if math.isnan(cue.distance_m) else round(cue.distance_m, 2),
            "bearing_deg": round(cue.bearing_deg, 1),
            "cameras": list(cue.cameras),
            "text": cue.text,
        }
        path = Path(self.cues_log)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a") as f:
                f.write(json.dumps(line, ensure_ascii=False) + "\n")
        except OSError as error:  # a full disk, a read-only folder: said once, then counted
            self.cue_log_failures += 1
            if not self.cue_log_problem:
                self.get_logger().error(f"cannot write the cue log {path}: {error}; cues still spoken and published")
            self.cue_log_problem = str(error)
            return
        if self.cue_log_problem:
            self.get_logger().info(f"the cue log {path} is written again ({self.cue_log_failures} cues missing)")
            self.cue_log_problem = ""

    def destroy_node(self) -> None:
        if getattr(self, "player", None) is not None:
            # The wearer must know the aid is off, not wonder why it went quiet (not a cue of the run's log).
            self._close_player(say_stopped=True)
        if hasattr(self, "trace"):
            self.imu_stamps.flush()
            self.trace.close()
        super().destroy_node()


def main() -> None:
    run_node(Navigation)


if __name__ == "__main__":
    main()
