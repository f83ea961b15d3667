"""Two-host benchmark: the driver on one "host", perception and navigation on another, over UDP only.

The two hosts are two Linux network namespaces joined by a veth pair: two
network stacks with their own addresses, so the two sides can only reach each
other through the link. Every process runs with `config/fastdds_udp_only.xml`
(a UDPv4 transport, no shared memory: /dev/shm is common to both namespaces,
so the profile is what keeps it out), discovery across the link with
ROS_AUTOMATIC_DISCOVERY_RANGE=SUBNET and ROS_STATIC_PEERS=<the other side>.

Glasses side: aria_driver playing the sample walk (looped, `rate` x the
recorded 10 Hz). GPU side: rgb_perception, both slam_detectors (`--cameras`
chooses) and navigation, each in its own process. Not started: the recorder
and the stream monitor (the monitor reads raw images, which would cross the
link a second time).

Per point (transport raw or compressed, camera rate, link as it is or shaped
with `tc`): frames delivered (perception's received / the driver's
published), camera-to-decision latency (image stamp to navigation's decision,
from the per-frame traces, read with bench/graph_bench.py's functions) and
bytes on the wire (the veth's counters over the measured window). The shaped
link uses netem (rate and delay) where the kernel has it, else tbf (rate
only, no delay): the JSON says which.

    source scripts/env.sh && python bench/two_hosts.py    # about 6 min; root (ip netns)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shlex
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # graph_bench, report: beside this file (PYTHONSAFEPATH=1)

from graph_bench import COMMON, EVENTS, SAMPLE_HZ, ProcessSampler, analyse  # noqa: E402
from report import command, machine, write  # noqa: E402

from aria_nav_ros.core.trace import now_ns  # noqa: E402
from aria_nav_ros.graph.description import GraphSettings, Process, describe_graph  # noqa: E402
from aria_nav_ros.graph.launcher import run_graph  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "config" / "fastdds_udp_only.xml"
DOMAIN_ID = 77  # away from the default 0 (the namespaces isolate anyway)
SUBNET = "10.77.0"
GLASSES, GPU = "glasses", "gpu"
ADDRESS = {GLASSES: f"{SUBNET}.1", GPU: f"{SUBNET}.2"}
# The CPU settings of the README's CPU runs: the real person checkpoint at 96 px, at most 5 detections a second
# per camera, no depth, one torch thread per detector, navigation in its own process; RGB crosses full size.
SETTINGS = {**COMMON, "torch_threads": 1, "compose": False, "rgb_scale": 1.0}
# A Wi-Fi link of about 100 Mbit/s: netem (rate and delay) where the kernel has it, else a token bucket (rate).
NETEM = "netem rate 100mbit delay 5ms limit 1000"
TBF = "tbf rate 100mbit burst 64kb latency 100ms"


@dataclass(frozen=True)
class Link:
    """Two network namespaces joined by a veth pair; names unique to this process."""

    tag: str

    def netns(self, side: str) -> str:
        return f"aria_{self.tag}_{side}"

    def veth(self, side: str) -> str:
        return f"av{self.tag}{side[:2]}"  # at most 15 characters (IFNAMSIZ)

    def ip(self, side: str, *args: str) -> None:
        _run(["ip", "-n", self.netns(side), *args])

    def counters(self) -> dict[str, int]:
        """Bytes the glasses side's veth has sent (to the GPU side) and received, from the kernel's counters."""
        side = GLASSES
        out = subprocess.run(["ip", "-n", self.netns(side), "-j", "-s", "link", "show", "dev", self.veth(side)],
                             check=True, capture_output=True, text=True).stdout  # fmt: skip
        stats = json.loads(out)[0]["stats64"]
        return {"tx_bytes": stats["tx"]["bytes"], "rx_bytes": stats["rx"]["bytes"], "t_ns": now_ns()}

    def shape(self, qdisc: str) -> None:
        for side in (GLASSES, GPU):
            _run(["tc", "-n", self.netns(side), "qdisc", "replace", "dev", self.veth(side), "root", *qdisc.split()])

    def unshape(self) -> None:
        for side in (GLASSES, GPU):
            subprocess.run(["tc", "-n", self.netns(side), "qdisc", "del", "dev", self.veth(side), "root"],
                           capture_output=True)  # fmt: skip

    def environment(self, side: str) -> dict[str, str]:
        """What each process of a side runs with: the UDP-only profile, discovery across the link."""
        other = GPU if side == GLASSES else GLASSES
        return {
            "FASTDDS_DEFAULT_PROFILES_FILE": str(PROFILE),
            "ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET",
            "ROS_STATIC_PEERS": ADDRESS[other],
            "ROS_DOMAIN_ID": str(DOMAIN_ID),
        }

    def prefix(self, side: str) -> list[str]:
        """A command line's start that runs the rest in the side's namespace with its environment."""
        env = [f"{k}={v}" for k, v in self.environment(side).items()]
        return ["ip", "netns", "exec", self.netns(side), "env", "-u", "FASTDDS_BUILTIN_TRANSPORTS", *env]


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{shlex.join(command)} failed ({done.returncode}): {done.stderr.strip()}")


@contextlib.contextmanager
def two_hosts(tag: str | None = None) -> Iterator[Link]:
    """Make the two namespaces and the link between them; remove them on the way out, however it ends."""
    link = Link(tag or str(os.getpid() % 100000))
    remove(link)  # a leftover of a killed run with this tag
    try:
        for side in (GLASSES, GPU):
            _run(["ip", "netns", "add", link.netns(side)])
        _run(["ip", "link", "add", link.veth(GLASSES), "type", "veth", "peer", "name", link.veth(GPU)])
        for side in (GLASSES, GPU):
            _run(["ip", "link", "set", link.veth(side), "netns", link.netns(side)])
            link.ip(side, "addr", "add", f"{ADDRESS[side]}/24", "dev", link.veth(side))
            link.ip(side, "link", "set", link.veth(side), "up")
            link.ip(side, "link", "set", "lo", "up")
            link.ip(side, "route", "add", "224.0.0.0/4", "dev", link.veth(side))  # SUBNET discovery's multicast
        yield link
    finally:
        remove(link)


def remove(link: Link) -> None:
    for side in (GLASSES, GPU):  # a namespace's veth goes with it, and its peer with the veth
        subprocess.run(["ip", "netns", "del", link.netns(side)], capture_output=True)


def netns_error() -> str:
    """Why network namespaces cannot be made here ("" when they can)."""
    if os.geteuid() != 0:
        return "not root: ip netns needs CAP_SYS_ADMIN"
    try:
        with two_hosts("probe"):
            return ""
    except (OSError, RuntimeError) as error:
        return str(error)


def shaping(link: Link) -> str:
    """The qdisc that shapes the link here: netem where the kernel has it, else tbf, else ""."""
    for qdisc in (NETEM, TBF):
        try:
            link.shape(qdisc)
            return qdisc
        except RuntimeError:
            continue
        finally:
            link.unshape()
    return ""


@dataclass(frozen=True)
class NetnsProcess(Process):
    """A graph process started through `prefix` (ip netns exec ... env ...), which execs the same command."""

    prefix: tuple[str, ...] = ()

    def command(self) -> list[str]:
        return [*self.prefix, *super().command()]


def split_graph(settings: GraphSettings, link: Link, transport: str, cameras: list[str]) -> list[Process]:
    """The graph's processes, the driver on the glasses side and perception and navigation on the GPU side."""
    out: list[Process] = []
    for process in describe_graph(settings):
        node = process.nodes[0]
        if node.executable in ("stream_monitor", "recorder") or len(process.nodes) > 1:
            continue
        extra: dict[str, object] = {}
        if node.executable == "aria_driver":
            extra = {"transport": transport, "cameras": cameras}
        elif node.executable in ("rgb_perception", "slam_detector"):
            camera = "rgb" if node.executable == "rgb_perception" else node.name.replace("_detector", "")
            if camera not in cameras:
                continue
            extra = {"compressed_input": transport == "compressed"}
        elif node.executable == "navigation":
            extra = {"cameras": cameras}
        side = GLASSES if node.executable == "aria_driver" else GPU
        node = replace(node, parameters={**node.parameters, **extra})
        out.append(NetnsProcess(**{**asdict_shallow(process), "nodes": (node,)}, prefix=tuple(link.prefix(side))))
    return out


def asdict_shallow(process: Process) -> dict[str, object]:
    return {name: getattr(process, name) for name in Process.__dataclass_fields__}


def run_point(settings: GraphSettings, link: Link, processes: list[Process], warmup_s: float,
              seconds: float) -> tuple[int, int, dict, dict[str, dict[str, int]]]:  # fmt: skip
    """Run until the window is over; (window start, end) ns, process load, wire counters at start and end."""
    driver_trace = Path(settings.trace) / "aria_driver.jsonl"
    first: list[int] = []
    wire: dict[str, dict[str, int]] = {}

    def window_over() -> bool:
        if not first and driver_trace.exists():
            with driver_trace.open() as f:
                line = f.readline()
            if line.endswith("\n"):
                first.append(json.loads(line).get("published", now_ns()))
        if not first:
            return False
        now = now_ns()
        start = first[0] + int(warmup_s * 1e9)
        if "start" not in wire and now >= start:
            wire["start"] = link.counters()
        if "end" not in wire and now >= start + int(seconds * 1e9):
            wire["end"] = link.counters()
        return now > start + int((seconds + 2.0) * 1e9)  # the window's last results come in

    sampler = ProcessSampler({tuple(Process.command(p)): p.name for p in processes})  # the command after exec
    sampler.start()
    limit = 120.0 + warmup_s + seconds  # model loading included
    run_graph(processes, limit, until=window_over, say=lambda m: print(f"  [graph] {m}", flush=True))
    sampler.stopped.set()
    if not first or "end" not in wire:
        raise SystemExit(f"no complete window within {limit:g} s: see {settings.output}")
    start = first[0] + int(warmup_s * 1e9)
    return start, start + int(seconds * 1e9), {"samples": sampler.samples, "system": sampler.system}, wire


def point_summary(result: dict, wire: dict[str, dict[str, int]], cameras: list[str]) -> dict:
    """The headline figures of one point: RGB (the frame that fills the link), and every camera beside it."""
    seconds = (wire["end"]["t_ns"] - wire["start"]["t_ns"]) / 1e9
    sent = wire["end"]["tx_bytes"] - wire["start"]["tx_bytes"]
    back = wire["end"]["rx_bytes"] - wire["start"]["rx_bytes"]
    per_camera = {}
    for camera in cameras:
        c = result["cameras"][camera]
        e2e = c["latency_ms"]["end_to_end"]
        per_camera[camera] = {
            "published": c["published"],
            "delivered_fraction": (c["published"] - c["lost_in_transport"]) / max(c["published"], 1),
            "processed": c["processed"],
            "camera_to_decision_p50_ms": e2e.get("p50", float("nan")),
            "camera_to_decision_p99_ms": e2e.get("p99", float("nan")),
            "transport_p50_ms": c["latency_ms"]["transport"].get("p50", float("nan")),
        }
    rgb = per_camera["rgb"]
    return {
        "delivered_fraction": rgb["delivered_fraction"],
        "camera_to_decision_p50_ms": rgb["camera_to_decision_p50_ms"],
        "camera_to_decision_p99_ms": rgb["camera_to_decision_p99_ms"],
        "wire_mb_per_s": (sent + back) / seconds / 1e6,
        "wire_to_gpu_mb_per_s": sent / seconds / 1e6,
        "wire_to_glasses_mb_per_s": back / seconds / 1e6,
        "delivered_fraction_all_cameras": sum(p["published"] * p["delivered_fraction"] for p in per_camera.values())
        / max(sum(p["published"] for p in per_camera.values()), 1),
        "machine_cpu_percent": result["processes"].get("machine", {}).get("cpu_percent", float("nan")),
        "per_camera": per_camera,
    }


def print_summary(summary: dict) -> None:
    print(f"\n{'transport':20}{'Hz':>4}{'delivered':>10}{'all cams':>9}{'p50 ms':>9}{'p99 ms':>9}{'MB/s wire':>10}"
          f"{'CPU %':>7}")  # fmt: skip
    for transport, by_rate in summary.items():
        for hz, r in by_rate.items():
            print(f"{transport:20}{hz:>4}{r['delivered_fraction']:10.3f}{r['delivered_fraction_all_cameras']:9.3f}"
                  f"{r['camera_to_decision_p50_ms']:9.1f}{r['camera_to_decision_p99_ms']:9.1f}"
                  f"{r['wire_mb_per_s']:10.2f}{r['machine_cpu_percent']:7.0f}")  # fmt: skip


def plot(summary: dict, path: Path, shaped: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    names = list(summary)
    rates = sorted({hz for by_rate in summary.values() for hz in by_rate}, key=float)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    width = 0.8 / max(len(rates), 1)
    x = np.arange(len(names))
    for i, hz in enumerate(rates):
        get = lambda key, hz=hz: [summary[n].get(hz, {}).get(key, np.nan) for n in names]  # noqa: E731
        offset = x + (i - (len(rates) - 1) / 2) * width
        axes[0].bar(offset, get("delivered_fraction"), width, label=f"{hz} Hz")
        axes[1].bar(offset, get("camera_to_decision_p50_ms"), width, label=f"{hz} Hz p50")
        axes[1].scatter(offset, get("camera_to_decision_p99_ms"), marker="_", s=200, color="k",
                        label="p99" if i == 0 else None)  # fmt: skip
        axes[2].bar(offset, get("wire_mb_per_s"), width, label=f"{hz} Hz")
    titles = ("RGB frames delivered (fraction)", "RGB camera to decision (ms)", "on the wire (MB/s)")
    for ax, title in zip(axes, titles, strict=True):
        ax.set_xticks(x, names, rotation=15, fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=7)
    axes[2].set_yscale("log")
    fig.suptitle(f"driver and perception in two network namespaces, UDP only; shaped: {shaped or 'not available'}",
                 fontsize=9)  # fmt: skip
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bag", default="outputs/sample/walk", help="the sample walk (scripts/setup.sh builds it)")
    parser.add_argument("--rates", type=float, nargs="+", default=[10.0, 30.0], help="camera rates, Hz")
    parser.add_argument("--transports", nargs="+", default=["raw", "compressed"], choices=["raw", "compressed"])
    parser.add_argument("--cameras", nargs="+", default=["rgb", "slam_left", "slam_right"])
    parser.add_argument("--no-shaped", action="store_true", help="leave out the shaped link (100 Mbit/s)")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured seconds per point")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds after the first frame left out")
    parser.add_argument("--out", default="bench/results/two_hosts.json")
    parser.add_argument("--report-only", action="store_true", help="table and plot again from --out's JSON")
    parser.add_argument("--keep", help="keep each point's folder (logs, traces) under this folder")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.report_only:
        report = json.loads(out.read_text())
        print_summary(report["summary"])
        plot(report["summary"], out.with_suffix(".png"), report["link"]["shaped_with"])
        return 0
    if not Path(args.bag).exists():
        raise SystemExit(f"{args.bag} not found: run scripts/setup.sh (it builds the sample walk)")
    problem = netns_error()
    if problem:
        raise SystemExit(f"cannot make network namespaces here: {problem}")
    signal.signal(signal.SIGTERM, _interrupt)  # unwind as Ctrl-C does: processes stopped, namespaces removed
    os.environ.update(EVENTS)  # the graph's processes inherit it
    base = replace(GraphSettings(), **SETTINGS)
    summary: dict[str, dict[str, dict]] = {}
    results: dict[str, dict[str, dict]] = {}
    with tempfile.TemporaryDirectory(prefix="two_hosts_") as temporary, two_hosts() as link:
        shaped = "" if args.no_shaped else shaping(link)
        links = [("", "")] + ([("_100mbit", shaped)] if shaped else [])
        print(f"link: veth {link.veth(GLASSES)} ({ADDRESS[GLASSES]}) <-> {link.veth(GPU)} ({ADDRESS[GPU]});"
              f" shaped variant: {shaped or ('left out' if args.no_shaped else 'none: no netem or tbf here')}",
              flush=True)  # fmt: skip
        tmp = args.keep or temporary
        for suffix, qdisc in links:
            link.unshape()
            if qdisc:
                link.shape(qdisc)
            for transport in args.transports:
                name = transport + suffix
                for hz in args.rates:
                    run = Path(tmp) / f"{name}_{hz:g}hz"
                    settings = replace(base, source="bag", path=args.bag, rate=hz / SAMPLE_HZ, loop=True,
                                       output=str(run), trace=f"{run}/trace")  # fmt: skip
                    processes = split_graph(settings, link, transport, args.cameras)
                    print(f"{name} at {hz:g} Hz: {args.warmup:g} s warm-up, {args.seconds:g} s measured", flush=True)
                    start, end, load, wire = run_point(settings, link, processes, args.warmup, args.seconds)
                    result = analyse(Path(settings.trace), start, end, load)
                    row = point_summary(result, wire, args.cameras)
                    summary.setdefault(name, {})[f"{hz:g}"] = row
                    results.setdefault(name, {})[f"{hz:g}"] = {
                        "cameras": {
                            c: {k: v for k, v in result["cameras"][c].items() if k != "series"} for c in args.cameras
                        },  # fmt: skip
                        "processes": result["processes"],
                        "cues": result["cues"],
                        "wire": wire,
                        "commands": [shlex.join(p.command()) for p in processes],
                    }
                    print_summary({name: {f"{hz:g}": row}})
        link.unshape()
    kernel = platform.release()
    report = {
        "command": command(__file__, argv),
        "machine": {**machine(), "kernel": kernel},
        "link": {
            "what": "two Linux network namespaces joined by a veth pair; each side UDPv4 only (no shared memory)",
            "profile": str(PROFILE.relative_to(ROOT)),
            "discovery": "ROS_AUTOMATIC_DISCOVERY_RANGE=SUBNET, ROS_STATIC_PEERS=<the other side's address>",
            "shaped_with": shaped,
            "netem": "available"
            if shaped.startswith("netem")
            else f"not available in kernel {kernel}"
            " (tc: 'Specified qdisc kind is unknown'): the shaped link limits the rate only (tbf), no delay",
            "wire": "bytes through the glasses side's veth, both directions, over the measured window",
        },
        "source": f"{args.bag}, looped; the sample walk's RGB is 704x704 rgb8 (1.5 MB a frame; the glasses' full"
        " 1408x1408 is 4x that), SLAM 640x480 mono8, recorded at 10 Hz (rate 3: 30 Hz)",
        "glasses_side": ["aria_driver"],
        "gpu_side": [p.name for p in split_graph(base, Link("x"), "raw", args.cameras) if p.name != "aria_driver"],
        "not_started": ["recorder", "stream_monitor (it reads raw images: they would cross the link twice)"],
        "settings": {
            **SETTINGS,
            "ARIA_NAV_EXECUTOR": EVENTS["ARIA_NAV_EXECUTOR"],
            "seconds": args.seconds,
            "warmup": args.warmup,
            "jpeg_quality": "80 (the driver's default)",
        },  # fmt: skip
        "headline": "RGB: delivered_fraction, camera_to_decision_p50/p99_ms; per_camera holds every camera",
        "summary": summary,
        "results": results,
    }
    write(out, report)
    print_summary(summary)
    plot(summary, out.with_suffix(".png"), shaped)
    print(f"\nwrote {out} and {out.with_suffix('.png')}")
    return 0


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
