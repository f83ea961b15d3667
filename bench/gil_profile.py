"""Who holds the GIL in one process of the running graph: py-spy's GIL samples, by thread and by what runs.

python bench/gil_profile.py --process "nodes.container rgb_perception" --seconds 25 \
    -- python bench/graph_bench.py --variants rgb_half_in_driver --rates 30 --seconds 60 --out /tmp/g.json

Starts the command after `--` (here the CPU graph), waits for the process whose command line holds
--process (the composed RGB process: perception's worker and navigation's executor thread share its GIL),
lets it run --settle seconds, then samples it with `py-spy record --gil --native` (only the thread that holds
the GIL is sampled). Each sample is put in one class by what its stack runs (rules below, first match), and
counted by thread. Writes a table, JSON and a bar plot, once the command has ended by itself. Without `--`,
it samples a process that already runs.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "bench") not in sys.path:  # report, beside this file (PYTHONSAFEPATH=1)
    sys.path.insert(0, str(ROOT / "bench"))
from report import command, machine, write  # noqa: E402

# (class, words any of which in a stack puts a sample there), first match wins: the worker by its thread's
# name, then each input by its callback or its message type's conversion, then the executor itself.
CLASSES = (
    ("perception worker", ("perception_worker",)),
    ("IMU", ("_on_imu", "imu__convert", "msg/_imu.py")),
    ("results (navigation)", ("_on_detections", "detection_array__convert", "msg/_detection")),
    ("image (perception)", ("_on_image", "_on_jpeg", "image__convert", "msg/_image.py")),
    ("CameraInfo", ("on_info", "on_frame", "camera_info__convert", "msg/_camera_info.py")),
    ("timers", ("_tick", "_report", "flush")),
)
# A stack whose last Python frame is the spin loop's call into rclpy's C++ executor: it takes a message and
# makes its Python object (which message py-spy cannot tell without C symbols), or waits with the GIL held.
EXECUTOR_CPP = "executor's C++ (take, convert)"
EXECUTOR_LOOP = "executor loop (Python)"


def classify(stack: str) -> str:
    for name, words in CLASSES:
        if any(word in stack for word in words):
            return name
    frames = stack.split(";")
    if frames[-1].startswith("run_nodes "):
        return EXECUTOR_CPP
    if any(frame.startswith("run_nodes ") for frame in frames):
        return EXECUTOR_LOOP
    return "other"


def find(pattern: str, deadline: float, started: subprocess.Popen | None) -> int:
    """The oldest process whose command line holds `pattern` (not this script, nor a wrapper that names it); of
    the command's own processes where it started one (a graph left over from another run is not sampled)."""
    while time.monotonic() < deadline:
        if started is not None and started.poll() is not None:
            raise SystemExit(f"the command ended ({started.returncode}) before a process matched {pattern!r}")
        pids = []
        for proc in Path("/proc").iterdir():
            try:
                line = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                ours = started is None or os.getsid(int(proc.name)) == started.pid
            except (OSError, ValueError):  # gone, or not a process
                continue
            if ours and pattern in line and Path(__file__).name not in line:
                pids.append(int(proc.name))
        if pids:
            return min(pids)
        time.sleep(0.5)  # poll interval of a wait with a deadline
    raise SystemExit(f"no process matching {pattern!r} within the wait")


def sample(pid: int, seconds: float, rate: int, raw: Path, native: bool) -> None:
    spy = shutil.which("py-spy")
    if spy is None:
        raise SystemExit("py-spy is not installed (pip install py-spy; requirements.txt pins it)")
    argv = [spy, "record", "--gil", "--threads", "-r", str(rate), "-d", str(int(seconds)),
            "-p", str(pid), "-f", "raw", "-o", str(raw), *(["--native"] if native else [])]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"py-spy failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


def summarise(raw: Path, seconds: float, rate: int) -> dict:
    by_class: collections.Counter[str] = collections.Counter()
    by_thread: collections.Counter[str] = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        thread = stack.split(";", 1)[0]
        by_thread[thread.split(": ", 1)[-1] if ": " in thread else thread] += n
        by_class[classify(stack)] += n
    # Samples py-spy would take of a thread that holds the GIL all the time. A lower bound therefore: py-spy may
    # fall behind its rate, and (without --idle) leaves out a holder that is off the CPU.
    taken = seconds * rate
    held = sum(by_class.values())
    return {
        "samples": held,
        "gil_held_share": held / taken,  # of the wall time, the GIL was held by some sampled thread
        "by_class": {k: {"samples": v, "share_of_held": v / held} for k, v in by_class.most_common()},
        "by_thread": {k: {"samples": v, "share_of_held": v / held} for k, v in by_thread.most_common()},
    }


def plot(summary: dict, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(summary["by_class"])
    held = summary["gil_held_share"]  # of the wall time: each class's part of it
    shares = [100 * held * summary["by_class"][n]["share_of_held"] for n in names]
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(names) + 1.2))
    ax.barh(names[::-1], shares[::-1])
    ax.set_xlabel(f"% of the wall time holding the GIL (all: {100 * held:.1f} %)")
    ax.set_title(title, fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    cut = argv.index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--process", required=True, help="a part of the sampled process's command line")
    parser.add_argument("--seconds", type=float, default=25.0, help="how long to sample")
    parser.add_argument("--settle", type=float, default=20.0, help="seconds after the process appears, first")
    parser.add_argument("--rate", type=int, default=100, help="samples a second")
    parser.add_argument("--native", action="store_true", help="C frames too (slows the process down more)")
    parser.add_argument("--raw", default="", help="keep py-spy's raw stacks here")
    parser.add_argument("--note", default="", help="what ran, written into the JSON (a baseline's commit)")
    parser.add_argument("--wait", type=float, default=120.0, help="most seconds to wait for the process")
    parser.add_argument("--ceiling", type=float, default=600.0, help="most seconds the command may run in all")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "gil_rgb_process_cpu.json"))
    args = parser.parse_args(argv[:cut])
    started = subprocess.Popen(argv[cut + 1 :], start_new_session=True) if cut < len(argv) else None
    try:
        pid = find(args.process, time.monotonic() + args.wait, started)
        time.sleep(args.settle)  # the graph's start (models loading, discovery) is not what is measured
        with tempfile.TemporaryDirectory(prefix="gil_profile_") as tmp:
            raw = Path(tmp) / "raw.txt"
            sample(pid, args.seconds, args.rate, raw, args.native)
            summary = summarise(raw, args.seconds, args.rate)
            if args.raw:
                shutil.copy(raw, args.raw)
        if started is not None:
            try:
                started.wait(args.ceiling)  # it ends by itself (a benchmark's own --seconds)
            except subprocess.TimeoutExpired:
                print(f"the command ran past --ceiling {args.ceiling:.0f} s: stopped", file=sys.stderr)
    finally:
        if started is not None and started.poll() is None:  # failed or past the ceiling: its stop, then the kill
            os.killpg(started.pid, signal.SIGINT)
            try:
                started.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(started.pid, signal.SIGKILL)
    report = {"command": command(__file__, argv), "note": args.note, "machine": machine(), "process": args.process,
              "seconds": args.seconds, "rate": args.rate, "native": args.native,
              "classes": {n: list(w) for n, w in CLASSES}, "summary": summary}  # fmt: skip
    write(args.out, report)
    plot(summary, Path(args.out).with_suffix(".png"), f"who holds the GIL in '{args.process}'")
    print(f"GIL held {100 * summary['gil_held_share']:.1f} % of {args.seconds:.0f} s ({summary['samples']} samples)")
    for title, part in (("class", "by_class"), ("thread", "by_thread")):
        print(f"{title:<28} share of the GIL samples")
        for name, row in summary[part].items():
            print(f"  {name:<26} {100 * row['share_of_held']:5.1f} %")
    print(f"wrote {args.out} and {Path(args.out).with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
