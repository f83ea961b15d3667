"""A loaded machine: does the wearer hear "System paused" while results still come?

Plays real footage through every process of the graph (package launcher, real
DDS, the README's CPU settings, looped) for `--minutes` after "System ready",
beside a busy loop on every core (`stress`-like; `--loads` picks how many; `N/S`:
N loops that run S seconds, then pause S seconds, as a test suite's load comes and
goes) and, as a baseline in the same run, without them. Per load: the system cues of the
run's cue log ("System paused", "Cameras lost", "System back"), the results
navigation took per second (its trace) and the gaps between them (what the
watchdog judges). The same arrivals (results as navigation received them,
frames as the driver published them, ticks at 10 Hz) are also replayed through
the policy of this tree and that of `--baseline-rev` (before the watchdog learnt
a loaded machine's stalls), side by side: the "System paused" each would have
said, and its closest call (the least its timeout exceeded a silence by while
results flowed; below 0: past it). The graph runs in a DDS domain of its own
(other graphs on this machine would feed it their results and events). Prints a
table, writes JSON (with the command) and a PNG.

Footage: the sample walk (`outputs/sample/walk`, real photos, made by
scripts/setup.sh) or, with `--source vrs`, the real Aria recording
../shared/data/aria/adt_video.vrs (three frames per camera, looped).

    source scripts/env.sh && python bench/loaded.py    # ~9 min: two minutes loaded, two unloaded
    source scripts/env.sh && python bench/loaded.py --loads 2 2/20 2 0   # as committed, ~13 min
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from aria_nav_ros.core.trace import read_trace
from aria_nav_ros.graph.process import child_env

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the cue benchmark's loader of an older policy, report
from cue_bench import CAMERAS, Contender, baseline, current, frame  # noqa: E402
from report import command, machine, write  # noqa: E402

# The README's CPU settings (scripts/run_main.sh without a GPU), looped, without the run's bag, with a trace.
CPU_SETTINGS = ["--device", "cpu", "--rate", "0.25", "--rgb-imgsz", "480", "--slam-imgsz", "320",
                "--camera-timeout", "3.0", "--torch-threads", "1", "--audio-sink", "wav", "--no-record",
                "--loop"]  # fmt: skip
SOURCES = {"bag": ROOT / "outputs" / "sample" / "walk",
           "vrs": ROOT.parent / "shared" / "data" / "aria" / "adt_video.vrs"}  # fmt: skip
BUSY = "import time\nend = time.monotonic() + 3600\nwhile time.monotonic() < end: pass"
BASELINE_REV = "7936691"  # the policy before this benchmark's fix (pace known after 1 s, stalls not remembered)
TICK_S = 0.1  # navigation's decision timer
# A DDS domain of its own: graphs of other runs on this machine (benchmarks on domain 0, the tests' 30-99) would
# otherwise send their detections and events to this navigation (fuzzed events read as "Recording ended").
DOMAIN_ID = str(200 + os.getpid() % 30)
FAULTS = ("System paused", "Cameras lost")


def run_graph_for(source: str, minutes: float, folder: Path) -> dict[str, Any]:
    """The graph until `minutes` after "System ready", then one SIGTERM; its cue log and traces."""
    run, trace = folder / "run", folder / "trace"
    command = [sys.executable, "-m", "aria_nav_ros.launcher", "--source", source, "--path", str(SOURCES[source]),
               "--output", str(run), "--trace", str(trace), *CPU_SETTINGS]  # fmt: skip
    env = child_env({**os.environ, "ROS_DOMAIN_ID": DOMAIN_ID})
    launcher = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, start_new_session=True)  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(launcher.stdout), daemon=True)
    reader.start()
    deadline = time.monotonic() + 300
    while not any("System ready" in line for line in list(lines)):
        if time.monotonic() > deadline or launcher.poll() is not None:
            launcher.kill()
            raise RuntimeError("the graph never said 'System ready':\n" + "".join(lines[-30:]))
        time.sleep(0.05)
    ready = time.time()
    end = time.monotonic() + minutes * 60
    while time.monotonic() < end and launcher.poll() is None:
        time.sleep(0.2)
    if launcher.poll() is not None:
        raise RuntimeError(f"the graph ended early (exit {launcher.returncode}):\n" + "".join(lines[-30:]))
    stopped = time.time()
    os.kill(launcher.pid, signal.SIGTERM)
    launcher.wait(timeout=60)
    reader.join(10)
    (folder / "console.log").write_text("".join(lines))
    cues = [json.loads(x) for x in (run / "cues.jsonl").read_text().splitlines() if x]
    return {"ready": ready, "stopped": stopped, "cues": cues, "trace": trace, "console_tail": lines[-5:]}


def arrivals(trace: Path) -> tuple[list[tuple[float, str]], list[tuple[float, str]]]:
    """Results as navigation received them and frames as the driver published them, (seconds, camera), sorted."""
    results = [(r["received"] / 1e9, r["camera"]) for r in read_trace(trace / "navigation.jsonl") if "camera" in r]
    driver = read_trace(trace / "aria_driver.jsonl")
    frames = [(r["published"] / 1e9, r["camera"]) for r in driver if "camera" in r and "published" in r]
    return sorted(results), sorted(frames)


def replay(contender: Contender, results: list[tuple[float, str]], frames: list[tuple[float, str]],
           start: float, end: float) -> dict[str, Any]:  # fmt: skip
    """The recorded arrivals, from the graph's first frame, through a fresh policy ticked every TICK_S (started as
    navigation is, before any frame): its system cues and its watchdog timeout from `start` to `end`."""
    policy = contender.make()
    events = sorted([(t, 0, c) for t, c in frames] + [(t, 1, c) for t, c in results])
    said: list[tuple[float, str]] = []
    timeouts: list[tuple[float, float]] = []
    tick, i = events[0][0] - TICK_S, 0
    closest = float("inf")  # the least the watchdog's timeout exceeded the silence by (< 0: past it)
    policy.start(tick, list(CAMERAS))
    while tick <= end:
        while i < len(events) and events[i][0] <= tick:
            t, kind, camera = events[i]
            if kind == 0:
                frame(policy, t, camera)
            else:
                said += [(c.time, c.text) for c in policy.on_detections(t, camera, [], t) if c.kind == 1]
            i += 1
        live = policy.system
        if live is not None and policy.ready and not live.lost and tick >= start:  # how near silence came to it
            closest = min(closest, live.timeout - (tick - live.last))
        said += [(c.time, c.text) for c in policy.tick(tick) if c.kind == 1]
        if policy.system is not None and tick >= start:
            timeouts.append((round(tick - start, 2), round(policy.system.timeout, 3)))
        tick += TICK_S
    said = [(t, text) for t, text in said if start <= t <= end]
    texts = [text for _, text in said]
    return {"system_paused": texts.count("System paused"), "cameras_lost": texts.count("Cameras lost"),
            "system_cues": [(round(t - start, 2), text) for t, text in said],
            "closest_call_s": round(closest, 2), "timeout_s": timeouts}  # fmt: skip


def switch(busy: list[subprocess.Popen], every_s: float, stopped: threading.Event) -> None:
    """Pause and resume the busy loops every `every_s` (SIGSTOP / SIGCONT): load that comes and goes."""
    running = True
    while not stopped.wait(every_s):
        running = not running
        for process in busy:
            process.send_signal(signal.SIGCONT if running else signal.SIGSTOP)


def measure(spec: str, args: argparse.Namespace, contenders: list[Contender]) -> dict[str, Any]:
    count, _, every = spec.partition("/")
    load, every_s = int(count), float(every or 0)
    folder = Path(tempfile.mkdtemp(prefix=f"loaded_{load}_"))
    began = time.time()
    busy = [subprocess.Popen([sys.executable, "-c", BUSY], env=child_env()) for _ in range(load)]
    stopped = threading.Event()
    switcher = threading.Thread(target=switch, args=(busy, every_s, stopped), daemon=True)
    if every_s > 0:
        switcher.start()
    try:
        how = f", on and off every {every_s:g} s" if every_s else ""
        print(f"{load} busy loops{how}: the graph on {args.source} for {args.minutes:g} min; folder {folder}",
              flush=True)  # fmt: skip
        graph = run_graph_for(args.source, args.minutes, folder)
        load_average = os.getloadavg()  # the machine is shared: what else ran shows here
    finally:
        stopped.set()
        for process in busy:
            process.kill()
            process.wait()
    start, end = graph["ready"], graph["stopped"]
    system = [(c["time"] - start, c["text"]) for c in graph["cues"] if not c["class"] and start <= c["time"] <= end]
    texts = [text for _, text in system]
    all_results, all_frames = arrivals(graph["trace"])
    results = [r for r in all_results if start <= r[0] <= end]
    frames = [f for f in all_frames if start <= f[0] <= end]
    times = np.array([t for t, _ in results])
    gaps = np.diff(times) if len(times) > 1 else np.zeros(1)
    seconds = end - start
    per_second = np.histogram(times - start, bins=np.arange(0.0, seconds + 1.0, 1.0))[0]
    on_spells = []  # (from, to) s after "System ready" while the busy loops ran, where they came and went
    if every_s:
        first = int((start - began) // every_s)
        on_spells = [(round(max(0.0, began + k * every_s - start), 2), round(began + (k + 1) * every_s - start, 2))
                     for k in range(first, int((end - began) // every_s) + 1) if k % 2 == 0]  # fmt: skip
    return {
        "busy_loops": load,
        "on_off_every_s": every_s or None,
        "load_on_s": on_spells,
        "load_average_1_5_15_min": [round(x, 2) for x in load_average],
        "minutes": round(seconds / 60, 2),
        "system_paused": texts.count("System paused"),
        "cameras_lost": texts.count("Cameras lost"),
        "system_cues": [(round(t, 2), text) for t, text in system],
        # Said while the models still loaded (navigation's start_timeout, 30 s, can pass on a loaded machine).
        "before_ready": [c["text"] for c in graph["cues"] if not c["class"] and c["time"] < start],
        "results": len(results),
        "results_per_s": round(len(results) / seconds, 2),
        "results_per_s_by_camera": {
            c: round(sum(1 for _, k in results if k == c) / seconds, 2) for c in sorted({k for _, k in results})
        },
        "frames_per_s": round(len(frames) / seconds, 2),
        "result_gap_s": {
            "p50": round(float(np.percentile(gaps, 50)), 3),
            "p99": round(float(np.percentile(gaps, 99)), 3),
            "max": round(float(gaps.max()), 3),
            "over_1s": int((gaps > 1.0).sum()),
        },
        "seconds_without_results": int((per_second == 0).sum()),
        "replayed": {c.name: replay(c, all_results, all_frames, start, end) for c in contenders},
        "series": {
            "per_second": per_second.tolist(),
            "gaps": [(round(float(t - start), 3), round(float(g), 3)) for t, g in zip(times[1:], gaps, strict=True)],
        },
    }


def plot(runs: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(len(runs), 1, figsize=(10, 3.6 * len(runs)), squeeze=False)
    for axis, run in zip(axes[:, 0], runs, strict=True):
        gaps = run["series"]["gaps"]
        axis.plot([t for t, _ in gaps], [g for _, g in gaps], ".", markersize=2, color="0.5",
                  label="gap between results")  # fmt: skip
        for name, replayed in run["replayed"].items():
            t = [x for x, _ in replayed["timeout_s"]]
            axis.plot(t, [y for _, y in replayed["timeout_s"]], label=f"watchdog timeout, {name} (replayed)")
        for begin, end in run["load_on_s"]:
            axis.axvspan(begin, end, color="tab:orange", alpha=0.15, linewidth=0)
        for t, text in run["system_cues"]:
            if text in FAULTS:
                axis.axvline(t, color="tab:red", linestyle="--", linewidth=1)
        axis.set_yscale("log")
        axis.set_ylabel("seconds")
        axis.set_title(f"busy loops {run['load']}: {run['results_per_s']} results/s, {run['system_paused']} "
                       "'System paused' heard (red lines: fault cues in the run)", fontsize=9)  # fmt: skip
        axis.legend(fontsize=7, loc="upper right")
    axes[-1, 0].set_xlabel("seconds after 'System ready'")
    figure.tight_layout()
    figure.savefig(path, dpi=90)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=2.0, help="after 'System ready', per load")
    parser.add_argument(
        "--loads",
        nargs="+",
        default=[str(os.cpu_count() or 1), "0"],
        help="busy loops beside the graph, one run each: N, or N/S (on S seconds, off S seconds); default: one per"
        " core, then none",
    )
    parser.add_argument("--source", choices=sorted(SOURCES), default="bag", help="bag: the sample walk; vrs: real Aria")
    parser.add_argument("--baseline-rev", default=BASELINE_REV, help="the older policy replayed beside this tree's")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "loaded_cpu.json")
    args = parser.parse_args(argv)
    contenders = [current(), baseline(args.baseline_rev)]
    runs = [measure(spec, args, contenders) for spec in args.loads]
    for spec, run in zip(args.loads, runs, strict=True):
        run["load"] = spec
    names = [c.name for c in contenders]
    print(f"\n{'busy loops':>10} {'minutes':>7} {'System paused':>13} {'Cameras lost':>12} {'results/s':>9} "
          f"{'gap p99 s':>9} {'gap max s':>9} {'gaps > 1 s':>10}  "
          + "  ".join(f"replayed {n}: paused (closest call s)" for n in names))  # fmt: skip
    for r in runs:
        replayed = "  ".join(f"{r['replayed'][n]['system_paused']:>{len(n) + 18}d} "
                             f"({r['replayed'][n]['closest_call_s']:+5.2f})" for n in names)  # fmt: skip
        print(f"{r['load']:>10} {r['minutes']:>7.2f} {r['system_paused']:>13} {r['cameras_lost']:>12} "
              f"{r['results_per_s']:>9.2f} {r['result_gap_s']['p99']:>9.3f} {r['result_gap_s']['max']:>9.3f} "
              f"{r['result_gap_s']['over_1s']:>10}  {replayed}")  # fmt: skip
    loaded = [r for r in runs if r["busy_loops"]] or runs  # every run beside busy loops (steady or on and off)
    minutes = sum(r["minutes"] for r in loaded)
    summary = {
        "minutes": round(minutes, 2),
        "system_paused": sum(r["system_paused"] for r in loaded),
        "system_paused_per_2_min": round(sum(r["system_paused"] for r in loaded) / minutes * 2, 2),
        "cameras_lost": sum(r["cameras_lost"] for r in loaded),
        "results_per_s": round(sum(r["results"] for r in loaded) / (minutes * 60), 2),
        "loads": [r["load"] for r in loaded],
        "replayed_system_paused": {n: sum(r["replayed"][n]["system_paused"] for r in loaded) for n in names},
        # The least any replayed watchdog's timeout exceeded a silence by, while results flowed (< 0: past it).
        "replayed_closest_call_s": {n: min(r["replayed"][n]["closest_call_s"] for r in loaded) for n in names},
        "unloaded": [
            {"minutes": r["minutes"], "system_paused": r["system_paused"], "results_per_s": r["results_per_s"]}
            for r in runs
            if not r["busy_loops"]
        ],
    }
    report = {"command": command(__file__, argv), "machine": machine(), "footage": str(SOURCES[args.source]),
              "graph": CPU_SETTINGS, "summary": summary, "runs": runs}  # fmt: skip
    write(args.out, report)
    plot(runs, args.out.with_suffix(".png"))
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
