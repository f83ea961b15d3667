"""The main job's graph: driver and monitor in separate processes, real photos, real DDS."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from aria_nav_ros.core.photos import photo_folder


def test_graph_moves_real_photos_between_processes(tmp_path: Path, ros_env: dict[str, str]) -> None:
    photos = photo_folder(tmp_path / "photos", ("bus.jpg", "zidane.jpg"))
    out = tmp_path / "run"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "aria_nav_ros.graph",
            "--path",
            str(photos),
            "--rate",
            "5",
            "--loop",
            "--duration",
            "8",
            "--output",
            str(out),
        ],
        env=ros_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    streams = json.loads((out / "streams.json").read_text())
    assert set(streams) == {"rgb", "slam_left", "slam_right"}
    assert streams["rgb"]["shape"] == [1408, 1408, 3]
    assert streams["slam_left"]["shape"] == [480, 640]
    for camera, stats in streams.items():
        # 8 s at 5 Hz is 40 frames; discovery and start-up take a few seconds.
        assert stats["received"] >= 10, (camera, stats)
        assert stats["rejected"] == 0, (camera, stats)
