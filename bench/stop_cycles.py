"""Consecutive start/stop cycles of the whole graph: a stop that cannot hang (issue 30) holds for every one.

Each cycle is one of bench/stop_bench.py's tries (its `one_stop`): the main
job's graph (package launcher, every node in its own process, real DDS) on
the sample walk with light CPU settings, "System ready", one SIGTERM to the
launcher, timed until the launcher has exited (its report written). A cycle
counts as forced when any process needed more than the first signal: the
launcher's SIGTERM or SIGKILL, or its own stop deadline (then it exits 1, its
stacks in the log). The machine's load average is recorded beside each
cycle, so that a slow cycle can be told apart: a hang in a teardown is
forced, a starved one is merely late. Prints a table, writes JSON (summary:
cycles, over_10s, max_s) and a plot.

    source scripts/env.sh && python bench/stop_cycles.py --cycles 50
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # stop_bench, beside this file (PYTHONSAFEPATH=1)

from stop_bench import LIGHT, ROOT, one_stop  # noqa: E402

LIMIT_S = 10.0  # issue 30: no cycle over this


def cycle(index: int, folder: Path, env: dict[str, str]) -> dict:
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    result = one_stop(folder / f"cycle_{index}", env)
    return {
        "cycle": index,
        **result,
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
    axis.bar(index, [c["stop_s"] for c in cycles], color=colours, label="stop time (red: forced)")
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
    print(f"{'cycle':>5} {'stop':>7} {'exit':>5} {'load1':>6} {'cycle':>7}  escalated")
    cycles: list[dict] = []
    for index in range(args.cycles):
        cycles.append(result := cycle(index, folder, env))
        said = "; ".join(result["escalated"]) or "-"
        print(f"{index:>5} {result['stop_s']:>6.2f}s {result['exit_code']:>5} {result['load1_before']:>6.2f}"
              f" {result['cycle_s']:>6.1f}s  {said}", flush=True)  # fmt: skip
    summary = summarize(cycles)
    print(f"\n{summary['cycles']} cycles: {summary['over_10s']} over {LIMIT_S:g} s, max {summary['max_s']:.2f} s,"
          f" p50 {summary['p50_s']:.2f} s, p90 {summary['p90_s']:.2f} s, {summary['forced']} forced,"
          f" median load {summary['load1_median']:.2f} on {os.cpu_count()} cores")  # fmt: skip
    report = {
        "command": "python bench/stop_cycles.py " + shlex.join(argv if argv is not None else sys.argv[1:]),
        "machine_cores": os.cpu_count(),
        "ros_domain_id": int(env["ROS_DOMAIN_ID"]),
        "graph": LIGHT,
        "summary": summary,
        "cycles": cycles,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    plot(cycles, args.out.with_suffix(".png"))
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")
    return 0 if summary["over_10s"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
