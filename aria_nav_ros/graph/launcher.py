"""The graph without ROS 2 launch: `python -m aria_nav_ros.launcher` (or `ros2 run aria_nav_ros aria_nav_graph`).

Starts the processes `supervision.prepare` lists, each in its own process
group and tied to the launcher (they die with it, even when it is
SIGKILLed: graph.process). The driver goes first: when its source
cannot open (a missing file, no glasses) the launcher says why in one line
and exits with EXIT_SOURCE before any model loads. After a process exits it
does what `supervision.after_exit` decides (restart it, end the graph, or
nothing), shows progress, and on Ctrl-C, SIGTERM, the end of a replay
(`--exit-at-end`) or `--duration` stops them all (SIGINT, SIGTERM after half
the grace time, SIGKILL at its end). At the end it writes the run folder's
summary (run_report).
"""

from __future__ import annotations

import argparse
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path

from aria_nav_ros.graph.description import SETTING_HELP, GraphSettings, Process, fresh_output
from aria_nav_ros.graph.process import RUNNING, STOP, STOPPING, child_env, start_process
from aria_nav_ros.graph.protocol import EXIT_NETWORK, EXIT_SOURCE, READY_FD_ENV, ready_problem
from aria_nav_ros.graph.supervision import (
    END,
    RESPAWN_DELAY_S,
    RESTART,
    AfterExit,
    after_exit,
    enclave,
    graph_environment,
    prepare,
    restart,
)

STOP_GRACE_S = 10.0  # the documented time for the whole graph to stop
PROGRESS_EVERY_S = 5.0
SOURCE_OPEN_TIMEOUT_S = 60.0  # live glasses may take a while to connect
KEEP_RUNS = 10  # run folders named by the time that stay in outputs/ (each about 24 MB on the sample)
RUN_NAME = re.compile(r"run_\d{8}_\d{6}")  # what fresh_output names a run folder

Say = Callable[[str], None]


def _say(message: str) -> None:
    print(f"[graph] {message}", file=sys.stderr, flush=True)


class Worker:
    """One process of the graph and its restarts."""

    def __init__(self, process: Process, say: Say) -> None:
        self.process = process
        self.started = process  # what was started last: the process as restarted after a death
        self.say = say
        self.child: subprocess.Popen | None = None
        self.started_at = 0.0
        self.restarts = 0
        self.restart_at: float | None = None
        self.delay = RESPAWN_DELAY_S

    def start(self, ready_fd: int | None = None) -> None:
        # A process group of its own: Ctrl-C in the terminal reaches the launcher, which stops the rest in order.
        env = child_env(graph_environment(os.environ))
        env.update(enclave(self.started, env))  # SROS2: its enclave
        if ready_fd is not None:
            env[READY_FD_ENV] = str(ready_fd)
        fds = () if ready_fd is None else (ready_fd,)
        self.child = subprocess.Popen(self.started.command(), start_new_session=True, env=env, pass_fds=fds)
        self.started_at = time.monotonic()
        self.restart_at = None

    @property
    def running(self) -> bool:
        return self.child is not None and self.child.poll() is None

    def check(self, now: float) -> AfterExit | None:
        """What the process's exit means (supervision.after_exit) once it has exited and is not started again;
        None while it runs or waits for its restart, which this starts when it is due."""
        if self.restart_at is not None:
            if now >= self.restart_at:
                self.restarts += 1
                self.say(f"restarting {self.process.name} (restart {self.restarts})")
                self.started, lines = restart(self.process)
                for line in lines:
                    self.say(line)
                self.start()
            return None
        if self.child is None or self.child.poll() is None:
            return None
        verdict = after_exit(self.process, self.child.returncode, now - self.started_at, self.delay)
        if verdict.action != RESTART:
            return verdict
        self.delay = verdict.delay_s
        self.say(verdict.line)
        self.restart_at = now + verdict.delay_s
        return None

    def signal(self, sig: int) -> None:
        self.restart_at = None
        if self.running:
            try:
                os.killpg(self.child.pid, sig)
            except ProcessLookupError:  # it ended just now
                pass

    def wait(self, deadline: float) -> int | None:
        """The exit code, or None if it still runs at the deadline."""
        if self.child is None:
            return 0
        try:
            return self.child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return None


def stop_workers(workers: list[Worker], say: Say, grace_s: float = STOP_GRACE_S) -> list[int]:
    """SIGINT to every process group (consumers first), SIGTERM after half the grace, SIGKILL at its end."""
    start = time.monotonic()
    for worker in reversed(workers):  # consumers first, the driver last
        worker.signal(signal.SIGINT)
    codes: dict[int, int] = {}
    for sig, until in ((signal.SIGTERM, start + grace_s / 2), (signal.SIGKILL, start + grace_s)):
        for i, worker in enumerate(workers):
            if i not in codes and (code := worker.wait(until)) is not None:
                codes[i] = code
        late = [w for i, w in enumerate(workers) if i not in codes]
        if not late:
            break
        names = ", ".join(f"{w.process.name} (pid {w.child.pid})" for w in late)
        say(f"{names} still running {until - start:g} s after the stop: sending {signal.Signals(sig).name}")
        if sig == signal.SIGKILL:  # first, where it hangs: every thread's stack into the log (faulthandler)
            for worker in late:
                worker.signal(signal.SIGUSR1)
            time.sleep(0.5)
        for worker in late:
            worker.signal(sig)
    for i, worker in enumerate(workers):
        if i not in codes:
            codes[i] = worker.child.wait() if worker.child else 0
        if codes[i] != 0:  # a node asked to stop exits 0: anything else is a fault to see
            say(f"{worker.process.name} exited with code {codes[i]} at the stop")
    return [codes[i] for i in range(len(workers))]


def await_source(driver: Worker, stopped: Callable[[], bool], timeout_s: float = SOURCE_OPEN_TIMEOUT_S) -> str:
    """Start the driver and wait until its source is open: "" when it is (or a stop came), else why not."""
    read_end, write_end = os.pipe()
    try:
        driver.start(ready_fd=write_end)
    finally:
        os.close(write_end)  # the driver holds the only write end: EOF when it exits
    end = time.monotonic() + timeout_s
    text = b""
    try:
        while b"\n" not in text:
            if stopped():
                return ""
            if time.monotonic() > end:
                return f"the source did not open within {timeout_s:g} s"
            if select.select([read_end], [], [], 0.2)[0]:
                chunk = os.read(read_end, 4096)
                if not chunk:
                    break
                text += chunk
    finally:
        os.close(read_end)
    line = text.decode(errors="replace").strip()
    if not line:  # EOF without a word: the driver died before it could say
        code = driver.child.wait(timeout=STOP_GRACE_S) if driver.child else None
        return f"the driver exited with code {code} before its source opened (its log above says why)"
    return ready_problem(line)


def run_graph(
    processes: list[Process],
    duration_s: float = 0.0,
    progress: Callable[[float], str] | None = None,
    say: Say = _say,
    until: Callable[[], bool] | None = None,
    started: Callable[[], None] | None = None,
) -> int:
    """Run the graph until Ctrl-C/SIGTERM, `duration_s` (0: no limit), `until()` or the driver's end.

    Returns the worst exit code: EXIT_SOURCE when the source could not open. Signals are handled as
    aria_nav_ros.graph.process says when the caller has called start_process() (main() does); a stop asked
    before the call returns at once.
    """
    stop = STOP
    if stop.requested.is_set():
        return 0
    stop.phase = RUNNING
    stop.deadline_s = STOP_GRACE_S + 5.0  # the launcher's own stop outlasts its children's grace
    workers = [Worker(p, say) for p in processes]
    start = time.monotonic()
    end_at = start + duration_s if duration_s > 0 else float("inf")
    next_progress = start + PROGRESS_EVERY_S
    failed = 0
    try:
        drivers = [w for w in workers if w.process.has_driver]
        for driver in drivers:
            problem = await_source(driver, stop.requested.is_set)
            if problem:
                stop_workers([driver], say=lambda _: None)  # it ends by itself (or hangs: then it is made to)
                driver.child = None
                say(f"cannot start: {problem}")
                return EXIT_SOURCE
        if stop.requested.is_set():  # asked while the source opened: start nothing more
            return 0
        if started is not None:  # the source is open: the rest of the graph starts
            started()
        for worker in workers:
            if worker not in drivers:
                worker.start()
        while time.monotonic() < end_at and not stop.requested.is_set() and not (until is not None and until()):
            now = time.monotonic()
            for worker in workers:
                verdict = worker.check(now)
                if verdict is None:
                    continue
                worker.child = None  # reported once
                failed = max(failed, verdict.code)
                if verdict.line:
                    say(verdict.line)
                if verdict.action == END:
                    end_at = min(end_at, now + verdict.delay_s)
            if progress is not None and now >= next_progress:
                up = sum(w.running for w in workers)
                restarts = sum(w.restarts for w in workers)
                state = f"{up}/{len(workers)} processes up, {restarts} restarts"
                say(f"{now - start:5.0f} s: {progress(now - start)}; {state}")
                next_progress += PROGRESS_EVERY_S
            time.sleep(0.1)
        if stop.requested.is_set():
            say(f"{stop.signal_name or 'stop'}: stopping every process")
    finally:
        stop.phase = STOPPING
        codes = stop_workers(workers, say)
        stop.disarm()
    return max([failed, *(abs(c) for c in codes)])


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
    parser.add_argument("--keep", type=int, default=KEEP_RUNS, help="run folders named by the time"
                        " (outputs/run_<date>_<time>) to keep, this one included; older ones are removed at the end"
                        " (0: keep all) (%(default)s)")  # fmt: skip
    args = vars(parser.parse_args(argv))
    duration, keep = args.pop("duration"), args.pop("keep")
    if keep < 0:
        parser.error(f"--keep {keep}: 0 (keep all) or more")
    return GraphSettings(**args), duration, keep


def prune_runs(run: Path, keep: int) -> list[Path]:
    """Removes the oldest run folders named by the time beside `run` (itself one of them), so that `keep` remain;
    the ones removed. A folder the user named (--output) is never touched, nor anything else in outputs/."""
    if keep <= 0 or not RUN_NAME.fullmatch(run.name):
        return []
    runs = sorted(p for p in run.parent.iterdir() if p.is_dir() and RUN_NAME.fullmatch(p.name) and p != run)
    old = runs[: max(0, len(runs) - (keep - 1))]
    for path in old:
        shutil.rmtree(path, ignore_errors=True)
    return old


def main(argv: list[str] | None = None) -> int:
    from aria_nav_ros.graph.run_report import cue_progress, write_report

    start_process()
    settings, duration, keep = parse_settings(argv)
    settings = fresh_output(settings)
    plan = prepare(settings, os.environ)  # may it leave this machine; its processes; room in shared memory
    if not plan.allowed:
        _say(f"cannot start: {plan.refusal}")
        return EXIT_NETWORK
    run = Path(settings.output)
    if run.exists() and any(run.iterdir()):
        raise SystemExit(f"run folder {run} is not empty: choose a new --output")
    for line in plan.lines:
        _say(line)
    processes = plan.processes
    made = not run.exists()
    run.mkdir(parents=True, exist_ok=True)
    said = lambda: _say(f"run folder {run}")  # noqa: E731  (once the source is open: a failed start leaves none)
    code = run_graph(processes, duration, progress=lambda _: cue_progress(run), started=said)
    if not any(run.iterdir()):  # nothing ran (the source did not open, or a stop came first): nothing to keep
        if made:
            run.rmdir()
        return code  # the last line said why
    print(write_report(run, settings), flush=True)
    if removed := prune_runs(run, keep):
        print(f"[graph] removed {len(removed)} older run folders (--keep {keep}): "
              + ", ".join(p.name for p in removed), flush=True)  # fmt: skip
    return code


if __name__ == "__main__":
    sys.exit(main())
