"""The one description of the graph, and a runner for machines without `ros2 launch`.

`describe_graph` says which processes run, with which node names and
parameters. `launch/*.launch.py` turns it into launch actions for users with
ROS 2 installed; `run_graph` starts the very same processes directly.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = "aria_nav_ros"


@dataclass(frozen=True)
class NodeProcess:
    """One node in its own process."""

    executable: str  # under lib/aria_nav_ros; also the module aria_nav_ros.nodes.<executable>
    name: str
    parameters: dict[str, object] = field(default_factory=dict)
    namespace: str = ""

    def ros_arguments(self) -> list[str]:
        args = ["--ros-args", "-r", f"__node:={self.name}"]
        if self.namespace:
            args += ["-r", f"__ns:={self.namespace}"]
        for key, value in self.parameters.items():
            args += ["-p", f"{key}:={json.dumps(value)}"]
        return args

    def command(self) -> list[str]:
        return [sys.executable, "-m", f"{PACKAGE}.nodes.{self.executable}", *self.ros_arguments()]


@dataclass(frozen=True)
class GraphSettings:
    """What a user chooses when starting the graph (the launch arguments)."""

    source: str = "images"
    path: str = ""
    image_fps: float = 10.0
    rate: float = 1.0
    loop: bool = False
    model: str = "pkg:fall_detection/models/best.pt"
    depth_model: str = "depth-anything/Depth-Anything-V2-Small-hf"
    device: str = "auto"
    mode: str = "graphs"
    depth_every: int = 1
    language: str = "en"
    audio_sink: str = "auto"
    output: str = "outputs/latest"  # the run folder: cues, sound, stream summary
    compose: bool = False  # rgb_perception and navigation in one process
    slam_yaw_deg: float = 60.0  # nominal outward yaw of the SLAM cameras
    slam_imgsz: int = 640  # YOLO input side for the SLAM cameras (smaller is faster)
    camera_timeout: float = 0.0  # seconds without results before a camera is said lost (0: config file)


def describe_graph(s: GraphSettings) -> list[list[NodeProcess]]:
    """The processes of the graph; each inner list is one process (several nodes: composed)."""
    out = Path(s.output)
    perception = {"model": s.model, "device": s.device, "mode": s.mode}
    driver = NodeProcess(
        "aria_driver",
        "aria_driver",
        {"source": s.source, "path": s.path, "image_fps": s.image_fps, "rate": s.rate, "loop": s.loop},
    )
    rgb = NodeProcess(
        "rgb_perception", "rgb_perception", {**perception, "depth_model": s.depth_model, "depth_every": s.depth_every}
    )
    slam = [
        NodeProcess("slam_detector", f"slam_detector_{side}", {**perception, "camera": f"slam_{side}", "yaw_deg": yaw})
        for side, yaw in (("left", -s.slam_yaw_deg), ("right", s.slam_yaw_deg))
    ]
    navigation = NodeProcess(
        "navigation",
        "navigation",
        {
            "language": s.language,
            "audio_sink": s.audio_sink,
            "camera_timeout": s.camera_timeout,
            "wav_path": str(out / "navigation.wav"),
            "cues_log": str(out / "cues.jsonl"),
        },
    )
    monitor = NodeProcess("stream_monitor", "stream_monitor", {"summary_path": str(out / "streams.json")})
    head = [[rgb, navigation]] if s.compose else [[rgb], [navigation]]
    return [[driver], *head, [slam[0]], [slam[1]], [monitor]]


def process_command(nodes: list[NodeProcess]) -> list[str]:
    """One node: its own module. Several: the container, each node's parameters under its name."""
    if len(nodes) == 1:
        return nodes[0].command()
    args = [sys.executable, "-m", f"{PACKAGE}.nodes.container", *[n.executable for n in nodes], "--ros-args"]
    for node in nodes:
        for key, value in node.parameters.items():
            args += ["-p", f"{node.name}:{key}:={json.dumps(value)}"]
    return args


def run_graph(processes: list[list[NodeProcess]], duration_s: float) -> int:
    """Start every process, let them run, then stop them all; returns the worst exit code."""
    children = [subprocess.Popen(process_command(p), start_new_session=True) for p in processes]
    names = ["+".join(n.name for n in p) for p in processes]
    deadline = time.monotonic() + duration_s
    try:
        while time.monotonic() < deadline:
            for name, child in zip(names, children, strict=True):
                if child.poll() is not None:
                    print(f"[graph] {name} exited with code {child.returncode}", file=sys.stderr)
                    deadline = 0.0
            time.sleep(0.1)
    except KeyboardInterrupt:
        print("[graph] interrupted, stopping", file=sys.stderr)
    return _stop(children, names)


def _stop(children: list[subprocess.Popen], names: list[str], grace_s: float = 15.0) -> int:
    for child in children:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGINT)
    end = time.monotonic() + grace_s
    for child, name in zip(children, names, strict=True):
        try:
            child.wait(timeout=max(0.1, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"[graph] {name} (pid {child.pid}) did not stop within {grace_s:g} s, killing it", file=sys.stderr)
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    return max((abs(c.returncode) for c in children), default=0)


def main(argv: list[str] | None = None) -> int:
    defaults = GraphSettings()
    parser = argparse.ArgumentParser(description="Run the aria_nav_ros graph without ros2 launch.")
    for name, value in vars(defaults).items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            parser.add_argument(flag, action="store_true", default=value)
        else:
            parser.add_argument(flag, type=type(value), default=value)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds to run")
    args = vars(parser.parse_args(argv))
    duration = args.pop("duration")
    settings = GraphSettings(**args)
    Path(settings.output).mkdir(parents=True, exist_ok=True)
    code = run_graph(describe_graph(settings), duration)
    print(summarise(Path(settings.output)))
    return code


def summarise(run: Path) -> str:
    """What the run folder says: frames per camera, cues by urgency."""
    lines = [f"[graph] run folder {run}"]
    streams = run / "streams.json"
    if streams.exists():
        for camera, stats in json.loads(streams.read_text()).items():
            lines.append(f"  {camera:<11} {stats['received']} frames, age on arrival p50 {stats['age_ms_p50']:.1f} ms")
    else:
        lines.append("  no stream summary was written")
    cues = run / "cues.jsonl"
    said = [json.loads(line) for line in cues.read_text().splitlines()] if cues.exists() else []
    by_urgency = {u: sum(c["urgency"] == u for c in said) for u in ("info", "warning", "critical")}
    lines.append(f"  {len(said)} cues: {by_urgency}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
