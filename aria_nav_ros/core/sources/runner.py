"""Runs a frame source in a thread of its own; retries live sources with backoff."""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Callable

from aria_nav_ros.core.sources.base import Emit, FrameSource, Item, SourceError

Log = Callable[[str, str], None]  # (level, message): level is "info", "warning" or "error"
BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 15.0)


class SourceRunner:
    """Open the source, run it, and on failure say why; retry when `reconnect`.

    A live source that ends or fails is opened again after 1, 2, 4, 8, then
    every 15 s; the delay starts over once frames flow again. A recording
    that fails is reported once and left alone. With `give_up_at_start`, a
    source that cannot open at the first try (a missing file, no glasses) is
    not retried: `failure` says why, so that a graph never runs without it.

    `opened` is set once the source is open (a recording: its file read; live
    glasses: their first item); with `hold`, items flow only after `release()`
    (a replay waits for perception, and still fails fast on a missing file).
    """

    def __init__(
        self,
        open_source: Callable[[], FrameSource],
        emit: Emit,
        log: Log,
        reconnect: bool,
        backoff_s: tuple[float, ...] = BACKOFF_S,
        give_up_at_start: bool = False,
        hold: bool = False,
    ) -> None:
        self.open_source = open_source
        self.emit = emit
        self.log = log
        self.reconnect = reconnect
        self.backoff_s = backoff_s
        self.source: FrameSource | None = None
        self.stop_event = threading.Event()
        self.give_up_at_start = give_up_at_start
        self.ended = threading.Event()  # set when the runner gives up or the recording is over
        self.opened = threading.Event()
        self.released = threading.Event()
        if not hold:
            self.released.set()
        self.failure = ""  # why the source could not open, or failed for good ("" while all is well)
        self.attempts = 0
        self.delivered = 0
        self._thread = threading.Thread(target=self._run, name="frame_source", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def release(self) -> None:
        """Let items flow (see `hold`)."""
        self.released.set()

    @property
    def started(self) -> bool:
        return self._thread.ident is not None

    def stop(self, timeout_s: float = 10.0) -> bool:
        """Stop the source; False if it did not stop within the timeout."""
        self.stop_event.set()
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def _say(self, level: str, message: str) -> None:
        """Log through the caller's logger; a logger that fails must not end the runner."""
        try:
            self.log(level, message)
        except Exception as error:
            print(f"[{level}] {message} (logger failed: {error!r})", file=sys.stderr, flush=True)

    def _count(self, item: Item) -> None:
        self.delivered += 1
        self.opened.set()
        self.emit(item)

    def _wait_for_release(self) -> bool:
        while not self.released.wait(0.1):
            if self.stop_event.is_set():
                return False
        return not self.stop_event.is_set()

    def _run(self) -> None:
        failures = 0
        while not self.stop_event.is_set():
            self.attempts += 1
            delivered_before = self.delivered
            failure = ""
            try:
                self.source = self.open_source()
                if not self.reconnect:  # a recording is open once read; live glasses once they deliver
                    self.opened.set()
                if not self._wait_for_release():
                    break
                self.source.run(self._count, self.stop_event)
                if self.stop_event.is_set():
                    break
                if not self.reconnect:
                    self._say("info", f"{self.source.name}: finished after {self.delivered} items")
                    break
                raise SourceError(f"{self.source.name} stopped delivering frames")
            except SourceError as error:
                failure = str(error)
                self._say("error", failure)
            except Exception as error:  # a bug or a library failure: say so, never die silently
                failure = f"frame source failed unexpectedly: {error!r}"
                self._say("error", f"{failure}\n{traceback.format_exc()}")
            if not self.reconnect or (self.give_up_at_start and not self.opened.is_set()):
                self.failure = failure
                break
            failures = 0 if self.delivered > delivered_before else failures + 1
            delay = self.backoff_s[min(max(failures - 1, 0), len(self.backoff_s) - 1)]
            self._say("warning", f"trying again in {delay:g} s")
            self.stop_event.wait(delay)
        self.ended.set()
