"""What the wearer hears: scripted scenes and real footage through the navigation policy, against a baseline.

All policies run in this process on the same input: the policy of this tree ("new") and those of older commits
(baselines, loaded from git): by default d318f3c (before issue 18: a fixed 1 s watchdog, per-tier cooldowns) and
44e5aa3 (adaptive watchdog, still no habituation, fairness or grouping).

Scripted scenes (seconds of simulated time, several seeds each; detections with 5 % distance noise, 1 degree of
bearing noise and 5 % missed frames, three cameras by bearing, IMU walking or standing): approach, pass-by,
static crowd, two-sided approach, fast vehicle, stop-and-go walking, a slow detector (results every 1-2 s), a
pipeline that really stops, and a person at arm's length whom two cameras see as two boxes 12 degrees apart (a
fisheye's cut box: its centre is not the person's; the looped sample's "Careful!" flood). Real footage: a run
folder of the whole graph (its recorded detections, replayed on their arrival clock through both policies); make
one with --make-footage (OpenCV's pedestrian video vtest.avi from Debian's opencv-doc, the README's CPU settings,
two minutes).

    python bench/cue_bench.py --make-footage outputs/footage --out bench/results/cues.json
    python bench/cue_bench.py --footage outputs/footage --out bench/results/cues.json

Metrics per scene and policy: warning lead time (time to contact at the first cue, and at the first warning),
missed hazards, false criticals, hazard cues per minute in static scenes, the longest wait of a qualifying
hazard (seconds and cue slots), the smallest gap between two cues about one unchanged object, false "System
paused" per hour, and how long a real stop took to be said.
"""

from __future__ import annotations

import argparse
import importlib
import math
import random
import shlex
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]  # the ROS-free core without installing it; report beside this
from report import command, write  # noqa: E402

from aria_nav_ros.core.detection import DISTANCE_CLASS_SIZE, Detection  # noqa: E402

BASELINE_REVS = ["d318f3c", "44e5aa3"]  # before issue 18; and with its watchdog but before habituation
VIDEO = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")  # apt-get install opencv-doc
CAMERAS = ("rgb", "slam_left", "slam_right")
STEP = 0.1  # frames and ticks, seconds
CONTACT_M = 0.5
HEALTH_FAULTS = ("paused", "cameras_lost")


# -- the two policies ------------------------------------------------------------------------------------------


@dataclass
class Contender:
    name: str
    make: Callable[[], Any]  # a fresh policy
    config: Any  # its NavigationConfig
    system_texts: dict[str, str]  # health event -> its English sentence


def current() -> Contender:
    from aria_nav_ros.core.navigation import phrases
    from aria_nav_ros.core.navigation.config import NavigationConfig
    from aria_nav_ros.core.navigation.policy import NavigationPolicy

    config = NavigationConfig.load()
    return Contender("new", lambda: NavigationPolicy(config, "en"), config, phrases._SYSTEM["en"])


def baseline(rev: str) -> Contender:
    """The navigation package of `rev`, imported under another name, with that commit's config."""
    package = f"nav_{rev}"
    folder = Path(tempfile.mkdtemp(prefix="nav_baseline_")) / package
    folder.mkdir()
    listing = subprocess.run(
        ["git", "ls-tree", "--name-only", rev, "aria_nav_ros/core/navigation/"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    for path in listing:
        text = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=ROOT, capture_output=True, text=True, check=True)
        (folder / Path(path).name).write_text(text.stdout.replace("aria_nav_ros.core.navigation.", f"{package}."))
    sys.path.insert(0, str(folder.parent))
    policy: ModuleType = importlib.import_module(f"{package}.policy")
    config_module = importlib.import_module(f"{package}.config")
    phrases = importlib.import_module(f"{package}.phrases")
    raw = yaml.safe_load(subprocess.run(["git", "show", f"{rev}:config/navigation.yaml"], cwd=ROOT,
                                        capture_output=True, text=True, check=True).stdout)  # fmt: skip
    config = config_module.NavigationConfig(raw)
    return Contender(f"baseline {rev}", lambda: policy.NavigationPolicy(config, "en"), config, phrases._SYSTEM["en"])


def frame(policy: Any, arrived: float, camera: str) -> None:
    """A camera frame arrived (older policies took no camera)."""
    try:
        policy.on_frame(arrived, camera)
    except TypeError:
        policy.on_frame(arrived)


# -- scripted scenes -------------------------------------------------------------------------------------------


@dataclass
class Thing:
    oid: int
    class_name: str
    where: Callable[[float], tuple[float, float] | None]  # t -> (distance m, bearing deg) or None (not in view)
    # Cameras that also see a part of it cut by their frame, and how far from its bearing that box's centre lies
    split: dict[str, float] = field(default_factory=dict)


@dataclass
class Scene:
    name: str
    seconds: float
    things: list[Thing]
    walking: Callable[[float], bool] = lambda t: True
    result_gaps: tuple[float, float] = (STEP, STEP)  # each camera's gap between results, uniform in this range
    results_stop: float = math.inf  # the pipeline stops here (frames still flow)
    static: bool = False  # nothing moves: cues per minute is the flood measure


def line(start_m: float, bearing: float, closing_mps: float, t0: float = 0.0) -> Callable[[float], tuple | None]:
    """Straight at the wearer at a constant closing speed, from `t0`; gone once in contact."""

    def where(t: float) -> tuple[float, float] | None:
        d = start_m - closing_mps * (t - t0)
        return (d, bearing) if t >= t0 and d > 0.0 else None

    return where


def passing(lateral_m: float, ahead_m: float, closing_mps: float) -> Callable[[float], tuple | None]:
    """On a parallel path `lateral_m` to the side, coming from `ahead_m` ahead and passing by."""

    def where(t: float) -> tuple[float, float] | None:
        y = ahead_m - closing_mps * t
        if y < -1.0:
            return None
        return math.hypot(lateral_m, y), math.degrees(math.atan2(lateral_m, y))

    return where


def still(d: float, b: float) -> Callable[[float], tuple[float, float]]:
    return lambda t: (d, b)


def stop_and_go(start_m: float, bearing: float) -> Callable[[float], tuple | None]:
    """Static, the wearer walking at 1.2 m/s for 3 s then standing for 3 s."""

    def where(t: float) -> tuple[float, float] | None:
        walked = 1.2 * (3.0 * (t // 6.0) + min(t % 6.0, 3.0))
        d = start_m - walked
        return (d, bearing) if d > 0.0 else None

    return where


def scenes() -> list[Scene]:
    crowd = [Thing(i, "person", still(2.0 + 0.5 * i, -50.0 + 15.0 * i)) for i in range(7)]
    crowd += [
        Thing(7, "chair", still(2.5, -10.0)),
        Thing(8, "chair", still(3.5, 25.0)),
        Thing(9, "bench", still(4.5, 40.0)),
    ]
    two_sides = [Thing(0, "person", line(8.0, -35.0, 1.2)), Thing(1, "person", line(8.0, 35.0, 1.2))]
    stop_go = [Thing(0, "bench", stop_and_go(9.0, 5.0)), Thing(1, "person", stop_and_go(13.0, -8.0))]
    stop_go.append(Thing(2, "chair", still(3.0, -60.0)))
    standing = {"walking": lambda t: False}
    one_person = [Thing(0, "person", still(4.0, 10.0))]
    # At arm's length, a little left: the RGB camera sees all of them, the left SLAM camera the part its frame cuts.
    split_person = [Thing(0, "person", still(1.0, -5.0), split={"slam_left": -12.0})]
    return [
        Scene("approach", 10.0, [Thing(0, "person", line(10.0, 3.0, 1.4))]),
        Scene("pass_by", 12.0, [Thing(0, "person", passing(1.5, 12.0, 2.4))]),
        Scene("static_crowd", 120.0, crowd, static=True, **standing),
        Scene("two_sided_approach", 8.0, two_sides),
        Scene("fast_vehicle", 8.0, [Thing(0, "car", line(45.0, 15.0, 8.0))], **standing),
        Scene("stop_and_go", 30.0, stop_go, walking=lambda t: t % 6.0 < 3.0),
        Scene("slow_detector", 600.0, one_person, result_gaps=(1.0, 2.0), static=True, **standing),
        Scene("pipeline_stops", 50.0, one_person, results_stop=30.0, **standing),
        Scene("split_person", 120.0, split_person, static=True, **standing),
    ]


def sees(camera: str, bearing: float) -> bool:
    """RGB looks ahead (+-40 degrees here), the SLAM cameras to the sides; their views overlap by 10 degrees."""
    return abs(bearing) <= 40.0 if camera == "rgb" else (bearing <= -30.0 if camera == "slam_left" else bearing >= 30.0)


@dataclass(frozen=True)
class Heard:
    time: float  # when it was said
    cue: Any
    things: set[int]  # the scene's things it is about

    @property
    def urgency(self) -> int:
        return self.cue.urgency


@dataclass
class Outcome:
    """One policy on one run of a scene: cues with the things they spoke of, and the truth beside them."""

    cues: list[Heard] = field(default_factory=list)  # hazard cues as heard
    health: list[tuple[float, str]] = field(default_factory=list)  # (time, system sentence)


def play_scene(scene: Scene, contender: Contender, seed: int) -> Outcome:
    rng = random.Random(seed)
    policy = contender.make()
    out = Outcome()
    next_result = {c: rng.uniform(*scene.result_gaps) if scene.result_gaps[0] > STEP else 0.0 for c in CAMERAS}
    owner: dict[int, int] = {}  # track id -> thing
    policy.start(0.0, list(CAMERAS))
    steps = int(round(scene.seconds / STEP))
    for k in range(steps):
        t = k * STEP
        walking = scene.walking(t)
        for i in range(10):  # IMU at 100 Hz: a step rhythm, or gravity and a little noise
            s = t + i * 0.01
            wobble = 2.5 * math.sin(2 * math.pi * 1.9 * s) if walking else rng.gauss(0.0, 0.02)
            policy.on_imu(s, (0.0, 9.81 + wobble, 0.0))
        for camera in CAMERAS:
            frame(policy, t, camera)
            if t + 1e-9 < next_result[camera] or t >= scene.results_stop:
                continue
            gap = rng.uniform(*scene.result_gaps)
            next_result[camera] = t + gap
            stamp = t - gap if gap > STEP else t  # a slow detector's result is of a frame taken `gap` ago
            seen: dict[float, int] = {}
            detections = []
            for thing in scene.things:
                place = thing.where(stamp)
                in_view = place is not None and (camera in thing.split or sees(camera, place[1]))
                if not in_view or rng.random() < 0.05:
                    continue
                offset = thing.split.get(camera, 0.0)
                d, b = place[0] * rng.gauss(1.0, 0.05), place[1] + offset + rng.gauss(0.0, 1.0)
                detections.append(
                    Detection(0, thing.class_name, 0.8, (0, 0, 1, 1), max(0.3, d), DISTANCE_CLASS_SIZE, b)
                )
                seen[detections[-1].bearing_deg] = thing.oid
            cues = policy.on_detections(stamp, camera, detections, t)
            for track in policy.tracker.tracks.values():
                if track.last_seen == stamp and track.bearing_deg in seen:
                    owner[track.track_id] = seen[track.bearing_deg]
            record(out, cues, owner, t)
        record(out, policy.tick(t + STEP / 2), owner, t + STEP / 2)
    return out


def record(out: Outcome, cues: list, owner: dict[int, int], now: float) -> None:
    """Cues as heard: at `now` (when the policy said them), not at their image's stamp."""
    for cue in cues:
        if cue.kind == 1:  # KIND_SYSTEM
            out.health.append((now, cue.text))
        else:
            ids = getattr(cue, "track_ids", ()) or (cue.track_id,)
            out.cues.append(Heard(now, cue, {owner[i] for i in ids if i in owner}))


def judge(scene: Scene, contender: Contender, runs: list[Outcome], truth: Any) -> dict[str, Any]:
    """The metrics of one policy on one scene over its seeds, against one truth for every policy: the current
    config's tiers and times to contact (`truth`) say when a thing qualifies and when a critical is false."""
    contact_times = truth.raw["time_to_contact"]
    global_s = float(truth["cooldown"]["global"])
    faults = {contender.system_texts[e] for e in HEALTH_FAULTS}
    leads, warning_leads, waits, gaps, per_minute, stop_delays = [], [], [], [], [], []
    missed = false_critical = false_paused = 0
    for out in runs:
        for thing in scene.things:
            warning_m = truth.tier_distances(thing.class_name)["warning"]
            ttc_limits = contact_times.get(truth.canonical(thing.class_name), contact_times["default"])
            critical_m = truth.tier_distances(thing.class_name)["critical"] + truth["hysteresis_m"]
            path = [(t, thing.where(t)) for t in (k * STEP for k in range(int(scene.seconds / STEP)))]
            path = [(t, p[0], closing(thing, t)) for t, p in path if p is not None]
            qualify = next(
                (t for t, d, v in path if d <= warning_m or (v > 0.3 and d / v <= ttc_limits["warning"])), None
            )
            contact = next((t for t, d, _ in path if d <= CONTACT_M), None)
            about = [h for h in out.cues if thing.oid in h.things]
            for heard in about:
                place = thing.where(heard.time)
                if heard.urgency == 2 and place is not None:
                    v = closing(thing, heard.time)
                    ttc = place[0] / v if v > 0.1 else math.inf
                    false_critical += place[0] > critical_m and ttc > 2 * ttc_limits["critical"]
            if qualify is not None:
                said = [h.time for h in about if h.time >= qualify - 3.0]  # told just before it qualified counts
                if not said or (contact is not None and said[0] > contact):
                    missed += 1
                else:
                    waits.append(max(0.0, said[0] - qualify))
            if contact is not None and about:
                leads.append(contact - about[0].time)
                warned = [h.time for h in about if h.urgency >= 1]
                warning_leads.append(contact - warned[0] if warned else 0.0)
            if scene.static:
                times = [h.time for h in about]
                gaps += [b - a for a, b in zip(times, times[1:], strict=False)]
        if scene.static and out.cues:
            first = out.cues[0].time
            per_minute.append(sum(first <= h.time < first + 60.0 for h in out.cues))
        working_until = min(scene.results_stop, scene.seconds)
        false_paused += sum(t < working_until and text in faults for t, text in out.health)
        if math.isfinite(scene.results_stop):
            said = [t for t, text in out.health if t >= scene.results_stop and text in faults]
            stop_delays.append(said[0] - scene.results_stop if said else math.inf)
    hours = len(runs) * min(scene.results_stop, scene.seconds) / 3600.0
    return {
        "runs": len(runs),
        "hazard_cues": sum(len(o.cues) for o in runs),
        "missed_hazards": missed,
        "false_criticals": false_critical,
        "lead_s_mean": mean(leads),
        "warning_lead_s_min": min(warning_leads, default=None),
        "warning_lead_s_mean": mean(warning_leads),
        "longest_wait_s": max(waits, default=None),
        "longest_wait_slots": max(waits) / global_s if waits else None,
        "hazard_cues_first_minute_max": max(per_minute, default=None),
        "min_gap_same_object_s": min(gaps, default=None),
        "false_paused_per_hour": false_paused / hours if hours else None,
        "stop_said_after_s_max": max(stop_delays, default=None),
        "example": [f"{h.time:.1f} {h.cue.text}" for h in runs[0].cues[:12]],
    }


def closing(thing: Thing, t: float) -> float:
    """True closing speed (m/s) at `t`, from the scene's own path."""
    a, b = thing.where(t), thing.where(t + STEP)
    return (a[0] - b[0]) / STEP if a is not None and b is not None else 0.0


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


# -- real footage ----------------------------------------------------------------------------------------------


def make_footage(run: Path, seconds: float) -> None:
    """The whole graph on OpenCV's pedestrian video at the README's CPU settings (quarter speed)."""
    if not VIDEO.is_file():
        raise SystemExit(f"{VIDEO} is missing: apt-get install opencv-doc (OpenCV's sample data)")
    command = [
        sys.executable, "-m", "aria_nav_ros.launcher", "--source", "video", "--path", str(VIDEO), "--rate", "0.25",
        "--rgb-imgsz", "480", "--slam-imgsz", "320", "--camera-timeout", "3.0", "--torch-threads", "1",
        "--duration", str(seconds), "--audio-sink", "wav", "--output", str(run),
    ]  # fmt: skip
    print("running:", " ".join(shlex.quote(c) for c in command), flush=True)
    subprocess.run(command, check=True, timeout=seconds + 300)


def footage_inputs(run: Path) -> list[tuple[float, str, Any]]:
    """(arrival s, kind, payload) from the run's bag, in arrival order: detections, camera frames (annotated
    images stand for them), IMU."""
    from rosbags.rosbag2 import Reader

    from aria_nav_ros.core.bag_types import typestore
    from aria_nav_ros.core.cameras import detections_topic, in_bag

    store = typestore()
    events = []
    with Reader(run / "bag") as reader:
        topics = in_bag(reader.topics, {detections_topic(c): c for c in CAMERAS})
        wanted = [c for c in reader.connections if c.topic in topics or c.topic.endswith("/imu")]
        for connection, arrived_ns, raw in reader.messages(connections=wanted):
            msg = store.deserialize_cdr(raw, connection.msgtype)
            arrived = arrived_ns * 1e-9
            if connection.topic in topics:
                stamp = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9
                events.append((arrived, "detections", (stamp, msg.camera, [detection(d) for d in msg.detections])))
            else:
                a = msg.linear_acceleration
                events.append(
                    (arrived, "imu", (msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9, (a.x, a.y, a.z)))
                )
    events.sort(key=lambda e: e[0])
    return events


def detection(m: Any) -> Detection:
    """A recorded aria_nav_ros/msg/Detection (as rosbags reads it) as the core's Detection."""
    box = (m.x_min, m.y_min, m.x_max, m.y_max)
    # Bags recorded before issue 28 lack the bound, the cut edges, the view share and the wearer's body.
    return Detection(
        m.class_id, m.class_name, m.score, box, m.distance_m, m.distance_source, m.bearing_deg, m.track_id,
        bool(getattr(m, "distance_is_bound", False)), int(getattr(m, "cut_edges", 0)),
        float(getattr(m, "view_share", 0.0)), bool(getattr(m, "wearer_body", False)),
    )  # fmt: skip


def replay_footage(events: list, contender: Contender) -> dict[str, Any]:
    policy = contender.make()
    t0 = events[0][0]
    policy.start(0.0, list(CAMERAS))
    cues, health, next_tick = [], [], 0.0
    for arrived, kind, payload in events:
        now = arrived - t0
        while next_tick <= now:
            health += [c.text for c in policy.tick(next_tick)]
            next_tick += STEP
        if kind == "imu":
            policy.on_imu(*payload)
            continue
        stamp, camera, detections = payload
        frame(policy, now, camera)  # a result implies its frame
        for cue in policy.on_detections(stamp, camera, detections, now):
            (health if cue.kind == 1 else cues).append(cue if cue.kind != 1 else cue.text)
    minutes = (events[-1][0] - t0) / 60.0
    texts = Counter(c.text for c in cues)
    faults = {contender.system_texts[e] for e in HEALTH_FAULTS}
    return {
        "minutes": round(minutes, 2),
        "hazard_cues_per_minute": len(cues) / minutes if minutes else None,
        "far_warnings": sum(far(c, contender.config) for c in cues),
        "most_repeated_sentence": texts.most_common(1)[0] if texts else None,
        "false_paused": sum(text in faults for text in health),
        "health_cues": health,
        "example": [f"{c.time:.1f} {c.text}" for c in cues[:12]],
    }


def far(cue: Any, config: Any) -> bool:
    """A warning (or critical) about something beyond its class's info distance: the issue's people at 19 and 31 m."""
    beyond = math.isfinite(cue.distance_m) and cue.distance_m > config.tier_distances(cue.class_name)["info"]
    return cue.urgency >= 1 and beyond


def live_cues(run: Path) -> dict[str, Any]:
    """What the graph itself said in that run (the new policy, live)."""
    from aria_nav_ros.graph.run_report import read_cues

    cues = read_cues(run)
    hazards = [c for c in cues if c["class"]]  # system cues have no class
    system = [c["text"] for c in cues if not c["class"]]
    return {"hazard_cues": len(hazards), "system_cues": system}


# -- report ----------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline-rev", action="append", help=f"(repeatable; default {' '.join(BASELINE_REVS)})")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--footage", type=Path, help="a run folder of the whole graph on real footage")
    parser.add_argument("--make-footage", type=Path, help="run the graph on vtest.avi into this folder first")
    parser.add_argument("--footage-seconds", type=float, default=120.0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "cues.json")
    args = parser.parse_args()
    if args.make_footage:
        make_footage(args.make_footage, args.footage_seconds)
        args.footage = args.make_footage
    contenders = [*(baseline(rev) for rev in args.baseline_rev or BASELINE_REVS), current()]
    truth = contenders[-1].config  # one truth for all: this tree's tiers and times to contact
    report: dict[str, Any] = {
        "command": command(__file__),
        "noise": "distance x N(1, 0.05), bearing + N(0, 1 deg), 5 % of detections missed; results at 10 Hz per camera",
        "seeds": args.seeds,
        "scenes": {},
    }
    for scene in scenes():
        report["scenes"][scene.name] = {
            c.name: judge(scene, c, [play_scene(scene, c, seed) for seed in range(args.seeds)], truth)
            for c in contenders
        }
    if args.footage:
        events = footage_inputs(args.footage)
        report["footage"] = {
            "run": str(args.footage),
            "video": f"{VIDEO} (Debian opencv-doc: OpenCV's pedestrian sample, 768x576, 10 fps)",
            "replayed": {c.name: replay_footage(events, c) for c in contenders},
            "graph_said": live_cues(args.footage),
        }
    write(args.out, report)
    print_table(report)
    plot(report, args.out.with_suffix(".png"))
    return 0


COLUMNS = [
    ("missed_hazards", "missed", "{}"),
    ("false_criticals", "false crit", "{}"),
    ("warning_lead_s_min", "warn lead min s", "{:.2f}"),
    ("longest_wait_slots", "wait slots", "{:.1f}"),
    ("hazard_cues_first_minute_max", "cues 1st min", "{}"),
    ("min_gap_same_object_s", "min gap s", "{:.1f}"),
    ("false_paused_per_hour", "false paused/h", "{:.1f}"),
    ("stop_said_after_s_max", "stop said s", "{:.2f}"),
]


def print_table(report: dict[str, Any]) -> None:
    head = f"{'scene':<20}{'policy':<22}" + "".join(f"{title:>16}" for _, title, _ in COLUMNS)
    print(head)
    for scene, by_policy in report["scenes"].items():
        for name, m in by_policy.items():
            cells = "".join(f"{('-' if m[k] is None else fmt.format(m[k])):>16}" for k, _, fmt in COLUMNS)
            print(f"{scene:<20}{name:<22}{cells}")
    if "footage" in report:
        for name, m in report["footage"]["replayed"].items():
            print(f"footage {name}: {m['hazard_cues_per_minute']:.1f} hazard cues/min, "
                  f"{m['far_warnings']} warnings beyond the info distance, "
                  f"most repeated {m['most_repeated_sentence']}, {m['false_paused']} paused/lost")  # fmt: skip
        print(f"footage, the graph itself said: {report['footage']['graph_said']}")


def plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    approaches = ["approach", "two_sided_approach", "fast_vehicle", "stop_and_go"]
    panels = [
        (
            "hazard_cues_first_minute_max",
            "hazard cues in the first minute",
            ["static_crowd", "slow_detector", "split_person"],
        ),
        ("warning_lead_s_min", "warning lead time before contact (s, min)", approaches),
        ("longest_wait_slots", "longest wait of a qualifying hazard (slots)", ["two_sided_approach", "static_crowd"]),
        ("false_paused_per_hour", "false 'System paused' per hour", ["slow_detector", "static_crowd"]),
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(18, 4.5))
    for ax, (key, title, names) in zip(axes, panels, strict=True):
        policies = list(report["scenes"][names[0]])
        width = 0.8 / len(policies)
        for i, policy in enumerate(policies):
            values = [report["scenes"][n][policy][key] or 0.0 for n in names]
            ax.bar([x + i * width for x in range(len(names))], values, width, label=policy)
        ax.set_xticks([x + width / 2 for x in range(len(names))], names, rotation=20, fontsize=8)
        ax.set_title(title, fontsize=9)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
