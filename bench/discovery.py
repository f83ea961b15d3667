"""How soon a node just started is heard: a latched event from a fresh process, under three Fast DDS profiles.

What a wearer waits for when a perception node starts (or restarts) and
finds at once that it cannot work: its SystemEvent (reliable, transient
local: navigation's events QoS) must reach navigation, a participant that
has been running for a while. Each try starts a fresh speaker process on a
domain of its own (no dead participant of an earlier try in the way), which
publishes one SystemEvent stamped with the wall clock as soon as its
publisher exists; the listener (a participant that has run for 3 s, past
its first announcements, as navigation has) times its arrival and when the
two endpoints matched.

Variants side by side, in the same run and interleaved:
- `fastdds_defaults` (the baseline): the project's profile with its transports
  only, so Fast DDS's own discovery timing;
- `project`: `config/fastdds_large_images.xml` as it is (what scripts/env.sh,
  the launcher and the launch file select): quicker announcements;
- `project_fast_heartbeats`: plus reliable writers' heartbeats every 0.1 s
  (Fast DDS's default: 3 s), which the project does not ship (the profile
  says why).
Beside 0 and 2 busy loops (this machine has 2 cores). Prints a table, writes
JSON and a plot.

    source scripts/env.sh && python bench/discovery.py --tries 16 --loads 0 2   # ~7 min
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # stop_bench, report: beside this file (PYTHONSAFEPATH=1)

from report import command, machine, write  # noqa: E402
from stop_bench import BUSY  # noqa: E402

from aria_nav_ros.graph.process import child_env  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "config" / "fastdds_large_images.xml"
FASTDDS = "{http://www.eprosima.com}"
FIRST_DOMAIN = 100  # one domain a try, away from the default 0
CEILING_S = 10.0  # a try that has heard nothing by then counts as not delivered
LISTENER_AGE_S = 3.0  # longer than the project's initial announcements (10 x 0.2 s)


def variant_profile(folder: Path, name: str, announcements: bool, heartbeat_s: float | None = None) -> Path:
    """The project's profile, without its discovery timing unless `announcements`, and with a default writer
    heartbeat period of `heartbeat_s` (else Fast DDS's, 3 s): the same transports in every variant."""
    ElementTree.register_namespace("", FASTDDS.strip("{}"))
    tree = ElementTree.parse(PROFILE)
    profiles = tree.getroot().find(f"{FASTDDS}profiles")
    for rtps in [] if announcements else profiles.iter(f"{FASTDDS}rtps"):
        for builtin in rtps.findall(f"{FASTDDS}builtin"):
            rtps.remove(builtin)
    if heartbeat_s is not None:
        writer = ElementTree.SubElement(profiles, f"{FASTDDS}data_writer",
                                        {"profile_name": "bench_writer", "is_default_profile": "true"})  # fmt: skip
        period = ElementTree.SubElement(ElementTree.SubElement(writer, f"{FASTDDS}times"), f"{FASTDDS}heartbeat_period")
        seconds, nanoseconds = divmod(round(heartbeat_s * 1e9), 1_000_000_000)
        ElementTree.SubElement(period, f"{FASTDDS}sec").text = str(seconds)
        ElementTree.SubElement(period, f"{FASTDDS}nanosec").text = str(nanoseconds)
    path = folder / f"{name}.xml"
    tree.write(path, encoding="UTF-8", xml_declaration=True)
    return path


def speaker() -> int:
    """A fresh node: one latched event as soon as its publisher exists; ends when its stdin closes."""
    import rclpy
    from rclpy.event_handler import PublisherEventCallbacks

    from aria_nav_ros.core.cameras import EVENTS_TOPIC
    from aria_nav_ros.msg import SystemEvent
    from aria_nav_ros.ros.qos import EVENTS_QOS

    rclpy.init()
    node = rclpy.create_node("discovery_speaker")
    made = time.time()

    def matched(_info) -> None:
        print(json.dumps({"speaker_matched_s": round(time.time() - made, 3)}), flush=True)

    publisher = node.create_publisher(SystemEvent, EVENTS_TOPIC, EVENTS_QOS,
                                      event_callbacks=PublisherEventCallbacks(matched=matched))  # fmt: skip
    stamp = time.time_ns()
    message = SystemEvent(event=SystemEvent.CAMERA_FAILED, node=node.get_name(), camera="rgb", detail="try")
    message.header.stamp.sec, message.header.stamp.nanosec = divmod(stamp, 1_000_000_000)
    publisher.publish(message)
    closed = threading.Event()  # the listener closes our stdin when it is done with this try
    threading.Thread(target=lambda: (sys.stdin.read(), closed.set()), daemon=True).start()
    while not closed.is_set():
        rclpy.spin_once(node, timeout_sec=0.05)
    node.destroy_node()
    rclpy.shutdown()
    return 0


def listener(tries: int, first_domain: int) -> int:
    """Per try: a participant on a fresh domain, a fresh speaker; prints one JSON line per try."""
    import rclpy
    from rclpy.context import Context
    from rclpy.event_handler import SubscriptionEventCallbacks
    from rclpy.executors import SingleThreadedExecutor

    from aria_nav_ros.core.cameras import EVENTS_TOPIC
    from aria_nav_ros.msg import SystemEvent
    from aria_nav_ros.ros.qos import EVENTS_QOS

    for i in range(tries):
        domain = first_domain + i
        context = Context()
        rclpy.init(context=context, domain_id=domain)
        node = rclpy.create_node("discovery_listener", context=context)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        heard: dict[str, float] = {}

        def on_event(message: SystemEvent, heard: dict[str, float] = heard) -> None:
            stamp = message.header.stamp
            heard.setdefault("delivery_s", time.time() - stamp.sec - stamp.nanosec * 1e-9)

        def on_matched(_info, heard: dict[str, float] = heard) -> None:
            heard.setdefault("matched_at", time.time())

        node.create_subscription(SystemEvent, EVENTS_TOPIC, on_event, EVENTS_QOS,
                                 event_callbacks=SubscriptionEventCallbacks(matched=on_matched))  # fmt: skip
        up = time.monotonic() + LISTENER_AGE_S  # the listener has run a while when the speaker starts, as
        while time.monotonic() < up:  # navigation has: past its own first announcements
            executor.spin_once(timeout_sec=0.05)
        started = time.time()
        speaking = subprocess.Popen([sys.executable, __file__, "--speaker"], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, text=True,
                                    env=child_env({**os.environ, "ROS_DOMAIN_ID": str(domain)}))  # fmt: skip
        end = time.monotonic() + CEILING_S
        while "delivery_s" not in heard and time.monotonic() < end:
            executor.spin_once(timeout_sec=0.05)
        speaking.stdin.close()
        said = speaking.stdout.read()
        speaking.wait(timeout=30)
        row = {"domain": domain, "delivery_s": None, "listener_matched_s": None, "speaker_matched_s": None}
        if "delivery_s" in heard:
            row["delivery_s"] = round(heard["delivery_s"], 3)
        if "matched_at" in heard:
            row["listener_matched_s"] = round(heard["matched_at"] - started, 3)
        for line in said.splitlines():
            row.update(json.loads(line))
        print(json.dumps(row), flush=True)
        executor.shutdown()
        node.destroy_node()
        rclpy.shutdown(context=context)
    return 0


def run_variant(profile: Path, tries: int, first_domain: int) -> list[dict]:
    env = child_env({**os.environ, "FASTDDS_DEFAULT_PROFILES_FILE": str(profile)})
    command = [sys.executable, __file__, "--listener", "--tries", str(tries), "--first-domain", str(first_domain)]
    done = subprocess.run(command, env=env,
                          capture_output=True, text=True, timeout=tries * (CEILING_S + 30))  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"the listener failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def summarise(tries: list[dict]) -> dict:
    times = [t["delivery_s"] for t in tries if t["delivery_s"] is not None]
    row = {"tries": len(tries), "delivered": len(times), "over_1s": sum(t > 1.0 for t in times)}
    for name, q in (("p50_ms", 50), ("p90_ms", 90), ("max_ms", 100)):
        row[name] = round(float(np.percentile(times, q)) * 1000, 1) if times else None
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tries", type=int, default=16, help="per variant and load (one fresh domain each)")
    parser.add_argument("--loads", type=int, nargs="+", default=[0, 2], help="busy loops beside the processes")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "discovery_cpu.json")
    parser.add_argument("--speaker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--listener", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--first-domain", type=int, default=FIRST_DOMAIN, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.speaker:
        return speaker()
    if args.listener:
        return listener(args.tries, args.first_domain)
    if len(set(args.loads)) != len(args.loads):
        parser.error("--loads: each number once")
    if FIRST_DOMAIN + 3 * (args.tries // 2) * 2 * len(args.loads) > 233:  # Fast DDS's domain ids end at 232
        parser.error("--tries x --loads needs more than the domains 100 to 232")
    folder = Path(tempfile.mkdtemp(prefix="discovery_bench_"))
    variants = {
        "fastdds_defaults": variant_profile(folder, "fastdds_defaults", announcements=False),
        "project": PROFILE,
        "project_fast_heartbeats": variant_profile(folder, "project_fast_heartbeats", True, heartbeat_s=0.1),
    }
    results: dict[str, dict[str, list[dict]]] = {v: {} for v in variants}
    domain = FIRST_DOMAIN  # never one a try before used: no participant of it still in discovery
    for load in args.loads:
        busy = [subprocess.Popen([sys.executable, "-c", BUSY], env=child_env()) for _ in range(load)]
        try:
            for _ in range(2):  # the variants interleaved in halves: both see the same machine
                for variant, profile in variants.items():
                    tries = run_variant(profile, args.tries // 2, domain)
                    results[variant].setdefault(str(load), []).extend(tries)
                    domain += args.tries // 2
        finally:
            for process in busy:
                process.kill()
                process.wait()
    summary = {v: {load: summarise(tries) for load, tries in by_load.items()} for v, by_load in results.items()}
    print(f"\n{'variant':18} {'busy':>4} {'tries':>5} {'heard':>5} {'p50':>8} {'p90':>8} {'max':>8} {'> 1 s':>5}"
          f" {'p90 vs baseline':>15}")  # fmt: skip
    for variant, by_load in summary.items():
        for load, row in by_load.items():
            base = summary["fastdds_defaults"][load]["p90_ms"]
            row["p90_vs_baseline"] = round(row["p90_ms"] / base, 3) if row["p90_ms"] is not None and base else None
            cells = " ".join(
                f"{'-' if row[k] is None else f'{row[k]:.0f} ms':>8}" for k in ("p50_ms", "p90_ms", "max_ms")
            )
            print(f"{variant:18} {load:>4} {row['tries']:>5} {row['delivered']:>5} {cells} {row['over_1s']:>5}"
                  f" {row['p90_vs_baseline']!s:>15}")  # fmt: skip
    report = {"command": command(__file__, argv), "machine": machine(), "profile": str(PROFILE.relative_to(ROOT)),
              "ceiling_s": CEILING_S, "summary": summary, "results": results}  # fmt: skip
    write(args.out, report)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 3.5))
    labels = [f"{variant}\n{load} busy" for variant, by_load in results.items() for load in by_load]
    samples = [[t["delivery_s"] if t["delivery_s"] is not None else CEILING_S for t in tries]
               for by_load in results.values() for tries in by_load.values()]  # fmt: skip
    for i, values in enumerate(samples, start=1):
        axis.scatter(np.full(len(values), i) + np.linspace(-0.15, 0.15, len(values)), values, s=12)
    axis.set_xticks(range(1, len(labels) + 1), labels)
    axis.set_ylabel("seconds, publish to heard")
    axis.set_title("A latched event from a node just started (one dot a try)")
    figure.tight_layout()
    figure.savefig(args.out.with_suffix(".png"), dpi=100)
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
