"""The sample walk replayed in lockstep through the real graph, against the golden files in test/golden.

Refresh the golden files (after a change that is meant to alter the output):

    source scripts/env.sh && python -m aria_nav_ros.graph.regression --refresh

A refresh changes only what the comparison rejects: noise leaves the files byte for byte as they were.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

from locations import HELPERS
from mcap.reader import make_reader
from mcap_ros2.decoder import DecoderFactory
from rosbags.rosbag2 import Reader

from aria_nav_ros.core import sample
from aria_nav_ros.graph.regression import (
    CUES_FILE,
    DETECTIONS_FILE,
    check,
    compare_cues,
    compare_detections,
    detections_of,
    replay,
    update_goldens,
)
from aria_nav_ros.graph.run_report import read_cues

GOLDEN = HELPERS / "golden"


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


def _noisy(detections: list[dict], cues: list[dict]) -> tuple[list[dict], list[dict]]:
    """The goldens as a replay on another machine gives them: every score and box edge a rounding step off
    (0.282 -> 0.283, 594.4 -> 594.5), detections in another order, distances and bearings slightly off."""
    detections, cues = copy.deepcopy(detections), copy.deepcopy(cues)
    for frame in detections:
        for n, d in enumerate(frame["detections"]):
            step = 1 if n % 2 == 0 else -1
            d["score"] = round(d["score"] + 0.001 * step, 3)
            d["box"] = [round(v + 0.1 * step, 1) for v in d["box"]]
        frame["detections"].reverse()
    for cue in cues:
        if cue["distance_m"] is not None:
            cue["distance_m"] = round(cue["distance_m"] + 0.01, 2)
        cue["bearing_deg"] = round(cue["bearing_deg"] - 0.1, 1)
    return detections, cues


def _goldens_in(folder: Path) -> tuple[list[dict], list[dict], dict[str, bytes]]:
    for name in (DETECTIONS_FILE, CUES_FILE):
        shutil.copy(GOLDEN / name, folder / name)
    files = {name: (folder / name).read_bytes() for name in (DETECTIONS_FILE, CUES_FILE)}
    return json.loads(files[DETECTIONS_FILE]), json.loads(files[CUES_FILE]), files


def test_a_refresh_with_noise_only_leaves_the_golden_files_byte_identical(tmp_path: Path) -> None:
    detections, cues, before = _goldens_in(tmp_path)
    got_detections, got_cues = _noisy(detections, cues)
    changed = sum(g != w for g, w in zip(got_detections, detections, strict=True))
    assert changed > 100 and got_cues != cues  # the noise is real: written as it came, every file would change
    assert compare_detections(got_detections, detections) == [] and compare_cues(got_cues, cues) == []

    assert update_goldens(got_detections, got_cues, tmp_path) == []
    assert {name: (tmp_path / name).read_bytes() for name in before} == before


def test_a_refresh_with_a_real_difference_rewrites_that_entry_only(tmp_path: Path) -> None:
    detections, cues, _ = _goldens_in(tmp_path)
    got_detections, got_cues = _noisy(detections, cues)
    index = next(i for i, f in enumerate(got_detections) if len(f["detections"]) >= 2)
    moved = got_detections[index]["detections"][0]
    width = moved["box"][2] - moved["box"][0]
    moved["box"] = [moved["box"][0] + 0.3 * width, moved["box"][1], moved["box"][2] + 0.3 * width, moved["box"][3]]
    gone = next(i for i, f in enumerate(got_detections) if i != index and f["detections"])
    got_detections[gone]["detections"].pop()
    hazard = next(i for i, c in enumerate(got_cues) if "meters" in c["text"])
    got_cues[hazard]["text"] = got_cues[hazard]["text"].replace("meters", "metres")
    got_cues.append({**got_cues[-1], "time": got_cues[-1]["time"] + 1.0, "text": "One cue more"})

    assert sorted(update_goldens(got_detections, got_cues, tmp_path)) == sorted([CUES_FILE, DETECTIONS_FILE])
    new_detections = json.loads((tmp_path / DETECTIONS_FILE).read_text())
    new_cues = json.loads((tmp_path / CUES_FILE).read_text())
    # The refreshed files accept this result, and a second refresh with it writes nothing.
    assert compare_detections(got_detections, new_detections) == [] and compare_cues(got_cues, new_cues) == []
    assert update_goldens(got_detections, got_cues, tmp_path) == []

    # Only the images that differ changed; in each, the detections that still match are the golden ones, as
    # they were (the noisy list is the golden one reversed: its first is the golden last, its last the golden first).
    assert [i for i, (n, w) in enumerate(zip(new_detections, detections, strict=True)) if n != w] == [index, gone]
    assert new_detections[index]["detections"] == [*detections[index]["detections"][:-1], moved]
    assert new_detections[gone]["detections"] == detections[gone]["detections"][1:]
    # Cues: the reworded one and the one more are the replay's; every other is the golden one, as it was.
    assert new_cues[: len(cues)] == [got_cues[hazard] if i == hazard else c for i, c in enumerate(cues)]
    assert new_cues[len(cues) :] == [got_cues[-1]]
