"""Each frame's stage timings over the last few seconds: the frame rate and each stage's median (diagnostics)."""

from __future__ import annotations

import time
from collections import deque

import numpy as np

WINDOW_S = 5.0


class FrameTimes:
    def __init__(self) -> None:
        # Appended by the worker, trimmed by the reporter: a deque's ends are safe across the two threads.
        self._window: deque[tuple[float, dict[str, float]]] = deque()

    def add(self, timings_ms: dict[str, float]) -> None:
        self._window.append((time.monotonic(), timings_ms))

    def values(self) -> dict[str, float]:
        """fps, and <stage>_ms: the median of each stage of the newest frame over the window."""
        now = time.monotonic()
        while self._window and now - self._window[0][0] > WINDOW_S:
            self._window.popleft()
        window = list(self._window)
        values = {"fps": len(window) / WINDOW_S}
        for stage in window[-1][1] if window else {}:
            values[f"{stage}_ms"] = float(np.median([ms.get(stage, 0.0) for _, ms in window]))
        return values
