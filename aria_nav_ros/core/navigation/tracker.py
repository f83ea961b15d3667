"""Objects over time and across the three cameras, in the wearer's bearing space.

Each camera's detections carry bearings in the same head-fixed frame, so an
object passing from a SLAM camera into the RGB camera continues its track.
A detection joins the nearest track of the same class whose bearing and
distance are close enough; otherwise it starts a new track.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from aria_nav_ros.core.detection import Detection


@dataclass
class Track:
    track_id: int
    class_name: str  # canonical (aliases applied)
    model_class: str
    distance_m: float
    bearing_deg: float
    last_seen: float
    cameras: dict[str, float] = field(default_factory=dict)  # camera -> last time seen
    history: deque = field(default_factory=lambda: deque(maxlen=64))  # (t, distance)
    tier: int = -1  # current urgency tier (-1: none), with hysteresis
    announced: dict[int, float] = field(default_factory=dict)  # tier -> last time said

    def approach_speed(self, window_s: float) -> float:
        """m/s towards the wearer (positive: coming closer), from a line fit over the window."""
        points = [(t, d) for t, d in self.history if t >= self.last_seen - window_s and math.isfinite(d)]
        if len(points) < 3 or points[-1][0] - points[0][0] < 0.2:
            return 0.0
        n = len(points)
        mean_t = sum(t for t, _ in points) / n
        mean_d = sum(d for _, d in points) / n
        var = sum((t - mean_t) ** 2 for t, _ in points)
        slope = sum((t - mean_t) * (d - mean_d) for t, d in points) / var
        return -slope

    def recent_cameras(self, now: float, within_s: float = 0.5) -> list[str]:
        return sorted(c for c, t in self.cameras.items() if now - t <= within_s)


class Tracker:
    def __init__(
        self, max_bearing_jump: float, max_distance_jump: float, max_distance_ratio: float, forget_after: float
    ) -> None:
        self.max_bearing_jump = max_bearing_jump
        self.max_distance_jump = max_distance_jump
        self.max_distance_ratio = max_distance_ratio
        self.forget_after = forget_after
        self.tracks: dict[int, Track] = {}
        self._next_id = 1

    def update(self, now: float, camera: str, detections: list[tuple[Detection, str]]) -> list[Track]:
        """Associate one camera's detections (with canonical class names); the tracks they touched."""
        self.tracks = {i: t for i, t in self.tracks.items() if now - t.last_seen <= self.forget_after}
        touched: list[Track] = []
        free = set(self.tracks)
        for det, name in sorted(detections, key=lambda d: d[0].distance_m if math.isfinite(d[0].distance_m) else 1e9):
            best, best_cost = None, math.inf
            for track_id in free:
                track = self.tracks[track_id]
                cost = self._cost(track, det, name)
                if cost < best_cost:
                    best, best_cost = track_id, cost
            if best is None:
                track = Track(self._next_id, name, det.class_name, det.distance_m, det.bearing_deg, now)
                self.tracks[track.track_id] = track
                self._next_id += 1
            else:
                free.discard(best)
                track = self.tracks[best]
                if math.isfinite(det.distance_m):
                    # The latest measurement, unsmoothed: a threshold crossed counts on that very frame;
                    # jitter at a threshold is what the policy's hysteresis is for.
                    track.distance_m = det.distance_m
                track.bearing_deg = det.bearing_deg
                track.last_seen = now
                track.model_class = det.class_name
            track.cameras[camera] = now
            track.history.append((now, det.distance_m))
            touched.append(track)
        return touched

    def _cost(self, track: Track, det: Detection, name: str) -> float:
        if track.class_name != name:
            return math.inf
        bearing_jump = abs(track.bearing_deg - det.bearing_deg)
        if bearing_jump > self.max_bearing_jump:
            return math.inf
        if math.isfinite(track.distance_m) and math.isfinite(det.distance_m):
            jump = abs(track.distance_m - det.distance_m)
            if jump > max(self.max_distance_jump, self.max_distance_ratio * track.distance_m):
                return math.inf
            return bearing_jump / self.max_bearing_jump + jump / self.max_distance_jump
        return bearing_jump / self.max_bearing_jump + 1.0
