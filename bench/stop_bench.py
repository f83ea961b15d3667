"""How long the whole graph takes to stop on one SIGTERM, alone and beside busy loops (a loaded machine).

Each try starts the main job's graph (package launcher, every node in its own
process, real DDS) on the sample walk with light settings, waits for "System
ready", sends SIGTERM to the launcher alone (as a supervisor does) and times
until it has exited. Two variants side by side: `immediate` (a node process
ends once its nodes are torn down) and `interpreter` (the baseline: it also
waits for Python's own teardown, ARIA_NAV_EXIT=interpreter). Reported per
variant and load: stop times, exit codes, and tries where the launcher had
to escalate (SIGTERM after 5 s, SIGKILL at 10 s). Prints a table, writes
JSON and a plot.

    source scripts/env.sh && python bench/stop_bench.py --tries 5 --loads 0 3
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from aria_nav_ros.graph.process import child_env

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "bench") not in sys.path:  # report, beside this file (PYTHONSAFEPATH=1)
    sys.path.insert(0, str(ROOT / "bench"))
from report import command, machine, write  # noqa: E402

LIGHT = ["--device", "cpu", "--rgb-imgsz", "160", "--slam-imgsz", "160", "--torch-threads", "1", "--depth-model", "",
         "--audio-sink", "wav", "--loop"]  # fmt: skip
BUSY = "import time\nend = time.monotonic() + 3600\nwhile time.monotonic() < end: pass"


VARIANTS = {"interpreter": {"ARIA_NAV_EXIT": "interpreter"}, "immediate": {}}


def one_stop(run: Path, env: dict[str, str]) -> dict:
    command = [sys.executable, "-m", "aria_nav_ros.launcher", "--path", str(ROOT / "outputs" / "sample" / "walk"),
               "--output", str(run), *LIGHT]  # fmt: skip
    launcher = subprocess.Popen(command, env=child_env(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, start_new_session=True)  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(launcher.stdout), daemon=True)
    reader.start()
    end = time.monotonic() + 180
    while not any("System ready" in line for line in list(lines)):
        if time.monotonic() > end or launcher.poll() is not None:
            launcher.kill()
            raise RuntimeError("the graph never said 'System ready':\n" + "".join(lines[-30:]))
        time.sleep(0.05)
    start = time.monotonic()
    os.kill(launcher.pid, signal.SIGTERM)
    code = launcher.wait(timeout=60)
    stopped_s = time.monotonic() - start
    reader.join(10)
    escalated = [line.strip() for line in lines if "still running" in line or "at the stop" in line]
    return {"stop_s": round(stopped_s, 2), "exit_code": code, "escalated": escalated}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tries", type=int, default=5)
    parser.add_argument("--loads", type=int, nargs="+", default=[0, 3], help="busy loops beside the graph")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "stop_cpu.json")
    args = parser.parse_args(argv)
    results: dict[str, dict[str, list[dict]]] = {v: {} for v in VARIANTS}
    folder = Path(tempfile.mkdtemp(prefix="stop_bench_"))
    for load in args.loads:
        busy = [subprocess.Popen([sys.executable, "-c", BUSY], env=child_env()) for _ in range(load)]
        try:
            for i in range(args.tries):  # the variants interleaved: both see the same machine
                for variant, extra in VARIANTS.items():
                    env = {**os.environ, **extra}
                    results[variant].setdefault(str(load), []).append(one_stop(folder / f"{variant}_{load}_{i}", env))
        finally:
            for process in busy:
                process.kill()
                process.wait()
    print(f"\n{'variant':12} {'busy loops':>10} {'tries':>6} {'stop p50':>9} {'stop max':>9} {'exit != 0':>10}"
          f" {'escalated':>10} {'p50 vs baseline':>16}")  # fmt: skip
    summary: dict[str, dict[str, dict]] = {}
    for variant, by_load in results.items():
        for load, tries in by_load.items():
            times = [t["stop_s"] for t in tries]
            row = {"tries": len(tries), "stop_p50_s": round(float(np.median(times)), 2), "stop_max_s": max(times),
                   "nonzero_exits": sum(t["exit_code"] != 0 for t in tries),
                   "escalated": sum(bool(t["escalated"]) for t in tries)}  # fmt: skip
            summary.setdefault(variant, {})[load] = row
    for variant, by_load in summary.items():
        for load, row in by_load.items():
            row["p50_vs_baseline"] = round(row["stop_p50_s"] / summary["interpreter"][load]["stop_p50_s"], 2)
            print(f"{variant:12} {load:>10} {row['tries']:>6} {row['stop_p50_s']:>8.2f}s {row['stop_max_s']:>8.2f}s"
                  f" {row['nonzero_exits']:>10} {row['escalated']:>10} {row['p50_vs_baseline']:>16.2f}")  # fmt: skip
    report = {"command": command(__file__, argv), "machine": machine(), "graph": LIGHT, "summary": summary,
              "results": results}  # fmt: skip
    write(args.out, report)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 3.5))
    labels = [f"{variant}\n{load} busy" for variant, by_load in results.items() for load in by_load]
    axis.boxplot([[t["stop_s"] for t in tries] for by_load in results.values() for tries in by_load.values()],
                 tick_labels=labels)  # fmt: skip
    axis.axhline(5.0, color="tab:red", linestyle="--", label="launcher escalates (SIGTERM)")
    axis.set_xlabel("variant, busy loops beside the graph (2 cores)")
    axis.set_ylabel("seconds from SIGTERM to exit")
    axis.set_title("Whole graph stop on one SIGTERM")
    axis.legend()
    figure.tight_layout()
    figure.savefig(args.out.with_suffix(".png"), dpi=100)
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
