"""Who may speak to the wearer: the network guard's decisions, the launcher's and the launch file's refusal, and,
over real DDS, an outsider on another network namespace that the graph's localhost discovery does not hear."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest
from locations import HELPERS
from processes import NodeProcess, launcher_command, node_command, spawn, stop_group

from aria_nav_ros.core.cameras import FRONT_CAMERAS
from aria_nav_ros.graph.description import GraphSettings, dds_environment, describe_graph
from aria_nav_ros.graph.network_guard import (
    dds_has_security,
    enclave,
    has_security_plugins,
    network_verdict,
    security_environment,
)
from aria_nav_ros.graph.protocol import EXIT_NETWORK, EXIT_SOURCE

HERE = HELPERS
GEN2_VRS = HERE.parent.parent / "shared" / "data" / "aria" / "gen2_unit_test.vrs"  # a real Aria Gen 2 recording
# What the driver publishes only for Aria Gen 2: the front pair, its stereo depth, the VIO's odometry and tf, the hands.
GEN2_ONLY = {"aria/odometry", "tf", "aria/hands", "aria/stereo/depth", "aria/stereo/camera_info"} | {
    f"aria/{camera}/{topic}"
    for camera in FRONT_CAMERAS
    for topic in ("image_raw", "image_raw/compressed", "camera_info")
}
REFUSED = "cannot start: refusing network discovery"
WINDOW_S = 8.0  # how long an outsider keeps talking (heard within about a second when it can be)


def secured(tmp_path: Path) -> dict[str, str]:
    return {"ROS_SECURITY_ENABLE": "true", "ROS_SECURITY_STRATEGY": "Enforce", "ROS_SECURITY_KEYSTORE": str(tmp_path)}


@pytest.mark.parametrize(
    ("env", "insecure", "security", "allowed", "said"),
    [
        ({}, False, False, False, "ROS_AUTOMATIC_DISCOVERY_RANGE=(unset: SUBNET)"),  # rcl's default: SUBNET
        ({"ROS_AUTOMATIC_DISCOVERY_RANGE": "subnet"}, False, False, True, ""),  # rcl reads it as LOCALHOST
        ({"ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}, False, False, True, ""),
        ({"ROS_AUTOMATIC_DISCOVERY_RANGE": "OFF"}, False, False, True, ""),
        ({"ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET"}, False, False, False, "this ROS install's DDS has no security"),
        ({"ROS_AUTOMATIC_DISCOVERY_RANGE": "SYSTEM_DEFAULT"}, False, False, False, "insecure_network:=true"),
        ({"ROS_STATIC_PEERS": "192.168.1.20"}, False, False, False, "ROS_STATIC_PEERS=192.168.1.20"),
        ({"ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET"}, True, False, True, "warning: ROS_AUTOMATIC_DISCOVERY_RANGE"),
        ({"ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET"}, False, True, False, "SROS2 is not enforced"),
        ({"ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET", "secured": ""}, False, True, True, "SROS2 keys"),
        ({"ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET", "secured": ""}, False, False, False, "DDS has no security"),
    ],
)
def test_the_guard_allows_the_network_only_with_dds_security_or_when_told(
    env: dict[str, str], insecure: bool, security: bool, allowed: bool, said: str, tmp_path: Path
) -> None:
    if env.pop("secured", None) is not None:
        env.update(secured(tmp_path))
    verdict = network_verdict(env, insecure, security)
    assert verdict.allowed == allowed
    assert said in verdict.line if said else verdict.line == ""
    if not allowed:  # one line: what is exposed and how to allow it
        assert "\n" not in verdict.line and "anyone on the network can publish" in verdict.line
        assert "SROS2" in verdict.line and "--insecure-network" in verdict.line


def test_sros2_needs_enforce_and_an_existing_keystore(tmp_path: Path) -> None:
    subnet = {"ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET"}
    assert network_verdict({**subnet, **secured(tmp_path)}, False, True).allowed
    permissive = {**subnet, **secured(tmp_path), "ROS_SECURITY_STRATEGY": "Permissive"}
    assert not network_verdict(permissive, False, True).allowed  # a node without keys would run open
    missing = {**subnet, **secured(tmp_path / "missing")}
    assert not network_verdict(missing, False, True).allowed


def test_the_detection_reads_the_plugins_and_agrees_with_fast_dds_itself(tmp_path: Path, ros_env) -> None:
    """The wheels' libfastdds has no builtin security plugins, and Fast DDS refuses a secured participant so."""
    with_plugins = tmp_path / "libfastdds.so.9"
    with_plugins.write_bytes(b"\0builtin.PKI-DH\0builtin.Access-Permissions\0builtin.AES-GCM-GMAC\0")
    assert has_security_plugins(with_plugins)
    with_plugins.write_bytes(b"\0' since security is disabled\0")
    assert not has_security_plugins(with_plugins)
    keys = tmp_path / "keystore" / "enclaves" / "probe"  # files in place, so that only the library can refuse
    keys.mkdir(parents=True)
    for name in ("identity_ca.cert.pem", "cert.pem", "key.pem", "permissions_ca.cert.pem", "governance.p7s",
                 "permissions.p7s"):  # fmt: skip
        (keys / name).write_text("not a real key\n")
    probe = "import rclpy; rclpy.init(args=['p', '--ros-args', '--enclave', '/probe']); rclpy.create_node('probe')"
    env = {**ros_env, **secured(tmp_path / "keystore")}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
    without = "This Fast DDS version doesn't have the security libraries" in out.stderr
    assert without == (not dds_has_security(ros_env)), out.stderr[-2000:]


def test_each_process_gets_its_own_enclave_when_sros2_is_on() -> None:
    on = {"ROS_SECURITY_ENABLE": "true"}
    assert security_environment({}, "", ("navigation",)) == {}
    assert security_environment(on, "", ("navigation",)) == {"ROS_SECURITY_ENCLAVE_OVERRIDE": "/navigation"}
    assert enclave("/wearer1", ("rgb_perception", "navigation")) == "/wearer1/aria_nav_container"
    assert security_environment({**on, "ROS_SECURITY_ENCLAVE_OVERRIDE": "/mine"}, "", ("navigation",)) == {}


def probe_launch_file(env: dict[str, str], arguments: dict[str, str]) -> dict:
    probe = subprocess.run([sys.executable, str(HERE / "launch_probe.py"), json.dumps(arguments)], env=env,
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    assert probe.returncode == 0, probe.stderr
    return json.loads(probe.stdout)


def test_the_launch_file_refuses_subnet_discovery_without_security(ros_env) -> None:
    subnet = {**ros_env, "ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET"}
    refused = probe_launch_file(subnet, {})
    assert "processes" not in refused and refused["refused"].startswith("refusing network discovery"), refused
    allowed = probe_launch_file(subnet, {"insecure_network": "true"})
    assert len(allowed["processes"]) > 3 and allowed["environment"]["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "SUBNET"
    assert "refused" not in probe_launch_file(ros_env, {})  # this machine only: as before


@pytest.mark.parametrize("reach", [{"ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET"}, {"ROS_STATIC_PEERS": "10.9.8.7"}])
def test_the_launcher_refuses_network_discovery_before_any_node_starts(
    reach: dict[str, str], tmp_path: Path, ros_env
) -> None:
    run = NodeProcess(launcher_command("--output", tmp_path / "run"), {**ros_env, **reach}, with_stdout=True)
    code = run.ended(timeout_s=60)
    assert code == EXIT_NETWORK, run.log
    assert REFUSED in run.lines[-1] and "anyone on the network can publish" in run.lines[-1], run.log
    for never in ("aria_driver", "rgb_perception", "navigation", "run folder"):
        assert never not in run.log, run.log  # nothing was started, not even the run folder
    assert not (tmp_path / "run").exists()


def test_the_insecure_flag_lets_the_launcher_go_on_with_a_warning(tmp_path: Path, ros_env) -> None:
    """Past the guard: the missing source ends it (exit 3), after the warning."""
    missing = tmp_path / "walk"
    env = {**ros_env, "ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET"}
    command = launcher_command("--insecure-network", "--path", missing, "--output", tmp_path / "run")
    run = NodeProcess(command, env, with_stdout=True)
    code = run.ended(timeout_s=60)
    assert code == EXIT_SOURCE, run.log
    assert "warning: ROS_AUTOMATIC_DISCOVERY_RANGE=SUBNET without DDS security" in run.log
    assert REFUSED not in run.log


@pytest.fixture
def other_namespace() -> Iterator[str]:
    """A network namespace joined to this one by a veth pair (10.213.<n>.1 here, .2 there): another host."""
    name, n = f"aria_out{os.getpid() % 10000}", os.getpid() % 200 + 20
    here, there = f"aria_h{os.getpid() % 10000}", f"aria_p{os.getpid() % 10000}"
    steps = [
        ["ip", "netns", "add", name],
        ["ip", "link", "add", here, "type", "veth", "peer", "name", there],
        ["ip", "link", "set", there, "netns", name],
        ["ip", "addr", "add", f"10.213.{n}.1/24", "dev", here],
        ["ip", "link", "set", here, "up"],
        ["ip", "-n", name, "addr", "add", f"10.213.{n}.2/24", "dev", there],
        ["ip", "-n", name, "link", "set", there, "up"],
        ["ip", "-n", name, "link", "set", "lo", "up"],
        ["ip", "-n", name, "route", "add", "default", "dev", there],
    ]
    try:
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True, timeout=30)
            if done.returncode != 0:
                pytest.skip(f"network namespaces not permitted here ({' '.join(step)}: {done.stderr.strip()})")
        yield name
    finally:
        subprocess.run(["ip", "link", "del", here], capture_output=True, timeout=30)
        subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=30)


def navigation(tmp_path: Path, env: dict[str, str]) -> NodeProcess:
    command = node_command("navigation", audio_sink="none", wav_path=tmp_path / "n.wav", cues_log=tmp_path / "c.jsonl")
    nav = NodeProcess(command, env)
    assert nav.wait_for("navigation: language en", timeout_s=60), nav.log
    return nav


@contextlib.contextmanager
def outsider(
    detail: str, env: dict[str, str], namespace: str = "", seconds: float = WINDOW_S
) -> Iterator[subprocess.Popen]:
    """A fake "source failed" event from `namespace` (another host) or this one, for `seconds` at most: the
    peer's process, ended on leaving."""
    prefix = ["ip", "netns", "exec", namespace] if namespace else []
    peer = spawn([*prefix, sys.executable, str(HERE / "outsider_peer.py"), detail, str(seconds)], env)
    try:
        yield peer
    finally:
        stop_group(peer)


def test_an_outsider_on_the_network_is_not_heard_by_the_graphs_localhost_discovery(
    other_namespace: str, tmp_path: Path, ros_env
) -> None:
    base = {k: v for k, v in ros_env.items() if k not in ("ROS_AUTOMATIC_DISCOVERY_RANGE", "ROS_STATIC_PEERS")}
    graph_env = {**base, **dds_environment(base)}  # what the launcher gives navigation: LOCALHOST
    assert graph_env["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "LOCALHOST"
    subnet = {**base, **dds_environment({"ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET"})}
    nav = navigation(tmp_path / "local", graph_env)
    try:
        with outsider("intruder on the network", subnet, other_namespace) as peer:
            assert peer.wait(timeout=WINDOW_S + 60) == 0  # it talked for its whole window
        # Control: the same outsider on this machine, with localhost discovery, is heard (the test can fail).
        # It talks until heard (the window a ceiling).
        with outsider("a program on this machine", graph_env, seconds=60):
            assert nav.wait_for("outsider: a program on this machine", timeout_s=60), nav.log[-3000:]
    finally:
        assert nav.stop() == 0, nav.log[-3000:]
    assert "intruder on the network" not in nav.log, nav.log[-3000:]
    assert "[cue warning] Recording failed" in nav.log  # what the fake event made the wearer hear
    # Control: with network discovery (what insecure_network allows), the outsider on the network is heard.
    open_nav = navigation(tmp_path / "open", subnet)
    try:
        with outsider("intruder on an open graph", subnet, other_namespace, seconds=60):
            assert open_nav.wait_for("outsider: intruder on an open graph", timeout_s=60), open_nav.log[-3000:]
    finally:
        assert open_nav.stop() == 0, open_nav.log[-3000:]


def policy_profiles() -> dict[str, dict[str, dict[str, set[str]]]]:
    """config/sros2_policy.xml as enclave -> node -> publish/subscribe/reply -> names."""
    root = ElementTree.parse(HERE.parent / "config" / "sros2_policy.xml").getroot()
    out: dict[str, dict[str, dict[str, set[str]]]] = {}
    for enclave_element in root.iter("enclave"):
        for profile in enclave_element.iter("profile"):
            modes = {m: set() for m in ("publish", "subscribe", "reply")}
            for group in profile:
                for mode in modes:
                    if group.get(mode) == "ALLOW":
                        modes[mode] |= {item.text for item in group}
            out.setdefault(enclave_element.get("path"), {})[profile.get("node")] = modes
    return out


Made = dict[str, dict[str, set[str]]]  # node -> publish/subscribe/reply -> names


def made_by(probe: subprocess.CompletedProcess, made: Made) -> Made:
    """`made` with a probe's JSON added."""
    assert probe.returncode == 0, probe.stderr[-3000:]
    for node, modes in json.loads(probe.stdout).items():
        for mode, names in modes.items():
            made.setdefault(node, {}).setdefault(mode, set()).update(names)
    return made


def assert_policy_matches(made: Made) -> None:
    policy = policy_profiles()
    layouts = [GraphSettings(compose=True, one_detector_process=True), GraphSettings(),
               GraphSettings(driver_with_rgb=True, compose=True)]  # fmt: skip
    for process in [p for settings in layouts for p in describe_graph(settings)]:
        names = tuple(n.name for n in process.nodes)
        assert set(names) <= set(policy[enclave("", names)]), (process.name, sorted(policy))
    for path, profiles in policy.items():
        for node, allowed in profiles.items():
            built_in = {"rosout"} | ({"~/transition_event"} if "~/change_state" in allowed["reply"] else set())
            assert allowed["publish"] - built_in == made[node]["publish"], (path, node)  # rclpy's own: built_in
            assert made[node]["subscribe"] <= allowed["subscribe"], (path, node)
            assert made[node]["reply"] <= allowed["reply"], (path, node)
    assert set(made) == {node for profiles in policy.values() for node in profiles}


def probe_graph(tmp_path: Path, ros_env: dict[str, str]) -> Made:
    """Every node of the graph made without a source, plain and lockstep (the driver then also publishes the
    recorded clock)."""
    made: Made = {}
    for variant in ([], ["lockstep"]):
        made_by(subprocess.run([sys.executable, str(HERE / "publishers_probe.py"), str(tmp_path / f"run{variant}"),
                                *variant], env=ros_env, capture_output=True, text=True, timeout=120), made)  # fmt: skip
    return made


def probe_gen2_driver(tmp_path: Path, ros_env: dict[str, str]) -> subprocess.CompletedProcess:
    command = [sys.executable, str(HERE / "gen2_publishers_probe.py"), str(tmp_path / "gen2"), str(GEN2_VRS)]
    return subprocess.run(command, env=ros_env, capture_output=True, text=True, timeout=180)


@pytest.mark.parametrize("glasses", ["gen1", "gen2"])
def test_the_sros2_policy_lets_exactly_the_graphs_nodes_publish_what_they_publish(
    glasses: str, tmp_path: Path, ros_env
) -> None:
    """The profiles are exactly what the nodes make. The driver advertises what only Aria Gen 2 has from its first
    item of it (Gen 1 glasses, their recordings and bags never make it): gen2 adds a driver playing the real Gen 2
    recording, whose topics enforced SROS2 would otherwise refuse (the driver then leaves them out); gen1 takes
    those as granted, gen2 checks them."""
    if glasses == "gen2" and not GEN2_VRS.is_file():
        pytest.skip(f"no Aria Gen 2 run: the real recording {GEN2_VRS} is absent (../shared)")
    made = probe_graph(tmp_path, ros_env)
    if glasses == "gen2":
        gen2 = made_by(probe_gen2_driver(tmp_path, ros_env), {})
        assert GEN2_ONLY <= gen2["aria_driver"]["publish"]  # it did play Gen 2
        for mode, names in gen2["aria_driver"].items():
            made["aria_driver"][mode] |= names
    else:
        made["aria_driver"]["publish"] |= GEN2_ONLY
    assert_policy_matches(made)


def test_the_keystore_script_says_so_and_fails_without_the_ros2_cli(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin"}  # no ros2 here
    out = subprocess.run(["bash", str(HERE.parent / "scripts" / "sros2_keystore.sh"), str(tmp_path / "ks")], env=env,
                         capture_output=True, text=True, timeout=30)  # fmt: skip
    assert out.returncode != 0 and "no ros2 CLI" in out.stderr and not (tmp_path / "ks").exists()
