"""Counting frames of one stream and the age they arrive with."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np


@dataclass
class StreamStats:
    received: int = 0
    rejected: int = 0
    shape: tuple[int, ...] = ()
    # The newest ages only: a monitor left running for hours must not grow without bound.
    ages_ms: deque[float] = field(default_factory=lambda: deque(maxlen=100_000))
    _last_reported: int = 0

    def add(self, age_ms: float, shape: tuple[int, ...]) -> None:
        self.received += 1
        self.shape = tuple(shape)
        self.ages_ms.append(age_ms)

    def brief(self) -> str:
        """Frames since the last call, and the total."""
        new = self.received - self._last_reported
        self._last_reported = self.received
        return f"+{new} ({self.received})"

    def summary(self) -> dict[str, object]:
        ages = np.asarray(self.ages_ms) if self.ages_ms else np.zeros(1)
        return {
            "received": self.received,
            "rejected": self.rejected,
            "shape": list(self.shape),
            "age_ms_p50": float(np.percentile(ages, 50)),
            "age_ms_p95": float(np.percentile(ages, 95)),
            "age_ms_max": float(ages.max()),
        }
