"""Where a perception process's GPU memory goes: the CUDA context, the libraries, our tensors.

Each step runs in a fresh process and reports what nvidia-smi charges it.

    python bench/gpu_memory_probe.py
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def charged_mb() -> float | None:
    """What the driver charges this process (CUDA context included), from nvidia-smi; None if unknown."""
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=20,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.splitlines():
        pid, used = (part.strip() for part in line.split(","))
        if pid == str(os.getpid()):
            return float(used)
    return None


def step(name: str, queue) -> None:
    import numpy as np
    import torch

    if name.endswith("no_cudnn"):
        torch.backends.cudnn.enabled = False
    torch.zeros(1, device="cuda")
    if name == "context":
        queue.put((name, charged_mb(), 0.0))
        return
    from aria_nav_ros.core.perception.engine import EngineConfig, PerceptionEngine
    from aria_nav_ros.core.perception.models import RANDOM_DEPTH, load_depth, load_detector

    device = torch.device("cuda")
    detector = load_detector("yolo11n.yaml", device, True)
    depth = load_depth(RANDOM_DEPTH, device, True) if name.startswith("rgb") else None
    engine = PerceptionEngine(detector, depth, EngineConfig(mode="graphs"))
    shape = (1408, 1408, 3) if name.startswith("rgb") else (480, 640)
    frame = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    for _ in range(5):
        engine.process(frame)
    torch.cuda.synchronize()
    queue.put((name, charged_mb(), torch.cuda.memory_reserved() / 2**20))


def main() -> None:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    rows = []
    for name in ("context", "slam_detector", "slam_detector_no_cudnn", "rgb_engine", "rgb_engine_no_cudnn"):
        p = ctx.Process(target=step, args=(name, queue))
        p.start()
        p.join()
        rows.append(queue.get())
    print(f"{'process':<26}{'charged MB':>11}{'torch reserved MB':>19}")
    for name, charged, reserved in rows:
        print(f"{name:<26}{charged or float('nan'):>11.0f}{reserved:>19.0f}")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
