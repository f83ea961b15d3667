"""Graph benchmark: the whole graph in real processes over real DDS, fed from the sample walk at camera rate.

For each variant (graph settings: the baseline and the optimised graph) and
each camera rate (the sample's 10 Hz played at 1x and 3x: 10 and 30 Hz for
RGB and both SLAM cameras), the graph runs with per-frame tracing
(`GraphSettings.trace`); after a warm-up, `--seconds` are measured. Per
camera: frames published, lost in transport, skipped on purpose by the
newest-frame policy, processed; latency from image stamp to the navigation
node's decision on the frame's detections (a cue is published there when
there is one), split into transport (driver -> perception), queue (waiting
for the detector), inference, perception's own work (decode, geometry,
messages), result transport and navigation; "overhead" is end to end minus
inference. Also CPU and memory per process, IMU and detections lost.
Prints a table, writes JSON (with the command) and a latency plot (PNG).

`--gpu` runs the GPU set instead (GPU_COMMON, GPU_VARIANTS: full-size frames,
`--device cuda`, YOLO at 640 and depth at 518, every frame offered) and adds
the GPU's memory, sampled through NVML: per process and for all of them
together, peak over the window. `bash bench/gpu_graph.sh run` runs it on a
GPU machine without ROS.

    source scripts/env.sh && python bench/graph_bench.py
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from aria_nav_ros.core.cameras import CAMERAS
from aria_nav_ros.core.trace import now_ns, read_trace
from aria_nav_ros.graph.description import GraphSettings, describe_graph
from aria_nav_ros.graph.launcher import run_graph

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "bench") not in sys.path:  # report, beside this file (PYTHONSAFEPATH=1)
    sys.path.insert(0, str(ROOT / "bench"))
from report import command, machine, percentiles, write  # noqa: E402

SAMPLE_HZ = 10.0  # the sample walk's camera rate
PERCEPTION = {"rgb": "rgb_perception", "slam_left": "slam_detector_left", "slam_right": "slam_detector_right"}
STAGES = ("transport", "queue", "inference", "perception", "result_transport", "navigation", "end_to_end", "overhead")

# What is compared, side by side in one run. The inference settings leave the
# CPU headroom on this 2-core machine: the real person checkpoint at a 96-pixel
# input, at most 5 detections a second per camera (the other frames are
# skipped on arrival and counted), no depth (no weights here).
COMMON = {
    "model": "pkg:fall_detection/models/best.pt",
    "depth_model": "",
    "rgb_imgsz": 96,
    "slam_imgsz": 96,
    "detect_rate": 5.0,
    "record": False,
    "audio_sink": "wav",
    "camera_timeout": 3.0,
}
EVENTS = {"ARIA_NAV_EXECUTOR": "events"}
VARIANTS: dict[str, dict[str, dict]] = {
    # The graph as it was before this benchmark: wait-set executors, every detector on every core,
    # full-size RGB, RGB perception and navigation composed in one process.
    "baseline": {"env": {"ARIA_NAV_EXECUTOR": "waitset"}, "settings": {"compose": True}},
    # Each optimisation added to the ones before.
    "events_executor": {"env": EVENTS, "settings": {"compose": True}},
    "one_thread_each": {"env": EVENTS, "settings": {"torch_threads": 1, "compose": True}},
    "rgb_half_in_driver": {"env": EVENTS, "settings": {"torch_threads": 1, "rgb_scale": 0.5, "compose": True}},
    "navigation_apart": {"env": EVENTS, "settings": {"torch_threads": 1, "rgb_scale": 0.5, "compose": False}},
    # Plus RGB perception in the driver's process: its frames handed over as objects (ros/handover.py).
    "rgb_in_driver": {
        "env": EVENTS,
        "settings": {"torch_threads": 1, "rgb_scale": 0.5, "compose": False, "driver_with_rgb": True},
    },
}


# The GPU set: the real person checkpoint (the runner points `model` at its copy), Depth Anything V2 Small's
# architecture with random weights (no depth weights here; timing is real, distances are not used), every
# frame offered (no rate gate), no sound device (navigation still decides; audio_sink none skips speech).
GPU_COMMON = {
    "model": "pkg:fall_detection/models/best.pt",
    "depth_model": "random:depth-anything-v2-small",
    "device": "cuda",
    "rgb_imgsz": 640,
    "slam_imgsz": 640,
    "detect_rate": 0.0,
    "record": False,
    "audio_sink": "none",
    "camera_timeout": 3.0,
}
GPU_VARIANTS: dict[str, dict] = {  # env, settings, and mps where the variant runs under it
    # What a user gets with eager PyTorch: each model after the other, results fetched as they come,
    # full-size RGB over DDS, every node in its own process.
    "naive": {"env": {}, "settings": {"mode": "naive", "two_streams": False}},
    # The engine as designed (CUDA graphs, YOLO and depth on two streams), the graph otherwise as naive.
    "graphs": {"env": {}, "settings": {"mode": "graphs"}},
    # Plus the RGB transport cut: the driver halves RGB (704x704 still exceeds YOLO's 640 and depth's 518),
    # and navigation runs in perception's process (RGB results handed over without DDS).
    "best": {"env": {}, "settings": {"mode": "graphs", "rgb_scale": 0.5, "compose": True}},
    # best with navigation in its own process: perception's worker then shares the GIL with perception's own
    # callbacks only, not with navigation's (IMU at hundreds of Hz, the SLAM results, timers); the results cross DDS.
    "best_apart": {"env": {}, "settings": {"mode": "graphs", "rgb_scale": 0.5, "compose": False}},
    # best as it was: Python's automatic garbage collector on, collections in any thread landing inside a frame
    # (the perception worker now collects between frames: core/perception/scheduler.py).
    "best_gc_auto": {"env": {"ARIA_NAV_GC": "auto"}, "settings": {"mode": "graphs", "rgb_scale": 0.5, "compose": True}},
    # Plus RGB perception (and navigation) in the driver's process: no DDS on the RGB path (ros/handover.py).
    "rgb_in_driver": {
        "env": {},
        "settings": {"mode": "graphs", "rgb_scale": 0.5, "compose": True, "driver_with_rgb": True},
    },
    # The same two with Python's GIL switch interval at 0.5 ms (default 5 ms): a perception worker woken for a
    # frame waits less for the thread that holds the GIL (the driver's replay and publishing, navigation).
    "best_gil": {
        "env": {"ARIA_NAV_GIL_SWITCH_MS": "0.5"},
        "settings": {"mode": "graphs", "rgb_scale": 0.5, "compose": True},
    },
    "rgb_in_driver_gil": {
        "env": {"ARIA_NAV_GIL_SWITCH_MS": "0.5"},
        "settings": {"mode": "graphs", "rgb_scale": 0.5, "compose": True, "driver_with_rgb": True},
    },
    # best with the three GPU processes as clients of CUDA MPS: one context on the GPU, their kernels side by side
    # instead of time-sliced between three contexts (RGB beside the SLAM engines: 6.8 ms median against 3.7 alone,
    # engine_peer_h100.json), each process still its own. The control daemon runs for this variant only (mps()).
    "best_mps": {"env": {}, "settings": {"mode": "graphs", "rgb_scale": 0.5, "compose": True}, "mps": True},
    # rgb_in_driver with MPS: no DDS hop on the RGB path and the three processes' kernels side by side (next to
    # measure for the RGB tail: best_mps cut the inference median, rgb_in_driver the transport).
    "rgb_in_driver_mps": {
        "env": {},
        "settings": {"mode": "graphs", "rgb_scale": 0.5, "compose": True, "driver_with_rgb": True},
        "mps": True,
    },
    # best with the per-thread CUDA stack limit at 0 B (core/perception/cuda_context.py; the driver gives each kernel
    # what it needs): measured beside best at 256 B, since then the default, so now the same as best.
    "best_stack0": {
        "env": {"ARIA_NAV_CUDA_STACK": "0"},
        "settings": {"mode": "graphs", "rgb_scale": 0.5, "compose": True},
    },
    # best with the models eager inside the CUDA graphs: the default before torch.compile became it (compiled at
    # configure; the engine 0.8x as long on an H100, engine_rerun2_h100.json).
    "best_eager_models": {
        "env": {},
        "settings": {"mode": "graphs", "rgb_scale": 0.5, "compose": True, "compile_models": False},
    },
    # Plus every detector (and navigation) in one process: one CUDA context instead of three.
    "one_process": {
        "env": {},
        "settings": {"mode": "graphs", "rgb_scale": 0.5, "compose": True, "one_detector_process": True},
    },
}


class GpuSampler:
    """GPU memory per process (pid -> MB) and of the whole device, through NVML; inert where NVML is missing."""

    def __init__(self) -> None:
        self.handle = None
        self.info: dict[str, object] = {}
        try:
            import pynvml  # nvidia-ml-py

            pynvml.nvmlInit()
            self.nvml = pynvml
            self.handle = pynvml.nvmlDeviceGetHandleByIndex(int(os.environ.get("CUDA_VISIBLE_DEVICES", "0") or 0))
            memory = pynvml.nvmlDeviceGetMemoryInfo(self.handle)
            self.info = {"name": pynvml.nvmlDeviceGetName(self.handle), "total_mb": memory.total / 2**20,
                         "driver": pynvml.nvmlSystemGetDriverVersion()}  # fmt: skip
        except Exception as error:  # no NVIDIA driver here (the CPU machine): no GPU figures
            self.info = {"unavailable": f"{type(error).__name__}: {error}"}

    def sample(self) -> tuple[dict[int, float], float] | None:
        if self.handle is None:
            return None
        nvml = self.nvml
        processes = nvml.nvmlDeviceGetComputeRunningProcesses(self.handle)
        per_pid = {p.pid: (p.usedGpuMemory or 0) / 2**20 for p in processes}
        return per_pid, nvml.nvmlDeviceGetMemoryInfo(self.handle).used / 2**20


class ProcessSampler(threading.Thread):
    """CPU time and resident memory of every child process of this one, once a second (from /proc).

    `names`: each graph process's command line (what the launcher started) -> its name.
    """

    def __init__(self, names: dict[tuple[str, ...], str]) -> None:
        super().__init__(daemon=True)
        self.names = names
        self.samples: list[tuple[int, int, str, int, int]] = []  # (time ns, pid, name, cpu ticks, rss kB)
        self.system: list[tuple[int, int, int]] = []  # (time ns, busy ticks, all ticks) of the whole machine
        self.gpu = GpuSampler()
        self.gpu_samples: list[tuple[int, dict[str, float], float]] = []  # (time ns, name -> MB, device used MB)
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(1.0):
            t = now_ns()
            names: dict[int, str] = {}
            for pid in _descendants(os.getpid()):
                sample = _read_process(pid, self.names)
                if sample is not None:
                    self.samples.append((t, pid, *sample))
                    names[pid] = sample[0]
            gpu = self.gpu.sample()
            if gpu is not None:
                per_pid, device_mb = gpu
                by_name: dict[str, float] = {}
                for pid, mb in per_pid.items():
                    name = names.get(pid, f"other pid {pid}")  # not the graph's: said, not hidden
                    by_name[name] = by_name.get(name, 0.0) + mb
                self.gpu_samples.append((t, by_name, device_mb))
            ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
            self.system.append((t, sum(ticks) - ticks[3] - ticks[4], sum(ticks)))  # idle and iowait are not busy


def _descendants(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    found = [int(c) for c in children.read_text().split()] if children.exists() else []
    return [p for c in found for p in (c, *_descendants(c))]


def _read_process(pid: int, names: dict[tuple[str, ...], str]) -> tuple[str, int, int] | None:
    try:
        argv = tuple(Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1])  # NUL-terminated
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        rss = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                   if line.startswith("VmRSS:"))  # fmt: skip
    except (OSError, StopIteration, ValueError):
        return None  # ended meanwhile
    return names.get(argv, " ".join(argv)[:40]), int(stat[11]) + int(stat[12]), rss


def mps_env(folder: Path) -> dict[str, str]:
    """Where the CUDA MPS daemon of one run keeps its pipe and log: the variant's environment, which the graph's
    processes inherit to find it."""
    return {"CUDA_MPS_PIPE_DIRECTORY": str(folder / "mps_pipe"), "CUDA_MPS_LOG_DIRECTORY": str(folder / "mps_log")}


@contextlib.contextmanager
def mps(env: dict[str, str]) -> Iterator[None]:
    """CUDA MPS while one variant runs (its folders from mps_env, already in the environment); the control daemon
    is told to quit afterwards, so the next variant runs without it. Changes none of the card's settings (compute
    mode, clocks): a daemon of this machine's own."""
    for path in env.values():
        Path(path).mkdir(parents=True, exist_ok=True)
    subprocess.run(["nvidia-cuda-mps-control", "-d"], check=True, timeout=30)
    try:
        yield
    finally:
        subprocess.run(["nvidia-cuda-mps-control"], input="quit\n", text=True, timeout=60, check=False)


def run_one(settings: GraphSettings, warmup_s: float, seconds: float, limit_s: float) -> tuple[int, int, dict]:
    """Run the graph until the measurement window is over; (window start, end) in ns and process samples."""
    driver_trace = Path(settings.trace) / "aria_driver.jsonl"
    first: list[int] = []

    def window_over() -> bool:
        if not first and driver_trace.exists():
            with driver_trace.open() as f:
                line = f.readline()
            if line.endswith("\n"):
                first.append(json.loads(line).get("published", now_ns()))
        return bool(first) and now_ns() > first[0] + int((warmup_s + seconds + 2.0) * 1e9)

    processes = describe_graph(settings)
    sampler = ProcessSampler({tuple(p.command()): p.name for p in processes})
    sampler.start()
    run_graph(processes, limit_s, until=window_over, say=lambda m: print(f"  [graph] {m}", flush=True))
    sampler.stopped.set()
    if not first:
        raise SystemExit(f"the driver published nothing within {limit_s:g} s: see {settings.output}")
    start = first[0] + int(warmup_s * 1e9)
    end = start + int(seconds * 1e9)
    return start, end, {"samples": sampler.samples, "system": sampler.system, "gpu": sampler.gpu_samples}


def _load(trace: Path, name: str) -> list[dict]:
    path = trace / f"{name}.jsonl"
    return read_trace(path) if path.exists() else []


def analyse(trace: Path, start: int, end: int, load: dict) -> dict:
    """Everything the table and the plot show, from the trace files of one run."""
    inside = lambda stamp: start <= stamp < end  # noqa: E731
    driver = _load(trace, "aria_driver")
    navigation = _load(trace, "navigation")
    fused = {(r["camera"], r["stamp"]): r for r in navigation if "camera" in r}
    cameras: dict[str, dict] = {}
    for camera in CAMERAS:
        published = {r["stamp"]: r for r in driver if r.get("camera") == camera and inside(r["stamp"])}
        records = {r["stamp"]: r for r in _load(trace, PERCEPTION[camera]) if r["stamp"] in published}
        processed = [r for r in records.values() if "published" in r]
        stages: dict[str, list[float]] = {s: [] for s in STAGES}
        series: list[tuple[float, float, float]] = []  # (seconds into the window, end to end, overhead) ms
        results_lost = 0
        for r in processed:
            nav = fused.get((camera, r["stamp"]))
            if nav is None:
                results_lost += 1
                continue
            ms = {
                "transport": (r["received"] - r["stamp"]) / 1e6,
                "queue": (r["started"] - r["received"]) / 1e6,
                "inference": r["inference_ms"],
                "perception": (r["published"] - r["started"]) / 1e6 - r["inference_ms"],
                "result_transport": (nav["received"] - r["published"]) / 1e6,
                "navigation": (nav["done"] - nav["received"]) / 1e6,
                "end_to_end": (nav["done"] - r["stamp"]) / 1e6,
            }
            ms["overhead"] = ms["end_to_end"] - ms["inference"]
            for stage, value in ms.items():
                stages[stage].append(value)
            series.append(((r["stamp"] - start) / 1e9, ms["end_to_end"], ms["overhead"]))
        series.sort()
        cameras[camera] = {
            "published": len(published),
            "lost_in_transport": len(published) - len(records),
            "skipped_newest_frame": sum(1 for r in records.values() if r.get("skipped")),
            "failed": sum(1 for r in records.values() if "failed" in r),
            "processed": len(processed),
            "results_lost": results_lost,
            # Seconds into the window of each frame not processed: a stall shows as a cluster.
            "skipped_at_s": sorted(round((t - start) / 1e9, 3) for t, r in records.items() if r.get("skipped")),
            "lost_at_s": sorted(round((t - start) / 1e9, 3) for t in published if t not in records),
            "latency_ms": {s: percentiles(v) for s, v in stages.items()},
            "drift": _drift(series),
            "series": [[round(t, 3), round(e, 2), round(o, 2)] for t, e, o in series],
        }
    imu_published = {s for r in driver for s in r.get("imu_published", ()) if inside(s)}
    imu_received = {s for r in navigation for s in r.get("imu_received", ()) if inside(s)}
    return {
        "cameras": cameras,
        "imu": {"published": len(imu_published), "lost": len(imu_published - imu_received)},
        "cues": sum(r.get("cues", 0) for r in navigation if "camera" in r and inside(r["stamp"])),
        "processes": _process_load(load, start, end),
        **_gpu_memory(load.get("gpu", []), start, end),
    }


def _gpu_memory(samples: list[tuple[int, dict[str, float], float]], start: int, end: int) -> dict:
    """Peak GPU memory over the window: the graph's processes together (gpu_total_mb), each one, the device."""
    inside = [s for s in samples if start <= s[0] <= end]
    if not inside:
        return {}
    per_process: dict[str, float] = {}
    for _, by_name, _ in inside:
        for name, mb in by_name.items():
            per_process[name] = max(per_process.get(name, 0.0), mb)
    return {
        "gpu_total_mb": max(sum(by_name.values()) for _, by_name, _ in inside),
        "gpu_process_mb": dict(sorted(per_process.items())),
        "gpu_device_used_mb": max(device for _, _, device in inside),
    }


def _drift(series: list[tuple[float, float, float]]) -> dict[str, float]:
    """Does latency grow over the run (a queue building up)? First vs last third, and the fitted slope."""
    if len(series) < 6:
        return {}
    t = np.array([s[0] for s in series])
    e2e = np.array([s[1] for s in series])
    third = len(series) // 3
    slope = float(np.polyfit(t, e2e, 1)[0]) * 60.0
    return {"first_third_p50_ms": float(np.median(e2e[:third])), "last_third_p50_ms": float(np.median(e2e[-third:])),
            "slope_ms_per_min": slope}  # fmt: skip


def _process_load(load: dict, start: int, end: int) -> dict:
    hz = os.sysconf("SC_CLK_TCK")
    by_pid: dict[int, list[tuple[int, str, int, int]]] = {}
    for t, pid, name, ticks, rss in load["samples"]:
        if start <= t <= end:
            by_pid.setdefault(pid, []).append((t, name, ticks, rss))
    out: dict[str, dict] = {}
    for rows in by_pid.values():
        name = rows[-1][1]
        if len(rows) < 2:
            continue
        seconds = (rows[-1][0] - rows[0][0]) / 1e9
        entry = out.setdefault(name, {"cpu_percent": 0.0, "rss_mb_mean": 0.0, "rss_mb_max": 0.0})
        entry["cpu_percent"] += 100.0 * (rows[-1][2] - rows[0][2]) / hz / seconds  # 100: one core
        entry["rss_mb_mean"] = float(np.mean([r[3] for r in rows])) / 1024
        entry["rss_mb_max"] = max(r[3] for r in rows) / 1024
    system = [s for s in load["system"] if start <= s[0] <= end]
    if len(system) >= 2:
        busy = (system[-1][1] - system[0][1]) / max(system[-1][2] - system[0][2], 1)
        out["machine"] = {"cpu_percent": 100.0 * busy * os.cpu_count()}
    return out


def print_table(name: str, hz: float, result: dict) -> None:
    print(f"\n{name} at {hz:g} Hz: cues {result['cues']}, IMU {result['imu']['published']} published,"
          f" {result['imu']['lost']} lost")  # fmt: skip
    head = f"{'camera':11}{'pub':>6}{'lost':>6}{'skip':>6}{'proc':>6}  {'stage':17}{'p50':>8}{'p95':>8}{'p99':>8}"
    print(head)
    for camera, c in result["cameras"].items():
        counts = f"{camera:11}{c['published']:6d}{c['lost_in_transport']:6d}{c['skipped_newest_frame']:6d}"
        counts += f"{c['processed']:6d}"
        for i, stage in enumerate(STAGES):
            p = c["latency_ms"][stage]
            if p["count"]:
                row = f"{p['p50']:8.2f}{p['p95']:8.2f}{p['p99']:8.2f}"
                print(f"{counts if i == 0 else ' ' * len(counts)}  {stage:17}{row}")
        if c["drift"]:
            d = c["drift"]
            print(f"{'':35}end to end p50 first/last third {d['first_third_p50_ms']:.1f}/{d['last_third_p50_ms']:.1f}"
                  f" ms, slope {d['slope_ms_per_min']:+.2f} ms/min")  # fmt: skip
    for process, p in result["processes"].items():
        rss = f", RSS {p['rss_mb_mean']:.0f} MB (max {p['rss_mb_max']:.0f})" if "rss_mb_mean" in p else ""
        gpu = result.get("gpu_process_mb", {}).get(process)
        print(f"  {process:36} CPU {p['cpu_percent']:6.1f} %{rss}" + (f", GPU {gpu:.0f} MB" if gpu else ""))
    if "gpu_total_mb" in result:
        total, device = result["gpu_total_mb"], result["gpu_device_used_mb"]
        print(f"  GPU memory, peak: graph {total:.0f} MB, device {device:.0f} MB")


def summarise(results: dict) -> dict:
    """Per variant and rate, the worst camera's figures, and the overhead p99 as a ratio to the baseline's."""
    table: dict[str, dict[str, dict]] = {}
    for variant, by_rate in results.items():
        for hz, r in by_rate.items():
            cams = list(r["cameras"].values())
            worst = {s: max(c["latency_ms"][s].get("p99", float("nan")) for c in cams) for s in STAGES}
            table.setdefault(variant, {})[hz] = {
                "overhead_p99_ms": worst["overhead"],
                "end_to_end_p99_ms": worst["end_to_end"],
                "transport_p99_ms": worst["transport"],
                "published": sum(c["published"] for c in cams),
                "lost_in_transport": sum(c["lost_in_transport"] for c in cams),
                "skipped_newest_frame": sum(c["skipped_newest_frame"] for c in cams),
                "processed": sum(c["processed"] for c in cams),
                "imu_lost_percent": 100.0 * r["imu"]["lost"] / max(r["imu"]["published"], 1),
                "machine_cpu_percent": r["processes"].get("machine", {}).get("cpu_percent", float("nan")),
                # Per camera: the targets differ (RGB and SLAM), and the worst camera hides the others.
                "processed_percent_min": min(100.0 * c["processed"] / max(c["published"], 1) for c in cams),
                "end_to_end_ms": {
                    camera: {k: c["latency_ms"]["end_to_end"].get(k, float("nan")) for k in ("p50", "p99")}
                    for camera, c in r["cameras"].items()
                },
            }
            if "gpu_total_mb" in r:
                table[variant][hz].update(
                    gpu_total_mb=r["gpu_total_mb"],
                    gpu_process_mb=r["gpu_process_mb"],
                    gpu_device_used_mb=r["gpu_device_used_mb"],
                )
    base = table.get("baseline", table.get("naive", {}))
    for by_rate in table.values():
        for hz, row in by_rate.items():
            if hz in base:
                row["overhead_p99_vs_baseline"] = row["overhead_p99_ms"] / base[hz]["overhead_p99_ms"]
    return table


def runs(results: dict) -> list[dict]:
    """One row per run (a variant at a rate, each repeat its own): what issue 26's targets are stated in."""
    rows = []
    for variant, by_rate in results.items():
        for hz, r in by_rate.items():
            cams = r["cameras"]
            e2e = {camera: c["latency_ms"]["end_to_end"] for camera, c in cams.items()}
            rows.append({
                "variant": variant, "hz": float(hz),
                "rgb_p99_ms": e2e.get("rgb", {}).get("p99"), "rgb_p999_ms": e2e.get("rgb", {}).get("p999"),
                "slam_left_p99_ms": e2e.get("slam_left", {}).get("p99"),
                "slam_right_p99_ms": e2e.get("slam_right", {}).get("p99"),
                "processed_fraction": min(c["processed"] / max(c["published"], 1) for c in cams.values()),
                "lost": sum(c["lost_in_transport"] for c in cams.values()),
                "gpu_mb": r.get("gpu_total_mb"),
            })  # fmt: skip
    return rows


def print_summary(table: dict) -> None:
    table = {variant: by_rate for variant, by_rate in table.items() if variant != "runs"}
    print(f"\n{'variant':20}{'Hz':>4}{'overhead p99':>13}{'x base':>7}{'e2e p99':>9}{'transp p99':>11}"
          f"{'published':>10}{'lost':>6}{'skipped':>8}{'IMU lost %':>11}{'CPU %':>7}{'GPU MB':>8}")  # fmt: skip
    for variant, by_rate in table.items():
        for hz, r in by_rate.items():
            print(f"{variant:20}{hz:>4}{r['overhead_p99_ms']:13.1f}{r.get('overhead_p99_vs_baseline', 1.0):7.2f}"
                  f"{r['end_to_end_p99_ms']:9.1f}{r['transport_p99_ms']:11.1f}{r['published']:10d}"
                  f"{r['lost_in_transport']:6d}{r['skipped_newest_frame']:8d}{r['imu_lost_percent']:11.1f}"
                  f"{r['machine_cpu_percent']:7.0f}{r.get('gpu_total_mb', float('nan')):8.0f}")  # fmt: skip
    print(f"\n{'variant':20}{'Hz':>4}  end to end p50 / p99 ms per camera, processed % (worst camera)")
    for variant, by_rate in table.items():
        for hz, r in by_rate.items():
            cams = "  ".join(f"{c} {v['p50']:.1f}/{v['p99']:.1f}" for c, v in r["end_to_end_ms"].items())
            print(f"{variant:20}{hz:>4}  {cams}  processed {r['processed_percent_min']:.1f} %")


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [(v, hz, r) for v, by_rate in results.items() for hz, r in by_rate.items()]
    fig, axes = plt.subplots(len(runs), 2, figsize=(13, 3.2 * len(runs)), squeeze=False)
    for row, (variant, hz, result) in zip(axes, runs, strict=True):
        for camera, c in result["cameras"].items():
            if c["series"]:
                t, e2e, over = zip(*c["series"], strict=True)
                row[0].plot(t, e2e, ".", ms=2, label=f"{camera} end to end")
                row[0].plot(t, over, "x", ms=2, alpha=0.5, label=f"{camera} overhead")
        row[0].set(title=f"{variant}, {hz} Hz: latency per frame", xlabel="s into the window", ylabel="ms")
        row[0].legend(fontsize=6, ncol=2)
        bottom = np.zeros(len(result["cameras"]))
        for stage in STAGES[:6]:
            values = np.array([c["latency_ms"][stage].get("p50", 0.0) for c in result["cameras"].values()])
            row[1].bar(list(result["cameras"]), values, bottom=bottom, label=stage)
            bottom += values
        row[1].set(title=f"{variant}, {hz} Hz: median per stage", ylabel="ms")
        row[1].legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def _torch_version() -> str:
    try:
        import torch
    except ImportError:
        return "not installed"
    return f"{torch.__version__} (CUDA {torch.version.cuda})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bag", default="outputs/sample/walk", help="the sample walk (scripts/setup.sh builds it)")
    parser.add_argument("--rates", type=float, nargs="+", default=[10.0, 30.0], help="camera rates, Hz")
    parser.add_argument("--gpu", action="store_true", help="the GPU set (GPU_COMMON, GPU_VARIANTS)")
    parser.add_argument("--variants", nargs="+", help=f"default: all of the set; CPU {list(VARIANTS)},"
                        f" GPU {list(GPU_VARIANTS)}")  # fmt: skip
    parser.add_argument("--seconds", type=float, default=60.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds after the first frame left out")
    parser.add_argument("--set", nargs="*", action="extend", default=[], metavar="NAME=VALUE",
                        help="settings over the variants' (repeatable)")  # fmt: skip
    parser.add_argument("--out", help="default: bench/results/graph_cpu.json (graph_gpu.json with --gpu)")
    parser.add_argument("--report-only", action="store_true", help="summary and plot again from --out's JSON")
    parser.add_argument("--keep", help="keep each run's folder (logs, traces) under this folder (default: none)")
    parser.add_argument("--repeat", type=int, default=1, help="run each variant this often (named variant#k)")
    args = parser.parse_args(argv)
    out = Path(args.out or f"bench/results/graph_{'gpu' if args.gpu else 'cpu'}.json")
    common, variants = (GPU_COMMON, GPU_VARIANTS) if args.gpu else (COMMON, VARIANTS)
    args.variants = args.variants or list(variants)
    unknown = sorted(set(args.variants) - set(variants))
    if unknown:
        parser.error(f"variants {unknown} are not in the {'GPU' if args.gpu else 'CPU'} set {list(variants)}")
    if args.report_only:
        report = json.loads(out.read_text())
        report["summary"] = {**summarise(report["results"]), "runs": runs(report["results"])}
        write(out, report)
        print_summary(report["summary"])
        plot(report["results"], out.with_suffix(".png"))
        return 0
    if not Path(args.bag).exists():
        raise SystemExit(f"{args.bag} not found: run scripts/setup.sh (it builds the sample walk)")
    chosen = dict(item.split("=", 1) for item in args.set)
    parsed = GraphSettings.from_strings(chosen)  # "false" is False, as in a launch argument
    typed = lambda values: {k: getattr(parsed, k) for k in values}  # noqa: E731
    base = replace(GraphSettings(), **common)
    results: dict[str, dict[str, dict]] = {}
    with tempfile.TemporaryDirectory(prefix="graph_bench_") as temporary:
        tmp = args.keep or temporary
        for variant, name in [(v, f"{v}#{k + 1}" if args.repeat > 1 else v)
                              for v in args.variants for k in range(args.repeat)]:  # fmt: skip
            for hz in args.rates:
                run = Path(tmp) / f"{name.replace('#', '_')}_{hz:g}hz"
                variant_settings = variants[variant]["settings"]
                settings = replace(base, **{**variant_settings, **typed(chosen)}, source="bag", path=args.bag,
                                   rate=hz / SAMPLE_HZ, loop=True, output=str(run), trace=f"{run}/trace")  # fmt: skip
                sharing = mps_env(run) if variants[variant].get("mps") else {}
                env = {**variants[variant]["env"], **sharing}
                before = {key: os.environ.get(key) for key in env}
                os.environ.update(env)  # the graph's processes inherit it
                print(f"{name} at {hz:g} Hz: {args.warmup:g} s warm-up, {args.seconds:g} s measured", flush=True)
                limit = 120.0 + args.warmup + args.seconds  # model loading included
                try:
                    with mps(sharing) if sharing else contextlib.nullcontext():
                        start, end, load = run_one(settings, args.warmup, args.seconds, limit)
                finally:  # the next variant starts from the environment this one found
                    for key, value in before.items():
                        if value is None:
                            os.environ.pop(key, None)
                        else:
                            os.environ[key] = value
                result = analyse(Path(settings.trace), start, end, load)
                result["settings"] = asdict(settings)
                results.setdefault(name, {})[f"{hz:g}"] = result
                print_table(name, hz, result)
    report = {
        "command": command(__file__, argv),
        "machine": machine(),
        "variants": {name: variants[name] for name in args.variants},
        "repeat": args.repeat,
        "common_settings": {**common, **typed(chosen)},
        "summary": {**summarise(results), "runs": runs(results)},
        "results": results,
    }
    if os.environ.get("GRAPH_BENCH_WRAPPER"):  # the one command that set this run up (bench/gpu_graph.sh)
        report["wrapper_command"] = os.environ["GRAPH_BENCH_WRAPPER"]
    if args.gpu:
        report["machine"]["gpu"] = GpuSampler().info
        report["machine"]["torch"] = _torch_version()
    write(out, report)
    print_summary(report["summary"])
    plot(results, out.with_suffix(".png"))
    print(f"\nwrote {out} and {out.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
