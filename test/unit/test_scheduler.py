"""Perception's frame scheduling without ROS (core/perception/scheduler.py): the newest frame only, the rate gate,
failures in a row told once and the recovery once, a worker that ended started again."""

from __future__ import annotations

import threading

from aria_nav_ros.core.perception.scheduler import NewestFrameWorker

TIMEOUT_S = 10.0


class Recorder:
    """What the worker did, with a gate that holds `process` until the test opens it."""

    def __init__(self, fail: set[int] | None = None) -> None:
        self.processed: list[int] = []
        self.skipped: list[int] = []
        self.news: list[str] = []
        self.errors: list[int] = []
        self.fail = fail or set()
        self.gate = threading.Event()
        self.started = threading.Event()
        self.done = threading.Condition()

    def process(self, frame: int, received: int) -> None:
        self.started.set()
        assert self.gate.wait(TIMEOUT_S)
        with self.done:
            self.processed.append(frame)
            self.done.notify_all()
        if frame in self.fail:
            raise RuntimeError(f"CUDA error on frame {frame}")

    def error(self, frame: int, received: int, error: Exception) -> None:
        self.errors.append(frame)

    def wait_processed(self, count: int) -> bool:
        with self.done:
            return self.done.wait_for(lambda: len(self.processed) >= count, TIMEOUT_S)


def worker(recorder: Recorder, min_gap_ns: int = 0) -> NewestFrameWorker[int]:
    return NewestFrameWorker(
        recorder.process, lambda frame, received: recorder.skipped.append(frame), min_gap_ns, 2,
        lambda error, count: recorder.news.append(f"failing {count}: {error}"),
        lambda: recorder.news.append("recovered"), recorder.error,
    )  # fmt: skip


def one_by_one(count: int, fail: set[int]) -> tuple[Recorder, NewestFrameWorker[int]]:
    """Frames 1..count, each offered once the one before is processed; `fail` raise."""
    recorder = Recorder(fail)
    recorder.gate.set()
    frames = worker(recorder)
    try:
        for frame in range(1, count + 1):
            frames.offer(frame, frame * 1000)
            assert recorder.wait_processed(frame)
    finally:
        frames.stop()
    return recorder, frames


def test_a_busy_worker_takes_the_newest_frame_and_skips_the_ones_between() -> None:
    recorder = Recorder()
    frames = worker(recorder)
    try:
        frames.offer(1, 0)
        assert recorder.started.wait(TIMEOUT_S)  # frame 1 is being processed (held at the gate)
        for frame in (2, 3, 4):
            frames.offer(frame, frame)
        recorder.gate.set()
        assert recorder.wait_processed(2)
    finally:
        frames.stop()
    assert recorder.processed == [1, 4] and recorder.skipped == [2, 3]  # never a queue


def test_frames_closer_than_the_rate_gap_are_skipped_on_arrival() -> None:
    recorder = Recorder()
    recorder.gate.set()
    frames = worker(recorder, min_gap_ns=100)
    try:
        for frame, received in ((1, 1000), (2, 1050), (3, 1100), (4, 1150), (5, 1250)):
            frames.offer(frame, received)
            if received in (1000, 1100):  # let the worker take it before the next comes
                assert recorder.wait_processed(len(recorder.processed) + 1)
        assert recorder.wait_processed(3)
    finally:
        frames.stop()
    assert recorder.processed == [1, 3, 5] and recorder.skipped == [2, 4]


def test_failures_in_a_row_are_told_once_and_the_recovery_once() -> None:
    recorder, frames = one_by_one(6, fail={2, 3, 4})
    assert recorder.errors == [2, 3, 4]  # every failure heard (counted, logged by the node)
    assert recorder.news == ["failing 2: CUDA error on frame 3", "recovered"]
    assert frames.failing == 0


def test_a_single_failed_frame_is_no_news() -> None:
    recorder, _ = one_by_one(3, fail={2})
    assert recorder.errors == [2] and recorder.news == []


def test_a_worker_that_ended_is_started_again() -> None:
    recorder = Recorder()
    recorder.gate.set()
    frames = worker(recorder)
    frames._running = False  # it ends, as a thread killed by a bug would
    with frames._wake:
        frames._wake.notify()
    frames._thread.join(TIMEOUT_S)
    frames._running = True
    assert frames.ensure_alive() and frames.restarts == 1
    assert not frames.ensure_alive()  # running again: nothing to do
    try:
        frames.offer(7, 0)
        assert recorder.wait_processed(1)
    finally:
        frames.stop()
    assert recorder.processed == [7]


class Cycle:
    """Garbage only the collector frees: an object in a reference cycle."""

    def __init__(self) -> None:
        self.me = self


def test_collects_between_frames_not_inside_them(monkeypatch) -> None:
    """With Python's collector off (own_collection), the worker frees a frame's cyclic garbage after the frame:
    a cycle made inside `process` is still alive when `process` returns and gone soon after."""
    import gc
    import weakref

    from aria_nav_ros.core.perception import scheduler

    monkeypatch.delenv(scheduler.GC_ENV, raising=False)
    was_enabled = gc.isenabled()
    freed = threading.Event()
    alive_at_end: list[bool] = []
    refs: list[weakref.ref] = []  # a weak reference must outlive its object for its callback to run

    def process(frame: int, received: int) -> None:
        cycle = Cycle()
        refs.append(weakref.ref(cycle, lambda _: freed.set()))
        del cycle
        alive_at_end.append(refs[-1]() is not None)  # no collection inside the frame

    frames = NewestFrameWorker(process, lambda frame, received: None)
    try:
        assert scheduler.own_collection()
        assert not gc.isenabled()
        frames.collect = True
        frames.offer(1, 1000)
        assert freed.wait(TIMEOUT_S), "the cycle made in the frame was never collected"
        assert alive_at_end == [True]
    finally:
        frames.stop()
        if was_enabled:
            gc.enable()


def test_an_idle_worker_collects_too(monkeypatch) -> None:
    """No frames for a while (a camera lost, the node deactivated): garbage made meanwhile (navigation's, in a
    composed process) is still collected, every IDLE_S."""
    import gc
    import weakref

    from aria_nav_ros.core.perception import scheduler

    monkeypatch.delenv(scheduler.GC_ENV, raising=False)
    frames = NewestFrameWorker(lambda frame, received: None, lambda frame, received: None)
    freed = threading.Event()
    try:
        assert scheduler.own_collection()
        frames.collect = True
        cycle = Cycle()
        ref = weakref.ref(cycle, lambda _: freed.set())
        del cycle
        assert ref() is not None  # only a collection frees it
        assert freed.wait(TIMEOUT_S), "an idle worker never collected"
    finally:
        frames.stop()
        gc.enable()


def test_auto_keeps_pythons_collector(monkeypatch) -> None:
    import gc

    from aria_nav_ros.core.perception import scheduler

    monkeypatch.setenv(scheduler.GC_ENV, "auto")
    gc.enable()
    assert not scheduler.own_collection()
    assert gc.isenabled()
