"""Fault drill: faults injected into the running graph; what the wearer hears, and after how long.

The graph runs as the main job does (package launcher, every node in its own
process, real DDS) on the sample walk, looped. This process listens to
/navigation/cues (what is spoken) and the launcher's log, and injects:

1. the frame source stops (the driver is frozen with SIGSTOP for 5 s, as
   when the glasses are unplugged; SIGCONT brings the frames back);
2. a perception worker is killed (SIGKILL to rgb_perception; the launcher
   restarts it, and gives back the shared memory the dead one left);
3. the navigation node itself is killed (nothing is left to speak until the
   launcher has restarted it; the drill measures that silence);
4. a model file is missing (a second graph with --model naming no file): each
   perception node says at once that its camera is not working (timed per
   camera: node to navigation, which is DDS discovery of a node just
   started, and navigation to the wearer);
5. the launcher itself is SIGKILLed (a third graph): every process of the
   graph must end by itself (they are tied to the launcher), navigation
   saying "Navigation stopped" as it goes;
6. the GPU under rgb_perception is lost (every frame fails with the error
   CUDA gives, set over DDS through its `inject_fault` parameter: no GPU
   here), then comes back: "Front camera not working", then "back";
7. the recording becomes unreadable while it plays (a copy of the sample
   bag, cut short under the driver): "Recording failed".

For each: the cues heard after it, the delay to the first, to the recovery
cue and to the next hazard cue. Prints a table, writes JSON.
(GPU out of memory: bench/oom_drill.py on a GPU; no sound device:
test/ros/test_navigation_node.py and test/unit/test_device_sink.py.)

    source scripts/env.sh && python bench/fault_drill.py
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import rclpy
import yaml
from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.srv import SetParameters
from rclpy.node import Node
from rclpy.parameter import Parameter

from aria_nav_ros.core.cameras import CUES_TOPIC
from aria_nav_ros.graph.dds_shm import segments_of
from aria_nav_ros.graph.process import child_env, children, command_line, running
from aria_nav_ros.msg import NavigationCue
from aria_nav_ros.ros.qos import RESULT_QOS

sys.path.insert(0, str(Path(__file__).resolve().parent))  # report, beside this file (PYTHONSAFEPATH=1)
from report import command, write  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# Light inference, so that on a 2-core machine every camera delivers a few results a second.
GRAPH = ["--rate", "1.0", "--rgb-imgsz", "160", "--slam-imgsz", "160", "--detect-rate", "4", "--torch-threads",
         "1", "--device", "cpu", "--depth-model", "", "--audio-sink", "wav",
         "--no-record"]  # fmt: skip
MISSING_MODEL = "/nonexistent/yolo11n.pt"
# (node, camera, as spoken) of every perception node that loads the model
MISSING_MODEL_CAMERAS = (("rgb_perception", "rgb", "Front"), ("slam_detector_left", "slam_left", "Left"),
                         ("slam_detector_right", "slam_right", "Right"))  # fmt: skip
HAZARD = NavigationCue.KIND_HAZARD
SETTLE_S = 1.0  # between two faults: the last one's cues are over before the next one's are counted
GRAPH_PROCESSES = 6  # the launcher's children with GRAPH: driver, three perception nodes, navigation, monitor


class Graph:
    """The launcher in a child process, its log collected line by line."""

    def __init__(
        self, run: Path, extra: list[str], bag: Path = ROOT / "outputs" / "sample" / "walk", loop: bool = True
    ):
        command = [sys.executable, "-m", "aria_nav_ros.launcher", "--path", str(bag), "--output", str(run)]
        command += ["--loop"] if loop else []
        # Tied to this process, in a group of its own (as the launcher starts its own children).
        self.process = subprocess.Popen([*command, *GRAPH, *extra], stderr=subprocess.PIPE, text=True, env=child_env(),
                                        start_new_session=True)  # fmt: skip
        self.lines: list[tuple[float, str]] = []
        self.stopped_at = math.inf
        self.reader = threading.Thread(target=self._read, daemon=True)  # to the end of the pipe: every writer gone
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            self.lines.append((time.monotonic(), line.rstrip()))

    def child(self, module: str) -> int:
        """The pid of the graph process running aria_nav_ros.nodes.<module>."""
        for pid in children(self.process.pid):
            if f"aria_nav_ros.nodes.{module}" in command_line(pid):
                return pid
        raise RuntimeError(f"no {module} process under the launcher")

    def running(self, ears: Ears, timeout_s: float = 60.0) -> float:
        """When all of the graph's processes run. Cues taken meanwhile are the graph's before (queued in
        the ears while they did not spin: taken now, they would pass for this graph's)."""
        end = time.monotonic() + timeout_s
        while len(children(self.process.pid)) < GRAPH_PROCESSES:
            if time.monotonic() > end or self.process.poll() is not None:
                count = len(children(self.process.pid))
                raise RuntimeError(f"the graph did not start: {count} of its {GRAPH_PROCESSES} processes run:\n"
                                   + "\n".join(line for _, line in self.lines[-40:]))  # fmt: skip
            ears.wait(0.1)
        return time.monotonic()

    def logged(self, text: str, after: float) -> float | None:
        return next((t for t, line in self.lines if t >= after and text in line), None)

    def stop(self) -> int:
        self.stopped_at = time.monotonic()
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=60)

    def stop_log(self) -> list[str]:
        """What the launcher wrote once asked to stop (which process ended how): read to the pipe's end."""
        self.reader.join(10)
        return [line for t, line in self.lines if t >= self.stopped_at][-60:]


class Ears(Node):
    """What the wearer hears: every cue, with its arrival time; and navigation's timeouts in force."""

    def __init__(self) -> None:
        super().__init__("fault_drill_ears")
        self.cues: list[tuple[float, NavigationCue]] = []
        self.timeouts: dict[str, float] = {}  # navigation's diagnostics: "<stream>_timeout_s"
        self.create_subscription(
            NavigationCue, CUES_TOPIC, lambda c: self.cues.append((time.monotonic(), c)), RESULT_QOS
        )
        self.create_subscription(DiagnosticArray, "/diagnostics", self._on_diagnostics, RESULT_QOS)

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        for status in msg.status:
            if status.name.endswith("/navigation"):
                self.timeouts.update({v.key: float(v.value) for v in status.values if v.key.endswith("_timeout_s")})

    def wait(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            rclpy.spin_once(self, timeout_sec=0.05)

    def wait_for(self, test, after: float, timeout_s: float) -> float | None:
        """Arrival time of the first cue after `after` that passes `test`, waiting up to `timeout_s`."""
        end = time.monotonic() + timeout_s
        while True:
            found = next((t for t, c in self.cues if t >= after and test(c)), None)
            if found is not None or time.monotonic() > end:
                return found
            rclpy.spin_once(self, timeout_sec=0.05)

    def heard(self, after: float, before: float) -> list[str]:
        return [c.text for t, c in self.cues if after <= t < before]

    def set_parameter(self, node: str, name: str, value: str) -> None:
        """`ros2 param set`, over DDS: returns once the node has taken it."""
        client = self.create_client(SetParameters, f"/{node}/set_parameters")
        try:
            if not client.wait_for_service(timeout_sec=30.0):
                raise RuntimeError(f"/{node}/set_parameters is not there")
            request = SetParameters.Request(parameters=[Parameter(name, value=value).to_parameter_msg()])
            # Asked again while no answer came: the service is found once its request reader matched us, but
            # an answer sent before its reply writer matched our reader is lost (seen under load in CI).
            # Setting a parameter twice is setting it once.
            result, end = None, time.monotonic() + 30.0
            while result is None and time.monotonic() < end:
                future = client.call_async(request)
                rclpy.spin_until_future_complete(self, future, timeout_sec=3.0)
                result = future.result() if future.done() else None
                if result is None:
                    client.remove_pending_request(future)
            if result is None or not result.results[0].successful:
                raise RuntimeError(f"{node} refused {name}={value!r}: {result}")
        finally:
            self.destroy_client(client)


def _delay(t: float | None, since: float) -> float | None:
    return None if t is None else round(t - since, 2)


def _worst(cameras: dict[str, dict], since: str, until: str) -> float | None:
    """The longest delay from `since` to `until` over the cameras; None if any camera lacks one of them."""
    delays = [c[until] - c[since] for c in cameras.values() if c[since] is not None and c[until] is not None]
    return round(max(delays), 2) if len(delays) == len(cameras) else None


def _text(wanted: str):
    return lambda c: c.text == wanted


def _hazard(camera: str = ""):
    return lambda c: c.kind == HAZARD and (not camera or camera in c.cameras)


def drill(ears: Ears, run: Path) -> tuple[list[dict], int, list[str]]:
    # The first graph's rgb_perception takes injected faults (off unless allowed at start).
    params = yaml.safe_load((ROOT / "config" / "aria_nav.yaml").read_text())
    params["/**/rgb_perception"] = {"ros__parameters": {"allow_fault_injection": True}}  # the file keeps none
    params_file = run / "aria_nav.yaml"
    params_file.write_text(yaml.safe_dump(params))
    graph = Graph(run / "graph", ["--params-file", str(params_file)])
    faults = []
    try:
        started = time.monotonic()
        ready = ears.wait_for(_text("System ready"), started, 120)
        first = ears.wait_for(_hazard(), started, 120)
        if ready is None or first is None:
            raise RuntimeError("the graph never said it was ready or gave a hazard cue:\n"
                               + "\n".join(line for _, line in graph.lines[-40:]))  # fmt: skip
        ears.wait(SETTLE_S)

        # 1. The frame source stops for 5 s, then comes back.
        driver = graph.child("aria_driver")
        timeout = ears.timeouts.get("watchdog_timeout_s")
        t0 = time.monotonic()
        os.kill(driver, signal.SIGSTOP)
        lost = ears.wait_for(_text("Cameras lost"), t0, 5.0)
        ears.wait(max(0.0, t0 + 5.0 - time.monotonic()))
        os.kill(driver, signal.SIGCONT)
        t1 = time.monotonic()
        back = ears.wait_for(_text("Cameras back"), t1, 20)
        hazard = ears.wait_for(_hazard(), t1, 30)
        faults.append({"key": "source_stops",
                       "fault": "frame source stops for 5 s (driver frozen), then resumes", "expected": "Cameras lost",
                       "heard": ears.heard(t0, time.monotonic()), "first_cue_s": _delay(lost, t0),
                       "timeout_s": timeout, "recovery_cue": "Cameras back", "recovery_s": _delay(back, t1),
                       "next_hazard_s": _delay(hazard, t1)})  # fmt: skip
        ears.wait(SETTLE_S)

        # 2. The RGB perception process is killed; the launcher restarts it.
        timeout = ears.timeouts.get("rgb_timeout_s")
        t0 = time.monotonic()
        victim = graph.child("rgb_perception")
        segments = segments_of([victim])[victim]  # its shared memory, which its restart gives back (dds_shm)
        os.kill(victim, signal.SIGKILL)
        lost = ears.wait_for(_text("Front camera lost"), t0, 10)
        back = ears.wait_for(_text("Front camera back"), t0, 90)
        hazard = ears.wait_for(_hazard("rgb"), back or t0, 60)
        restarted = graph.logged("restarting rgb_perception", t0)
        faults.append({"key": "perception_killed", "fault": "rgb_perception killed (SIGKILL)",
                       "expected": "Front camera lost",
                       "heard": ears.heard(t0, time.monotonic()), "first_cue_s": _delay(lost, t0),
                       "timeout_s": timeout, "restarted_s": _delay(restarted, t0), "recovery_cue": "Front camera back",
                       "recovery_s": _delay(back, t0), "next_hazard_s": _delay(hazard, t0),
                       "shm_segments": len(segments),
                       "shm_segments_left": sum(s.exists() for s in segments)})  # fmt: skip
        ears.wait(SETTLE_S)

        # 3. Navigation itself is killed: silence until it is back. Its first cue can be published before
        # this listener has matched the new process (DDS discovery), so the log says when it was spoken.
        t0 = time.monotonic()
        os.kill(graph.child("navigation"), signal.SIGKILL)
        hazard = ears.wait_for(_hazard(), t0, 90)
        ready = graph.logged("[cue warning] System ready", t0)
        faults.append({"key": "navigation_killed", "fault": "navigation killed (SIGKILL)",
                       "expected": "silence, then System ready",
                       "heard": (["System ready"] if ready else []) + ears.heard(t0, time.monotonic()),
                       "first_cue_s": _delay(ready, t0),
                       "restarted_s": _delay(graph.logged("restarting navigation", t0), t0),
                       "recovery_cue": "System ready", "recovery_s": _delay(ready, t0),
                       "next_hazard_s": _delay(hazard, t0)})  # fmt: skip
        ears.wait(SETTLE_S)

        # 6. The GPU under rgb_perception is lost: every frame fails, as with CUDA's own error (no GPU here: the
        # node's inject_fault parameter, set over DDS). The node says so itself; then the GPU comes back.
        t0 = time.monotonic()
        ears.set_parameter("rgb_perception", "inject_fault", "gpu_lost")
        said = ears.wait_for(_text("Front camera not working"), t0, 10)
        failed_at = graph.logged("CUDA error", t0)
        ears.wait(3.0)
        t1 = time.monotonic()
        ears.set_parameter("rgb_perception", "inject_fault", "")
        back = ears.wait_for(_text("Front camera back"), t1, 20)
        hazard = ears.wait_for(_hazard("rgb"), t1, 30)
        faults.append({"key": "gpu_lost", "fault": "GPU lost under rgb_perception (every frame fails), then back",
                       "expected": "Front camera not working", "heard": ears.heard(t0, time.monotonic()),
                       "first_cue_s": _delay(said, t0),
                       "after_failure_s": None if said is None or failed_at is None else round(said - failed_at, 2),
                       "recovery_cue": "Front camera back", "recovery_s": _delay(back, t1),
                       "next_hazard_s": _delay(hazard, t1)})  # fmt: skip
    finally:
        code = graph.stop()
        stop_log = graph.stop_log()  # the first graph's stop: why, should its exit code not be 0

    # 4. A model file that is not there: the error names it and says what to do; each perception node tells
    # the wearer at once that its camera is not working (not after the camera's silence runs out).
    graph = Graph(run / "missing_model", ["--model", MISSING_MODEL])
    try:
        t0 = time.monotonic()
        said = ears.wait_for(lambda c: c.text.endswith("not working"), t0, 90)
        for _, _, spoken in MISSING_MODEL_CAMERAS:  # the other cameras' cues, which come with it (a ceiling)
            ears.wait_for(_text(f"{spoken} camera not working"), t0, 10)
        # Per camera: when its node found out, when navigation heard of it, when the wearer heard it. Between the
        # first two is DDS discovery of a node that has just started; the last is navigation's own part.
        cameras = {}
        for node, camera, spoken in MISSING_MODEL_CAMERAS:
            error_at = graph.logged(f"[{node}]: no detection: detector weights {MISSING_MODEL} not found", t0)
            heard_at = graph.logged(f"[navigation]: {node}: {camera}: no detection", t0)
            said_at = ears.wait_for(_text(f"{spoken} camera not working"), t0, 0)
            cameras[camera] = {"error_s": _delay(error_at, t0), "navigation_heard_s": _delay(heard_at, t0),
                               "said_s": _delay(said_at, t0)}  # fmt: skip
        error = next((line for _, line in graph.lines if MISSING_MODEL in line and "not found" in line), "")
        faults.append({"key": "model_missing", "fault": f"model file missing ({MISSING_MODEL})",
                       "expected": "<camera> not working",
                       "heard": ears.heard(t0, time.monotonic()), "first_cue_s": _delay(said, t0),
                       "cameras": cameras, "after_error_s": _worst(cameras, "error_s", "said_s"),
                       "delivery_s": _worst(cameras, "error_s", "navigation_heard_s"),
                       "navigation_s": _worst(cameras, "navigation_heard_s", "said_s"),
                       "error_logged": error.split("]: ", 1)[-1]})  # fmt: skip
    finally:
        graph.stop()

    # 7. The recording becomes unreadable while it plays: a copy of the sample walk, cut to a fifth of its size
    # under the driver once the first hazard cue is heard (its reader then meets the end of the file).
    copy = run / "unreadable" / "walk"
    copy.mkdir(parents=True)
    for item in (ROOT / "outputs" / "sample" / "walk").iterdir():
        shutil.copy(item, copy / item.name)
    graph = Graph(run / "unreadable_run", [], bag=copy, loop=False)
    try:
        if ears.wait_for(_hazard(), graph.running(ears), 120) is None:
            raise RuntimeError("the graph on the copied bag gave no hazard cue")
        [mcap] = copy.glob("*.mcap")
        t0 = time.monotonic()
        with mcap.open("r+b") as f:
            f.truncate(mcap.stat().st_size // 5)
        said = ears.wait_for(_text("Recording failed"), t0, 30)
        failed_at = graph.logged("is corrupt", t0)
        faults.append({"key": "recording_unreadable", "fault": "recording unreadable while it plays (bag cut short)",
                       "expected": "Recording failed", "heard": ears.heard(t0, time.monotonic()),
                       "first_cue_s": _delay(said, t0),
                       "after_failure_s": None if said is None or failed_at is None else round(said - failed_at, 2),
                       "error_logged": next((line for t, line in graph.lines if t >= t0 and "is corrupt" in line), "")
                       .split("]: ", 1)[-1][:300]})  # fmt: skip
    finally:
        graph.stop()

    # 5. The launcher is SIGKILLed: nothing of the graph may live on.
    graph = Graph(run / "launcher_killed", [])
    try:
        if ears.wait_for(_hazard(), graph.running(ears), 120) is None:
            raise RuntimeError(
                "the third graph gave no hazard cue:\n" + "\n".join(line for _, line in graph.lines[-40:])
            )
        processes = children(graph.process.pid)
        t0 = time.monotonic()
        graph.process.kill()
        graph.process.wait()
        while any(running(pid) for pid in processes) and time.monotonic() - t0 < 30:
            time.sleep(0.05)
        gone = time.monotonic()
        left = [pid for pid in processes if running(pid)]
        graph.reader.join(10)  # their last lines (the children share the launcher's stderr) are read
        said = graph.logged("[cue warning] Navigation stopped", t0)
        faults.append({"key": "launcher_killed", "fault": "launcher killed (SIGKILL)",
                       "expected": "Navigation stopped; every process ends",
                       "heard": ["Navigation stopped"] if said else [], "first_cue_s": _delay(said, t0),
                       "processes": len(processes), "left_running": len(left),
                       "all_ended_s": None if left else round(gone - t0, 2)})  # fmt: skip
    finally:
        if graph.process.poll() is None:
            graph.stop()
    return faults, code, stop_log


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "faults_cpu.json")
    args = parser.parse_args(argv)
    rclpy.init()
    ears = Ears()
    try:
        faults, code, stop_log = drill(ears, Path(tempfile.mkdtemp(prefix="fault_drill_")))
    finally:
        ears.destroy_node()
        rclpy.shutdown()
    print(f"\n{'fault':58} {'first cue':>9} {'recovery':>8} {'hazard':>7}  heard")
    for f in faults:
        cells = [f.get(k) for k in ("first_cue_s", "recovery_s", "next_hazard_s")]
        times = " ".join(f"{'-' if v is None else f'{v:.1f} s':>{w}}" for v, w in zip(cells, (9, 8, 7), strict=True))
        print(f"{f['fault'][:58]:58} {times}  {' / '.join(f['heard'][:6])}")
        if f.get("error_logged"):
            print(f"{'':58} logged: {f['error_logged']}")
        if "cameras" in f:
            print(f"{'':58} per camera, worst: node to wearer {f['after_error_s']} s = DDS delivery"
                  f" {f['delivery_s']} s + navigation {f['navigation_s']} s")  # fmt: skip
        if "processes" in f:
            print(f"{'':58} {f['processes']} processes, {f['left_running']} left running, all ended after"
                  f" {f['all_ended_s']} s")  # fmt: skip
    report = {"command": command(__file__, argv), "graph": GRAPH, "launcher_exit_code": code,
              "launcher_stop_log": stop_log, "faults": faults}  # fmt: skip
    write(args.out, report)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
