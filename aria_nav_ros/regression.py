"""Regression on the sample walk: a lockstep replay's detections and cues against golden files.

The replay runs the real graph (driver, perception, navigation, recorder in
their own processes over DDS) on the recording's own clock, one image at a
time, so every run gives the same output. Detections are compared per image
by class and box overlap (IoU), cues as a sequence, exactly.

    python -m aria_nav_ros.regression --refresh          # replay, then rewrite test/golden/
    python -m aria_nav_ros.regression --check RUN_FOLDER  # compare a finished replay
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from rosbags.rosbag2 import Reader

from aria_nav_ros.core.bag_types import typestore
from aria_nav_ros.core.cameras import CAMERAS, detections_topic, in_bag
from aria_nav_ros.core.timebase import stamp_ns
from aria_nav_ros.run_report import read_cues

# The main job's CPU settings, on the recorded clock, one image at a time.
REPLAY_ARGS = (
    "--lockstep", "--device", "cpu", "--audio-sink", "wav", "--slam-imgsz", "320",
)  # fmt: skip
DETECTIONS_FILE = "sample_detections.json"
CUES_FILE = "sample_cues.json"
MIN_IOU = 0.9
DISTANCE_TOLERANCE_M = 0.05
BEARING_TOLERANCE_DEG = 0.5


def replay(bag: Path, run: Path) -> subprocess.CompletedProcess:
    """Play `bag` through the graph in lockstep into the run folder `run`."""
    command = [sys.executable, "-m", "aria_nav_ros.launcher", "--path", str(bag), "--output", str(run)]
    return subprocess.run([*command, *REPLAY_ARGS], capture_output=True, text=True, timeout=900)


def detections_of(run: Path) -> list[dict]:
    """Every DetectionArray the run recorded: camera, stamp and boxes, in stamp order."""
    store = typestore()
    frames = []
    with Reader(run / "bag") as reader:
        topics = in_bag(reader.topics, {detections_topic(c): c for c in CAMERAS})
        connections = [c for c in reader.connections if c.topic in topics]
        for connection, _, raw in reader.messages(connections=connections):
            msg = store.deserialize_cdr(raw, connection.msgtype)
            boxes = [
                {
                    "class": d.class_name,
                    "score": round(float(d.score), 3),
                    "box": [round(float(v), 1) for v in (d.x_min, d.y_min, d.x_max, d.y_max)],
                }
                for d in msg.detections
            ]
            frames.append({"camera": msg.camera, "stamp_ns": stamp_ns(msg.header.stamp), "detections": boxes})
    return sorted(frames, key=lambda f: (f["stamp_ns"], f["camera"]))


def iou(a: list[float], b: list[float]) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def compare_detections(got: list[dict], want: list[dict], min_iou: float = MIN_IOU) -> list[str]:
    """What differs: missing or extra images, and per image detections unmatched by class and IoU."""
    problems = []
    got_by = {(f["camera"], f["stamp_ns"]): f["detections"] for f in got}
    want_by = {(f["camera"], f["stamp_ns"]): f["detections"] for f in want}
    for key in sorted(want_by.keys() - got_by.keys()):
        problems.append(f"{key[0]} image {key[1]}: no detections published")
    for key in sorted(got_by.keys() - want_by.keys()):
        problems.append(f"{key[0]} image {key[1]}: not in the golden file")
    for key in sorted(want_by.keys() & got_by.keys()):
        left = list(got_by[key])
        for wanted in want_by[key]:
            same_class = [d for d in left if d["class"] == wanted["class"]]
            best = max(same_class, key=lambda d: iou(d["box"], wanted["box"]), default=None)
            overlap = iou(best["box"], wanted["box"]) if best else 0.0
            if best is None or overlap < min_iou:
                problems.append(f"{key[0]} image {key[1]}: {wanted['class']} {wanted['box']} best IoU {overlap:.2f}")
            else:
                left.remove(best)
        problems += [f"{key[0]} image {key[1]}: extra {d['class']} {d['box']}" for d in left]
    return problems


def compare_cues(got: list[dict], want: list[dict]) -> list[str]:
    """The cue sequences must agree cue by cue: time, urgency, class, words; distance and bearing closely."""
    problems = []
    if len(got) != len(want):
        problems.append(f"{len(got)} cues, the golden file has {len(want)}")
    for index, (g, w) in enumerate(zip(got, want, strict=False)):
        for key in ("time", "urgency", "class", "cameras", "text"):
            if g.get(key) != w.get(key):
                problems.append(f"cue {index}: {key} {g.get(key)!r}, golden {w.get(key)!r}")
        if not _close(g.get("distance_m"), w.get("distance_m"), DISTANCE_TOLERANCE_M):
            problems.append(f"cue {index}: distance {g.get('distance_m')} m, golden {w.get('distance_m')} m")
        if not _close(g.get("bearing_deg"), w.get("bearing_deg"), BEARING_TOLERANCE_DEG):
            problems.append(f"cue {index}: bearing {g.get('bearing_deg')} deg, golden {w.get('bearing_deg')} deg")
    return problems


def _close(a: float | None, b: float | None, tolerance: float) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= tolerance


def check(run: Path, golden: Path) -> list[str]:
    want_detections = json.loads((golden / DETECTIONS_FILE).read_text())
    want_cues = json.loads((golden / CUES_FILE).read_text())
    return compare_detections(detections_of(run), want_detections) + compare_cues(read_cues(run), want_cues)


def write_goldens(run: Path, golden: Path) -> int:
    """Write the golden files from a lockstep replay's run folder; returns the number of images."""
    detections = detections_of(run)
    golden.mkdir(parents=True, exist_ok=True)
    (golden / DETECTIONS_FILE).write_text(json.dumps(detections, indent=1) + "\n")
    (golden / CUES_FILE).write_text(json.dumps(read_cues(run), indent=1, ensure_ascii=False) + "\n")
    return len(detections)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Compare (or refresh) the sample walk's golden outputs.")
    parser.add_argument("--bag", type=Path, default=Path("outputs/sample/walk"), help="the sample bag")
    parser.add_argument("--golden", type=Path, default=Path("test/golden"), help="the golden files' folder")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--refresh", action="store_true", help="replay the sample and rewrite the golden files")
    action.add_argument("--check", type=Path, metavar="RUN", help="compare a finished lockstep replay's run folder")
    args = parser.parse_args(argv)
    if args.check:
        problems = check(args.check, args.golden)
        print("\n".join(problems) or "matches the golden files")
        return 1 if problems else 0
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        result = replay(args.bag, run)
        if result.returncode != 0:
            print(result.stdout[-3000:], result.stderr[-3000:], sep="\n")
            print(f"replay failed with code {result.returncode}: golden files left as they were")
            return 1
        images = write_goldens(run, args.golden)
        print(f"wrote {args.golden / DETECTIONS_FILE} ({images} images), {args.golden / CUES_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
