"""Out-of-memory drill on a real GPU: fill it, then let the engine meet its first frames.

For each budget (GPU memory left free), a fresh process loads the real
person checkpoint and Depth Anything V2 Small (random weights) on the GPU,
then takes all but `budget` MiB of what is free with a tensor of its own (as
another program on the same GPU would), and runs 1408x1408 frames of a real
photo through FallbackEngine (CUDA graphs, YOLO input 1280, depth 518). A
budget too small for that makes the engine step down (smaller input, then
the CPU) instead of failing. Reports, per budget: the steps taken, where it
ended, frames processed, time per frame after, people found vs without a
budget. Runs without ROS (the GPU machine has none).

    python bench/oom_drill.py --checkpoint .whl/best.pt --out bench/results/oom_h100.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]  # the core without installing it

import torch  # noqa: E402
from engine_bench import frames  # noqa: E402  (beside this script)
from report import command, machine, write  # noqa: E402

from aria_nav_ros.core.perception.engine import EngineConfig, PerceptionEngine  # noqa: E402
from aria_nav_ros.core.perception.fallback import FallbackEngine  # noqa: E402
from aria_nav_ros.core.perception.models import RANDOM_DEPTH, load_depth, load_detector  # noqa: E402

BUDGETS_MB = (None, 4096, 1024, 400, 300, 250, 200, 100, 40)  # None: the whole GPU (the baseline)
FRAMES = 30


def drill(checkpoint: str, budget_mb: float | None) -> dict:
    device = torch.device("cuda")
    detector = load_detector(checkpoint, device, half=True)
    depth = load_depth(RANDOM_DEPTH, device, half=True)
    steps: list[str] = []
    # Eager models, as when oom_h100.json was measured: the drill is about stepping down, not compiling.
    config = EngineConfig(imgsz=1280, compile_models=False)
    engine = FallbackEngine(PerceptionEngine(detector, depth, config), steps.append)
    hog = None
    if budget_mb is not None:
        free, _ = torch.cuda.mem_get_info()
        hog = torch.empty(max(0, free - int(budget_mb * 2**20)), dtype=torch.uint8, device=device)
    images = frames(FRAMES, (1408, 1408, 3))
    times, people, failed, error = [], [], 0, ""
    for image in images:
        start = time.perf_counter()
        try:
            out = engine.process(image)
        except Exception as caught:  # what the node would log and count, frame by frame
            failed += 1
            error = f"{type(caught).__name__}: {str(caught)[:160]}"
            continue
        times.append((time.perf_counter() - start) * 1000)
        people.append(sum(d.class_name == "Normal" for d in out.detections))
    free_after, total = torch.cuda.mem_get_info()
    del hog
    return {
        "budget_mb": budget_mb,
        "steps": steps,
        "ended_on": str(engine.engine.device),
        "imgsz": engine.engine.config.imgsz,
        "depth_size": engine.engine.config.depth_size,
        "mode": engine.engine.mode,
        "processed": len(times),
        "failed": failed,
        "last_error": error,
        "ms_median_last10": float(np.median(times[-10:])) if times else None,
        "people_first_bus_frame": people[0] if people else None,
        "gpu_free_mb_at_end": free_after / 2**20,
        "gpu_total_mb": total / 2**20,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", default=".whl/best.pt")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "oom.json")
    parser.add_argument("--one", type=float, default=None, help=argparse.SUPPRESS)  # a child: one budget (-1: none)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(drill(args.checkpoint, None if args.one < 0 else args.one)))
        return 0
    rows = []
    for budget in BUDGETS_MB:  # each in a fresh process: a clean GPU and allocator
        one = str(-1 if budget is None else budget)
        child = [sys.executable, __file__, "--checkpoint", args.checkpoint, "--one", one]
        done = subprocess.run(child, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            rows.append({"budget_mb": budget, "crashed": done.returncode, "stderr": done.stderr[-1500:]})
        else:
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"{'free MiB':>9} {'steps':>5} {'ended on':>9} {'imgsz':>6} {'processed':>9} {'failed':>6} {'ms':>7} "
          f"{'people':>6}")  # fmt: skip
    for r in rows:
        if "crashed" in r:
            print(f"{str(r['budget_mb']):>9} crashed with {r['crashed']}: {r['stderr'][-300:]}")
            continue
        ms = f"{r['ms_median_last10']:.1f}" if r["ms_median_last10"] is not None else "-"
        print(f"{str(r['budget_mb'] or 'all'):>9} {len(r['steps']):5d} {r['ended_on']:>9} {r['imgsz']:6d} "
              f"{r['processed']:9d} {r['failed']:6d} {ms:>7} {str(r['people_first_bus_frame']):>6}")  # fmt: skip
        for step in r["steps"]:
            print(f"{'':10} {step}")
    report = {
        "command": command(__file__),
        "machine": machine(),
        "frames_per_budget": FRAMES,
        "budgets": rows,
    }
    write(args.out, report)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
