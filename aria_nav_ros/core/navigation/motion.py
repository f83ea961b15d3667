"""Walking or standing, from the spread of the IMU's acceleration magnitude."""

from __future__ import annotations

import math
from collections import deque


class MotionState:
    def __init__(self, window_s: float, walking_std: float) -> None:
        self.window_s = window_s
        self.walking_std = walking_std
        self._samples: deque[tuple[float, float]] = deque()

    def add(self, t: float, accel: tuple[float, float, float]) -> None:
        magnitude = math.sqrt(sum(a * a for a in accel))
        if not math.isfinite(magnitude):
            return  # a broken sample says nothing about walking
        if self._samples and t < self._samples[-1][0]:
            self._samples.clear()  # time went back (a replay restarted): the window starts afresh
        self._samples.append((t, magnitude))
        while self._samples and self._samples[0][0] < t - self.window_s:
            self._samples.popleft()

    @property
    def walking(self) -> bool:
        if len(self._samples) < 5:
            return False
        values = [m for _, m in self._samples]
        mean = sum(values) / len(values)
        return math.sqrt(sum((v - mean) ** 2 for v in values) / len(values)) > self.walking_std
