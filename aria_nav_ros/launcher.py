"""The graph without ROS 2 launch: `python -m aria_nav_ros.launcher` (or `ros2 run aria_nav_ros aria_nav_graph`).

Starts the processes `graph.describe_graph` lists, each in its own process
group, restarts those marked `respawn` when they die, shows progress, and on
Ctrl-C, SIGTERM, the end of a replay (`--exit-at-end`) or `--duration` stops
them all (SIGINT, then SIGKILL after a grace period) so that nothing is left
behind. At the end it writes the run folder's summary (run_report).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path

from aria_nav_ros.graph import RESPAWN_DELAY_S, SETTING_HELP, GraphSettings, Process, describe_graph

STOP_GRACE_S = 15.0
DRAIN_S = 3.0  # after a replay ends: time for the last results and cues
MAX_RESPAWN_DELAY_S = 15.0
PROGRESS_EVERY_S = 5.0

Say = Callable[[str], None]


def _say(message: str) -> None:
    print(f"[graph] {message}", file=sys.stderr, flush=True)


class Worker:
    """One process of the graph and its restarts."""

    def __init__(self, process: Process, say: Say) -> None:
        self.process = process
        self.say = say
        self.child: subprocess.Popen | None = None
        self.started_at = 0.0
        self.restarts = 0
        self.restart_at: float | None = None
        self.delay = RESPAWN_DELAY_S

    def start(self) -> None:
        # A process group of its own: Ctrl-C in the terminal reaches the launcher, which stops the rest in order.
        self.child = subprocess.Popen(self.process.command(), start_new_session=True)
        self.started_at = time.monotonic()
        self.restart_at = None

    @property
    def running(self) -> bool:
        return self.child is not None and self.child.poll() is None

    def check(self, now: float) -> int | None:
        """The exit code if the process has just ended for good; restarts it when it should."""
        if self.restart_at is not None:
            if now >= self.restart_at:
                self.restarts += 1
                self.say(f"restarting {self.process.name} (restart {self.restarts})")
                self.start()
            return None
        if self.child is None or self.child.poll() is None:
            return None
        code = self.child.returncode
        if not self.process.respawn:
            return code
        # A process that dies right after starting is likely misconfigured: back off rather than spin.
        self.delay = min(self.delay * 2, MAX_RESPAWN_DELAY_S) if now - self.started_at < 10.0 else RESPAWN_DELAY_S
        self.say(f"{self.process.name} exited with code {code}: restarting in {self.delay:g} s")
        self.restart_at = now + self.delay
        return None

    def interrupt(self) -> None:
        self.restart_at = None
        if self.running:
            os.killpg(self.child.pid, signal.SIGINT)

    def wait_or_kill(self, deadline: float) -> int:
        if self.child is None:
            return 0
        try:
            self.child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.say(f"{self.process.name} (pid {self.child.pid}) did not stop in {STOP_GRACE_S:g} s: killing it")
            os.killpg(self.child.pid, signal.SIGKILL)
            self.child.wait()
        return self.child.returncode


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def run_graph(
    processes: list[Process],
    duration_s: float = 0.0,
    progress: Callable[[float], str] | None = None,
    say: Say = _say,
    until: Callable[[], bool] | None = None,
) -> int:
    """Run the graph until Ctrl-C/SIGTERM, `duration_s` (0: no limit), `until()` or the driver's end.

    Returns the worst exit code.
    """
    workers = [Worker(p, say) for p in processes]
    previous = signal.signal(signal.SIGTERM, _interrupt)
    start = time.monotonic()
    end_at = start + duration_s if duration_s > 0 else float("inf")
    next_progress = start + PROGRESS_EVERY_S
    failed = 0
    try:
        for worker in workers:
            worker.start()
        while time.monotonic() < end_at and not (until is not None and until()):
            now = time.monotonic()
            for worker in workers:
                code = worker.check(now)
                if code is None:
                    continue
                worker.child = None  # reported once
                if worker.process.executable == "aria_driver" and code == 0:
                    say(f"the source has ended: stopping in {DRAIN_S:g} s")
                    end_at = min(end_at, now + DRAIN_S)
                else:
                    failed = max(failed, abs(code))
                    say(f"{worker.process.name} exited with code {code} and is not restarted")
            if progress is not None and now >= next_progress:
                up = sum(w.running for w in workers)
                restarts = sum(w.restarts for w in workers)
                state = f"{up}/{len(workers)} processes up, {restarts} restarts"
                say(f"{now - start:5.0f} s: {progress(now - start)}; {state}")
                next_progress += PROGRESS_EVERY_S
            time.sleep(0.1)
    except KeyboardInterrupt:
        say("interrupted: stopping every process")
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the teardown short
        for worker in reversed(workers):  # consumers first, the driver last
            worker.interrupt()
        deadline = time.monotonic() + STOP_GRACE_S
        codes = [worker.wait_or_kill(deadline) for worker in workers]
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    return max([failed, *(abs(c) for c in codes if c not in (0, -signal.SIGINT))])


def parse_settings(argv: list[str] | None) -> tuple[GraphSettings, float]:
    defaults = GraphSettings()
    parser = argparse.ArgumentParser(description="Run the aria_nav_ros graph without ros2 launch.")
    for f in fields(defaults):
        flag = "--" + f.name.replace("_", "-")
        value = getattr(defaults, f.name)
        if isinstance(value, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=value, help=SETTING_HELP[f.name])
        else:
            parser.add_argument(flag, type=type(value), default=value, help=SETTING_HELP[f.name] + " (%(default)s)")
    parser.add_argument("--duration", type=float, default=0.0, help="seconds to run (0: until the end or Ctrl-C)")
    args = vars(parser.parse_args(argv))
    duration = args.pop("duration")
    return GraphSettings(**args), duration


def main(argv: list[str] | None = None) -> int:
    from aria_nav_ros.run_report import cue_progress, write_report

    settings, duration = parse_settings(argv)
    run = Path(settings.output)
    if run.exists() and any(run.iterdir()):
        raise SystemExit(f"run folder {run} is not empty: choose a new --output")
    run.mkdir(parents=True, exist_ok=True)
    _say(f"run folder {run}")
    code = run_graph(describe_graph(settings), duration, progress=lambda _: cue_progress(run))
    print(write_report(run, settings), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
