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


def describe_graph(source: str, path: str, rate: float, loop: bool, summary_path: str) -> list[NodeProcess]:
    return [
        NodeProcess(
            "aria_driver",
            "aria_driver",
            {"source": source, "path": path, "image_fps": rate, "loop": loop},
        ),
        NodeProcess("stream_monitor", "stream_monitor", {"summary_path": summary_path}),
    ]


def run_graph(processes: list[NodeProcess], duration_s: float) -> int:
    """Start every process, let them run, then stop them all; returns the worst exit code."""
    children = [subprocess.Popen(p.command(), start_new_session=True) for p in processes]
    deadline = time.monotonic() + duration_s
    try:
        while time.monotonic() < deadline:
            for process, child in zip(processes, children, strict=True):
                if child.poll() is not None:
                    print(f"[graph] {process.name} exited with code {child.returncode}", file=sys.stderr)
                    deadline = 0.0
            time.sleep(0.1)
    except KeyboardInterrupt:
        print("[graph] interrupted, stopping", file=sys.stderr)
    return _stop(children)


def _stop(children: list[subprocess.Popen], grace_s: float = 5.0) -> int:
    for child in children:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGINT)
    end = time.monotonic() + grace_s
    for child in children:
        try:
            child.wait(timeout=max(0.1, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"[graph] pid {child.pid} ignored SIGINT, killing it", file=sys.stderr)
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    return max((abs(c.returncode) for c in children), default=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the aria_nav_ros graph without ros2 launch.")
    parser.add_argument("--source", default="images")
    parser.add_argument("--path", required=True, help="the recording, bag or image folder")
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--loop", action="store_true")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds to run")
    parser.add_argument("--output", default="outputs/latest", help="run folder")
    args = parser.parse_args(argv)
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    summary = output / "streams.json"
    graph = describe_graph(args.source, args.path, args.rate, args.loop, str(summary.resolve()))
    code = run_graph(graph, args.duration)
    if summary.exists():
        print(summary.read_text())
    else:
        print("[graph] no stream summary was written", file=sys.stderr)
        code = code or 1
    return code


if __name__ == "__main__":
    sys.exit(main())
