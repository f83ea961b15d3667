"""Deciding what to say, and when: urgency tiers, habituation, fairness, cooldowns, camera health.

Hazards. Only hazard classes are said (those in `class_priority`; a model's
other classes, such as the person checkpoint's "Fall", are not obstacles).
A track's tier comes from its distance (per class) or its time to contact
(counted only within the class's `range_m`: far away, a detector's jitter
looks like speed). A tier is entered at its threshold and left only beyond
threshold + hysteresis. A rise to a higher tier is said at once; an object
that changed (another zone, nearer, the wearer started to walk) after its
per-object cooldown; one unchanged only after a growing interval
(habituation: 15 s, then 30 s, 60 s...). A critical one unchanged is said
again every `critical_repeat_s` (not every per-object cooldown: a person
standing at arm's length was "Careful!" every 3 s), never held back longer by
habituation. A critical cue covers its zone and class for `critical_repeat_s`:
another track there, no nearer than what was said (by `hysteresis_m`), is
taken as told (the one person a fisheye cuts into boxes in two cameras, whose
box centres lie 10-20 degrees apart, is not "Careful!" once per box), and a
critical phrase names each zone once, at its nearest.

Per update at most one hazard cue is said: critical first, then within a
tier the hazard not yet said, then the one waiting longest, then the most
pressing (class priority x how central x how near). Others of the same
class and tier waiting at that moment are said with it in one short phrase
("Two people, left and right, three meters"). Any cue waits for the global
cooldown, except one more urgent than the cue before (a critical cue also
interrupts it).
Standing still, information cues come half as often.

Close range. A distance that is only an upper bound (the foot below the
frame) counts as the distance: the object is at least that close, and the
wearer hears the bound ("Careful! Person ahead, under two meters"). An
object that fills most of the view is within reach by its box's width (a
class-width bound: geometry), so critical.
A box that grows gives time to contact even without a measured distance
(tau = size / growth rate), for an object on a collision course (its
bearing holds: it would pass within `path_half_width_m`). A rise in tier within
`replace_within_s` of a cue about the same object replaces that cue (it cuts
it, rather than following it). What geometry marks as the wearer's own body
is never said. No hazard cue is said after the end of a replay.

Health, said as system cues (they never hold back a hazard cue): the first
result says the system is ready. A camera whose results stop for
`camera_timeout` while the others still deliver, and the other cameras'
frames still come, is said to be lost, once, and back once its results have
flowed again for `camera_back_after` (no chatter from a camera that only
stutters). When no result at all comes for
`watchdog_timeout`, one cue says why: the cameras are lost when no frame
arrives either (glasses unplugged), else the system is paused (perception
stopped); and one cue says when results flow again. Cameras expected from
the start but never heard are said lost after `start_timeout` (a model that
did not load). Health runs on arrival time: late results are not lost ones.

Timeouts follow the pace of what they watch (Liveness): a slow machine or
a slow source (photos at 1 a second) is not a lost one, nor is a loaded
machine whose results stall now and then but keep coming (its recent stalls
are remembered, up to a ceiling); silence is judged only while this
process itself runs (a late tick judges nothing). The end of a replay
is said as such ("Recording ended", or nothing), never as a fault, and
nothing is said lost until frames come again.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, replace

from aria_nav_ros.core.detection import OBSTACLE, Detection
from aria_nav_ros.core.navigation.config import TIERS, NavigationConfig
from aria_nav_ros.core.navigation.motion import MotionState
from aria_nav_ros.core.navigation.phrases import check_language, group_text, hazard_text, system_text
from aria_nav_ros.core.navigation.tracker import Said, Track, Tracker

INFO, WARNING, CRITICAL = 0, 1, 2
KIND_HAZARD, KIND_SYSTEM = 0, 1


@dataclass(frozen=True)
class Cue:
    time: float
    kind: int  # KIND_HAZARD or KIND_SYSTEM
    urgency: int  # INFO, WARNING or CRITICAL
    class_name: str  # "" for system cues
    distance_m: float
    bearing_deg: float
    zone: str
    cameras: tuple[str, ...]
    track_id: int  # the track it is about (the nearest, for a grouped cue); -1 for system cues
    text: str
    track_ids: tuple[int, ...] = ()  # every track it is about (more than one: a grouped cue)
    interrupts: bool = False  # cuts what is playing and drops what waits (a critical cue after a lesser one)
    distance_is_bound: bool = False  # distance_m is an upper bound: said "under ..."
    replaces: bool = False  # a rise about the object of the cue just before: said instead of it (interrupts)


class Cadence:
    """The recent gaps between arrivals of one stream: its pace."""

    def __init__(self, window: int) -> None:
        self.gaps: deque[float] = deque(maxlen=window)
        self.last: float | None = None
        self.observed_s = 0.0  # the gaps' total since the start (not only those still in the window)

    def add(self, now: float, limit: float = math.inf) -> None:
        """An arrival; its gap is remembered when at most `limit` (a longer one ended a stall: not a pace)."""
        if self.last is not None and 0.0 <= now - self.last <= limit:
            self.gaps.append(now - self.last)
            self.observed_s += now - self.last
        self.last = now

    def p95(self) -> float:
        """The 95th percentile of the recent gaps (0 until one is known)."""
        if not self.gaps:
            return 0.0
        ordered = sorted(self.gaps)
        return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


class Stalls:
    """The longest silence that ended in news within the last `memory_s`: a sliding maximum."""

    def __init__(self, memory_s: float) -> None:
        self.memory_s = memory_s
        self.kept: deque[tuple[float, float]] = deque()  # (when it ended, how long): newer ones are shorter

    def add(self, now: float, gap: float) -> None:
        while self.kept and self.kept[-1][1] <= gap:  # a longer (or equal) newer one outlives it
            self.kept.pop()
        self.kept.append((now, gap))

    def longest(self, now: float) -> float:
        while self.kept and now - self.kept[0][0] > self.memory_s:
            self.kept.popleft()
        return self.kept[0][1] if self.kept else 0.0


@dataclass(frozen=True)
class Pace:
    """How timeouts follow a stream: `factor` x its p95 gap, between the configured floor and `ceiling`, and at
    least `stall_margin` x its longest stall of the last `stall_memory_s` (up to `stall_ceiling`). Its pace is
    known once its gaps span `learn_s` (and the floor)."""

    factor: float
    ceiling: float
    window: int
    learn_s: float = 2.0
    stall_margin: float = 1.5
    stall_ceiling: float = 4.0
    stall_memory_s: float = 120.0


class Liveness:
    """One stream's health: lost after a silence longer than `timeout`, back once news has flowed for `back_after`.

    The timeout follows the stream's pace (and that of the frames it depends on, `inputs`), never under
    `floor` (the configured timeout) nor over the ceiling; it is the ceiling until the stream's gaps span
    the floor and `learn_s` (its pace is not known before: the first results after a start come from frames
    that waited for the detectors and say little of it). The gap that ended a loss (or was longer than the
    timeout) does not count: one stall does not make the next one slower to notice. Gaps while the stream
    comes back do (up to the ceiling): a stream slower than the floor learns its pace even then. A silence
    that ended in news without a loss (up to `stall_ceiling`) is a stall, remembered for `stall_memory_s`:
    a loaded machine stalls now and then, rarer than a p95 sees, and a quick spell between stalls would
    otherwise shrink the timeout under the next one.
    """

    def __init__(self, floor: float, back_after: float, last: float, pace: Pace, inputs: tuple[Cadence, ...] = ()):
        self.floor = floor
        self.back_after = back_after
        self.last = last  # the newest news (or, before any, when silence starts to count)
        self.pace = pace
        self.own = Cadence(pace.window)
        self.stalls = Stalls(pace.stall_memory_s)
        self.inputs = inputs
        self.lost = False
        self.flowing_since: float | None = None

    @property
    def timeout(self) -> float:
        if self.own.observed_s < max(self.floor, self.pace.learn_s):  # its pace is not known yet: no loss
            return max(self.floor, self.pace.ceiling)
        observed = max([self.own.p95(), *(c.p95() for c in self.inputs)])
        paced = min(self.pace.ceiling, self.pace.factor * observed)
        stalled = min(self.pace.stall_ceiling, self.pace.stall_margin * self.stalls.longest(self.last))
        return max(self.floor, paced, stalled)

    def heard(self, now: float) -> bool:
        """News came; True when this makes a lost stream back."""
        gap = now - self.last
        if not self.lost:
            stalled = None if self.own.last is None else now - self.own.last
            self.own.add(now, limit=self.timeout)
            if stalled is not None and stalled <= self.pace.stall_ceiling:  # no loss was said: it was no stop
                self.stalls.add(now, stalled)
        elif self.flowing_since is None:  # the first news after a loss ended the stall: not a pace
            self.own.last = now
        else:  # coming back: its pace, however slow (up to the ceiling)
            self.own.add(now, limit=self.pace.ceiling)
        self.last = now
        if not self.lost:
            return False
        if self.flowing_since is None or gap > self.timeout:
            self.flowing_since = now  # a stutter: start counting again
        if now - self.flowing_since < self.back_after:
            return False
        self.lost, self.flowing_since = False, None
        return True

    def quiet(self, now: float) -> bool:
        """True once, when the silence has just grown past the timeout."""
        if self.lost or now - self.last <= self.timeout:
            return False
        self.mark_lost()
        return True

    def mark_lost(self) -> None:
        """Lost (by its silence, or because its source said it cannot work); news makes it back."""
        self.lost, self.flowing_since = True, None

    def reset(self, now: float) -> None:
        self.last, self.lost, self.flowing_since = now, False, None


class NavigationPolicy:
    def __init__(self, config: NavigationConfig, language: str = "en") -> None:
        self.config = config
        self.language = check_language(language)
        self.habituation = config["habituation"]
        self.close_range = config["close_range"]
        tracking = config["tracking"]
        self.tracker = Tracker(
            tracking["max_bearing_jump_deg"],
            tracking["max_distance_jump_m"],
            tracking["max_distance_jump_ratio"],
            tracking["forget_after"],
            float(self.habituation["remember_s"]),
            float(tracking["cross_camera_bearing_deg"]),
            float(tracking["cross_camera_within_s"]),
        )
        motion = config["motion"]
        self.motion = MotionState(motion["window"], motion["walking_accel_std"], motion["walking_speed"])
        pace = config["liveness"]
        self.pace = Pace(
            float(pace["factor"]), float(pace["ceiling"]), int(pace["window"]), float(pace["learn_s"]),
            float(pace["stall_margin"]), float(pace["stall_ceiling"]), float(pace["stall_memory_s"]),
        )  # fmt: skip
        self.cameras: dict[str, Liveness] = {}
        self.frames: dict[str, Cadence] = {}  # each camera's frame arrivals
        self.any_frame = Cadence(self.pace.window)
        self.system: Liveness | None = None  # any result at all; None until the first result or start()
        self.source_ended = False  # the replay is over (or failed, said once): silence is no fault
        self.source_waiting = False  # the replay holds its first frame for perception: silence is no fault
        self.ready = False  # a result has come since the start
        self.cause = ""  # why the system is quiet: "paused" or "cameras_lost"
        self.last_frame = -math.inf  # arrival of the newest camera frame (any camera)
        self.last_tick: float | None = None
        self.tick_deferred = False  # the tick before judged nothing (it came late)
        self.last_cue_time = -math.inf
        self.last_cue_urgency = -1
        self.failures: dict[str, float] = {}  # camera -> when it was said to fail, not yet spoken (held)
        self.last_cue_tracks: set[int] = set()  # the tracks the last hazard cue was about
        # (time, class, zone, distance) of each critical cue's zones, within `critical_repeat_s`: what they cover
        self.critical_said: deque[tuple[float, str, str, float]] = deque()

    # -- inputs --------------------------------------------------------------------------------

    def on_imu(self, t: float, accel: tuple[float, float, float]) -> None:
        self.motion.add(t, accel)

    def start(self, now: float, cameras: list[str]) -> None:
        """The graph starts: these cameras are expected; silence counts after `start_timeout`."""
        # Silence counts from `start_timeout` on: a liveness that knows no pace yet waits out its ceiling.
        last = now + self.config["start_timeout"] - max(self.pace.ceiling, self.config["watchdog_timeout"])
        self.system = self._system_liveness(last)
        for camera in cameras:  # one said failed before the start keeps that state
            self.cameras.setdefault(camera, self._camera_liveness(camera, last))

    def on_frame(self, arrived: float, camera: str = "") -> None:
        """A camera frame (its CameraInfo) arrived: the glasses still stream."""
        self.last_frame = arrived
        self.any_frame.add(arrived, self.pace.ceiling)
        if camera:
            self._frames(camera).add(arrived, self.pace.ceiling)
        if self.source_ended or self.source_waiting:  # a new pass, a new replay, or the held one starts
            # A held replay that starts gives its results a timeout from now, never less than the start's grace
            # (a navigation restarted mid-run hears the driver's latched SOURCE_WAITING of long ago).
            held = self.source_waiting and not self.source_ended
            self.source_ended = self.source_waiting = False
            for live in (self.system, *self.cameras.values()):
                if live is not None:
                    live.reset(max(live.last, arrived) if held else arrived)

    def on_event(self, now: float, event: str, camera: str = "") -> list[Cue]:
        """The aid tells something about itself: "recording_ended", "source_failed", "recording_stopped";
        "camera_failed" (a camera's perception cannot work: said at the next tick `camera_failure_hold_s` on,
        not after its silence's timeout) or "camera_recovered" (it works again: a failure not yet said is not
        said; one said is followed by "back" once its results flow)."""
        if event == "source_waiting":  # until its first frame: models load (on a loaded machine, over a minute)
            self.source_waiting = True
            return []
        if event in ("recording_ended", "source_failed"):
            self.source_ended = True
            if event == "recording_ended" and not self.config["say_recording_ended"]:
                return []
        if event == "camera_recovered":
            if self.failures.pop(camera, None) is not None:
                self.cameras[camera].reset(now)  # never said lost: nothing to say back
            return []
        if event == "camera_failed":
            if camera not in self.cameras:
                self.cameras[camera] = self._camera_liveness(camera, now)
            live = self.cameras[camera]
            if not live.lost:
                live.mark_lost()  # its results, if they ever come, are said "back"
                # Held a moment: a latched failure replayed to a restarted navigation comes with the recovery
                # that followed it, and a failure gone that soon is no news.
                self.failures[camera] = now
            return []
        return [self._system(now, event, camera)]

    def on_detections(
        self, stamp: float, camera: str, detections: list[Detection], arrived: float | None = None
    ) -> list[Cue]:
        """`stamp`: when the image was taken (tracks, speeds); `arrived`: now, for health (default: stamp)."""
        arrived = stamp if arrived is None else arrived
        self.motion.seen(stamp)
        cues = self._heard(arrived, camera)
        named = [(d, self.config.canonical(d.class_name)) for d in detections if not d.wearer_body]
        self.tracker.update(stamp, camera, [(d, name) for d, name in named if self.config.is_hazard(name)])
        # A result that arrives after the end of a replay is of a frame before it: the wearer was told the
        # recording ended, a hazard after that would be about the past.
        hazard = None if self.source_ended else self._decide(stamp)
        return cues + ([hazard] if hazard else [])

    def stopping(self, now: float) -> Cue:
        """The last cue: the aid is being stopped, so its silence from now on is no fault to wait out."""
        return self._system(now, "stopped", "")

    def tick(self, now: float) -> list[Cue]:
        """Called regularly (say 10 Hz) with the arrival clock: notices silence."""
        hold = float(self.config["camera_failure_hold_s"])
        failed = sorted(c for c, when in self.failures.items() if now - when >= hold)
        for camera in failed:
            del self.failures[camera]
        said = [self._system(now, "camera_failed", camera) for camera in failed]
        # A tick this late means this process itself did not run (a loaded machine): the results that came
        # meanwhile still wait in its queue, behind this tick. The next tick judges, once they are taken (never
        # two in a row: ticks that are always late must still say a stop).
        late = self.last_tick is not None and self.system is not None and now - self.last_tick > self.system.timeout / 2
        self.tick_deferred = late and not self.tick_deferred
        self.last_tick = now
        return said + ([] if self.tick_deferred else self._silence(now))

    def _silence(self, now: float) -> list[Cue]:
        if self.system is None or self.source_ended or self.source_waiting:
            return []
        if self.system.quiet(now):
            # Frames still come if one came within half the watchdog time. (Not the whole of it: results
            # can be rarer than frames, so the last result may precede the last frame by a good part of it.)
            flowing = now - self.last_frame <= self.system.timeout / 2
            self.cause = "paused" if flowing else "cameras_lost"
            for live in self.cameras.values():
                live.reset(now)  # one cue says it all; the cameras start afresh when results return
            return [self._system(now, self.cause, "")]
        # A camera alone is said lost only while others still deliver, and while the other cameras' frames
        # still come: when all stop, the watchdog's one cue (a moment later) says so instead of three. (After a
        # freeze of the glasses, results go on while perception finishes its last frames, longer for a slow
        # camera, so the others' results alone would have one camera said lost before "Cameras lost".)
        if self.system.lost or now - self.system.last > self.system.timeout / 2:
            return []
        return [
            self._system(now, "lost", camera)
            for camera, live in sorted(self.cameras.items())
            if self._others_stream(camera, now, live.timeout / 2) and live.quiet(now)
        ]

    def _others_stream(self, camera: str, now: float, within: float) -> bool:
        """Whether frames of cameras other than `camera` came `within` s; True where none are watched (a
        source without CameraInfo, or this camera alone has it: nothing to tell a freeze by)."""
        named = {name: c.last for name, c in self.frames.items() if c.last is not None}
        if named:
            others = [last for name, last in named.items() if name != camera]
        else:  # frames of cameras not named, if any
            others = [self.last_frame] if self.last_frame > -math.inf else []
        return not others or now - max(others) <= within

    # -- decisions -----------------------------------------------------------------------------

    def _frames(self, camera: str) -> Cadence:
        return self.frames.setdefault(camera, Cadence(self.pace.window))

    def _camera_liveness(self, camera: str, last: float) -> Liveness:
        floor, back = self.config["camera_timeout"], self.config["camera_back_after"]
        return Liveness(floor, back, last, self.pace, (self._frames(camera),))

    def _system_liveness(self, last: float) -> Liveness:
        floor, back = self.config["watchdog_timeout"], self.config["camera_back_after"]
        return Liveness(floor, back, last, self.pace, (self.any_frame,))

    def _heard(self, now: float, camera: str) -> list[Cue]:
        """A result came: the system (or a lost camera) is back once results have flowed for `camera_back_after`."""
        cues = []
        if self.system is None:
            self.system = self._system_liveness(now)
        if not self.ready:  # the first result of the run (said even after a "paused" at the start)
            self.ready = True
            self.system.reset(now)
            self.system.own.add(now)  # its pace counts from here
            if not self.source_ended:  # a short replay over before its first result: "ready" after "ended" misleads
                cues.append(self._system(now, "ready", ""))
        elif self.system.heard(now):
            cues.append(self._system(now, "cameras_back" if self.cause == "cameras_lost" else "resumed", ""))
            for live in self.cameras.values():
                live.reset(now)  # each camera gets its full timeout to come back too
            for track in (*self.tracker.tracks.values(), *self.tracker.forgotten.values()):
                track.said, track.repeats = None, 0  # after an outage the wearer is told afresh what is there
        if camera not in self.cameras:
            self.cameras[camera] = self._camera_liveness(camera, now)
        if self.cameras[camera].heard(now) and not self.system.lost:
            cues.append(self._system(now, "back", camera))
        return cues

    def _system(self, now: float, event: str, camera: str) -> Cue:
        # Health cues do not take the hazard cues' turn (their cooldown): nothing about
        # the world waits behind them; the audio plays them one after the other.
        cameras = (camera,) if camera else tuple(sorted(self.cameras))
        text = system_text(event, self.language, camera)
        return Cue(now, KIND_SYSTEM, WARNING, "", math.nan, 0.0, "ahead", cameras, -1, text)

    def _decide(self, now: float) -> Cue | None:
        waiting: list[tuple[tuple, Track, int, bool]] = []  # (order, track, tier, a repeat of the unchanged)
        resting: list[tuple[Track, int]] = []  # unchanged and habituated, but past the per-object cooldown
        for track in self.tracker.tracks.values():
            seen = now - track.last_seen <= 0.5  # unseen just now: nothing new to say
            tier = self._tier(track) if seen else -1
            if seen:
                self._retreated(track, tier)
            # News since it was last said (each judged once per update): a higher tier, or a change.
            escalated = tier >= 0 and track.said is not None and self._escalated(track, tier)
            changed = tier >= 0 and track.said is not None and not escalated and self._changed(track)
            due = self._due(track, tier, now, escalated, changed) if tier >= 0 else None
            if due and tier == CRITICAL and self._covered(track, now):
                self._said(track, tier, now, unchanged=track.said is not None)  # told already: nothing to add
                due = None
            if not due:
                track.due_since = None
                if due is False:
                    resting.append((track, tier))
                continue
            track.due_since = now if track.due_since is None else track.due_since
            repeat = track.said is not None and not escalated and not changed
            # Critical first; then what was never said; then what has waited longest; then the most pressing.
            order = (tier, track.said is None, now - track.due_since, self._pressure(track))
            waiting.append((order, track, tier, repeat))
        if not waiting:
            return None
        _, best, tier, repeat = max(waiting, key=lambda w: w[0])
        in_cooldown = now - self.last_cue_time < self.config["cooldown"]["global"]
        another_critical = tier == CRITICAL and best.track_id not in self.last_cue_tracks
        if in_cooldown and tier <= self.last_cue_urgency and not another_critical:
            return None  # (more urgent than the cue before, or critical about something else: no waiting)
        # A critical cue cuts a lesser one; right after another critical one it follows it instead.
        interrupts = tier == CRITICAL and (not in_cooldown or self.last_cue_urgency < CRITICAL)
        # A rise moments after the cue about the same object takes its place: one sentence, not two.
        said = best.said
        replaces = (
            said is not None
            and tier > said.tier
            and best.track_id in self.last_cue_tracks
            and now - said.time <= float(self.close_range["replace_within_s"])
        )
        interrupts = interrupts or replaces
        group = [(best, tier, repeat)]  # (track, its tier, unchanged)
        if self.habituation["group"]:
            # Others of its class waiting now go with it (critical only with critical); a repeat also takes along
            # the class's unchanged ones not said within `first_repeat_s`: their repeats fall together from then on.
            def fits(track: Track, k: int) -> bool:
                same_class = track is not best and track.class_name == best.class_name
                return same_class and (k == CRITICAL) == (tier == CRITICAL)

            group += [(t, k, r) for _, t, k, r in waiting if fits(t, k)]
            if repeat and tier < CRITICAL:
                rested = float(self.habituation["first_repeat_s"])
                group += [(t, k, True) for t, k in resting if fits(t, k) and now - t.said.time >= rested]
            if tier == CRITICAL:  # the critical ones of its zones not yet due are told with it: their repeats fall
                zones = {self.zone(t.bearing_deg) for t, _, _ in group}  # together, not one after the other
                group += [(t, k, True) for t, k in resting if fits(t, k) and self.zone(t.bearing_deg) in zones]
        group.sort(key=lambda g: g[0].distance_m if math.isfinite(g[0].distance_m) else math.inf)
        for track, k, unchanged in group:
            self._said(track, k, now, unchanged)
        tier = max(k for _, k, _ in group)
        self.last_cue_time, self.last_cue_urgency = now, tier
        self.last_cue_tracks = {t.track_id for t, _, _ in group}
        tracks = [t for t, _, _ in group]
        if tier == CRITICAL:
            # A critical phrase names each zone once, at its nearest (the group is sorted nearest first): boxes
            # of one person in two cameras are no crowd, and "Careful! Person ahead" covers whoever else is there.
            named = {self.zone(t.bearing_deg): t for t in reversed(tracks)}
            for zone, track in named.items():  # no distance said: it covers only others without one
                d = track.distance_m if math.isfinite(track.distance_m) else math.inf
                self.critical_said.append((now, track.class_name, zone, d))
            return self._hazard_cue(now, tier, [t for t in tracks if t in named.values()], interrupts, replaces,
                                     tracks)  # fmt: skip
        return self._hazard_cue(now, tier, tracks, interrupts, replaces)

    def _covered(self, track: Track, now: float) -> bool:
        """Whether a critical cue of the last `critical_repeat_s` about the track's class and zone already told
        the wearer what the track would: the track is no nearer than it (by `hysteresis_m`)."""
        within = float(self.close_range["critical_repeat_s"])
        while self.critical_said and now - self.critical_said[0][0] >= within:
            self.critical_said.popleft()
        zone, margin = self.zone(track.bearing_deg), self.config["hysteresis_m"]
        d = track.distance_m if math.isfinite(track.distance_m) else math.inf
        return any(
            name == track.class_name and z == zone and not d < said_m - margin
            for _, name, z, said_m in self.critical_said
        )

    def _hazard_cue(
        self, now: float, tier: int, group: list[Track], interrupts: bool, replaces: bool, about: list[Track] = ()
    ) -> Cue:
        """`group`: the tracks the phrase names, nearest first; `about`: every track it tells of (default: those)."""
        nearest, critical = group[0], tier == CRITICAL
        zone = self.zone(nearest.bearing_deg)
        bound = nearest.distance_is_bound
        if len(group) == 1:
            text = hazard_text(nearest.class_name, zone, nearest.distance_m, critical, self.language, bound)
            bearing = nearest.bearing_deg
        else:
            zones = [self.zone(t.bearing_deg) for t in group]
            text = group_text(nearest.class_name, len(group), zones, nearest.distance_m, critical, self.language, bound)
            bearings = [t.bearing_deg for t in group]
            bearing = (min(bearings) + max(bearings)) / 2  # the earcon sits in the middle of the group
        about = list(about) or group
        cameras = tuple(sorted({c for t in about for c in t.recent_cameras(now)}))
        ids = tuple(t.track_id for t in about)
        return Cue(
            now, KIND_HAZARD, tier, nearest.class_name, nearest.distance_m, bearing, zone, cameras,
            nearest.track_id, text, ids, interrupts, bound, replaces,
        )  # fmt: skip

    def _retreated(self, track: Track, tier: int) -> None:
        """What was said is measured from where the object went since: one that backs off to a lesser tier
        (or out of every tier), or farther, and comes back is news again (a rise, or nearer)."""
        said = track.said
        if said is None:
            return
        steady = track.steady_distance(float(self.habituation["steady_s"]))
        farther = (
            math.isfinite(steady) and math.isfinite(said.distance_m) and steady > said.distance_m + self._nearer(said)
        )
        if tier < said.tier or farther:
            track.said = replace(said, tier=min(said.tier, tier), distance_m=steady if farther else said.distance_m)

    def _said(self, track: Track, tier: int, now: float, unchanged: bool) -> None:
        """The wearer is told about `track` now: an unchanged one is told again later each time."""
        track.repeats = track.repeats + 1 if unchanged else 0
        track.due_since = None
        distance = track.steady_distance(float(self.habituation["steady_s"]))
        distance = distance if math.isfinite(distance) else track.distance_m
        track.said = Said(now, tier, self.zone(track.bearing_deg), distance, track.bearing_deg, self.motion.walking)

    def _tier(self, track: Track) -> int:
        """The track's tier by distance (a bound: at least that close), with hysteresis, raised by time to
        contact."""
        d = track.distance_m
        if not math.isfinite(d):
            track.tier = INFO  # something is there, but how far is unknown: only its growth tells more
            return max(INFO, self._ttc_tier(track, d))
        by_distance = self._distance_tier(track.class_name, d)
        if track.distance_is_bound:  # it may be anywhere nearer: never less than a thing of unknown distance
            by_distance = max(INFO, by_distance)
        if by_distance < track.tier:  # leaving a tier: only well beyond its line
            thresholds = self.config.tier_distances(track.class_name)
            keep = d <= thresholds[TIERS[track.tier]] + self.config["hysteresis_m"]
            by_distance = track.tier if keep else by_distance
        track.tier = by_distance
        return max(by_distance, self._ttc_tier(track, d))

    def _distance_tier(self, class_name: str, d: float) -> int:
        thresholds = self.config.tier_distances(class_name)
        return max((i for i, name in enumerate(TIERS) if d <= thresholds[name]), default=-1)

    def _ttc_tier(self, track: Track, d: float) -> int:
        """The tier by time to contact (from the distance's speed, or the box's growth for an object in the
        wearer's path); none beyond the class's `range_m`."""
        limits, tracking = self.config.contact_times(track.class_name), self.config["tracking"]
        if d > limits["range_m"]:
            return -1
        speed = track.approach_speed(tracking["speed_window"], float(tracking["speed_min_span_s"]))
        closing = self.motion.closing_speed(track.bearing_deg) if track.class_name == OBSTACLE else None
        if closing is not None:
            # What stands on the floor does not move: where the glasses measure the wearer's velocity (Gen 2's
            # VIO), that is how fast it nears, from its first frame, not once its distance has changed for a while.
            speed = closing
        ttc = d / speed if speed > 0.3 and math.isfinite(d) else math.inf
        # A box's growth only near (or with no measurement): a small far box's jitter looks like growth, and far
        # away the distance's own speed says it.
        if self.close_range["scale_ttc"] and not d > float(self.close_range["scale_range_m"]):
            c = self.close_range
            tau = track.scale_ttc(float(c["scale_window_s"]), float(c["scale_min_span_s"]))
            ttc = min(ttc, tau) if self._on_course(track, d, tau) else ttc
        return CRITICAL if ttc <= limits["critical"] else WARNING if ttc <= limits["warning"] else -1

    def _on_course(self, track: Track, d: float, tau: float) -> bool:
        """Whether a box growing to contact in `tau` s comes at the wearer rather than past: on a collision
        course the bearing holds; passing by, it turns, and by contact the object is about d x turn rate x tau
        to the side (d may be a bound: that overstates the miss, never the threat). With no distance at all,
        only straight ahead counts."""
        if not math.isfinite(tau):
            return False
        c = self.close_range
        rate = track.bearing_rate(float(c["scale_window_s"]), float(c["scale_min_span_s"]))
        if not math.isfinite(rate):
            return False
        turn = math.radians(abs(rate)) * tau
        if not math.isfinite(d):
            return abs(track.bearing_deg) <= self.config["zones"]["ahead_half_width_deg"] and turn <= 0.2
        return d * turn <= float(c["path_half_width_m"])

    def _due(self, track: Track, tier: int, now: float, escalated: bool, changed: bool) -> bool | None:
        """True: to be said now. False: unchanged, and its habituation interval is not over. None: said too
        recently (within the per-object cooldown; escalations do not wait for it)."""
        said = track.said
        if said is None or escalated:
            return True
        if now - said.time < float(self.config["cooldown"]["per_object"]):
            return None
        if changed:
            return True
        if tier == CRITICAL:  # unchanged at arm's length: said again, but not every cooldown
            return now - said.time >= float(self.close_range["critical_repeat_s"])
        h = self.habituation
        interval = min(float(h["max_repeat_s"]), float(h["first_repeat_s"]) * float(h["growth"]) ** track.repeats)
        if tier == INFO and not self.motion.walking:
            interval *= self.config["motion"]["standing_info_cooldown_factor"]
        return now - said.time >= interval

    def _escalated(self, track: Track, tier: int) -> bool:
        """A higher tier than said: critical at once; a lesser one when its steady distance (clearly inside
        the line: by half the hysteresis) or its speed says so (a frame's jitter across a line is no news)."""
        said = track.said
        assert said is not None
        if tier <= said.tier:
            return False
        if tier == CRITICAL:
            return True
        steady = track.steady_distance(float(self.habituation["steady_s"]))
        margin = self.config["hysteresis_m"] / 2  # an object standing on a tier's line does not escalate
        by_distance = self._distance_tier(track.class_name, steady + margin) if math.isfinite(steady) else INFO
        return max(by_distance, self._ttc_tier(track, track.distance_m)) > said.tier

    def _changed(self, track: Track) -> bool:
        """Since it was last said: another zone, nearer, or the wearer started to walk."""
        said, h = track.said, self.habituation
        assert said is not None
        if self.motion.walking and not said.walking:
            return True
        turned = abs(track.bearing_deg - said.bearing_deg) >= float(h["turn_deg"])  # not jitter at a zone's edge
        if turned and self.zone(track.bearing_deg) != said.zone:
            return True
        distance = track.steady_distance(float(self.habituation["steady_s"]))
        if math.isfinite(distance) and math.isfinite(said.distance_m):
            return distance <= said.distance_m - self._nearer(said)
        return False

    def _nearer(self, said: Said) -> float:
        """How much nearer (or farther) than when it was said counts as a change, not a detector's jitter."""
        return max(float(self.habituation["nearer_m"]), float(self.habituation["nearer_ratio"]) * said.distance_m)

    def _pressure(self, track: Track) -> float:
        """Within a tier: class priority x centrality x nearness."""
        centrality = max(self.config["side_weight"], math.cos(math.radians(track.bearing_deg)))
        nearness = 1.0 / max(track.distance_m, 0.5) if math.isfinite(track.distance_m) else 0.1
        return self.config.priority(track.class_name) * centrality * nearness

    def zone(self, bearing_deg: float) -> str:
        half = self.config["zones"]["ahead_half_width_deg"]
        return "ahead" if abs(bearing_deg) <= half else ("left" if bearing_deg < 0 else "right")
