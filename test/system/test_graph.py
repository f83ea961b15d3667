"""The main job's graph, run by the package's own launcher on the sample walk."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import cv2
from processes import NodeProcess, launcher_command, stop_group

from aria_nav_ros.graph.description import GraphSettings, describe_graph
from aria_nav_ros.graph.process import children, command_line, running
from aria_nav_ros.graph.regression import detections_of


def test_graph_description_names_every_process_once() -> None:
    processes = describe_graph(GraphSettings(path="walk"))
    assert [p.name for p in processes] == [
        "aria_driver",
        "recorder",
        "rgb_perception",
        "navigation",
        "slam_detector_left",
        "slam_detector_right",
        "stream_monitor",
    ]
    assert [p.respawn for p in processes] == [True, False, True, True, True, True, True]
    assert [p.nodes[0].parameters["depth_model"] for p in processes[4:6]] == ["", ""]  # SLAM: YOLO only
    composed = describe_graph(GraphSettings(path="walk", compose=True, record=False))
    assert len(composed) == len(processes) - 2
    command = composed[1].command()
    assert command[2:5] == ["aria_nav_ros.nodes.container", "rgb_perception", "navigation"]
    assert "rgb_perception:depth_every:=1" in command and 'navigation:language:="en"' in command
    replay = describe_graph(GraphSettings(path="walk", lockstep=True))
    assert not replay[0].respawn and "lockstep:=true" in replay[0].command()


def test_main_job_restarts_a_killed_worker_stops_cleanly_and_leaves_the_run_folder(
    tmp_path: Path, ros_env: dict[str, str], sample_bag: Path
) -> None:
    run = tmp_path / "run"
    launcher = NodeProcess(launcher_command(
        "--path", sample_bag, "--loop", "--rate", "0.5", "--rgb-imgsz", "320", "--slam-imgsz", "320",
        "--camera-timeout", "3", "--device", "cpu", "--audio-sink", "wav", "--output", run,
        "--trace", tmp_path / "trace",
    ), ros_env, with_stdout=True)  # fmt: skip
    try:
        assert launcher.wait_for("[cue ", timeout_s=90), launcher.log[-3000:]
        [slam_left] = [p for p in children(launcher.process.pid) if "slam_detector_left" in command_line(p)]
        os.kill(slam_left, signal.SIGKILL)
        assert launcher.wait_for("restarting slam_detector_left", timeout_s=30), launcher.log[-3000:]
        # The restarted detector has loaded its model again (its second "classes" line) and works.
        assert launcher.wait_for("slam_left: pkg:", times=2, timeout_s=90), launcher.log[-3000:]
        processes = children(launcher.process.pid)
        assert any("slam_detector_left" in command_line(p) for p in processes)
        code = stop_group(launcher.process, timeout_s=60)
    finally:
        stop_group(launcher.process)
    log = launcher.log
    assert code == 0, log[-3000:]
    assert not [p for p in processes if running(p)], "processes left behind"
    assert "Traceback" not in log, log[-3000:]

    # The run folder: cues, sound, streams, summary with latency, annotated video, a bag of the run.
    cues = [json.loads(line) for line in (run / "cues.jsonl").read_text().splitlines()]
    assert any(c["class"] == "person" for c in cues)
    assert {"time", "urgency", "class", "distance_m", "bearing_deg", "text"} <= set(cues[0])
    summary = json.loads((run / "summary.json").read_text())
    assert all(summary["frames_received"][c] > 10 for c in ("rgb", "slam_left", "slam_right")), summary
    assert summary["frames_processed"]["rgb"]["frames"] > 5 and summary["frames_processed"]["rgb"]["fps"] > 0
    latency = summary["camera_to_cue_ms"]
    assert latency["n"] >= 1 and 0 < latency["p50"] <= latency["p95"] <= latency["p99"], latency
    assert (run / "navigation.wav").stat().st_size > 44
    video = cv2.VideoCapture(str(run / "annotated_rgb.mp4"))
    ok, frame = video.read()
    assert ok and frame.shape == (704, 704, 3)
    assert len(detections_of(run)) >= summary["frames_processed"]["rgb"]["frames"]
    assert "camera to cue" in log and "cues:" in log

    # The replay waited for perception: the first frame the driver published of each camera reached its
    # perception node (per-frame traces of the driver and each perception node, by stamp: processed, or skipped
    # for a newer one when the next came before the worker was free, as on a loaded machine; the killed
    # slam_detector_left may have died before its first), and the node processed frames.
    traces = (tmp_path / "trace").glob("*.jsonl")
    trace = {f.stem: [json.loads(line) for line in f.read_text().splitlines()] for f in traces}
    for camera, node in (("rgb", "rgb_perception"), ("slam_right", "slam_detector_right")):
        first = next(r["stamp"] for r in trace["aria_driver"] if r.get("camera") == camera)
        taken = [r["stamp"] for r in trace[node]]  # in the order written: a skip is written when a newer frame came
        assert first in taken and any("published" in r for r in trace[node]), (camera, first, taken[:3])


def test_launcher_help_lists_the_launch_arguments() -> None:
    out = subprocess.run([sys.executable, "-m", "aria_nav_ros.launcher", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--compose" in out.stdout and "--lockstep" in out.stdout
