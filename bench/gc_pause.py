"""How long Python's full garbage collection pauses a perception process, before and after gc.freeze().

A perception process holds its models for its whole life: hundreds of thousands of objects that every full
collection walks again. That walk is a pause on whichever thread triggers it, the frame path included.
This script loads what a perception process loads (the node's module, the person checkpoint, one warm-up
frame on the CPU), then times full collections, then freezes the heap as the node does after configure
(aria_nav_ros/nodes/perception.py) and times them again, in the same process. Prints a table, writes JSON.

    source scripts/env.sh && python bench/gc_pause.py --repeats 5
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

import numpy as np

import aria_nav_ros.nodes.perception  # noqa: F401  (everything a perception process imports)
from aria_nav_ros.core.perception.models import resolve

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))  # report, beside this file (PYTHONSAFEPATH=1)
from report import command, machine, write  # noqa: E402


def full_collections_ms(repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        gc.collect()
        times.append(round((time.perf_counter() - start) * 1e3, 2))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--model", default="pkg:fall_detection/models/best.pt")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "gc_pause_cpu.json"))
    args = parser.parse_args()
    from ultralytics import YOLO

    model = YOLO(resolve(args.model))
    model.predict(np.zeros((320, 320, 3), np.uint8), verbose=False, device="cpu")  # warm: what a frame builds
    tracked = len(gc.get_objects())
    before = full_collections_ms(args.repeats)
    gc.freeze()
    after = full_collections_ms(args.repeats)
    result = {
        "command": command(__file__),
        "machine": machine(),
        "tracked_objects": tracked,
        "frozen_objects": gc.get_freeze_count(),
        "full_collection_ms": {"before_freeze": before, "after_freeze": after},
        "summary": {"median_before_ms": float(np.median(before)), "median_after_ms": float(np.median(after))},
    }
    print(f"{'':>14} {'median ms':>10} {'max ms':>8}   ({tracked} tracked objects)")
    for name, times in (("before freeze", before), ("after freeze", after)):
        print(f"{name:>14} {np.median(times):>10.2f} {max(times):>8.2f}")
    write(args.out, result)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
