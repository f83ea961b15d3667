"""The source runner's retries and the device clock's stamps (core, no ROS)."""

from __future__ import annotations

import threading
import time

import numpy as np

from aria_nav_ros.core.sources import Frame, SourceError
from aria_nav_ros.core.sources.runner import SourceRunner
from aria_nav_ros.core.timebase import DeviceClock


class FlakySource:
    """Fails `failures` times, then delivers `frames` frames and ends."""

    def __init__(self, log: list, failures: int, frames: int) -> None:
        self.name = "flaky glasses"
        self.log = log
        self.failures = failures
        self.frames = frames

    def calibration(self) -> dict:
        return {}

    def run(self, emit, stop: threading.Event) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise SourceError("flaky glasses: ConnectionLost")
        for i in range(self.frames):
            emit(Frame("rgb", np.zeros((2, 2, 3), np.uint8), "rgb8", i))


def wait_for(condition, timeout_s: float = 10.0) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.01)
    return False


def test_live_source_is_retried_with_growing_backoff() -> None:
    log: list[tuple[str, str]] = []
    source = FlakySource(log, failures=3, frames=2)
    items: list = []
    runner = SourceRunner(lambda: source, items.append, lambda lvl, msg: log.append((lvl, msg)), True, (0.05, 0.1, 0.2))
    runner.start()
    assert wait_for(lambda: len(items) >= 2)
    assert runner.stop(5)
    errors = [m for lvl, m in log if lvl == "error"]
    retries = [m for lvl, m in log if lvl == "warning"]
    assert errors[:3] == ["flaky glasses: ConnectionLost"] * 3
    assert retries[:3] == ["trying again in 0.05 s", "trying again in 0.1 s", "trying again in 0.2 s"]
    assert runner.attempts >= 4


def test_recording_failure_is_reported_once_and_not_retried() -> None:
    log: list[tuple[str, str]] = []

    def open_missing():
        raise SourceError("bag /nowhere/walk does not exist")

    runner = SourceRunner(open_missing, lambda item: None, lambda lvl, msg: log.append((lvl, msg)), False)
    runner.start()
    assert runner.ended.wait(5)
    assert log == [("error", "bag /nowhere/walk does not exist")]
    assert runner.attempts == 1


def test_unexpected_exception_is_logged_not_swallowed() -> None:
    log: list[tuple[str, str]] = []

    def broken():
        raise ZeroDivisionError("bug")

    runner = SourceRunner(broken, lambda item: None, lambda lvl, msg: log.append((lvl, msg)), reconnect=False)
    runner.start()
    assert runner.ended.wait(5)
    assert log and log[0][0] == "error" and "ZeroDivisionError" in log[0][1]


def test_live_stamps_keep_device_spacing_and_never_lead_arrival() -> None:
    clock = DeviceClock(live=True)
    device = [1_000_000_000 + i * 100_000_000 for i in range(20)]
    # Arrivals jitter by up to 30 ms behind the device clock (offset 5 s).
    jitter = [0, 30, 5, 12, 0, 25, 3, 1, 29, 0, 7, 18, 2, 0, 11, 30, 6, 0, 9, 4]
    arrival = [d + 5_000_000_000 + j * 1_000_000 for d, j in zip(device, jitter, strict=True)]
    stamps = [clock.stamp("rgb", d, a) for d, a in zip(device, arrival, strict=True)]
    assert all(s <= a for s, a in zip(stamps, arrival, strict=True))
    assert all(b > a for a, b in zip(stamps, stamps[1:], strict=False))
    # Spacing is the device's own, to within the creep the drift allowance permits (0.1 ms here).
    assert all(abs(b - a - 100_000_000) <= 100_000 for a, b in zip(stamps, stamps[1:], strict=False))


def test_stamps_strictly_increase_per_stream_and_reanchor_on_a_new_session() -> None:
    clock = DeviceClock(live=True)
    a = clock.stamp("rgb", 10_000_000_000, 50_000_000_000)
    b = clock.stamp("rgb", 10_000_000_000, 50_000_000_000)  # a repeated device time
    assert b == a + 1
    # The glasses restart: their clock starts again near zero.
    c = clock.stamp("rgb", 1_000_000, 60_000_000_000)
    assert c == 60_000_000_000


def test_replayed_stamps_are_publication_times() -> None:
    clock = DeviceClock(live=False)
    assert clock.stamp("rgb", 5, 1_000) == 1_000
    assert clock.stamp("rgb", 6, 1_000) == 1_001
    assert clock.stamp("slam_left", 6, 1_000) == 1_000
