"""Soak run: the main job's graph on the sample walk, looped for a long time; does anything grow?

Runs every process of the graph (package launcher, real DDS) with per-frame
tracing for `--minutes` after a warm-up, sampling each process's resident
memory (and, where nvidia-smi exists, its GPU memory) once a second.
Reports, after the warm-up: the slope of each process's memory (MB per
hour, least squares) and its first vs last five minutes; latency from image
stamp to navigation's decision per camera, per five-minute window, and its
slope; cues per minute (hazard and system cues, from the run's cue log).
Prints a table, writes JSON (with the command) and a PNG.

    source scripts/env.sh && python bench/soak.py --minutes 30
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from aria_nav_ros.core.cameras import CAMERAS
from aria_nav_ros.core.trace import now_ns
from aria_nav_ros.graph.description import GraphSettings, describe_graph
from aria_nav_ros.graph.launcher import run_graph

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the graph benchmark's sampler and trace analysis, report
from graph_bench import ProcessSampler, analyse  # noqa: E402
from report import command, machine, percentiles, write  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# The main job's settings (scripts/run_main.sh) on a machine without a GPU, looped, without the run's bag
# (30 minutes of annotated images would fill gigabytes; the bag is a record, not what the wearer needs).
CPU_MAIN_JOB = {"rate": 0.25, "rgb_imgsz": 480, "slam_imgsz": 320, "camera_timeout": 3.0, "torch_threads": 1,
                "audio_sink": "wav", "record": False, "loop": True}  # fmt: skip
GPU_MAIN_JOB = {"rate": 1.0, "audio_sink": "wav", "record": False, "loop": True}
WINDOW_S = 300  # latency and memory compared over five-minute windows


class GpuSampler(threading.Thread):
    """GPU memory per process from nvidia-smi, every 5 s (nothing where there is no NVIDIA GPU)."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.available = shutil.which("nvidia-smi") is not None
        self.samples: list[tuple[int, int, float]] = []  # (time ns, pid, MiB)
        self.stopped = threading.Event()

    def run(self) -> None:
        query = ["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"]
        while self.available and not self.stopped.wait(5.0):
            out = subprocess.run(query, capture_output=True, text=True).stdout
            t = now_ns()
            for line in out.splitlines():
                pid, mib = (v.strip() for v in line.split(","))
                self.samples.append((t, int(pid), float(mib)))


def slope_per_hour(times_ns: list[int], values: list[float]) -> float:
    if len(values) < 10:
        return float("nan")
    hours = (np.asarray(times_ns) - times_ns[0]) / 3.6e12
    return float(np.polyfit(hours, np.asarray(values), 1)[0])


def memory_report(rows: list[tuple[int, str, float]], start: int, end: int) -> dict:
    """Per process, from (time ns, name, MB) samples: MB in the first and last windows, slope MB/h, max."""
    by_name: dict[str, list[tuple[int, float]]] = {}
    for t, name, mb in rows:
        if start <= t <= end:
            by_name.setdefault(name, []).append((t, mb))
    out = {}
    for name, samples in sorted(by_name.items()):
        t = [r[0] for r in samples]
        mb = [r[1] for r in samples]
        first = [m for ti, m in samples if ti < t[0] + WINDOW_S * 1e9]
        last = [m for ti, m in samples if ti > t[-1] - WINDOW_S * 1e9]
        out[name] = {"first_5min_mb": round(float(np.mean(first)), 1), "last_5min_mb": round(float(np.mean(last)), 1),
                     "max_mb": round(max(mb), 1), "slope_mb_per_hour": round(slope_per_hour(t, mb), 2),
                     "samples": len(mb)}  # fmt: skip
    return out


def latency_windows(result: dict) -> dict:
    """Per camera: end-to-end latency p50/p99 per five-minute window, and the drift over the whole run."""
    out = {}
    for camera in CAMERAS:
        series = result["cameras"][camera]["series"]  # (seconds into the window, end to end ms, overhead ms)
        windows = []
        for begin in range(0, int(series[-1][0]) + 1 if series else 0, WINDOW_S):
            values = [e for t, e, _ in series if begin <= t < begin + WINDOW_S]
            if values:
                p = percentiles(values)
                windows.append({"from_min": begin // 60, "count": p["count"], "p50_ms": round(p["p50"], 1),
                                "p99_ms": round(p["p99"], 1)})  # fmt: skip
        out[camera] = {"windows": windows, "drift": result["cameras"][camera]["drift"],
                       "processed": result["cameras"][camera]["processed"]}  # fmt: skip
    return out


def cue_report(cues_log: Path, start: int, end: int) -> dict:
    lines = [json.loads(x) for x in cues_log.read_text().splitlines() if x] if cues_log.exists() else []
    inside = [c for c in lines if start <= c["time"] * 1e9 < end]
    minutes = int((end - start) // 60e9)
    per_minute = [0] * minutes
    for c in inside:
        index = int((c["time"] * 1e9 - start) // 60e9)
        if index < minutes:
            per_minute[index] += 1
    system = [c["text"] for c in inside if not c["class"]]
    return {"total": len(inside), "hazard": len(inside) - len(system), "per_minute": per_minute,
            "per_minute_mean": round(float(np.mean(per_minute)), 2) if per_minute else 0.0,
            "system": {text: system.count(text) for text in sorted(set(system))}}  # fmt: skip


def print_report(report: dict) -> None:
    where = report["machine"]
    print(f"\nSoak: {report['minutes']:g} min after {report['warmup_s']:g} s warm-up ({where['node']}:"
          f" {where['processor']}, {report['graph_processes']} processes)")  # fmt: skip
    print(f"{'process':28} {'RSS first 5 min':>16} {'last 5 min':>11} {'max':>8} {'slope MB/h':>11}")
    for name, m in report["rss"].items():
        print(f"{name:28} {m['first_5min_mb']:16.1f} {m['last_5min_mb']:11.1f} {m['max_mb']:8.1f} "
              f"{m['slope_mb_per_hour']:11.2f}")  # fmt: skip
    if report["gpu_memory"] is None:
        print("GPU memory: no NVIDIA GPU on this machine")
    for name, m in (report["gpu_memory"] or {}).items():
        print(f"GPU {name:24} {m['first_5min_mb']:16.1f} {m['last_5min_mb']:11.1f} {m['max_mb']:8.1f} "
              f"{m['slope_mb_per_hour']:11.2f}")  # fmt: skip
    print(f"\n{'camera':11} {'processed':>9} {'p50/p99 ms per 5-min window':40} {'drift ms/min':>12}")
    for camera, c in report["latency"].items():
        windows = " ".join(f"{w['p50_ms']:.0f}/{w['p99_ms']:.0f}" for w in c["windows"])
        print(f"{camera:11} {c['processed']:9d} {windows:40} {c['drift'].get('slope_ms_per_min', float('nan')):12.2f}")
    cues = report["cues"]
    print(f"\ncues: {cues['total']} ({cues['hazard']} hazard), {cues['per_minute_mean']}/min; per minute: "
          f"{cues['per_minute']}; system cues: {cues['system'] or 'none'}")  # fmt: skip


def plot(report: dict, raw: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, 1, figsize=(10, 10), sharex=True)
    for name, rows in raw["rss"].items():
        axes[0].plot([r[0] for r in rows], [r[1] for r in rows], label=name)
    axes[0].set_ylabel("resident memory (MB)")
    axes[0].legend(fontsize=7)
    for camera in CAMERAS:
        series = raw["series"][camera]
        axes[1].plot([s[0] / 60 for s in series], [s[1] for s in series], ".", markersize=1, label=camera)
    axes[1].set_ylabel("stamp -> decision (ms)")
    axes[1].legend(fontsize=7)
    axes[2].bar(range(len(report["cues"]["per_minute"])), report["cues"]["per_minute"], align="edge")
    axes[2].set_ylabel("cues per minute")
    axes[2].set_xlabel("minutes after the warm-up")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds left out of every figure")
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE", help="graph settings on top")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "soak_cpu.json")
    args = parser.parse_args(argv)
    import torch

    base = GPU_MAIN_JOB if torch.cuda.is_available() else CPU_MAIN_JOB
    run = Path(tempfile.mkdtemp(prefix="soak_"))
    strings = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in base.items()}
    strings.update(dict(item.split("=", 1) for item in args.set))
    settings = GraphSettings.from_strings(strings)
    settings = replace(settings, path=str(ROOT / "outputs" / "sample" / "walk"), output=str(run / "run"),
                       trace=str(run / "trace"))  # fmt: skip
    processes = describe_graph(settings)
    sampler = ProcessSampler({tuple(p.command()): p.name for p in processes})
    gpu = GpuSampler()
    sampler.start()
    gpu.start()
    began = now_ns()
    print(f"soak: {args.minutes:g} min + {args.warmup:g} s warm-up; run folder {run}", flush=True)
    run_graph(processes, args.warmup + args.minutes * 60, say=lambda m: print(f"  [graph] {m}", flush=True))
    sampler.stopped.set()
    gpu.stopped.set()
    start = began + int(args.warmup * 1e9)
    end = began + int((args.warmup + args.minutes * 60) * 1e9)
    result = analyse(Path(settings.trace), start, end, {"samples": sampler.samples, "system": sampler.system})
    names = {pid: name for _, pid, name, _, _ in sampler.samples}
    report = {
        "command": command(__file__, argv),
        "machine": machine(),
        "graph_processes": len(names),
        "minutes": args.minutes,
        "warmup_s": args.warmup,
        "settings": asdict(settings),
        "rss": memory_report([(t, name, kb / 1024) for t, _, name, _, kb in sampler.samples], start, end),
        "gpu_memory": memory_report([(t, names.get(pid, str(pid)), mib) for t, pid, mib in gpu.samples], start, end)
        if gpu.available
        else None,
        "latency": latency_windows(result),
        "imu": result["imu"],
        "cpu": result["processes"],
        "cues": cue_report(Path(settings.output) / "cues.jsonl", start, end),
    }
    print_report(report)
    write(args.out, report)
    rss: dict[str, list[tuple[float, float]]] = {}
    for t, _, name, _, kb in sampler.samples:
        if t >= start:
            rss.setdefault(name, []).append(((t - start) / 60e9, kb / 1024))
    series = {c: result["cameras"][c]["series"] for c in CAMERAS}
    plot(report, {"rss": rss, "series": series}, args.out.with_suffix(".png"))
    print(f"\nwrote {args.out} and {args.out.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
