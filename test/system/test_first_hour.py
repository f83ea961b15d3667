"""What a new user meets in the first hour, run as the README shows it: a namespace, a file that is no video, a
perception node that never becomes ready, run folders that pile up."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import rclpy
import yaml
from locations import ARIA_DATA
from processes import LIGHT, NodeProcess, launcher_command, node_command, stop_group
from rcl_interfaces.srv import GetParameters
from rosbags.rosbag2 import Reader
from sensor_msgs.msg import Image
from services import call

from aria_nav_ros.core.detection import DISTANCE_CLASS_SIZE, Detection
from aria_nav_ros.core.navigation.config import NavigationConfig
from aria_nav_ros.core.navigation.policy import KIND_SYSTEM, NavigationPolicy
from aria_nav_ros.core.photos import photo_folder
from aria_nav_ros.core.share import share_path
from aria_nav_ros.graph.launcher import prune_runs
from aria_nav_ros.graph.protocol import EXIT_SOURCE
from aria_nav_ros.msg import SystemEvent
from aria_nav_ros.ros.qos import EVENTS_QOS, SENSOR_QOS

ADT_VRS = ARIA_DATA / "adt_video.vrs"
CEILING_S = 300.0  # a 2-core machine loads three detectors at once; this only keeps a hang from hanging the suite


def parameter(node: rclpy.node.Node, fqn: str, name: str) -> object:
    """A parameter in force in a running node, as `ros2 param get` reads it."""
    [value] = call(node, GetParameters, f"{fqn}/get_parameters", GetParameters.Request(names=[name])).values
    return rclpy.parameter.parameter_value_to_python(value)


def test_the_whole_three_camera_graph_in_a_namespace_keeps_its_parameters_bag_and_summary(
    tmp_path: Path, ros_env: dict[str, str], sample_bag: Path, listener
) -> None:
    """`--namespace wearer1` as the README shows it: every node keeps the params file's settings (its sections
    are keyed /**/<node>), both SLAM detectors read their own cameras so the replay starts, and the run ends with
    its summary and a bag of the configured topics under /wearer1."""
    run = tmp_path / "run"
    graph = NodeProcess(launcher_command("--path", sample_bag, "--namespace", "wearer1", "--loop", *LIGHT,
                                         "--output", run), ros_env, with_stdout=True)  # fmt: skip
    configured = yaml.safe_load(share_path("config", "aria_nav.yaml").read_text())
    try:
        assert graph.wait_for("[cue warning] System ready", timeout_s=CEILING_S), graph.log[-3000:]
        recorder_topics = configured["/**/recorder"]["ros__parameters"]["topics"]
        assert parameter(listener, "/wearer1/recorder", "topics") == recorder_topics
        profile = configured["/**/aria_driver"]["ros__parameters"]["profile"]
        assert parameter(listener, "/wearer1/aria_driver", "profile") == profile
        assert parameter(listener, "/wearer1/slam_detector_right", "camera") == "slam_right"
        assert graph.wait_for("erson", timeout_s=CEILING_S), graph.log[-3000:]  # a person said: results flow
        code = stop_group(graph.process, timeout_s=60)
    finally:
        stop_group(graph.process)
    assert code == 0, graph.log[-3000:]
    assert "Traceback" not in graph.log, graph.log[-3000:]
    summary = json.loads((run / "summary.json").read_text())
    processed = {camera: stats["frames"] for camera, stats in summary["frames_processed"].items()}
    assert all(processed[c] > 0 for c in ("rgb", "slam_left", "slam_right")), processed
    with Reader(run / "bag") as reader:
        recorded = set(reader.topics)
    expected = {t if t.startswith("/") else f"/wearer1/{t}" for t in recorder_topics}
    assert recorded <= expected and "/wearer1/aria/rgb/detections" in recorded, recorded
    assert "/wearer1/tf_static" in recorded and "/wearer1/navigation/cues" in recorded, recorded


@pytest.mark.parametrize(
    ("source", "make", "said"),
    [
        ("video", lambda p: (p / "walk.mp4").write_text("not a video\n"), "video {} cannot be decoded"),
        ("video", lambda p: None, "video {} does not exist"),
        ("images", lambda p: (p / "photos").mkdir() or (p / "photos" / "a.jpg").write_text("no"),
         "cannot decode image {}/a.jpg"),
    ],
)  # fmt: skip
def test_a_source_that_is_not_what_it_says_ends_the_start_with_the_reason_and_leaves_no_run_folder(
    source: str, make, said: str, tmp_path: Path, ros_env: dict[str, str]
) -> None:
    make(tmp_path)
    path = tmp_path / ("photos" if source == "images" else "walk.mp4")
    run = tmp_path / "outputs" / "run_20260101_000000"
    graph = NodeProcess(launcher_command("--source", source, "--path", path, *LIGHT, "--output", run), ros_env,
                        with_stdout=True)  # fmt: skip
    code = graph.ended(timeout_s=120)
    assert code == EXIT_SOURCE, graph.log[-3000:]
    assert f"cannot start: {said.format(path)}" in graph.lines[-1], graph.log[-3000:]  # the last line says why
    for never in ("rgb_perception", "navigation", "recorder"):
        assert never not in graph.log, graph.log  # the source first: no model loaded
    assert not run.exists() and not any((tmp_path / "outputs").iterdir())


def test_a_replay_waits_for_a_missing_perception_node_only_so_long_and_says_so(
    tmp_path: Path, ros_env: dict[str, str], listener
) -> None:
    """A perception node that never becomes ready: after wait_for_timeout the replay starts anyway, and the
    camera is told as not working (navigation says "Front camera not working") rather than waited for ever."""
    events: list[SystemEvent] = []
    frames: list[Image] = []
    listener.create_subscription(SystemEvent, "/aria_nav/events", events.append, EVENTS_QOS)
    listener.create_subscription(Image, "/aria/rgb/image_raw", frames.append, SENSOR_QOS)
    photos = photo_folder(tmp_path / "photos", ("zidane.jpg",))
    driver = NodeProcess(node_command("aria_driver", source="images", path=photos, loop=True, cameras='["rgb"]',
                                      wait_for="perception", wait_for_timeout=3.0), ros_env)  # fmt: skip
    try:
        end = time.monotonic() + 60
        while time.monotonic() < end and not (frames and len(events) >= 2):
            rclpy.spin_once(listener, timeout_sec=0.1)
    finally:
        code = driver.stop()
    assert code == 0, driver.log[-2000:]
    assert events[0].event == SystemEvent.SOURCE_WAITING, events  # navigation knew the replay was held
    failed = [e for e in events if e.event == SystemEvent.CAMERA_FAILED]
    assert failed and failed[0].camera == "rgb" and "wait_for_timeout" in failed[0].detail, (events, driver.log)
    assert frames, driver.log[-2000:]  # the replay started without it
    assert "waiting for perception on rgb" in driver.log  # and it had waited, saying so


def test_old_run_folders_named_by_the_time_are_pruned_and_nothing_else(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs"
    runs = [outputs / f"run_20260101_00000{i}" for i in range(5)]
    for run in runs:
        (run / "bag").mkdir(parents=True)
    mine, sample = outputs / "my_walk", outputs / "sample"
    mine.mkdir()
    sample.mkdir()
    assert prune_runs(runs[-1], keep=3) == runs[:2]
    assert sorted(p.name for p in outputs.iterdir()) == sorted([*(r.name for r in runs[2:]), "my_walk", "sample"])
    assert prune_runs(runs[-1], keep=0) == [] and prune_runs(mine, keep=1) == []  # keep all; a named folder


def test_a_replay_over_before_its_first_result_is_never_followed_by_system_ready() -> None:
    """The real Aria recordings are 3 frames long: their end can be told before the first result comes."""
    policy = NavigationPolicy(NavigationConfig.load(), "en")
    said = policy.on_event(0.0, "recording_ended")
    said += policy.on_detections(0.2, "rgb", [Detection(0, "person", 0.9, (0.0, 0.0, 1.0, 1.0), 3.0,
                                                        DISTANCE_CLASS_SIZE, 0.0)])  # fmt: skip
    assert [c.text for c in said] == ["Recording ended"]
    fresh = NavigationPolicy(NavigationConfig.load(), "en")  # the same result before the end: ready, as ever
    assert [c.text for c in fresh.on_detections(0.2, "rgb", []) if c.kind == KIND_SYSTEM] == ["System ready"]


@pytest.mark.skipif(not ADT_VRS.is_file(), reason=f"the real Aria recordings are not here ({ADT_VRS})")
def test_a_real_aria_recording_plays_through_the_whole_graph_as_the_readme_shows(
    tmp_path: Path, ros_env: dict[str, str]
) -> None:
    """The README's VRS example: three cameras of a real kitchen recording, to the end, with its summary; the
    wearer's own hands over the worktop are never said as people."""
    run = tmp_path / "run"
    graph = NodeProcess(launcher_command("--source", "vrs", "--path", ADT_VRS, "--exit-at-end", *LIGHT,
                                         "--output", run), ros_env, with_stdout=True)  # fmt: skip
    code = graph.ended(timeout_s=CEILING_S)
    assert code == 0, graph.log[-3000:]
    summary = json.loads((run / "summary.json").read_text())
    # Every camera's frames reached the graph (stream_monitor counts the image topics; camera frames are best
    # effort, and the recording's first may go before its reader matched: at least one of each, at most its 3).
    received = summary["frames_received"]
    assert set(received) == {"rgb", "slam_left", "slam_right"} and all(1 <= n <= 3 for n in received.values()), summary
    assert sum(summary["cues"].values()) == 0, summary  # no hazard: the hands are the wearer's
    cues = [json.loads(line)["text"] for line in (run / "cues.jsonl").read_text().splitlines()]
    assert "Recording ended" in cues and "System ready" not in cues[cues.index("Recording ended") :], cues
    assert graph.lines[-1].startswith("  files: ") and "summary.json" in graph.lines[-1], graph.log[-2000:]


def test_a_replay_held_for_perception_is_no_camera_loss_and_its_silence_counts_once_it_plays() -> None:
    """On a loaded machine the models can take over a minute to load while the driver holds the replay
    (SOURCE_WAITING): "Cameras lost" then was a false alarm. Once frames come, silence counts as ever."""

    config = NavigationConfig.load()
    held = round(config["start_timeout"]) + 60  # seconds of a held replay, well past the start's grace

    def heard(waiting: bool) -> list[str]:
        policy = NavigationPolicy(config, "en")
        policy.start(0.0, ["rgb"])
        said = policy.on_event(0.5, "source_waiting") if waiting else []
        for i in range(held * 10):  # no frame, no result
            said += policy.tick(i * 0.1)
        for i in range(30):  # it plays: frames and results at 10 Hz for 3 s, then the glasses freeze
            t = held + i * 0.1
            policy.on_frame(t, "rgb")
            said += policy.on_detections(t, "rgb", [])
            said += policy.tick(t)
        for i in range(200):
            said += policy.tick(held + 3.0 + i * 0.1)
        return [c.text for c in said if c.kind == KIND_SYSTEM]

    assert heard(waiting=True) == ["System ready", "Cameras lost"]
    assert heard(waiting=False)[0] == "Cameras lost"  # without the driver's word: the false alarm of a slow start
