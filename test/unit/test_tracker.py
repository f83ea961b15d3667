"""What the policy asks of a track and of the wearer's motion many times a second: worked out once per new
observation, never stale."""

from __future__ import annotations

import copy
import math

import pytest

from aria_nav_ros.core.detection import DISTANCE_CLASS_SIZE, EDGE_BOTTOM, Detection
from aria_nav_ros.core.navigation.motion import MotionState
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
