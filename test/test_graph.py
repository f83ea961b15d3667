"""The main job's graph: driver, RGB perception + navigation (composed), two SLAM detectors, monitor."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from aria_nav_ros.core.photos import photo_folder
from aria_nav_ros.graph import GraphSettings, describe_graph, process_command


def test_graph_description_names_every_process_once() -> None:
    processes = describe_graph(GraphSettings(path="photos", compose=True))
    names = [n.name for p in processes for n in p]
    assert names == [
        "aria_driver",
        "rgb_perception",
        "navigation",
        "slam_detector_left",
        "slam_detector_right",
        "stream_monitor",
    ]
    composed = process_command(processes[1])
    assert composed[2:5] == ["aria_nav_ros.nodes.container", "rgb_perception", "navigation"]
    assert "rgb_perception:depth_every:=1" in composed and 'navigation:language:="en"' in composed
    separate = describe_graph(GraphSettings(path="photos"))
    assert len(separate) == len(processes) + 1


def test_whole_graph_on_real_photos_speaks_cues(tmp_path: Path, ros_env: dict[str, str]) -> None:
    photos = photo_folder(tmp_path / "photos", ("bus.jpg", "zidane.jpg"))
    out = tmp_path / "run"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "aria_nav_ros.graph",
            "--path",
            str(photos),
            "--image-fps",
            "2",
            "--loop",
            "--duration",
            "30",
            "--slam-imgsz",
            "320",
            "--compose",
            "--audio-sink",
            "wav",
            "--output",
            str(out),
        ],
        env=ros_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    streams = json.loads((out / "streams.json").read_text())
    assert set(streams) == {"rgb", "slam_left", "slam_right"}
    assert streams["rgb"]["shape"] == [1408, 1408, 3] and streams["slam_left"]["shape"] == [480, 640]
    assert all(s["received"] >= 20 and s["rejected"] == 0 for s in streams.values()), streams
    cues = [json.loads(line) for line in (out / "cues.jsonl").read_text().splitlines()]
    people = [c for c in cues if c["class"] == "person"]
    assert people, result.stderr[-3000:]
    assert "[cue " in result.stderr
    assert (out / "navigation.wav").stat().st_size > 44
    assert "cues:" in result.stdout and "frames" in result.stdout
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
