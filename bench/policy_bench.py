"""Navigation policy cost and cue rate: three cameras at 30 Hz with a busy scene, no ROS.

python bench/policy_bench.py --seconds 60 --out bench/results/policy.json
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]  # the ROS-free core without installing it; report beside this

from report import command, write  # noqa: E402

from aria_nav_ros.core.detection import DISTANCE_CLASS_SIZE, Detection  # noqa: E402
from aria_nav_ros.core.navigation.config import NavigationConfig  # noqa: E402
from aria_nav_ros.core.navigation.policy import NavigationPolicy  # noqa: E402


def scene(t: float, camera: str) -> list[Detection]:
    """Ten objects per camera, some approaching, some passing."""
    out = []
    offset = {"rgb": 0.0, "slam_left": -70.0, "slam_right": 70.0}[camera]
    for i in range(10):
        distance = max(0.8, 2.0 + i + 3.0 * math.sin(0.3 * t + i))
        bearing = offset + (i - 5) * 5 + 10 * math.sin(0.1 * t + i)
        out.append(
            Detection(
                0,
                ("person", "car", "chair", "bicycle", "dog")[i % 5],
                0.8,
                (0, 0, 1, 1),
                distance,
                DISTANCE_CLASS_SIZE,
                bearing,
            )
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0, help="simulated time")
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "policy.json"))
    args = parser.parse_args()
    policy = NavigationPolicy(NavigationConfig.load(), "en")
    latencies, cues = [], []
    steps = int(args.seconds * args.rate)
    for k in range(steps):
        t = k / args.rate
        for camera in ("rgb", "slam_left", "slam_right"):
            detections = scene(t, camera)
            start = time.perf_counter()
            cues += policy.on_detections(t, camera, detections)
            latencies.append((time.perf_counter() - start) * 1e3)
        cues += policy.tick(t)
    lat = np.asarray(latencies)
    gaps = np.diff([c.time for c in cues]) if len(cues) > 1 else np.array([math.nan])
    report = {
        "command": command(__file__),
        "updates": len(latencies),
        "objects_per_update": 10,
        "cameras": 3,
        "rate_hz": args.rate,
        "update_ms_p50": float(np.percentile(lat, 50)),
        "update_ms_p99": float(np.percentile(lat, 99)),
        "update_ms_max": float(lat.max()),
        "cues": len(cues),
        "cues_per_minute": len(cues) / args.seconds * 60,
        "min_gap_between_cues_s": float(np.min(gaps)),
        "by_urgency": {u: sum(c.urgency == i for c in cues) for i, u in enumerate(("info", "warning", "critical"))},
    }
    write(args.out, report)
    print(f"{'updates':<24}{report['updates']}")
    print(f"{'update p50 / p99 (ms)':<24}{report['update_ms_p50']:.3f} / {report['update_ms_p99']:.3f}")
    print(f"{'cues per minute':<24}{report['cues_per_minute']:.1f}  {report['by_urgency']}")
    print(f"{'smallest gap (s)':<24}{report['min_gap_between_cues_s']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
