"""Consecutive start/stop cycles of the whole graph: a stop that cannot hang (issue 30) holds for every one.

Each cycle is one of bench/stop_bench.py's tries (its `one_stop`): the main
job's graph (package launcher, every node in its own process, real DDS) on
the sample walk with light CPU settings, "System ready", one SIGTERM to the
launcher, timed until the launcher has exited (its report written). A cycle
counts as forced when any process needed more than the first signal: the
launcher's SIGTERM or SIGKILL, or its own stop deadline (then it exits 1, its
stacks in the log). A watcher reads /proc for the launcher's processes: the
time from the last one's end to the launcher's exit is its report (summary,
annotated videos), so that a slow cycle can be told apart: a hang in a
teardown is forced, a long report is not the processes' stop, and the load
average beside each cycle shows a starved machine. Prints a table, writes
JSON (summary: cycles, over_10s, max_s) and a plot.

    source scripts/env.sh && python bench/stop_cycles.py --cycles 50
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # stop_bench, report: beside this file (PYTHONSAFEPATH=1)

from report import command, machine, write  # noqa: E402
from stop_bench import LIGHT, ROOT, one_stop  # noqa: E402

from aria_nav_ros.graph.process import children, command_line, running  # noqa: E402

LIMIT_S = 10.0  # issue 30: no cycle over this


class Watcher(threading.Thread):
    """From /proc: when the launcher writing into `run` last had a process of the graph running, and when it
    ended (one_stop keeps the launcher to itself)."""

    def __init__(self, run: Path) -> None:
        super().__init__(daemon=True)
        self.needle = f"--output {run} "
        self.done = threading.Event()
        self.processes: set[int] = set()
        self.last_process_at = 0.0
        self.exited_at = 0.0

    def _launcher(self) -> int | None:
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and "aria_nav_ros.launcher" in (text := command_line(int(entry.name))):
                if self.needle in text + " ":
                    return int(entry.name)
        return None

    def run(self) -> None:
        launcher = None
        while launcher is None and not self.done.wait(0.1):
            launcher = self._launcher()
        while launcher is not None and running(launcher):
            self.processes.update(children(launcher))
            if any(running(pid) for pid in self.processes):
                self.last_process_at = time.monotonic()
            time.sleep(0.02)
        self.exited_at = time.monotonic()


def cycle(index: int, folder: Path, env: dict[str, str]) -> dict:
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    watcher = Watcher(folder / f"cycle_{index}")
    watcher.start()
    result = one_stop(folder / f"cycle_{index}", env)
    watcher.done.set()
    watcher.join(10)
    report_s = watcher.exited_at - watcher.last_process_at if watcher.last_process_at else None
    return {
        "cycle": index,
        **result,
        "report_s": None if report_s is None else round(report_s, 2),  # the launcher alone, after its processes
        "forced": bool(result["escalated"]) or result["exit_code"] != 0,
        "cycle_s": round(time.monotonic() - started, 1),  # start to ready to stopped
        "load1_before": round(load_before, 2),
        "load1_after": round(os.getloadavg()[0], 2),
    }


def summarize(cycles: list[dict]) -> dict:
    times = [c["stop_s"] for c in cycles]
    return {
        "cycles": len(cycles),
        "over_10s": sum(t > LIMIT_S for t in times),
        "max_s": max(times),
        "processes_max_s": max(round(c["stop_s"] - (c["report_s"] or 0.0), 2) for c in cycles),
        "report_max_s": max(c["report_s"] or 0.0 for c in cycles),
        "p50_s": round(float(np.median(times)), 2),
        "p90_s": round(float(np.percentile(times, 90)), 2),
        "forced": sum(c["forced"] for c in cycles),
        "nonzero_exits": sum(c["exit_code"] != 0 for c in cycles),
        "load1_median": round(float(np.median([c["load1_before"] for c in cycles])), 2),
    }


def plot(cycles: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(9, 3.8))
    index = [c["cycle"] for c in cycles]
    colours = ["tab:red" if c["forced"] else "tab:blue" for c in cycles]
    reports = [c["report_s"] or 0.0 for c in cycles]
    processes = [c["stop_s"] - (c["report_s"] or 0.0) for c in cycles]
    axis.bar(index, processes, color=colours, label="processes ended (red: forced)")
    axis.bar(index, reports, bottom=processes, color="tab:orange", label="then the launcher's report")
    axis.axhline(LIMIT_S, color="tab:red", linestyle="--", label=f"target: under {LIMIT_S:g} s")
    axis.set_xlabel("cycle")
    axis.set_ylabel("seconds from SIGTERM to the launcher's exit")
    axis.set_ylim(0, max(LIMIT_S + 1, max(c["stop_s"] for c in cycles) + 1))
    load = axis.twinx()
    load.plot(index, [c["load1_before"] for c in cycles], color="tab:gray", marker=".", label="load average (1 min)")
    load.set_ylabel(f"load average ({os.cpu_count()} cores)")
    load.set_ylim(bottom=0)
    handles = axis.get_legend_handles_labels()
    extra = load.get_legend_handles_labels()
    axis.legend(handles[0] + extra[0], handles[1] + extra[1], loc="upper left", fontsize=8)
    axis.set_title(f"Whole graph, {len(cycles)} consecutive start/stop cycles")
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=50)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "stop_cycles_cpu.json")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="stop_cycles_"))
    # A DDS domain of its own (the tests take 30-99): another graph on this machine, in domain 0, is not in its
    # topics, nor is it in theirs.
    env = {**os.environ, "ROS_DOMAIN_ID": os.environ.get("ROS_DOMAIN_ID") or str(random.randint(10, 29))}
    print(f"{'cycle':>5} {'stop':>7} {'report':>7} {'exit':>5} {'load1':>6} {'cycle':>7}  escalated")
    cycles: list[dict] = []
    failed: list[dict] = []  # cycles whose graph never became ready: no stop to time (the log's tail says why)
    for index in range(args.cycles):
        try:
            cycles.append(result := cycle(index, folder, env))
        except RuntimeError as error:
            failed.append({"cycle": index, "error": str(error)[-3000:]})
            print(f"{index:>5} no start: {str(error).splitlines()[-1]}", flush=True)
            continue
        said = "; ".join(result["escalated"]) or "-"
        report = "?" if result["report_s"] is None else f"{result['report_s']:.2f}s"
        print(f"{index:>5} {result['stop_s']:>6.2f}s {report:>7} {result['exit_code']:>5}"
              f" {result['load1_before']:>6.2f} {result['cycle_s']:>6.1f}s  {said}", flush=True)  # fmt: skip
    summary = {**summarize(cycles), "failed_starts": len(failed)}
    print(f"\n{summary['cycles']} cycles: {summary['over_10s']} over {LIMIT_S:g} s, max {summary['max_s']:.2f} s,"
          f" p50 {summary['p50_s']:.2f} s, p90 {summary['p90_s']:.2f} s, {summary['forced']} forced, processes ended"
          f" within {summary['processes_max_s']:.2f} s, launcher's report at most {summary['report_max_s']:.2f} s,"
          f" median load {summary['load1_median']:.2f} on {os.cpu_count()} cores")  # fmt: skip
    report = {
        "command": command(__file__, argv),
        "machine": machine(),
        "ros_domain_id": int(env["ROS_DOMAIN_ID"]),
        "graph": LIGHT,
        "summary": summary,
        "cycles": cycles,
        "failed_starts": failed,
    }
    write(args.out, report)
    plot(cycles, args.out.with_suffix(".png"))
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")
    return 0 if summary["over_10s"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
