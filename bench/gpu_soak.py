"""GPU soak: the three perception engines sharing one GPU at camera rate for minutes; does anything grow?

Three processes as in the graph (RGB: YOLO11n 640 + Depth Anything V2 Small
518 in CUDA graphs on 1408x1408 frames; two SLAM: YOLO11n on 640x480), each
camera at 30 Hz. Every 10 s each process records what torch allocated and
reserved, its resident memory, and latency from capture to results over those
10 s; this process asks nvidia-smi what the driver charges each of them (not
the workers: the call takes tens of milliseconds). Reports slopes (MB per
hour) and latency drift after a warm-up; writes JSON. Runs without ROS (the
GPU machine has none); bench/soak.py soaks the whole graph with ROS.

    python bench/gpu_soak.py --minutes 8 --out bench/results/soak_gpu_h100.json
"""

from __future__ import annotations

import argparse
import multiprocessing
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]  # the core without installing it

import torch  # noqa: E402
from engine_bench import frames, make_engine  # noqa: E402  (beside this script)
from report import command, machine, write  # noqa: E402

RATE_HZ = 30.0
SAMPLE_S = 10.0


def _rss_mb() -> float:
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def _worker(role: str, seconds: float, results, barrier) -> None:
    torch.cuda.init()
    engine = make_engine("graphs", role == "rgb")
    images = frames(40, (1408, 1408, 3) if role == "rgb" else (480, 640))
    for image in images[:10]:
        engine.process(image)
    torch.cuda.synchronize()
    barrier.wait()
    samples, window = [], []
    begin = time.perf_counter()
    next_sample = begin + SAMPLE_S
    count = 0
    while (now := time.perf_counter()) < begin + seconds:
        due = begin + count / RATE_HZ  # the frame exists from its capture time on
        if due > now:
            time.sleep(due - now)
        engine.process(images[count % len(images)])
        window.append((time.perf_counter() - due) * 1000)
        count += 1
        if time.perf_counter() >= next_sample:
            samples.append({
                "t_s": round(time.perf_counter() - begin, 1),
                "allocated_mb": torch.cuda.memory_allocated() / 2**20,
                "reserved_mb": torch.cuda.memory_reserved() / 2**20,
                "rss_mb": _rss_mb(),
                "frames": len(window),
                "p50_ms": float(np.percentile(window, 50)),
                "p99_ms": float(np.percentile(window, 99)),
            })  # fmt: skip
            window = []
            next_sample += SAMPLE_S
    results[role] = {"frames": count, "fps": count / seconds, "samples": samples}


def _slope_per_hour(rows: list[dict], key: str) -> float | None:
    points = [(r["t_s"], r[key]) for r in rows if r[key] is not None]
    if len(points) < 5:
        return None
    t, v = np.array(points).T
    return float(np.polyfit(t / 3600.0, v, 1)[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds left out of slopes")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "soak_gpu.json")
    args = parser.parse_args()
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Manager().dict()
    barrier = ctx.Barrier(3)
    seconds = args.warmup + args.minutes * 60
    roles = ("rgb", "slam_left", "slam_right")
    workers = [ctx.Process(target=_worker, args=(r, seconds, results, barrier)) for r in roles]
    for w in workers:
        w.start()
    charged: dict[int, list[tuple[float, float]]] = {w.pid: [] for w in workers}
    begin = time.monotonic()
    query = ["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"]
    while any(w.is_alive() for w in workers):
        time.sleep(SAMPLE_S)
        for line in subprocess.run(query, capture_output=True, text=True).stdout.splitlines():
            pid, mib = (int(float(v)) for v in line.split(","))
            if pid in charged:
                charged[pid].append((time.monotonic() - begin, float(mib)))
    for w in workers:
        w.join()
    charged_by_role = {role: charged[w.pid] for role, w in zip(roles, workers, strict=True)}
    report = {"command": command(__file__), "machine": machine(), "rate_hz": RATE_HZ, "minutes": args.minutes,
              "warmup_s": args.warmup, "processes": {}}  # fmt: skip
    print(f"{'process':11} {'fps':>5} {'alloc MB':>9} {'reserved':>9} {'charged':>8} {'RSS':>7}  slopes MB/h "
          f"(alloc/reserved/RSS/charged)   p99 ms first->last min")  # fmt: skip
    for role, r in sorted(dict(results).items()):
        rows = [s for s in r["samples"] if s["t_s"] >= args.warmup]
        driver = [{"t_s": t, "charged_mb": mb} for t, mb in charged_by_role[role] if t >= args.warmup]
        slopes = {k: _slope_per_hour(rows, k) for k in ("allocated_mb", "reserved_mb", "rss_mb")}
        slopes["charged_mb"] = _slope_per_hour(driver, "charged_mb")
        r = {**r, "charged_mb": [[round(t, 1), mb] for t, mb in charged_by_role[role]]}
        per_min = max(1, int(60 / SAMPLE_S))
        first = float(np.median([s["p99_ms"] for s in rows[:per_min]])) if rows else None
        last = float(np.median([s["p99_ms"] for s in rows[-per_min:]])) if rows else None
        report["processes"][role] = {**r, "slopes_mb_per_hour": slopes, "p99_first_min_ms": first,
                                     "p99_last_min_ms": last}  # fmt: skip
        end = rows[-1] if rows else r["samples"][-1]
        slope_text = "/".join("-" if v is None else f"{v:+.1f}" for v in slopes.values())
        charged_end = driver[-1]["charged_mb"] if driver else float("nan")
        print(f"{role:11} {r['fps']:5.1f} {end['allocated_mb']:9.1f} {end['reserved_mb']:9.1f} "
              f"{charged_end:8.0f} {end['rss_mb']:7.0f}  {slope_text:34} "
              f"{first:.1f} -> {last:.1f}")  # fmt: skip
    write(args.out, report)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
