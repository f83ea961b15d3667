"""The sample walk replayed in lockstep through the real graph, against the golden files in test/golden.

Refresh the golden files (after a change that is meant to alter the output):

    source scripts/env.sh && python -m aria_nav_ros.regression --refresh
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from mcap.reader import make_reader
from mcap_ros2.decoder import DecoderFactory
from rosbags.rosbag2 import Reader

from aria_nav_ros.core import sample
from aria_nav_ros.regression import (
    CUES_FILE,
    DETECTIONS_FILE,
    check,
    compare_cues,
    compare_detections,
    detections_of,
    replay,
)
from aria_nav_ros.run_report import read_cues

GOLDEN = Path(__file__).resolve().parent / "golden"


def _decoded(mcap: Path, topic: str) -> list:
    """Messages of one topic as mcap-ros2-support decodes them, from the schemas in the file alone."""
    with mcap.open("rb") as f:
        reader = make_reader(f, decoder_factories=[DecoderFactory()])
        return [decoded for _, _, _, decoded in reader.iter_decoded_messages(topics=[topic])]


def _messages(bag: Path) -> list[tuple[str, int, bytes]]:
    with Reader(bag) as reader:
        return [(c.topic, t, bytes(raw)) for c, t, raw in reader.messages()]


def test_sample_is_an_aria_like_walk_and_rebuilds_identically(tmp_path: Path, sample_bag: Path) -> None:
    rebuilt = tmp_path / "walk"
    counts = sample.write_sample(rebuilt)
    assert counts["/aria/rgb/image_raw"] == counts["/aria/slam_left/image_raw"] == 100
    assert counts["/aria/imu"] == 2000
    assert _messages(rebuilt) == _messages(sample_bag)
    # Walking towards people: the RGB view magnifies over a walking scene, not while standing.
    first, last = sample.WALK[1], sample.WALK[-1]
    assert sample.zoom_at(first, first.seconds) > 1.5 and sample.zoom_at(last, last.seconds) == 1.0


def test_replay_matches_the_golden_files(tmp_path: Path, ros_env: dict[str, str], sample_bag: Path) -> None:
    run = tmp_path / "run"
    result = replay(sample_bag, run)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "Traceback" not in result.stderr, result.stderr[-4000:]
    problems = check(run, GOLDEN)
    assert not problems, "\n".join(problems[:40])

    # The run's bag decodes in an independent reader, our own message types included.
    [mcap] = (run / "bag").glob("*.mcap")
    arrays = _decoded(mcap, "/aria/rgb/detections")
    want = [f for f in detections_of(run) if f["camera"] == "rgb"]
    assert len(arrays) == len(want) == 100
    for msg, frame in zip(arrays, want, strict=True):
        assert msg.camera == "rgb"
        assert [d.class_name for d in msg.detections] == [d["class"] for d in frame["detections"]]
        assert [round(d.x_min, 1) for d in msg.detections] == [d["box"][0] for d in frame["detections"]]
    cues = _decoded(mcap, "/navigation/cues")
    assert [c.text for c in cues] == [c["text"] for c in read_cues(run)]


def test_the_comparison_fails_when_the_output_drifts() -> None:
    detections = json.loads((GOLDEN / DETECTIONS_FILE).read_text())
    cues = json.loads((GOLDEN / CUES_FILE).read_text())
    assert compare_detections(detections, detections) == [] and compare_cues(cues, cues) == []
    index = next(i for i, f in enumerate(detections) if f["detections"])

    moved = copy.deepcopy(detections)
    box = moved[index]["detections"][0]["box"]
    width = box[2] - box[0]
    box[0], box[2] = box[0] + 0.3 * width, box[2] + 0.3 * width
    assert any("best IoU" in p for p in compare_detections(moved, detections))

    renamed = copy.deepcopy(detections)
    renamed[index]["detections"][0]["class"] = "car"
    problems = compare_detections(renamed, detections)
    assert any("extra car" in p for p in problems) and any("best IoU 0.00" in p for p in problems)

    assert any("no detections" in p for p in compare_detections(detections[1:], detections))

    hazard = next(i for i, c in enumerate(cues) if "meters" in c["text"])  # a hazard cue with a distance
    reworded = copy.deepcopy(cues)
    reworded[hazard]["text"] = reworded[hazard]["text"].replace("meters", "metres")
    assert any("text" in p for p in compare_cues(reworded, cues))
    assert any("cues, the golden file has" in p for p in compare_cues(cues[:-1], cues))
    farther = copy.deepcopy(cues)
    farther[hazard]["distance_m"] += 0.5
    assert any("distance" in p for p in compare_cues(farther, cues))
