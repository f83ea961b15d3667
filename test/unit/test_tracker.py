"""What the policy asks of a track and of the wearer's motion many times a second: worked out once per new
observation, never stale."""

from __future__ import annotations

import copy
import math

import pytest

from aria_nav_ros.core.detection import DISTANCE_CLASS_SIZE, EDGE_BOTTOM, Detection
from aria_nav_ros.core.navigation.motion import MotionState
from aria_nav_ros.core.navigation.tracker import Track, Tracker

FITS = tuple(  # each fit, with two sets of arguments: a cached answer must be the one its arguments ask for
    fit
    for a, b in ((0.5, 0.2), (2.0, 0.6))
    for fit in (
        lambda t, a=a, b=b: t.approach_speed(a, b),
        lambda t, a=a: t.steady_distance(a),
        lambda t, a=a: t.recent_distance(int(a * 4)),
        lambda t, a=a, b=b: t.bearing_rate(a, b),
        lambda t, a=a, b=b: t.scale_ttc(a, b),
    )
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
    for i in range(100):  # a person coming straight on at 1 m/s, box growing; from 3 m the feet leave the frame
        t, d = i / 30, 5.0 - i / 30
        width = 100.0 / d
        cut = EDGE_BOTTOM if d < 3.0 else 0
        measured = math.nan if i % 7 == 3 else d  # now and then no distance at all (recent_distance's fallback)
        det = Detection(0, "person", 0.9, (300 - width / 2, 100, 300 + width / 2, 480), measured,
                        DISTANCE_CLASS_SIZE, 0.5 * math.sin(i), distance_is_bound=bool(cut), cut_edges=cut)  # fmt: skip
        [track] = tracker.update(t, "rgb", [(det, "person")])
        assert not track.fits  # a new observation: nothing of before counts
        first = [fit(track) for fit in FITS]
        assert len(track.fits) == len(FITS)  # one answer per fit and arguments
        assert all(same(a, b) for a, b in zip(first, [fit(track) for fit in FITS], strict=True))  # kept...
        assert all(same(a, b) for a, b in zip(first, [fit(fresh(track)) for fit in FITS], strict=True))  # ...right
        values.append(first)
    speeds, steadies = [v[0] for v in values], [v[1] for v in values]
    assert speeds[0] == 0.0 and math.isclose(speeds[30], 1.0, rel_tol=1e-6)  # once the points span 0.2 s
    assert speeds[-1] == 0.0  # half a second of bounds (feet out of the frame): no speed from them
    assert steadies[-1] < steadies[10]  # each observation moved them
    assert math.isfinite(values[-1][4]) and values[-1][4] > 0  # time to contact from the box's growth
    assert values[-1][1] != values[-1][6]  # the windows' answers differ: the arguments are part of the key


def test_the_motion_judgement_follows_every_sample_and_image() -> None:
    """walking and the velocity are worked out once until the next IMU sample, velocity or image (MotionState),
    and are what a state that remembers nothing would say."""
    motion = MotionState(window_s=1.0, walking_std=0.6, walking_speed=0.25)

    def judged() -> tuple:
        answers = (motion.walking, motion.source, motion.velocity, motion.speed)
        twin = copy.deepcopy(motion)
        twin._judged.clear()
        assert (twin.walking, twin.source, twin.velocity, twin.speed) == answers
        return answers

    walking = []
    for i in range(300):  # standing (the magnitude barely moves), then steps (it swings by 1.5 m/s^2)
        swing = 0.01 * math.sin(i) if i < 100 else 1.5 * math.sin(2 * math.pi * 2 * i / 100)
        motion.add(i / 100, (0.0, 0.0, 9.81 + swing))
        walking.append(judged()[0])
    assert walking[99] is False and walking[-1] is True and walking.index(True) > 100  # it followed the samples
    motion.seen(2.99)
    for i in range(50):  # the VIO says the wearer stands still: its speed decides from the first velocity on
        motion.add_velocity(2.5 + i / 100, 0.05, 0.0)
        assert judged() == (False, "vio", pytest.approx((0.05, 0.0)), pytest.approx(0.05))
    motion.add_velocity(3.0, 1.0, 0.0)
    assert judged()[2][0] > 0.05  # the newest velocity counts at once
    motion.seen(10.0)  # images far past the velocities: they are stale, the step rule takes over again
    assert judged()[1:3] == ("imu", None)
