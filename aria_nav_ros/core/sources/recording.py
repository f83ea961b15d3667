"""Shared by every source read from a file: pacing, looping, emptiness."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace

from aria_nav_ros.core.camera_model import CameraModel
from aria_nav_ros.core.mounting import Mount
from aria_nav_ros.core.sources.base import Emit, Item, SourceError

LOOP_GAP_NS = 100_000_000  # device time between the last item of a pass and the first of the next


class Recording:
    """A file of items in device-time order, played at `speed` x recorded speed.

    speed 1.0 plays at the recorded pace, 2.0 twice as fast, 0 as fast as the
    consumer takes them. With `loop`, device times keep growing across passes
    so that stamps downstream stay monotonic.
    """

    reconnects = False

    def __init__(self, name: str, speed: float = 1.0, loop: bool = False) -> None:
        if speed < 0:
            raise ValueError(f"speed must be >= 0, got {speed}")
        self.name = name
        self.speed = speed
        self.loop = loop

    def items(self) -> Iterator[Item]:
        """One pass over the file, in device-time order."""
        raise NotImplementedError

    def calibration(self) -> dict[str, CameraModel]:
        return {}

    def mounts(self) -> dict[str, Mount]:
        return {}

    def run(self, emit: Emit, stop: threading.Event) -> None:
        offset_ns = 0  # added to device times from the second pass on
        base_ns: int | None = None  # the first device time of the whole run
        start = time.monotonic()
        while not stop.is_set():
            first_ns = last_ns = None
            for item in self.items():
                if stop.is_set():
                    return
                t_ns = item.device_time_ns + offset_ns
                first_ns = t_ns if first_ns is None else first_ns
                base_ns = t_ns if base_ns is None else base_ns
                if self.speed > 0:
                    delay = start + (t_ns - base_ns) / 1e9 / self.speed - time.monotonic()
                    if delay > 0 and stop.wait(delay):
                        return
                emit(replace(item, device_time_ns=t_ns) if offset_ns else item)
                last_ns = t_ns
            if first_ns is None or last_ns is None:
                raise SourceError(f"{self.name} holds no frames")
            if not self.loop:
                return
            offset_ns += last_ns - first_ns + LOOP_GAP_NS
