"""Walking or standing: from the wearer's measured speed where the glasses measure it (Aria Gen 2's on-device
VIO, published as aria/odometry), else from the spread of the IMU's acceleration magnitude (the step rule).

The measured speed is the head's horizontal velocity, kept in the level head frame (forward along where the head
points, turned level; left), so that a policy can also ask how fast the wearer closes on a still object at a
bearing (`closing_speed`): the time to contact of a wall or a pole is its distance over that.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from typing import Any

VELOCITY_S = 0.1  # the velocity for a bearing is the mean over this much of the newest samples (Gen 2: 800 Hz)
RESTART_S = 10.0  # images' time going back by more than this: a replay started again, not a late result


def level_velocity(
    orientation: tuple[float, float, float, float], velocity: tuple[float, float, float]
) -> tuple[float, float]:
    """(forward, left) m/s: a velocity given in the head frame (x forward, y left, z up; `orientation` the head's
    unit quaternion x, y, z, w in a z-up odometry frame) in the level head frame: the vertical part dropped,
    forward along the head's x axis turned level (the wearer looks down at the floor as they walk)."""
    x, y, z, w = orientation
    # The head's axes in odom (the rotation matrix's first two columns) and the velocity turned into odom.
    r00, r10 = 1 - 2 * (y * y + z * z), 2 * (x * y + w * z)
    r01, r11 = 2 * (x * y - w * z), 1 - 2 * (x * x + z * z)
    r02, r12 = 2 * (x * z + w * y), 2 * (y * z - w * x)
    vx = r00 * velocity[0] + r01 * velocity[1] + r02 * velocity[2]
    vy = r10 * velocity[0] + r11 * velocity[1] + r12 * velocity[2]
    heading = math.atan2(r10, r00) if math.hypot(r00, r10) > 1e-6 else math.atan2(-r01, r11)  # looking straight down
    c, s = math.cos(heading), math.sin(heading)
    return c * vx + s * vy, -s * vx + c * vy


class MotionState:
    def __init__(self, window_s: float, walking_std: float, walking_speed: float) -> None:
        self.window_s = window_s
        self.walking_std = walking_std
        self.walking_speed = walking_speed
        self._samples: deque[tuple[float, float]] = deque()  # IMU: (t, |acceleration|)
        self._velocities: deque[tuple[float, float, float]] = deque()  # VIO: (t, forward, left)
        self._frame_t = math.nan  # the newest image's time (see `seen`): a clock where the IMU has stopped too
        # What is judged of the samples (walking, the velocity), until the next sample or image: the policy asks
        # for each track at every camera's update, and each answer runs over a window of ~1000 IMU samples.
        self._judged: dict[str, object] = {}

    def _judge(self, key: str, work: Callable[[], object]) -> Any:
        if key not in self._judged:
            self._judged[key] = work()
        return self._judged[key]

    def add(self, t: float, accel: tuple[float, float, float]) -> None:
        magnitude = math.sqrt(sum(a * a for a in accel))
        if not math.isfinite(magnitude):
            return  # a broken sample says nothing about walking
        self._judged.clear()
        if self._samples and t < self._samples[-1][0]:
            self._samples.clear()  # time went back (a replay restarted): the window starts afresh
        self._samples.append((t, magnitude))
        while self._samples and self._samples[0][0] < t - self.window_s:
            self._samples.popleft()

    def add_velocity(self, t: float, forward: float, left: float) -> None:
        """The wearer's measured horizontal velocity (m/s, level head frame: see level_velocity) at time t."""
        if not (math.isfinite(forward) and math.isfinite(left)):
            return
        self._judged.clear()
        if self._velocities and t < self._velocities[-1][0]:
            self._velocities.clear()  # time went back (a replay restarted): so did the images'
            self._frame_t = math.nan
        self._velocities.append((t, forward, left))
        while self._velocities and self._velocities[0][0] < t - self.window_s:
            self._velocities.popleft()

    def seen(self, t: float) -> None:
        """An image taken at t (the policy's detections): the velocities' age is also judged by the newest, so
        that they go stale where the IMU stopped with them (the glasses' motion streams lost, the cameras still
        running). Cameras' results come out of order (a slow detector's late); a jump back by far more than any
        latency is a replay that started again."""
        if not t <= self._frame_t or t < self._frame_t - RESTART_S:  # (NaN: none seen yet)
            self._frame_t = t
            self._judged.clear()

    def _measured(self) -> list[tuple[float, float, float]]:
        """The velocities of the window, while they are current: none once the IMU, or the images, have gone on
        for a window without them (the VIO lost track, or glasses without it), so that the step rule takes over."""
        return self._judge("measured", self._current_velocities)

    def _current_velocities(self) -> list[tuple[float, float, float]]:
        if not self._velocities:
            return []
        # Stale where the IMU or the images have gone on a window without them; from the run before where the
        # IMU's time went back (a replay restarted). Images may be older than the velocities (perception's
        # latency, on a loaded machine seconds): only newer ones tell.
        newest = self._velocities[-1][0]
        if self._samples and abs(self._samples[-1][0] - newest) > self.window_s:
            return []
        if self._frame_t - newest > self.window_s:  # False while no image was seen (NaN)
            return []
        return list(self._velocities)

    @property
    def velocity(self) -> tuple[float, float] | None:
        """The newest measured (forward, left) velocity, m/s (mean over its last VELOCITY_S: bearings are relative to
        where the head points now, so an older velocity in the head frame would point elsewhere); None where none
        is measured."""
        return self._judge("velocity", self._velocity)

    def _velocity(self) -> tuple[float, float] | None:
        measured = self._measured()
        if not measured:
            return None
        recent = [v for v in measured if v[0] >= measured[-1][0] - VELOCITY_S]
        return (sum(v[1] for v in recent) / len(recent), sum(v[2] for v in recent) / len(recent))

    @property
    def speed(self) -> float | None:
        """The wearer's measured horizontal speed (m/s, the mean over the window of each sample's: a head turning
        from side to side while walking straight on does not slow it); None where none is measured."""
        return self._judge("speed", self._speed)

    def _speed(self) -> float | None:
        measured = self._measured()
        if not measured:
            return None
        return sum(math.hypot(v[1], v[2]) for v in measured) / len(measured)

    def closing_speed(self, bearing_deg: float) -> float | None:
        """How fast (m/s) the wearer nears a still point at this bearing (negative left, positive right), from
        the measured velocity; None where none is measured. Negative: moving away from it."""
        velocity = self.velocity
        if velocity is None:
            return None
        b = math.radians(bearing_deg)
        return velocity[0] * math.cos(b) - velocity[1] * math.sin(b)

    @property
    def source(self) -> str:
        """What `walking` is judged by now: "vio" (the measured speed) or "imu" (the step rule)."""
        return "vio" if self._measured() else "imu"

    @property
    def walking(self) -> bool:
        return self._judge("walking", self._walking)

    def _walking(self) -> bool:
        speed = self.speed
        if speed is not None:
            return speed > self.walking_speed
        if len(self._samples) < 5:
            return False
        values = [m for _, m in self._samples]
        mean = sum(values) / len(values)
        return math.sqrt(sum((v - mean) ** 2 for v in values) / len(values)) > self.walking_std
