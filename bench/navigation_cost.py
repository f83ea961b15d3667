"""What navigation's executor thread costs per message, the package now against an older commit, same run.

python bench/navigation_cost.py --baseline ca562d7 --seconds 20

In the `best` graph on a GPU, navigation runs in the RGB perception process, and every microsecond of Python
its executor thread runs holds the GIL the perception worker waits for after each GPU call (bench/README.md,
"The GPU tail"). This measures that work on the CPU: the real Navigation node (no sound), its inputs at the
graph's rates on a GPU (IMU at --imu-hz, each camera's results and CameraInfo at 30 Hz), in stamp order. Each
message goes through the subscription the node made, as rclpy's executor hands it over (converted to the
subscription's type, or the bytes where it takes them raw), then its callback; the executor's own dispatch,
the same for both, is left out. Scenes: 1, 3 and 10 objects per camera (policy_bench.py's, some approaching,
some passing). The baseline is the package as it was at --baseline (its Python files, this build's messages),
run by the same code in a child process; both sides' cue texts are compared: a cheaper path must not change
a decision.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "bench") not in sys.path:  # report and policy_bench, beside this file (PYTHONSAFEPATH=1)
    sys.path.insert(0, str(ROOT / "bench"))
from report import command, machine, percentiles, write  # noqa: E402

CAMERA_HZ = 30.0
OBJECTS = (1, 3, 10)
KINDS = ("imu", "detections", "camera_info")


def measure(seconds: float, imu_hz: float) -> dict:
    """This interpreter's aria_nav_ros (the package now, or the baseline's tree first on PYTHONPATH)."""
    import rclpy
    from rclpy.serialization import deserialize_message, serialize_message
    from sensor_msgs.msg import CameraInfo, Imu
    from std_msgs.msg import Header

    from aria_nav_ros.nodes.navigation import Navigation
    from aria_nav_ros.ros.detections import detection_array

    # After the package: policy_bench puts the source tree first on sys.path (its messages are not built there).
    scene = importlib.import_module("policy_bench").scene

    def header(stamp: float) -> Header:
        out = Header(frame_id="aria_head")
        out.stamp.sec, out.stamp.nanosec = int(stamp), int(round((stamp % 1.0) * 1e9)) % 1_000_000_000
        return out

    rclpy.init(args=["navigation_cost", "--ros-args", "-p", "audio_sink:=none", "--log-level", "warn"])
    out: dict = {"package": str(Path(sys.modules["aria_nav_ros"].__file__).parent), "scenes": {}}
    try:
        for objects in OBJECTS:
            node = Navigation()
            subscriptions = {s.topic_name.lstrip("/"): s for s in node.subscriptions}
            start = node.get_clock().now().nanoseconds / 1e9 + 1.0
            stream = []  # (stamp, kind, subscription, serialized message)
            for k in range(int(seconds * imu_hz)):
                imu = Imu(header=header(start + k / imu_hz))
                # Steps (the magnitude swinging by 1.5 m/s^2 at 2 Hz) for 4 s, then 3 s standing still, and again:
                # the wearer's motion changes what is said, and its judgement is one of the cached things.
                swing = 1.5 if (k / imu_hz) % 7.0 < 4.0 else 0.02
                imu.linear_acceleration.z = 9.81 + swing * math.sin(2 * math.pi * 2.0 * k / imu_hz)
                stream.append((start + k / imu_hz, "imu", subscriptions["aria/imu"], serialize_message(imu)))
            for k in range(int(seconds * CAMERA_HZ)):
                t = k / CAMERA_HZ
                for camera in ("rgb", "slam_left", "slam_right"):
                    h = header(start + t)
                    info = CameraInfo(header=h, width=704, height=704)
                    stream.append((start + t, "camera_info", subscriptions[f"aria/{camera}/camera_info"],
                                   serialize_message(info)))  # fmt: skip
                    found = scene(t, camera)[:objects]
                    array = detection_array(h, camera, 704, 704, found, {"inference": 6.5, "total": 8.0})
                    stream.append((start + t + 0.008, "detections", subscriptions[f"aria/{camera}/detections"],
                                   serialize_message(array)))  # fmt: skip
            stream.sort(key=lambda item: item[0])
            cues: list[list] = []  # what is said, how urgent, about which tracks: both sides must say the same
            emit = node._emit
            node._emit = lambda said, source, cues=cues, emit=emit: (
                cues.extend([c.text, c.urgency, list(c.track_ids)] for c in said),
                emit(said, source),
            )
            spent: dict[str, list[float]] = {kind: [] for kind in KINDS}
            for _, kind, subscription, raw in stream:
                t0 = time.perf_counter()
                subscription.callback(raw if subscription.raw else deserialize_message(raw, subscription.msg_type))
                spent[kind].append((time.perf_counter() - t0) * 1e6)
            # Nothing refused: a stream the node refused (stamps too far from its clock) would compare nothing.
            if node.refusals.counts:
                raise RuntimeError(f"the node refused part of the stream: {node.refusals.counts}")
            out["scenes"][str(objects)] = {"us": spent, "cues": cues}
            node.destroy_node()
    finally:
        rclpy.try_shutdown()
    return out


def package_at(ref: str, into: Path) -> Path:
    """A folder to put first on PYTHONPATH: the aria_nav_ros Python files as they were at `ref`, with this
    build's generated messages (an older tree's messages would need its own build; they are not what changed)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "aria_nav_ros"], check=True, capture_output=True)
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    import aria_nav_ros.msg

    built = Path(aria_nav_ros.msg.__path__[0]).parent  # the install's package: msg/ and the type support .so files
    for entry in built.iterdir():
        if entry.name == "msg" or entry.suffix == ".so":
            (into / "aria_nav_ros" / entry.name).symlink_to(entry.resolve())
    return into


def run_side(baseline: str, seconds: float, imu_hz: float, folder: Path) -> dict:
    env = dict(os.environ)
    if baseline:
        env["PYTHONPATH"] = f"{package_at(baseline, folder)}{os.pathsep}{env.get('PYTHONPATH', '')}"
    result_path = folder / "side.json"
    argv = [sys.executable, __file__, "--side", str(result_path), "--seconds", str(seconds), "--imu-hz", str(imu_hz)]
    subprocess.run(argv, env=env, check=True)
    return json.loads(result_path.read_text())


def summarise(sides: dict[str, dict], imu_hz: float) -> dict:
    rates = {"imu": imu_hz, "detections": 3 * CAMERA_HZ, "camera_info": 3 * CAMERA_HZ}
    summary: dict = {}
    for objects in map(str, OBJECTS):
        row: dict = {}
        for name, side in sides.items():
            spent = side["scenes"][objects]["us"]
            per_kind = {kind: percentiles(spent[kind]) for kind in KINDS}
            # Microseconds per message x messages per second: milliseconds of each second the thread holds the GIL.
            per_second = {kind: per_kind[kind]["mean"] * rates[kind] / 1000 for kind in KINDS}
            row[name] = {"us": per_kind, "ms_per_s": per_second, "ms_per_s_total": sum(per_second.values())}
        if "baseline" in row:
            base, now = row["baseline"], row["now"]
            row["ratio_now_over_baseline"] = {
                **{kind: now["us"][kind]["mean"] / base["us"][kind]["mean"] for kind in KINDS},
                "total": now["ms_per_s_total"] / base["ms_per_s_total"],
            }
            row["same_cues"] = sides["now"]["scenes"][objects]["cues"] == sides["baseline"]["scenes"][objects]["cues"]
        row["cues"] = len(sides["now"]["scenes"][objects]["cues"])
        summary[objects] = row
    return summary


def plot(summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sides = [s for s in ("baseline", "now") if s in summary[str(OBJECTS[0])]]
    fig, axes = plt.subplots(1, len(OBJECTS), figsize=(4 * len(OBJECTS), 3.6), sharey=True)
    for ax, objects in zip(axes, map(str, OBJECTS), strict=True):
        x = np.arange(len(KINDS))
        for i, side in enumerate(sides):
            values = [summary[objects][side]["ms_per_s"][kind] for kind in KINDS]
            ax.bar(x + (i - 0.5 * (len(sides) - 1)) * 0.38, values, 0.38, label=side)
        ax.set_xticks(x, KINDS)
        ax.set_title(f"{objects} object(s) per camera")
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("ms of each second on the executor thread")
    axes[0].legend()
    fig.suptitle("navigation's Python per second at the GPU graph's rates")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default="", help="a git commit to compare with (default: none)")
    parser.add_argument("--seconds", type=float, default=20.0, help="stream length per scene")
    parser.add_argument("--imu-hz", type=float, default=1000.0, help="IMU rate (Aria Gen 1's imu-right: 1 kHz)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "navigation_cost_cpu.json"))
    parser.add_argument("--side", default="", help=argparse.SUPPRESS)  # a child: measure, write here
    args = parser.parse_args(argv)
    if not 0 < args.seconds <= 50:  # stamps from now on: navigation refuses those a minute from its clock
        parser.error("--seconds: more than 0, at most 50")
    if args.side:
        Path(args.side).write_text(json.dumps(measure(args.seconds, args.imu_hz)))
        return 0
    sides: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="navigation_cost_") as tmp:
        for name, ref in (("baseline", args.baseline), ("now", "")):
            if name == "baseline" and not ref:
                continue
            folder = Path(tmp) / name
            folder.mkdir()
            sides[name] = run_side(ref, args.seconds, args.imu_hz, folder)
    summary = summarise(sides, args.imu_hz)
    report = {"command": command(__file__, argv), "machine": machine(), "baseline": args.baseline,
              "seconds": args.seconds, "imu_hz": args.imu_hz, "camera_hz": CAMERA_HZ,
              "packages": {name: side["package"] for name, side in sides.items()}, "summary": summary}  # fmt: skip
    write(args.out, report)
    plot(summary, Path(args.out).with_suffix(".png"))
    print(f"{'objects':>7} {'side':>8} " + " ".join(f"{k + ' us p50/p99':>24}" for k in KINDS) + f" {'ms/s':>7}")
    for objects, row in summary.items():
        for side in sides:
            r = row[side]
            cells = " ".join(f"{r['us'][k]['p50']:>11.1f} / {r['us'][k]['p99']:>9.1f}" for k in KINDS)
            print(f"{objects:>7} {side:>8} {cells} {r['ms_per_s_total']:>7.1f}")
        if "ratio_now_over_baseline" in row:
            ratio = row["ratio_now_over_baseline"]
            print(f"{'':>7} {'now/base':>8} " + " ".join(f"{ratio[k]:>24.2f}" for k in KINDS)
                  + f" {ratio['total']:>7.2f}   same cues: {row['same_cues']} ({row['cues']})")  # fmt: skip
    print(f"wrote {args.out} and {Path(args.out).with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
