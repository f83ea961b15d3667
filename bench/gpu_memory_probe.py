"""Where a perception process's GPU memory goes: the CUDA context, the libraries, our tensors.

Each step runs in a fresh process and reports what nvidia-smi charges it.

    python bench/gpu_memory_probe.py
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
from report import command, machine, write  # noqa: E402  (beside this script)


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


# Each step: what it loads, and the environment it starts with (set before torch is imported). The stack steps
# name the per-thread stack limit the engine sets (core/perception/cuda_context.py); "default" keeps the driver's.
STEPS: dict[str, dict[str, str]] = {
    "context": {"ARIA_NAV_CUDA_STACK": "default"},
    "context_eager_modules": {"ARIA_NAV_CUDA_STACK": "default", "CUDA_MODULE_LOADING": "EAGER"},
    "context_stack_256": {"ARIA_NAV_CUDA_STACK": "256"},
    "context_stack_0": {"ARIA_NAV_CUDA_STACK": "0"},
    "slam_detector": {"ARIA_NAV_CUDA_STACK": "default"},
    "slam_detector_stack_256": {"ARIA_NAV_CUDA_STACK": "256"},
    "slam_detector_stack_0": {"ARIA_NAV_CUDA_STACK": "0"},
    "slam_detector_no_cudnn": {"ARIA_NAV_CUDA_STACK": "default"},
    "rgb_engine": {"ARIA_NAV_CUDA_STACK": "default"},
    "rgb_engine_stack_256": {"ARIA_NAV_CUDA_STACK": "256"},
    "rgb_engine_stack_256_cublas_ws": {"ARIA_NAV_CUDA_STACK": "256", "CUBLAS_WORKSPACE_CONFIG": ":4096:1"},
    "rgb_engine_stack_0": {"ARIA_NAV_CUDA_STACK": "0"},
    "rgb_engine_no_cudnn": {"ARIA_NAV_CUDA_STACK": "default"},
}


def step(name: str, queue) -> None:
    os.environ.update(STEPS[name])
    import numpy as np
    import torch

    from aria_nav_ros.core.perception import cuda_context

    if name.endswith("no_cudnn"):
        torch.backends.cudnn.enabled = False
    device = torch.device("cuda")
    torch.zeros(1, device=device)
    if name.startswith("context"):
        cuda_context.shrink_stack(device)
        queue.put((name, charged_mb(), 0.0, cuda_context.stack_limit(device)))
        return
    from aria_nav_ros.core.perception.engine import EngineConfig, PerceptionEngine
    from aria_nav_ros.core.perception.models import RANDOM_DEPTH, load_depth, load_detector

    detector = load_detector("yolo11n.yaml", device, True)
    depth = load_depth(RANDOM_DEPTH, device, True) if name.startswith("rgb") else None
    # Sets the stack limit; eager models, as engine_memory_h200.json and gpu_memory_stack_h100.json were measured.
    engine = PerceptionEngine(detector, depth, EngineConfig(mode="graphs", compile_models=False))
    shape = (1408, 1408, 3) if name.startswith("rgb") else (480, 640)
    frame = np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8)
    for _ in range(5):
        engine.process(frame)
    torch.cuda.synchronize()
    assert engine.mode == "graphs", f"{name}: the engine fell back to {engine.mode}"
    queue.put((name, charged_mb(), torch.cuda.memory_reserved() / 2**20, cuda_context.stack_limit(device)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="JSON (default: print only)")
    parser.add_argument("--only", nargs="+", choices=list(STEPS), help="these steps alone (default: all)")
    args = parser.parse_args()
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    rows = []
    # Each row as soon as its step ends: a run cut short by a time limit still says what it measured.
    print(f"{'process':<34}{'charged MB':>11}{'torch reserved MB':>19}{'stack limit B':>15}", flush=True)
    for name in (n for n in STEPS if not args.only or n in args.only):
        p = ctx.Process(target=step, args=(name, queue))
        p.start()
        p.join()
        rows.append(queue.get() if p.exitcode == 0 else (name, None, None, None))
        charged, reserved, stack = (float("nan") if value is None else value for value in rows[-1][1:])
        print(f"{name:<34}{charged:>11.0f}{reserved:>19.0f}{stack:>15.0f}", flush=True)
    if args.out:
        import torch

        write(
            args.out,
            {
                "command": command("bench/gpu_memory_probe.py"),
                "machine": machine(),
                "what": "each step in a fresh process; charged_mb is what nvidia-smi charges the process (CUDA context"
                " included); detector yolo11n.yaml (random weights), RGB engine with Depth Anything V2 Small (random),"
                f" mode graphs; torch {torch.__version__}",
                "environment": STEPS,
                "charged_mb": {name: charged for name, charged, _, _ in rows},
                "torch_reserved_mb": {name: reserved for name, _, reserved, _ in rows},
                "stack_limit_bytes": {name: stack for name, _, _, stack in rows},
            },
        )


if __name__ == "__main__":
    main()
