"""What a process of the graph and whatever started it agree on: exit codes, the ready pipe, the parent.

The one module of the graph runtime that nodes import. ROS-free, and it imports nothing of the package.
"""

from __future__ import annotations

import os

EXIT_SOURCE = 3  # the driver's exit code when its source cannot open or fails for good: the graph ends
EXIT_NETWORK = 4  # the launcher's when discovery would leave this machine without DDS security (network_guard)
READY_FD_ENV = "ARIA_NAV_READY_FD"  # a pipe from the launcher: the driver writes one line, READY or FAILED + why
READY = "ready"
FAILED = "failed: "
PARENT_ENV = "ARIA_NAV_PARENT_PID"  # the launcher's pid: a process of the graph dies with it (process.py)


def tell_launcher(line: str) -> None:
    """Writes `line` (READY, or FAILED + why) on the launcher's pipe, once, if the launcher gave one."""
    fd = os.environ.pop(READY_FD_ENV, None)
    if fd is None:
        return
    try:
        os.write(int(fd), (line + "\n").encode())
        os.close(int(fd))
    except (OSError, ValueError):
        pass  # the launcher is gone or gave a bad descriptor: nothing to tell


def ready_problem(line: str) -> str:
    """What the driver's line on the pipe says went wrong: "" when its source is open."""
    return "" if line == READY else line.removeprefix(FAILED)
