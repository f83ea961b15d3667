"""Starting and stopping the graph as scripts and supervisors do: signals, SIGKILL, a missing source, the end.

Each test runs the package's launcher in its own process group over real DDS,
with light settings (small inputs, no depth) so that a 2-core machine keeps up.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SUBREAPER
from processes import LIGHT, NodeProcess, launcher_command, stop_group

from aria_nav_ros.core.photos import photo_folder
from aria_nav_ros.graph.dds_shm import segments_of
from aria_nav_ros.graph.process import children, running
from aria_nav_ros.graph.protocol import EXIT_SOURCE

# `trap "" INT` then exec: the launcher inherits SIGINT ignored, as from `nohup ... &` in a script.
SIGINT_IGNORED = ["bash", "-c", 'trap "" INT; exec "$@"', "bash"]
STOP_CEILING_S = 30.0  # the launcher's own grace is 10 s; this only keeps a hang from hanging the suite


def graph(run: Path, env: dict[str, str], *arguments: object, prefix: list[str] | None = None) -> NodeProcess:
    return NodeProcess([*(prefix or []), *launcher_command(*arguments, *LIGHT, "--output", run)], env, with_stdout=True)


def assert_shared_memory_given_back(segments: dict[int, list[Path]]) -> None:
    """Every process that stopped cleanly deleted its DDS participant, and with it its shared-memory segment (a
    lifecycle node did not: aria_nav_ros.ros.lifecycle); each process had one while it ran."""
    assert all(segments.values()), segments  # the check below is worth something only if there were some
    left = {pid: [s.name for s in owned if s.exists()] for pid, owned in segments.items()}
    assert not any(left.values()), f"left in /dev/shm by their processes: {left}"


def test_the_wrapper_really_starts_programs_with_sigint_ignored() -> None:
    """The signal test below is only worth something if the launcher really inherits SIGINT ignored."""
    probe = "import signal; print(signal.getsignal(signal.SIGINT) is signal.SIG_IGN)"
    out = subprocess.run([*SIGINT_IGNORED, sys.executable, "-c", probe], capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "True", out


@pytest.mark.parametrize("how", ["SIGINT, started with SIGINT ignored", "SIGTERM"])
def test_one_signal_stops_the_whole_graph_and_every_node_exits_0(
    how: str, tmp_path: Path, ros_env: dict[str, str], sample_bag: Path
) -> None:
    background = how.startswith("SIGINT")
    prefix = SIGINT_IGNORED if background else None
    run = graph(tmp_path / "run", ros_env, "--path", sample_bag, "--loop", prefix=prefix)
    try:
        assert run.wait_for("[cue warning] System ready", timeout_s=120), run.log[-3000:]
        processes = children(run.process.pid)
        assert len(processes) == 7, run.log[-3000:]  # driver, recorder, 3 perception, navigation, monitor
        segments = segments_of(processes)
        os.kill(run.process.pid, signal.SIGINT if background else signal.SIGTERM)  # the launcher alone
        code = run.process.wait(timeout=STOP_CEILING_S)
    finally:
        stop_group(run.process)
    log = run.log
    assert code == 0, log[-3000:]
    assert not [p for p in processes if running(p)], "processes outlived the launcher"
    assert_shared_memory_given_back(segments)
    # Every node stopped on the first signal: none needed the launcher's SIGTERM or SIGKILL ("still running").
    for bad in ("Traceback", "FATAL", "exited with code", "did not stop", "still running"):
        assert bad not in log, log[-3000:]
    assert (tmp_path / "run" / "streams.json").exists(), "stream_monitor did not finish its summary"
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["frames_received"]["rgb"] > 0


@pytest.mark.skipif(not SUBREAPER, reason="needs Linux prctl(PR_SET_CHILD_SUBREAPER) to see orphans")
def test_graph_processes_die_with_a_sigkilled_launcher(tmp_path: Path, ros_env: dict[str, str], sample_bag) -> None:
    run = graph(tmp_path / "run", ros_env, "--path", sample_bag, "--loop")
    try:
        assert run.wait_for("[cue warning] System ready", timeout_s=120), run.log[-3000:]
        processes = children(run.process.pid)
        assert len(processes) == 7, run.log[-3000:]
        segments = segments_of(processes)
        run.process.kill()
        run.process.wait()
        # The orphans come to this process (the test session is their subreaper): wait for each.
        codes: dict[int, int] = {}
        end = time.monotonic() + STOP_CEILING_S
        while len(codes) < len(processes) and time.monotonic() < end:
            for pid in set(processes) - set(codes):
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    codes[pid] = os.waitstatus_to_exitcode(status)
            time.sleep(0.1)
    finally:
        stop_group(run.process)
    assert len(codes) == len(processes), f"still running: {set(processes) - set(codes)}\n{run.log[-3000:]}"
    assert set(codes.values()) == {0}, f"{codes}\n{run.log[-3000:]}"  # each stopped cleanly on its SIGTERM
    assert_shared_memory_given_back(segments)
    assert "Traceback" not in run.log and "FATAL" not in run.log, run.log[-3000:]


@pytest.mark.parametrize(
    ("source", "name", "said"),
    [
        ("bag", "walk", "bag {} does not exist"),
        ("vrs", "walk.vrs", "VRS recording {} does not exist"),
        ("video", "walk.mp4", "video {} does not exist"),
        ("images", "photos", "image folder {} does not exist"),
    ],
)
def test_a_source_that_cannot_open_ends_the_launcher_before_any_model_loads(
    source: str, name: str, said: str, tmp_path: Path, ros_env: dict[str, str]
) -> None:
    missing = tmp_path / name
    run = graph(tmp_path / "run", ros_env, "--source", source, "--path", missing)
    try:
        code = run.process.wait(timeout=STOP_CEILING_S)
    finally:
        stop_group(run.process)
    reason = said.format(missing)
    assert code == EXIT_SOURCE, run.log[-3000:]
    assert run.lines[-1].endswith(f"cannot start: {reason}"), run.log[-3000:]  # the last line says why
    for never in ("rgb_perception", "slam_detector", "navigation", "recorder"):
        assert never not in run.log, run.log  # nothing else was started
    assert not (tmp_path / "run" / "summary.json").exists()


def test_no_glasses_ends_the_launcher_with_the_reason_before_any_model_loads(
    tmp_path: Path, ros_env: dict[str, str], usb_search
) -> None:
    run = graph(tmp_path / "run", ros_env, "--source", "live")
    try:
        code = run.process.wait(timeout=60)  # the SDK looks for glasses for a few seconds
    finally:
        stop_group(run.process)
    assert code == EXIT_SOURCE, run.log[-3000:]
    assert "cannot start: no Aria glasses over USB found" in run.lines[-1], run.log[-3000:]
    for never in ("rgb_perception", "slam_detector", "navigation", "recorder"):
        assert never not in run.log, run.log


def test_slow_photos_replay_every_frame_without_false_alarms_and_the_end_is_said_as_such(
    tmp_path: Path, ros_env: dict[str, str]
) -> None:
    photos = photo_folder(tmp_path / "photos")
    count = len(list(photos.iterdir()))
    run_dir = tmp_path / "run"
    # One photo a second, with the default camera and watchdog timeouts (1 s): the timeouts follow the pace.
    trace = tmp_path / "trace"  # per-frame records of the driver, perception and navigation
    arguments = ["--source", "images", "--path", photos, "--image-fps", "1", "--exit-at-end", "--trace", trace]
    run = graph(run_dir, ros_env, *arguments)
    try:
        code = run.process.wait(timeout=180)
    finally:
        stop_group(run.process)
    assert code == 0, run.log[-3000:]
    cues = [json.loads(line) for line in (run_dir / "cues.jsonl").read_text().splitlines()]
    heard = [c["text"] for c in cues]
    system = [c["text"] for c in cues if not c["class"]]  # the aid's own health
    assert system[0] == "System ready" and system[-1] == "Recording ended", heard
    for fault in ("lost", "back", "paused"):
        assert not [text for text in system if fault in text], heard  # no flapping, the end is no fault
    # The replay waited for perception: every photo was published and reached its perception node (none
    # lost on the way), the first of each camera was processed, and navigation heard every result. (A
    # frame that came while the one before still waited may be skipped on purpose, newest first: on a
    # loaded machine the first inferences take over a second.)
    records = {f.stem: [json.loads(line) for line in f.read_text().splitlines()] for f in trace.glob("*.jsonl")}
    cameras = {r["camera"] for r in records["aria_driver"] if "camera" in r}
    assert cameras == {"rgb"}, cameras  # photos are one camera (no stand-in SLAM views unless asked for)
    published = [r["stamp"] for r in records["aria_driver"] if r.get("camera") == "rgb"]
    seen = {r["stamp"]: r for r in records["rgb_perception"]}
    processed = sorted(s for s, r in seen.items() if "published" in r)
    heard = sorted(r["stamp"] for r in records["navigation"] if r.get("camera") == "rgb")
    assert len(published) == count and set(published) == set(seen), run.log[-3000:]
    assert processed[0] == published[0] and heard == processed, (processed, heard)


# A node whose teardown blocks inside C with the GIL held, as a Fast DDS entity deletion did in CI: ctypes.PyDLL
# keeps the GIL across the call, and a default pthread mutex locked twice by one thread waits for ever, deaf to
# signals. No Python code can run in that process again: not a timer thread, not a signal handler.
STUCK_AT_STOP = """
import ctypes
import sys

from rclpy.node import Node

from aria_nav_ros.graph.process import STOP
from aria_nav_ros.ros.spin import run_node


class StuckAtStop(Node):
    def __init__(self) -> None:
        super().__init__("stuck_at_stop")
        self.timer = self.create_timer(0.05, self.say)

    def say(self) -> None:  # from the executor: the process is spinning (a stop now ends the spin, not the build)
        self.destroy_timer(self.timer)
        self.get_logger().info("spinning")

    def destroy_node(self) -> None:
        libc = ctypes.PyDLL(None)
        mutex = ctypes.create_string_buffer(64)  # zeroed: a default (non-recursive) pthread mutex
        libc.pthread_mutex_lock(mutex)
        libc.pthread_mutex_lock(mutex)


STOP.deadline_s = float(sys.argv[1])
run_node(StuckAtStop)
"""


def test_a_node_stuck_in_c_holding_the_gil_at_its_stop_still_ends_at_its_deadline_with_its_stacks(
    ros_env: dict[str, str],
) -> None:
    node = NodeProcess([sys.executable, "-c", STUCK_AT_STOP, "2"], ros_env)
    try:
        assert node.wait_for("spinning", timeout_s=60), node.log
        node.process.send_signal(signal.SIGINT)
        code = node.process.wait(timeout=STOP_CEILING_S)  # a ceiling: without the C watchdog it never ends
    finally:
        node.stop()  # (gone by now: it only reads the last lines; kills and fails if the process hangs)
    log = node.log
    assert code == 1, log  # forced: not the clean 0, not a signal's death
    assert "Timeout (0:00:02)!" in log, log  # faulthandler's watchdog fired at the deadline, from C
    dump = log[log.index("Timeout (0:00:02)!") :]
    assert "in destroy_node" in dump and "in run_nodes" in dump, log  # where the stop hung, down to our teardown
