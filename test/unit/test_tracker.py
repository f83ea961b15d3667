"""The tracker's per-track fits: worked out once per observation, never stale."""

from __future__ import annotations

import copy
import math

from aria_nav_ros.core.detection import DISTANCE_CLASS_SIZE, EDGE_BOTTOM, Detection
from aria_nav_ros.core.navigation.tracker import Track, Tracker

FITS = (
    lambda t: t.approach_speed(1.0, 0.2),
    lambda t: t.steady_distance(0.5),
    lambda t: t.recent_distance(),
    lambda t: t.bearing_rate(1.0, 0.3),
    lambda t: t.scale_ttc(1.0, 0.3),
)


def fresh(track: Track) -> Track:
    """The same observations, nothing remembered."""
    twin = copy.deepcopy(track)
    twin.fits.clear()
    return twin


def same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def test_fits_follow_every_observation_and_are_kept_between() -> None:
    tracker = Tracker(20.0, 1.5, 0.4, 2.0)
    values = []
    for i in range(40):  # a person coming straight on at 1 m/s, box growing, feet leaving the frame at 2 m
        t, d = i / 30, 5.0 - i / 30
        width = 100.0 / d
        cut = EDGE_BOTTOM if d < 4.2 else 0
        det = Detection(0, "person", 0.9, (300 - width / 2, 100, 300 + width / 2, 480), d, DISTANCE_CLASS_SIZE,
                        0.5 * math.sin(i), cut_edges=cut)  # fmt: skip
        [track] = tracker.update(t, "rgb", [(det, "person")])
        assert not track.fits  # a new observation: nothing of before counts
        first = [fit(track) for fit in FITS]
        assert len(track.fits) == len(FITS)
        assert all(same(a, b) for a, b in zip(first, [fit(track) for fit in FITS], strict=True))  # kept
        assert all(same(a, b) for a, b in zip(first, [fit(fresh(track)) for fit in FITS], strict=True))
        values.append(first)
    speeds, steadies = [v[0] for v in values], [v[1] for v in values]
    assert speeds[0] == 0.0 and math.isclose(speeds[-1], 1.0, rel_tol=1e-6)  # once the points span 0.2 s
    assert steadies[-1] < steadies[10]  # each observation moved them
    assert math.isfinite(values[-1][4]) and values[-1][4] > 0  # time to contact from the box's growth
