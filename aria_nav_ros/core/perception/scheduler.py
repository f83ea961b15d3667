"""Which frames perception takes, and the thread that takes them: the newest frame only, never a queue.

A frame offered while the worker is busy waits in one slot; a newer one replaces it (the older is skipped, and
said so). `min_gap_ns` (a detection rate) skips frames that come too soon after the last one taken, on arrival,
where they cost nothing. The worker counts frames that fail in a row: at `failed_after` it tells once that the
camera is not working (a GPU gone), and once that it works again when a frame succeeds. ROS-free: the node
gives it what to do with a frame, a skipped frame and those two news.

Python's garbage collector runs whenever allocations pass a threshold, in whichever thread allocates, holding
the GIL: in a process where navigation's callbacks allocate at 600 Hz, collections land inside a frame's
inference. bench/gpu_tail.py (H100, the RGB engine beside a navigation-like thread): p99 19.5 ms with Python's
own collection, 10.3 ms with it off and the worker collecting between frames. `own_collection()` turns the
automatic collector off for the process (ARIA_NAV_GC=auto keeps it, to measure); a worker with `collect` set
then collects the young generations after each frame and when idle, and everything every FULL_EVERY_S.
"""

from __future__ import annotations

import gc
import os
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

Frame = TypeVar("Frame")
GC_ENV = "ARIA_NAV_GC"
FULL_EVERY_S = 10.0  # a full collection (cheap once the models are frozen: bench/gc_pause.py) this often
IDLE_S = 0.5  # an idle worker collects this often (no frames: a camera lost, the node deactivated)


def own_collection() -> bool:
    """Turns Python's automatic collection off for the process unless ARIA_NAV_GC=auto; True when it did (the
    caller's worker must then collect: set its `collect`)."""
    if os.environ.get(GC_ENV, "between") == "auto":
        return False
    gc.disable()
    return True


class NewestFrameWorker(Generic[Frame]):
    def __init__(
        self,
        process: Callable[[Frame, int], None],
        skip: Callable[[Frame, int], None],
        min_gap_ns: int = 0,
        failed_after: int = 2,
        on_failing: Callable[[Exception, int], None] = lambda error, count: None,
        on_recovered: Callable[[], None] = lambda: None,
        on_error: Callable[[Frame, int, Exception], None] = lambda frame, received_ns, error: None,
        name: str = "perception_worker",
    ) -> None:
        """`process(frame, received_ns)` may raise: `on_error(frame, received_ns, error)` hears every failure;
        `skip(frame, received_ns)` hears every frame left alone."""
        self.process, self.skip = process, skip
        self.min_gap_ns, self.failed_after = min_gap_ns, failed_after
        self.on_failing, self.on_recovered, self.on_error = on_failing, on_recovered, on_error
        self.name = name
        self.failing = 0  # frames failed in a row
        self.restarts = 0
        self.collect = False  # collect garbage between frames (after own_collection())
        self._last_full = time.monotonic()
        self._slot: tuple[Frame, int] | None = None
        self._last_taken = -(2**62)
        self._wake = threading.Condition()
        self._running = True
        self._thread = self._start()

    def offer(self, frame: Frame, received_ns: int) -> None:
        """A frame came: it waits for the worker (in place of any older one), or is skipped for the rate."""
        if received_ns - self._last_taken < self.min_gap_ns:
            self.skip(frame, received_ns)
            return
        self._last_taken = received_ns
        with self._wake:
            skipped, self._slot = self._slot, (frame, received_ns)
            self._wake.notify()
        if skipped is not None:
            self.skip(*skipped)

    def ensure_alive(self) -> bool:
        """Starts the worker again if it ended (it never should); True when it had to."""
        if not self._running or self._thread.is_alive():
            return False
        self.restarts += 1
        self._thread = self._start()
        return True

    def stop(self, timeout_s: float = 5.0) -> None:
        self._running = False
        with self._wake:
            self._wake.notify()
        self._thread.join(timeout_s)

    def _start(self) -> threading.Thread:
        thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        thread.start()
        return thread

    def _run(self) -> None:
        while self._running:
            with self._wake:
                if self._slot is None and self._running:
                    self._wake.wait(IDLE_S)  # a frame, a stop, or idle: the loop comes round either way
                taken, self._slot = self._slot, None
            if taken is not None:
                self._take(taken)
            if self.collect:  # after the frame, or idle for IDLE_S: never inside a frame
                self._collect()

    def _take(self, taken: tuple[Frame, int]) -> None:
        try:
            self.process(*taken)
        except Exception as error:  # never let one bad frame (or a full GPU) end perception silently
            self.failing += 1
            self.on_error(*taken, error)
            if self.failing == self.failed_after:
                self.on_failing(error, self.failing)
            return
        if self.failing >= self.failed_after:
            self.on_recovered()
        self.failing = 0

    def _collect(self) -> None:
        now = time.monotonic()
        if now - self._last_full >= FULL_EVERY_S:
            self._last_full = now
            gc.collect()
        else:
            gc.collect(1)
