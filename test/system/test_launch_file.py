"""hybrid.launch.py and `python -m aria_nav_ros.launcher` describe the same processes.

ROS 2 launch cannot be installed here, so the launch file is evaluated with
stand-ins of the launch API (test/launch_shim). Both sides are turned into
what a process finally gets: executable, node names, namespaces, remappings,
and each node's parameters after the params file and the overrides are
applied, as rcl applies them.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import re
import subprocess
import sys
from dataclasses import fields, replace
from pathlib import Path

import pytest
import yaml
from locations import HELPERS

from aria_nav_ros.graph.description import (
    MODULES,
    PACKAGE,
    SETTING_HELP,
    GraphSettings,
    dds_environment,
    describe_graph,
)
from aria_nav_ros.graph.launcher import Worker
from aria_nav_ros.graph.protocol import EXIT_SOURCE
from aria_nav_ros.graph.supervision import (
    DRAIN_S,
    END,
    NOTHING,
    RESTART,
    after_exit,
    respawn_delay,
    restarted,
)

HERE = HELPERS
EXECUTABLE_OF_MODULE = {module: executable for executable, module in MODULES.items()}
QUICK_DEATHS = [4.0, 8.0, 15.0, 15.0]  # the waits before each restart of a process that dies right after starting


def resolved(command: list[str]) -> dict:
    """The process a command line makes: executable, and per node its name, namespace, remappings, parameters."""
    if command[:2] == [sys.executable, "-m"]:
        module = command[2].removeprefix(f"{PACKAGE}.nodes.")
        executable, rest = EXECUTABLE_OF_MODULE.get(module, module), command[3:]
    else:
        executable, rest = command[0], command[1:]
    split = rest.index("--ros-args")
    composed, ros_args = rest[:split], rest[split + 1 :]
    names = [argument.rpartition(":")[2] for argument in composed] or [None]  # EXECUTABLE[:NAME]
    nodes = {n: {"namespace": "", "remappings": [], "parameters": {}} for n in names}
    pairs = list(zip(ros_args[::2], ros_args[1::2], strict=True))
    for flag, value in pairs:  # node name and namespace first: parameters are looked up by the final name
        if flag == "-r" and value.startswith("__node:="):
            nodes[value.split(":=")[1]] = nodes.pop(None)
    if None in nodes:
        nodes[executable] = nodes.pop(None)
    for flag, value in pairs:
        if flag == "--log-level":
            for name in nodes:
                nodes[name]["log_level"] = value
            continue
        if flag == "--params-file":
            entries = yaml.safe_load(Path(value).read_text())
            namespace = next((v.partition(":=")[2] for f, v in pairs if f == "-r" and v.startswith("__ns:=")), "")
            for name in nodes:
                # rcl's matching: every node (/**), the name in any namespace (/**/name), the full name
                for key in ("/**", f"/**/{name}", f"{namespace}/{name}" if namespace else name):
                    nodes[name]["parameters"].update(entries.get(key, {}).get("ros__parameters", {}))
            continue
        left, _, text = value.partition(":=")  # [node:]name:=value; a node prefix aims at one node
        target, _, key = left.rpartition(":")
        chosen = [target] if target else list(nodes)
        for name in chosen:
            if flag == "-p":
                nodes[name]["parameters"][key] = yaml.safe_load(text)
            elif key == "__ns":
                nodes[name]["namespace"] = text
            elif key != "__node":
                nodes[name]["remappings"].append(f"{key}:={text}")
    return {"executable": executable, "nodes": nodes}


def launch_file_processes(arguments: dict[str, str]) -> dict:
    probe = subprocess.run(
        [sys.executable, str(HERE / "launch_probe.py"), json.dumps(arguments)], capture_output=True, text=True
    )
    assert probe.returncode == 0, probe.stderr
    return json.loads(probe.stdout)


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"compose": "false", "device": "cpu", "language": "es", "depth_every": "3", "two_streams": "false"},
        {"lockstep": "true", "record": "false", "path": "outputs/sample/walk"},
        {"source": "live", "audio_sink": "wav", "model": "yolo11n.engine", "output": "/tmp/run_x"},
        {"source": "video", "path": "walk.mp4", "output": "/tmp/run_v"},
        {"source": "images", "path": "photos", "stand_in_slam": "true", "output": "/tmp/run_i"},
        {"namespace": "wearer1", "log_level": "debug", "output": "/tmp/run_n"},
        {"namespace": "/lab/wearer2", "compose": "true", "output": "/tmp/run_c"},
        {"one_detector_process": "true", "output": "/tmp/run_o"},
        {"one_detector_process": "true", "compose": "true", "output": "/tmp/run_oc"},
        {"driver_with_rgb": "true", "compose": "true", "output": "/tmp/run_d"},
        {"driver_with_rgb": "true", "source": "live", "output": "/tmp/run_dl"},
    ],
)
def test_launch_file_and_launcher_start_the_same_processes(arguments: dict[str, str]) -> None:
    launched = launch_file_processes(arguments)
    assert launched["arguments"] == sorted(f.name for f in fields(GraphSettings)) == sorted(SETTING_HELP)
    # The DDS settings, whatever shell ros2 launch ran in: the same the launcher gives its children.
    assert launched["environment"] == dds_environment(os.environ)
    assert Path(launched["environment"]["FASTDDS_DEFAULT_PROFILES_FILE"]).is_file()
    assert launched["unset"] == ["FASTDDS_BUILTIN_TRANSPORTS"]
    settings = GraphSettings.from_strings(arguments)
    if not settings.output:  # a fresh run folder, named by the time: read back where navigation writes
        navigation = next(p for p in launched["processes"] if "navigation" in " ".join(p["command"]))
        wav = resolved(navigation["command"])["nodes"]["navigation"]["parameters"]["wav_path"]
        assert re.fullmatch(r"outputs/run_\d{8}_\d{6}", str(Path(wav).parent)), wav
        settings = replace(settings, output=str(Path(wav).parent))
    described = describe_graph(settings)
    assert len(launched["processes"]) == len(described)
    for got, process in zip(launched["processes"], described, strict=True):
        assert resolved(got["command"]) == resolved(process.command())
        assert got["respawn"] == process.respawn
        # Restarted as the launcher restarts it: the same backoff while it keeps dying at once, the same command.
        assert [r["after_s"] for r in got["restarts"]] == (QUICK_DEATHS if process.respawn else [])
        for restart in got["restarts"]:
            assert resolved(restart["command"]) == resolved(restarted(process).command())
        assert not got["restarts_while_stopping"]  # a launch shutting down starts nothing again
        if not process.has_driver:
            assert got["ends_launch_on"] == []
        else:  # a source that cannot open always ends the launch; its normal end only when it is not restarted
            assert got["ends_launch_on"] == ([EXIT_SOURCE] if process.respawn else [0, 1, EXIT_SOURCE])


def test_the_launcher_backs_off_as_the_launch_file_does() -> None:
    """The launcher's Worker, on a process that dies at once again and again, then on one that ran a while."""
    assert [respawn_delay(d, 0.0) for d in (2.0, 4.0, 8.0, 15.0)] == QUICK_DEATHS
    assert respawn_delay(15.0, 60.0) == 2.0
    driver = describe_graph(GraphSettings(source="live"))[0]
    worker = Worker(driver, say=lambda _message: None)
    worker.child = subprocess.Popen([sys.executable, "-c", "raise SystemExit(1)"])
    worker.child.wait()
    waits = []
    for _ in QUICK_DEATHS:
        worker.started_at = now = 100.0
        assert worker.check(now + 1.0) is None  # dead, not for good: a restart is due
        waits.append(worker.restart_at - (now + 1.0))
        worker.restart_at = None  # as if it had been started again and died at once
    assert waits == QUICK_DEATHS
    worker.started_at = 100.0
    worker.check(100.0 + 60.0)
    assert worker.delay == 2.0
    # The driver started again waits for glasses missing just now, rather than end the graph.
    assert resolved(restarted(driver).command())["nodes"]["aria_driver"]["parameters"]["exit_on_open_failure"] is False


def test_the_resolution_sees_every_setting() -> None:
    """The comparison above is only worth something if settings really reach the nodes' parameters."""
    base = {p.name: resolved(p.command()) for p in describe_graph(GraphSettings())}
    changed = {p.name: resolved(p.command()) for p in describe_graph(GraphSettings(language="es", device="cpu"))}
    navigation = base["navigation"]["nodes"]["navigation"]["parameters"]
    assert navigation["language"] == "en" and navigation["cameras"] == ["rgb", "slam_left", "slam_right"]
    assert changed["navigation"]["nodes"]["navigation"]["parameters"]["language"] == "es"
    assert changed["slam_detector_left"]["nodes"]["slam_detector_left"]["parameters"]["device"] == "cpu"
    assert base["slam_detector_left"]["nodes"]["slam_detector_left"]["parameters"]["camera"] == "slam_left"


def test_graph_settings_refuse_unknown_or_malformed_arguments() -> None:
    with pytest.raises(ValueError, match="unknown graph settings"):
        GraphSettings.from_strings({"devcie": "cpu"})
    with pytest.raises(ValueError, match="not true or false"):
        GraphSettings.from_strings({"compose": "yes"})
    with pytest.raises(ValueError, match="namespace '1st wearer'"):
        describe_graph(GraphSettings(namespace="1st wearer"))
    with pytest.raises(ValueError, match="log_level 'loud'"):
        describe_graph(GraphSettings(log_level="loud"))


def test_namespace_and_log_level_reach_every_node() -> None:
    for process in describe_graph(GraphSettings(namespace="wearer1", log_level="warn", compose=True)):
        for name, node in resolved(process.command())["nodes"].items():
            assert (node["namespace"], node["log_level"]) == ("/wearer1", "warn"), (process.name, name)


def test_a_video_is_one_camera_unless_stand_in_slam_views_are_asked_for() -> None:
    one = {p.name: resolved(p.command()) for p in describe_graph(GraphSettings(source="video", path="walk.mp4"))}
    assert not [name for name in one if name.startswith("slam_detector")]
    assert one["navigation"]["nodes"]["navigation"]["parameters"]["cameras"] == ["rgb"]
    assert one["stream_monitor"]["nodes"]["stream_monitor"]["parameters"]["cameras"] == ["rgb"]
    assert one["aria_driver"]["nodes"]["aria_driver"]["parameters"]["stand_in_slam"] is False
    three = [p.name for p in describe_graph(GraphSettings(source="video", path="walk.mp4", stand_in_slam=True))]
    assert {"slam_detector_left", "slam_detector_right"} <= set(three)


def test_one_decision_after_a_process_exits() -> None:
    """supervision.after_exit, which the launcher and the launch file both ask: restart, end, or nothing."""
    replay = {p.name: p for p in describe_graph(GraphSettings(exit_at_end=True, output="/tmp/run_e"))}
    live = {p.name: p for p in describe_graph(GraphSettings(source="live", output="/tmp/run_l"))}
    # A source that cannot open ends the graph at once, restarted driver or not, with the driver's code.
    for driver in (replay["aria_driver"], live["aria_driver"]):
        verdict = after_exit(driver, EXIT_SOURCE, 60.0)
        assert (verdict.action, verdict.delay_s, verdict.code) == (END, 0.0, EXIT_SOURCE)
    # A replay's end leaves DRAIN_S for the last cues; a driver that is not restarted and fails ends it at once.
    ended, killed = after_exit(replay["aria_driver"], 0, 60.0), after_exit(replay["aria_driver"], -9, 60.0)
    assert (ended.action, ended.delay_s, ended.code) == (END, DRAIN_S, 0)
    assert (killed.action, killed.delay_s, killed.code) == (END, 0.0, 9)
    # A worker is started again, backing off while it dies right after its start; never while the graph stops.
    assert after_exit(replay["navigation"], 1, 60.0).action == RESTART
    assert after_exit(replay["navigation"], 1, 1.0, previous_delay_s=4.0).delay_s == 8.0
    assert after_exit(replay["navigation"], 1, 60.0, stopping=True).action == NOTHING
    # A process that is not restarted (the recorder) is said and counted; the graph goes on.
    recorder = after_exit(replay["recorder"], 1, 60.0)
    assert (recorder.action, recorder.code) == (NOTHING, 1) and "not restarted" in recorder.line


@pytest.mark.parametrize("script", sorted(path.name for path in (HERE.parent / "bin").iterdir()))
def test_every_installed_executable_imports_what_it_runs(script: str) -> None:
    """`ros2 run` and the launch file start bin/'s scripts, which the launcher (python -m) never runs: each
    name they import must exist (a module moved without them made every node of `ros2 launch` fail at start)."""
    tree = ast.parse((HERE.parent / "bin" / script).read_text())
    imported = [(n.module, a.name) for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names]
    assert imported, f"bin/{script} imports nothing from the package"
    for module, name in imported:
        assert hasattr(importlib.import_module(module), name), f"bin/{script}: {module}.{name} does not exist"
