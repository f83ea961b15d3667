"""Refused input: counted by kind, and logged without flooding.

Each refused message is counted. The first refusal of a kind is logged at
once with its reason; later ones of that kind at most once per `every_s`,
with how many there were since the last line. The counts go into the
node's diagnostics.
"""

from __future__ import annotations

import threading
import time

from rclpy.impl.rcutils_logger import RcutilsLogger


class Refusals:
    def __init__(self, logger: RcutilsLogger, every_s: float = 5.0) -> None:
        self.logger = logger
        self.every_s = every_s
        self.counts: dict[str, int] = {}
        self._logged: dict[str, tuple[float, int]] = {}  # kind -> (when last logged, count then)
        self._lock = threading.Lock()

    def refuse(self, kind: str, reason: str) -> None:
        with self._lock:  # callbacks, workers and a driver handing frames over (ros/handover.py) refuse at once
            count = self.counts.get(kind, 0) + 1
            self.counts[kind] = count
            now = time.monotonic()
            when, count_then = self._logged.get(kind, (-float("inf"), 0))
            if now - when < self.every_s:
                return
            self._logged[kind] = (now, count)
        since = f" ({count - count_then} refused since the last line, {count} in all)" if count > 1 else ""
        self.logger.warning(f"refused {kind}: {reason}{since}")

    def values(self) -> dict[str, int]:
        """For diagnostics: refused_<kind> -> count."""
        return {f"refused_{kind}": n for kind, n in sorted(self.counts.items())}
