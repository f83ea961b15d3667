"""How every process of the package starts and stops: signals, parent death, a stop deadline.

Whatever a process inherited (`nohup ... &` leaves SIGINT ignored), SIGINT and
SIGTERM ask it to stop. What the first one does depends on how far it has come:

- STARTING (imports, no node yet): nothing to tidy; it exits 0 at once.
- BUILDING (nodes being made, models loading): KeyboardInterrupt cuts that short.
- RUNNING: a flag the spin loop reads. Never an exception: one raised inside a
  callback, or while rclpy converts a message, ends as a FATAL line or a
  RuntimeError ("Unable to convert call argument") instead of a clean exit.

A second signal ends the process at once (exit 1): whoever sends it (the
launcher's SIGTERM half-way through its grace, a user's second Ctrl-C) finds
the tidy exit too slow. One within a second of the first is the same stop
said twice and is ignored: a group's SIGINT and a parent-death SIGTERM, or
the parent-death signal itself, which the kernel sends once per thread of
the orphan that carries it (seen 35 ms apart when a subreaper adopts it).
Once a stop is asked, a deadline ends the process hard if the tidy exit
hangs, after writing every thread's stack to stderr (exit 1). It is
faulthandler's watchdog, a C thread: it fires even while the main thread is
stuck inside C holding the GIL, where no Python thread, timer or signal
handler can run. That is how a Fast DDS (3.2) deadlock shows at a stop: a
receive thread that removes a remote writer holds the PDP mutex and waits
for the participant's event thread to go idle (TimedEvent::recreate_timer),
while the event thread, in the periodic participant announcement, waits
for the PDP mutex; the next entity deletion (destroy_subscription, a
lifecycle state machine's publisher) then waits for the event thread for
ever, GIL held (eProsima/Fast-DDS#6502 describes the same cycle).
SIGUSR1 writes every thread's stack to stderr (faulthandler too): the
launcher asks for it before it kills a process that would not stop. A process started
with ARIA_NAV_PARENT_PID in its environment (the launcher sets it) dies
with that parent, even when the parent is SIGKILLed.
"""

from __future__ import annotations

import ctypes
import faulthandler
import os
import signal
import sys
import threading
import time
from pathlib import Path

from aria_nav_ros.graph.protocol import PARENT_ENV

STARTING, BUILDING, RUNNING, STOPPING = range(4)
# A process that has not ended this long after a stop ends hard, with its stacks. The launcher and ros2 launch
# send SIGTERM 5 s after their SIGINT, which a process whose Python still runs obeys at once; one stuck in C
# ends itself 1 s later, well before their SIGKILL at 10 s: the whole graph is down within 10 s even then.
STOP_DEADLINE_S = 6.0
HEADLINE_S = 0.5  # the deadline's headline comes this long before it
REPEAT_S = 1.0  # a second signal within this of the first is the same stop, said twice
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


def _prctl(option: int, value: int) -> bool:
    """Linux prctl(2); False where it is not available."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent() -> None:
    """SIGTERM this process when the parent named in ARIA_NAV_PARENT_PID dies (however it dies).

    The variable is taken out of the environment: it names this process's parent, not its children's.
    """
    parent = os.environ.pop(PARENT_ENV, "")
    if not parent.isdigit():
        return
    _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() == int(parent):
        return
    try:
        os.kill(int(parent), 0)
    except ProcessLookupError:  # it died before the prctl above: it will never signal
        print(f"[{os.getpid()}] parent {parent} is gone: exiting", file=sys.stderr, flush=True)
        os._exit(1)
    # Started through a wrapper (bash, timeout): tied to the wrapper, which lives as long as the parent.


def child_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a child that must die with this process."""
    return {**(os.environ if env is None else env), PARENT_ENV: str(os.getpid())}


def become_subreaper() -> bool:
    """Orphaned descendants are re-parented to this process (not init): tests can then find them."""
    return _prctl(_PR_SET_CHILD_SUBREAPER, 1)


# What /proc says of processes: the launcher's children, whether one still runs (tests, fault drill).
def children(pid: int) -> list[int]:
    """The direct children of a process (of any of its threads); [] when it is gone."""
    pids: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return []
    for task in tasks:
        try:
            pids += [int(p) for p in (task / "children").read_text().split()]
        except OSError:  # the thread ended meanwhile
            pass
    return pids


def running(pid: int) -> bool:
    """Still running: neither gone nor a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def command_line(pid: int) -> str:
    """The process's command line, words joined by spaces; "" when it is gone."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


class Stop:
    """The process's answer to SIGINT and SIGTERM (see the module's text)."""

    def __init__(self, deadline_s: float = STOP_DEADLINE_S) -> None:
        self.requested = threading.Event()
        self.phase = STARTING
        self.deadline_s = deadline_s
        self.signal_name = ""
        self._first_at = 0.0
        self._armed = False
        self._headline: threading.Timer | None = None

    def install(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)
        faulthandler.register(signal.SIGUSR1, all_threads=True)

    def _on_signal(self, signum: int, _frame: object) -> None:
        if self.requested.is_set():  # a second signal: the tidy exit is taking too long for someone
            if time.monotonic() - self._first_at < REPEAT_S:
                return
            print(f"[{os.getpid()}] {signal.Signals(signum).name} again: exiting now; its stacks:", file=sys.stderr,
                  flush=True)  # fmt: skip
            faulthandler.dump_traceback(all_threads=True)  # where the tidy exit was
            os._exit(1)
        self._first_at = time.monotonic()
        self.signal_name = signal.Signals(signum).name
        self.requested.set()
        if self.phase == STARTING:
            os._exit(0)
        self._arm_deadline()
        if self.phase == BUILDING:
            raise KeyboardInterrupt

    def request(self) -> None:
        """A stop asked from inside (a replay that ended): the same path as a signal."""
        if not self.requested.is_set():
            self._first_at = time.monotonic()
            self.requested.set()
            self._arm_deadline()

    def _arm_deadline(self) -> None:
        if self._armed:
            return
        self._armed = True
        # The hard exit itself: faulthandler's watchdog thread (C, no GIL) writes every thread's stack, then _exit(1).
        faulthandler.dump_traceback_later(self.deadline_s, exit=True)

        # Its headline, which only Python can write with the pid: said where Python still runs (a stop that is
        # merely slow); a process stuck in C holding the GIL ends without it, its stacks then say where.
        def headline() -> None:
            said = f"still stopping {self.deadline_s - HEADLINE_S:g} s after the stop: unless it ends within"
            print(f"[{os.getpid()}] {said} {HEADLINE_S:g} s, its stacks follow and it exits (code 1)", file=sys.stderr,
                  flush=True)  # fmt: skip

        self._headline = threading.Timer(max(0.0, self.deadline_s - HEADLINE_S), headline)
        self._headline.daemon = True
        self._headline.start()

    def disarm(self) -> None:
        """The stop is done (what follows, a report, is no teardown that can hang): no hard exit."""
        if self._armed:
            faulthandler.cancel_dump_traceback_later()
            if self._headline is not None:
                self._headline.cancel()
            self._armed = False


STOP = Stop()  # one per process


def start_process() -> Stop:
    """Call first thing in a process of the graph: signals handled, tied to the launcher when it asks."""
    STOP.install()
    die_with_parent()
    return STOP
