"""Fast DDS shared memory left behind by processes that died: found, given back, and the room left.

Each process's DDS participant (one per rclpy context) owns segment files,
`/dev/shm/fastdds_<16 hex>` (with the project's profile, one of 35.1 MB and
one of 0.55 MB), and holds an exclusive flock on `fastdds_<id>_el` for each
while it lives; it takes the lock before it makes the segment, and drops it
after the segment is gone. Fast DDS removes them when the participant is
deleted. When the process dies first (SIGKILL, the out-of-memory killer, a
hard exit), a live peer that had mapped a dead segment removes it after a
few seconds, but a segment nobody had mapped stays until reboot, and
/dev/shm is RAM: on the machine the tests run on, 1,476 of them (23.6 GB)
piled up over a day of test runs, until the machine stalled and the graph no
longer started. A segment whose lock anyone can take has no live owner;
removing it is what Fast DDS's own `fastdds shm clean` does. The launcher and
the launch file do it before they start the graph and before they restart a
dead process, and say so; the test session does it around every test.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SHM_DIR = Path("/dev/shm")
SEGMENT = re.compile(r"fastdds_[0-9a-f]{16}")  # a participant's segment (ports are fastdds_port<N>: not ours)
LOCK_SUFFIX = "_el"
PROCESS_BYTES = 35_127_840 + 549_408  # one process's segments under config/fastdds_large_images.xml (measured)
# The lock is held before its segment exists, so a segment with a free lock has a dead owner; the age is a
# margin for Fast DDS versions that do it otherwise, short enough for a process dying in a restart loop.
MIN_AGE_S = 1.0


@dataclass(frozen=True)
class Freed:
    segments: int = 0
    bytes: int = 0

    def line(self) -> str:
        """What the user is told; "" when nothing was freed."""
        if not self.segments:
            return ""
        return (f"freed {self.bytes / 1e6:.0f} MB of shared memory (/dev/shm): {self.segments} DDS segments "
                "left by processes that died")  # fmt: skip


def _free_lock(lock: Path) -> int | None:
    """An open descriptor holding `lock`'s flock when nobody else held it, else None."""
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _dead(directory: Path, min_age_s: float) -> Iterator[tuple[Path, Path]]:
    """The segments whose owner is gone (their lock is free and was made over `min_age_s` ago), each with its
    lock file, yielded while this process holds that lock: nothing can take it up meanwhile."""
    try:
        names = os.listdir(directory)
    except OSError:  # no /dev/shm (not Linux): nothing of Fast DDS's there
        return
    now = time.time()
    for name in filter(SEGMENT.fullmatch, names):
        lock = directory / (name + LOCK_SUFFIX)
        try:
            if now - lock.stat().st_ctime < min_age_s:
                continue
        except OSError:  # no lock file: a segment being made, or one Fast DDS is removing
            continue
        fd = _free_lock(lock)
        if fd is None:
            continue
        try:
            yield directory / name, lock
        finally:
            os.close(fd)


def stale_segments(directory: Path = SHM_DIR, min_age_s: float = MIN_AGE_S) -> list[Path]:
    """The segments whose owner is gone (their lock is free and was made over `min_age_s` ago)."""
    return [segment for segment, _lock in _dead(directory, min_age_s)]


def segments_of(pids: list[int], directory: Path = SHM_DIR) -> dict[int, list[Path]]:
    """Each process's own segments: those whose lock it holds (/proc/locks names the holder's pid)."""
    segments: dict[tuple[int, int, int], Path] = {}  # a lock file's (major, minor, inode): its segment
    try:
        names = os.listdir(directory)
        held = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return {pid: [] for pid in pids}
    for name in filter(SEGMENT.fullmatch, names):
        try:
            st = (directory / (name + LOCK_SUFFIX)).stat()
        except OSError:  # no lock (yet, or any more)
            continue
        segments[(os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)] = directory / name
    owned: dict[int, list[Path]] = {pid: [] for pid in pids}
    for line in held:  # "1: FLOCK  ADVISORY  WRITE <pid> <major hex>:<minor hex>:<inode> 0 EOF"
        words = line.split()
        if "->" in words or len(words) < 6 or words[1] != "FLOCK":  # a waiter, or another kind of lock
            continue
        major, minor, inode = words[5].split(":")
        key = (int(major, 16), int(minor, 16), int(inode))
        if (pid := int(words[4])) in owned and key in segments:
            owned[pid].append(segments[key])
    return owned


def free_stale_segments(directory: Path = SHM_DIR, min_age_s: float = MIN_AGE_S) -> Freed:
    """Remove the stale segments and their locks (the lock held while both go); what that gave back."""
    count = size = 0
    for segment, lock in _dead(directory, min_age_s):
        try:
            bytes_ = segment.stat().st_size
            segment.unlink()
            lock.unlink(missing_ok=True)
        except OSError:  # a live peer's Fast DDS was quicker, or the files are not ours to remove
            continue
        count, size = count + 1, size + bytes_
    return Freed(count, size)


def room_line(processes: int, directory: Path = SHM_DIR) -> str:
    """A warning when /dev/shm lacks room for the segments of `processes` processes; "" when it has it."""
    try:
        free = shutil.disk_usage(directory).free
    except OSError:
        return ""
    need = processes * PROCESS_BYTES
    if free >= need:
        return ""
    return (f"only {free / 1e6:.0f} MB free in shared memory (/dev/shm); the graph's {processes} processes need "
            f"about {need / 1e6:.0f} MB to pass full frames: images may be lost (free memory, or close other "
            "DDS programs)")  # fmt: skip


def make_room(processes: int, directory: Path = SHM_DIR) -> list[str]:
    """Before a graph of `processes` starts (the launcher and the launch file): free what dead processes left,
    and the lines to say about it and about the room left."""
    return [line for line in (free_stale_segments(directory).line(), room_line(processes, directory)) if line]
