"""Objects over time and across the three cameras, in the wearer's bearing space.

Each camera's detections carry bearings in the same head-fixed frame, so an
object passing from a SLAM camera into the RGB camera continues its track.
A detection joins the nearest track of the same class whose bearing and
distance are close enough; otherwise it takes up a track forgotten within
`remember_after` at that place (a detector that misses an object for a few
seconds does not make it new: what was said about it still counts), or it
starts a new track.

A distance that is only an upper bound (a box cut by the image's lower edge)
counts as the distance for tiers ("at least that close") and for matching
(anything nearer than the bound is consistent with it), never for speed. The
box's own size gives time to contact without any distance: an object coming
straight on grows as 1 / its distance, so tau = size / (d size / dt), fitted
over the track's recent boxes of one camera, in one dimension the frame does
not cut (the width of a person whose feet leave the frame still grows).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from aria_nav_ros.core.detection import EDGE_BOTTOM, EDGE_LEFT, EDGE_RIGHT, EDGE_TOP, Detection

WIDTH, HEIGHT = "width", "height"  # which extent of a box is a scale (not cut by the frame)


def box_scale(det: Detection) -> tuple[str, float] | None:
    """(extent, pixels) of a box that measures the object's size: its width unless the frame cuts it at a side,
    else its height unless cut at the top or bottom; None when cut both ways."""
    x1, y1, x2, y2 = det.box
    if not det.cut_edges & (EDGE_LEFT | EDGE_RIGHT) and x2 - x1 > 0:
        return WIDTH, x2 - x1
    if not det.cut_edges & (EDGE_TOP | EDGE_BOTTOM) and y2 - y1 > 0:
        return HEIGHT, y2 - y1
    return None


def _slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (t, value) points (at least two distinct times)."""
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    return sum((t - mean_t) * (v - mean_v) for t, v in points) / var if var > 0 else 0.0


def _median(distances: list[float], default: float) -> float:
    """The median of the finite ones, or `default` when there are none."""
    values = sorted(d for d in distances if math.isfinite(d))
    return values[len(values) // 2] if values else default


@dataclass(frozen=True)
class Said:
    """A track as it was when last said: what a later change is measured against."""

    time: float
    tier: int
    zone: str
    distance_m: float
    bearing_deg: float
    walking: bool  # the wearer's motion then


@dataclass
class Track:
    track_id: int
    class_name: str  # canonical (aliases applied)
    distance_m: float
    bearing_deg: float
    last_seen: float
    cameras: dict[str, float] = field(default_factory=dict)  # camera -> last time seen
    history: deque = field(default_factory=lambda: deque(maxlen=64))  # (t, distance, is it a bound)
    distance_is_bound: bool = False  # distance_m is an upper bound (its foot is out of the frame)
    scales: deque = field(default_factory=lambda: deque(maxlen=64))  # (t, camera, extent, pixels)
    bearings: deque = field(default_factory=lambda: deque(maxlen=64))  # (t, bearing_deg)
    tier: int = -1  # current urgency tier (-1: none), with hysteresis
    said: Said | None = None  # what the wearer was last told about it
    repeats: int = 0  # times said since it last changed (habituation)
    due_since: float | None = None  # waiting for its turn since (fairness)
    # The fits below, by method and arguments, until the next observation. The policy asks for them at every
    # update of any camera (90 a second), while they change only when this track is seen (bench/policy_bench.py).
    fits: dict[tuple, float] = field(default_factory=dict, init=False, repr=False, compare=False)

    def observe(self, now: float, camera: str, det: Detection) -> None:
        """One detection joined the track (its distance, bearing and time already taken where they count)."""
        self.fits.clear()
        self.cameras[camera] = now
        self.history.append((now, det.distance_m, det.distance_is_bound))
        self.bearings.append((now, det.bearing_deg))
        scale = box_scale(det)
        if scale is not None:
            self.scales.append((now, camera, *scale))

    def _fit(self, key: tuple, compute: Callable[[], float]) -> float:
        if key not in self.fits:
            self.fits[key] = compute()
        return self.fits[key]

    def approach_speed(self, window_s: float, min_span_s: float = 0.2) -> float:
        """m/s towards the wearer (positive: coming closer), from a line fit over the window.

        0 until the points span `min_span_s`: a fit over a few frames turns a detector's jitter into speed."""
        return self._fit(("speed", window_s, min_span_s), lambda: self._approach_speed(window_s, min_span_s))

    def _approach_speed(self, window_s: float, min_span_s: float) -> float:
        points = [
            (t, d) for t, d, bound in self.history if t >= self.last_seen - window_s and math.isfinite(d) and not bound
        ]
        if len(points) < 3 or points[-1][0] - points[0][0] < min_span_s:
            return 0.0
        return -_slope(points)

    def steady_distance(self, window_s: float) -> float:
        """The median distance over the window: what it is, not one frame's jitter (NaN when unknown)."""
        return self._fit(
            ("steady", window_s),
            lambda: _median([d for t, d, _ in self.history if t >= self.last_seen - window_s], math.nan),
        )

    def recent_distance(self, frames: int = 5) -> float:
        """The median of its last few distances: what a new detection is matched against (one jittery frame
        must not push the next one out of the gate)."""
        return self._fit(
            ("recent", frames),
            lambda: _median([d for _, d, _ in list(self.history)[-frames:]], self.distance_m),
        )

    def bearing_rate(self, window_s: float, min_span_s: float) -> float:
        """Degrees per second its bearing turns (line fit over the window); NaN until the points span
        `min_span_s`. An object on a collision course keeps its bearing; one passing by turns away."""
        return self._fit(("turn", window_s, min_span_s), lambda: self._bearing_rate(window_s, min_span_s))

    def _bearing_rate(self, window_s: float, min_span_s: float) -> float:
        points = [(t, b) for t, b in self.bearings if t >= self.last_seen - window_s]
        if len(points) < 3 or points[-1][0] - points[0][0] < min_span_s:
            return math.nan
        return _slope(points)

    def scale_ttc(self, window_s: float, min_span_s: float, min_points: int = 4) -> float:
        """Seconds to contact from the growth of its box: tau = size / (d size / dt), from a line fit of
        log(size) over the window, on the newest box's camera and extent only (another lens, or the other
        extent, is another scale). Infinite when it does not grow, or the boxes span under `min_span_s`."""
        key = ("scale", window_s, min_span_s, min_points)
        return self._fit(key, lambda: self._scale_ttc(window_s, min_span_s, min_points))

    def _scale_ttc(self, window_s: float, min_span_s: float, min_points: int) -> float:
        if not self.scales:
            return math.inf
        _, camera, extent, _ = self.scales[-1]
        points = []
        for t, c, e, size in reversed(self.scales):
            if t < self.last_seen - window_s:
                break
            if c != camera:
                continue  # another camera seeing it at the same time: another scale
            if e != extent:
                break  # this camera's boxes measured the other extent before
            points.append((t, math.log(size)))
        if len(points) < min_points or points[0][0] - points[-1][0] < min_span_s:
            return math.inf
        growth = _slope(points)  # d log(size) / dt = 1 / tau
        return 1.0 / growth if growth > 0 else math.inf

    def recent_cameras(self, now: float, within_s: float = 0.5) -> list[str]:
        return sorted(c for c, t in self.cameras.items() if now - t <= within_s)


class Tracker:
    def __init__(
        self,
        max_bearing_jump: float,
        max_distance_jump: float,
        max_distance_ratio: float,
        forget_after: float,
        remember_after: float = 0.0,
        cross_camera_bearing: float = math.inf,
        cross_camera_within: float = 0.0,
    ) -> None:
        self.max_bearing_jump = max_bearing_jump
        self.max_distance_jump = max_distance_jump
        self.max_distance_ratio = max_distance_ratio
        self.forget_after = forget_after
        self.remember_after = remember_after
        self.cross_camera_bearing = cross_camera_bearing
        self.cross_camera_within = cross_camera_within
        self.tracks: dict[int, Track] = {}
        self.forgotten: dict[int, Track] = {}  # dropped within `remember_after`: taken up again at their place
        self._next_id = 1

    def update(self, now: float, camera: str, detections: list[tuple[Detection, str]]) -> list[Track]:
        """Associate one camera's detections (with canonical class names); the tracks they touched."""
        for track_id, track in list(self.tracks.items()):
            if now - track.last_seen > self.forget_after:
                self.forgotten[track_id] = self.tracks.pop(track_id)
        self.forgotten = {i: t for i, t in self.forgotten.items() if now - t.last_seen <= self.remember_after}
        # The closest pairs first over all of them (not each detection's nearest in turn): in a crowd, one
        # person's missed frame must not hand their track to a neighbour.
        gates = {i: (self._bearing_gate(t, camera, now), t.recent_distance()) for i, t in self.tracks.items()}
        pairs = sorted(
            (cost, i, track_id)
            for i, (det, name) in enumerate(detections)
            for track_id, track in self.tracks.items()
            if math.isfinite(cost := self._cost(track, det, name, *gates[track_id]))
        )
        matched: dict[int, int] = {}  # detection index -> track id
        taken: set[int] = set()
        for _, i, track_id in pairs:
            if i not in matched and track_id not in taken:
                matched[i] = track_id
                taken.add(track_id)
        touched: list[Track] = []
        for i, (det, name) in enumerate(detections):
            track_id = matched.get(i)
            if track_id is None:
                track_id = self._remembered(det, name)
            if track_id is None:
                track = Track(self._next_id, name, det.distance_m, det.bearing_deg, now)
                track.distance_is_bound = det.distance_is_bound
                self.tracks[track.track_id] = track
                self._next_id += 1
            else:
                track = self.tracks[track_id]
                if math.isfinite(det.distance_m):
                    # The latest measurement, unsmoothed: a threshold crossed counts on that very frame;
                    # jitter at a threshold is what the policy's hysteresis is for.
                    track.distance_m = det.distance_m
                    track.distance_is_bound = det.distance_is_bound
                track.bearing_deg = det.bearing_deg
                track.last_seen = now
            track.observe(now, camera, det)
            touched.append(track)
        return touched

    def _bearing_gate(self, track: Track, camera: str, now: float) -> float:
        """How far in bearing a detection of `camera` may be from `track`. A track another camera sees just now
        (and this one does not) is that camera's object: the same object seen by both has nearly one bearing
        (one head frame), while a neighbour at the edge of this view must not take it over."""
        if now - track.cameras.get(camera, -math.inf) <= self.cross_camera_within:
            return self.max_bearing_jump
        elsewhere = any(c != camera and now - t <= self.cross_camera_within for c, t in track.cameras.items())
        return min(self.max_bearing_jump, self.cross_camera_bearing) if elsewhere else self.max_bearing_jump

    def _remembered(self, det: Detection, name: str) -> int | None:
        """The id of the nearest forgotten track at the detection's place, back among the tracks; or None."""
        costs = [
            (self._cost(t, det, name, self.max_bearing_jump, t.recent_distance()), i) for i, t in self.forgotten.items()
        ]
        cost, track_id = min(costs, default=(math.inf, -1))
        if not math.isfinite(cost):
            return None
        self.tracks[track_id] = self.forgotten.pop(track_id)
        return track_id

    def _cost(self, track: Track, det: Detection, name: str, bearing_gate: float, distance: float) -> float:
        """`distance`: the track's recent_distance (worked out once per update, not once per detection)."""
        if track.class_name != name:
            return math.inf
        bearing_jump = abs(track.bearing_deg - det.bearing_deg)
        if bearing_jump > bearing_gate:
            return math.inf
        if math.isfinite(distance) and math.isfinite(det.distance_m):
            # Against the recent median (one jittery frame does not break the track) or the newest distance
            # (a fast object is already far from its median), whichever is nearer.
            jump = abs(distance - det.distance_m)
            if math.isfinite(track.distance_m):
                jump = min(jump, abs(track.distance_m - det.distance_m))
            if det.distance_is_bound:  # anything nearer than a bound fits it
                jump = max(0.0, min(distance, track.distance_m if math.isfinite(track.distance_m) else distance)
                           - det.distance_m)  # fmt: skip
            if jump > max(self.max_distance_jump, self.max_distance_ratio * distance):
                return math.inf
            return bearing_jump / self.max_bearing_jump + jump / self.max_distance_jump
        return bearing_jump / self.max_bearing_jump + 1.0
