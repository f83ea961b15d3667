"""Deciding what to say, and when: urgency tiers, hysteresis, cooldowns, camera health.

Per update at most one hazard cue is chosen, the most pressing one:
priority of its class x how central it is x how near, with tiers from
distance (per class) or time to contact. A tier is entered at its threshold
and left only beyond threshold + hysteresis. An object is said again at the
same tier only after its per-object cooldown; any cue waits for the global
cooldown, except a critical cue after a lesser one, which interrupts it.
Standing still, information cues come half as often. A camera whose
results stop for `camera_timeout` is said to be lost, once, and back, once
its results have flowed again for `camera_back_after` (no chatter from a
camera that only stutters).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from aria_nav_ros.core.detection import Detection
from aria_nav_ros.core.navigation.config import TIERS, NavigationConfig
from aria_nav_ros.core.navigation.motion import MotionState
from aria_nav_ros.core.navigation.phrases import check_language, hazard_text, system_text
from aria_nav_ros.core.navigation.tracker import Track, Tracker

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
    track_id: int
    text: str

    @property
    def interrupts(self) -> bool:
        return self.urgency == CRITICAL


class NavigationPolicy:
    def __init__(self, config: NavigationConfig, language: str = "en") -> None:
        self.config = config
        self.language = check_language(language)
        tracking = config["tracking"]
        self.tracker = Tracker(
            tracking["max_bearing_jump_deg"],
            tracking["max_distance_jump_m"],
            tracking["max_distance_jump_ratio"],
            tracking["forget_after"],
        )
        motion = config["motion"]
        self.motion = MotionState(motion["window"], motion["walking_accel_std"])
        self.last_result: dict[str, float] = {}
        self.lost: set[str] = set()
        self.recovering: dict[str, float] = {}  # lost camera -> since when its results flow again
        self.last_cue_time = -math.inf
        self.last_cue_urgency = -1

    # -- inputs --------------------------------------------------------------------------------

    def on_imu(self, t: float, accel: tuple[float, float, float]) -> None:
        self.motion.add(t, accel)

    def on_detections(self, now: float, camera: str, detections: list[Detection]) -> list[Cue]:
        cues = self._camera_alive(now, camera)
        named = [(d, self.config.canonical(d.class_name)) for d in detections]
        self.tracker.update(now, camera, named)
        hazard = self._decide(now)
        return cues + ([hazard] if hazard else [])

    def tick(self, now: float) -> list[Cue]:
        """Called regularly (say 10 Hz): notices cameras that went quiet."""
        cues = []
        for camera, last in sorted(self.last_result.items()):
            if camera not in self.lost and now - last > self.config["camera_timeout"]:
                self.lost.add(camera)
                cues.append(self._system(now, "lost", camera))
        return cues

    # -- decisions -----------------------------------------------------------------------------

    def _camera_alive(self, now: float, camera: str) -> list[Cue]:
        """A result came; a lost camera is back once its results have flowed for `camera_back_after`."""
        previous = self.last_result.get(camera)
        self.last_result[camera] = now
        if camera not in self.lost:
            return []
        if camera not in self.recovering or (previous is not None and now - previous > self.config["camera_timeout"]):
            self.recovering[camera] = now
        if now - self.recovering[camera] < self.config["camera_back_after"]:
            return []
        self.lost.discard(camera)
        del self.recovering[camera]
        return [self._system(now, "back", camera)]

    def _system(self, now: float, event: str, camera: str) -> Cue:
        self.last_cue_time = now
        self.last_cue_urgency = WARNING
        return Cue(
            now,
            KIND_SYSTEM,
            WARNING,
            "",
            math.nan,
            0.0,
            "ahead",
            (camera,),
            -1,
            system_text(event, self.language, camera),
        )

    def _decide(self, now: float) -> Cue | None:
        best: tuple[float, Track, int] | None = None
        for track in self.tracker.tracks.values():
            if now - track.last_seen > 0.5:
                continue  # not seen just now: nothing new to say
            tier = self._tier(track)
            if tier < 0 or not self._due(track, tier, now):
                continue
            score = (tier + 1) * 10 + self._pressure(track)
            if best is None or score > best[0]:
                best = (score, track, tier)
        if best is None:
            return None
        _, track, tier = best
        in_cooldown = now - self.last_cue_time < self.config["cooldown"]["global"]
        if in_cooldown and not (tier == CRITICAL and self.last_cue_urgency < CRITICAL):
            return None
        track.announced[tier] = now
        self.last_cue_time, self.last_cue_urgency = now, tier
        zone = self.zone(track.bearing_deg)
        text = hazard_text(track.class_name, zone, track.distance_m, tier == CRITICAL, self.language)
        return Cue(
            now,
            KIND_HAZARD,
            tier,
            track.class_name,
            track.distance_m,
            track.bearing_deg,
            zone,
            tuple(track.recent_cameras(now)),
            track.track_id,
            text,
        )

    def _tier(self, track: Track) -> int:
        """The track's tier by distance, with hysteresis, raised by time to contact."""
        thresholds = self.config.tier_distances(track.class_name)
        d = track.distance_m
        if not math.isfinite(d):
            track.tier = INFO  # something is there, but how far is unknown
            return INFO
        by_distance = max((i for i, name in enumerate(TIERS) if d <= thresholds[name]), default=-1)
        if by_distance < track.tier:  # leaving a tier: only well beyond its line
            keep = d <= thresholds[TIERS[track.tier]] + self.config["hysteresis_m"]
            by_distance = track.tier if keep else by_distance
        track.tier = by_distance
        speed = track.approach_speed(self.config["tracking"]["speed_window"])
        ttc = d / speed if speed > 0.3 else math.inf
        limits = self.config["time_to_contact"]
        by_ttc = CRITICAL if ttc <= limits["critical"] else WARNING if ttc <= limits["warning"] else -1
        return max(by_distance, by_ttc)

    def _due(self, track: Track, tier: int, now: float) -> bool:
        """Not said at this tier (or above) within its cooldown."""
        cooldowns = self.config["cooldown"]["per_object"]
        for said_tier, when in track.announced.items():
            if said_tier < tier:
                continue
            cooldown = cooldowns[TIERS[said_tier]]
            if said_tier == INFO and not self.motion.walking:
                cooldown *= self.config["motion"]["standing_info_cooldown_factor"]
            if now - when < cooldown:
                return False
        return True

    def _pressure(self, track: Track) -> float:
        """Within a tier: class priority x centrality x nearness."""
        centrality = max(self.config["side_weight"], math.cos(math.radians(track.bearing_deg)))
        nearness = 1.0 / max(track.distance_m, 0.5) if math.isfinite(track.distance_m) else 0.1
        return self.config.priority(track.class_name) * centrality * nearness

    def zone(self, bearing_deg: float) -> str:
        half = self.config["zones"]["ahead_half_width_deg"]
        return "ahead" if abs(bearing_deg) <= half else ("left" if bearing_deg < 0 else "right")
