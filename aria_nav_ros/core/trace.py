"""Per-frame timing records for the graph benchmark: one JSON-lines file per node.

Nodes write a record when a frame's fate is known (published, skipped,
processed, fused), stamped with `now_ns()`: the system clock, which every
process on the machine shares and which ROS time follows when no
recorded clock is in use, so records of different processes can be joined
by image stamp and subtracted. With no folder given, nothing is written.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import IO


def now_ns() -> int:
    return time.time_ns()


class TraceLog:
    """Appends one JSON object per line to `<folder>/<name>.jsonl`; a no-op when `folder` is empty."""

    def __init__(self, folder: str, name: str) -> None:
        self._file: IO[str] | None = None
        self._lock = threading.Lock()  # callbacks and worker threads write
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            self._file = (Path(folder) / f"{name}.jsonl").open("a", buffering=1)  # line-buffered: nothing lost

    @property
    def enabled(self) -> bool:
        return self._file is not None

    def write(self, **record: object) -> None:
        if self._file is None:
            return
        line = json.dumps(record, separators=(",", ":")) + "\n"
        with self._lock:
            if self._file is not None:  # closed meanwhile (a teardown racing another thread's write)
                self._file.write(line)

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


class StampBatch:
    """Stamps of small, frequent messages (IMU) for `trace`, written as one `{key: [...]}` record per flush."""

    def __init__(self, trace: TraceLog, key: str) -> None:
        self.trace = trace
        self.key = key
        self._stamps: list[int] = []
        self._lock = threading.Lock()  # added from a source thread or callback, flushed from a timer

    def add(self, stamp: int) -> None:
        if self.trace.enabled:
            with self._lock:
                self._stamps.append(stamp)

    def flush(self) -> None:
        with self._lock:
            stamps, self._stamps = self._stamps, []
        if stamps:
            self.trace.write(**{self.key: stamps})


def read_trace(path: Path) -> list[dict]:
    """The records of one trace file (a last line cut short by a killed process is left out)."""
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records
