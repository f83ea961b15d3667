"""Regression on the sample walk: a lockstep replay's detections and cues against golden files.

The replay runs the real graph (driver, perception, navigation, recorder in
their own processes over DDS) on the recording's own clock, one image at a
time, so every run gives the same output. Detections are compared per image
by class and box overlap (IoU), cues as a sequence, exactly.

    python -m aria_nav_ros.graph.regression --refresh          # replay, then update test/golden/
    python -m aria_nav_ros.graph.regression --check RUN_FOLDER  # compare a finished replay

A refresh writes only what the comparison would reject: an image's detection
that matches its golden one (class, IoU), or a cue that matches its golden
one, keeps the golden entry as it is, so a replay that differs by noise alone
(a score 0.282 -> 0.283, a box edge 594.4 -> 594.5) leaves the files byte for
byte as they were. Rounding alone would not do: a value on a rounding
boundary still flips.
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
from aria_nav_ros.graph.run_report import read_cues

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
        _, unmatched, extra = _match(got_by[key], want_by[key], min_iou)
        for wanted, overlap in unmatched:
            problems.append(f"{key[0]} image {key[1]}: {wanted['class']} {wanted['box']} best IoU {overlap:.2f}")
        problems += [f"{key[0]} image {key[1]}: extra {d['class']} {d['box']}" for d in extra]
    return problems


def _match(
    got: list[dict], want: list[dict], min_iou: float
) -> tuple[list[tuple[dict, dict]], list[tuple[dict, float]], list[dict]]:
    """One image's detections paired as the comparison pairs them: each wanted one, in order, with the
    remaining detection of its class that overlaps it most. Returns the (wanted, got) pairs, the wanted ones
    left unmatched (with their best IoU) and the detections left over. The refresh uses the same pairing, so
    what it keeps is exactly what the comparison accepts."""
    left = list(got)
    pairs, unmatched = [], []
    for wanted in want:
        same_class = [d for d in left if d["class"] == wanted["class"]]
        best = max(same_class, key=lambda d: iou(d["box"], wanted["box"]), default=None)
        overlap = iou(best["box"], wanted["box"]) if best else 0.0
        if best is None or overlap < min_iou:
            unmatched.append((wanted, overlap))
        else:
            left.remove(best)
            pairs.append((wanted, best))
    return pairs, unmatched, left


def compare_cues(got: list[dict], want: list[dict]) -> list[str]:
    """The cue sequences must agree cue by cue: time, urgency, class, words; distance and bearing closely."""
    problems = []
    if len(got) != len(want):
        problems.append(f"{len(got)} cues, the golden file has {len(want)}")
    for index, (g, w) in enumerate(zip(got, want, strict=False)):
        problems += [f"cue {index}: {p}" for p in _cue_differences(g, w)]
    return problems


def _cue_differences(got: dict, want: dict) -> list[str]:
    """What the comparison rejects between one cue and its golden one (nothing: they match)."""
    problems = [
        f"{key} {got.get(key)!r}, golden {want.get(key)!r}"
        for key in ("time", "urgency", "class", "cameras", "text")
        if got.get(key) != want.get(key)
    ]
    if not _close(got.get("distance_m"), want.get("distance_m"), DISTANCE_TOLERANCE_M):
        problems.append(f"distance {got.get('distance_m')} m, golden {want.get('distance_m')} m")
    if not _close(got.get("bearing_deg"), want.get("bearing_deg"), BEARING_TOLERANCE_DEG):
        problems.append(f"bearing {got.get('bearing_deg')} deg, golden {want.get('bearing_deg')} deg")
    return problems


def _close(a: float | None, b: float | None, tolerance: float) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= tolerance


def check(run: Path, golden: Path) -> list[str]:
    want_detections = json.loads((golden / DETECTIONS_FILE).read_text())
    want_cues = json.loads((golden / CUES_FILE).read_text())
    return compare_detections(detections_of(run), want_detections) + compare_cues(read_cues(run), want_cues)


def refreshed_detections(got: list[dict], want: list[dict], min_iou: float = MIN_IOU) -> list[dict]:
    """The golden detections for result `got`: per image, every golden detection the comparison pairs with one
    of `got` kept as it was (in its golden order), then the detections of `got` it would call extra. Images are
    those of `got`; one whose detections all match is the golden image itself."""
    want_by = {(f["camera"], f["stamp_ns"]): f for f in want}
    frames = []
    for frame in got:
        old = want_by.get((frame["camera"], frame["stamp_ns"]))
        if old is None:
            frames.append(frame)
            continue
        pairs, unmatched, extra = _match(frame["detections"], old["detections"], min_iou)
        if not unmatched and not extra:
            frames.append(old)
            continue
        # Golden pairs first, in golden order: the comparison's greedy pairing then finds the same pairs
        # again, and each new detection pairs with itself.
        frames.append({**frame, "detections": [wanted for wanted, _ in pairs] + extra})
    return frames


def refreshed_cues(got: list[dict], want: list[dict]) -> list[dict]:
    """The golden cues for result `got`: cue by cue, the golden one where the comparison accepts it."""
    return [
        want[index] if index < len(want) and not _cue_differences(cue, want[index]) else cue
        for index, cue in enumerate(got)
    ]


def _detections_text(detections: list[dict]) -> str:
    return json.dumps(detections, indent=1) + "\n"


def _cues_text(cues: list[dict]) -> str:
    return json.dumps(cues, indent=1, ensure_ascii=False) + "\n"


def update_goldens(detections: list[dict], cues: list[dict], golden: Path) -> list[str]:
    """Make the golden files accept this result, changing only what the comparison rejected (see
    `refreshed_detections`, `refreshed_cues`); a file with nothing to change is not written at all.
    Returns the names of the files written."""
    golden.mkdir(parents=True, exist_ok=True)
    written = []
    for name, new, refreshed, text in (
        (DETECTIONS_FILE, detections, refreshed_detections, _detections_text),
        (CUES_FILE, cues, refreshed_cues, _cues_text),
    ):
        path = golden / name
        old_text = path.read_text() if path.exists() else None
        content = text(refreshed(new, json.loads(old_text)) if old_text is not None else new)
        if content != old_text:
            path.write_text(content)
            written.append(name)
    return written


def write_goldens(run: Path, golden: Path) -> tuple[int, list[str]]:
    """Update the golden files from a lockstep replay's run folder: the number of images, the files written."""
    detections = detections_of(run)
    return len(detections), update_goldens(detections, read_cues(run), golden)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Compare (or refresh) the sample walk's golden outputs.")
    parser.add_argument("--bag", type=Path, default=Path("outputs/sample/walk"), help="the sample bag")
    parser.add_argument("--golden", type=Path, default=Path("test/golden"), help="the golden files' folder")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--refresh", action="store_true", help="replay the sample; update what the comparison rejects")
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
        files = [args.golden / name for name in (DETECTIONS_FILE, CUES_FILE)]
        rejected = check(run, args.golden) if all(f.exists() for f in files) else []
        for line in rejected[:40] + ([f"... {len(rejected) - 40} more"] if len(rejected) > 40 else []):
            print(line)  # what the refresh changes: what the comparison rejected
        images, written = write_goldens(run, args.golden)
        if written:
            print(f"{images} images; updated {', '.join(str(args.golden / name) for name in written)}")
        else:
            print(f"{images} images; the golden files already accept this replay: nothing written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
