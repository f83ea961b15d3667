"""Two graphs side by side in two namespaces (two wearers on one network): each works, neither hears the other.

Both run the package's launcher (`--namespace`) on the same DDS domain, each
on photos of its own. Every topic a node of one graph publishes or reads is
under its own namespace (or one of the few shared absolute ones); the
detections each navigation node reads come from its own graph's perception
only; and each wearer is told of their own scene (people for one, none for the other).
"""

from __future__ import annotations

import time
from pathlib import Path

import rclpy
from processes import NodeProcess, launcher_command, stop_group

from aria_nav_ros.core.photos import photo_folder

LIGHT = ["--device", "cpu", "--rgb-imgsz", "160", "--torch-threads", "1", "--depth-model", "", "--audio-sink", "wav",
         "--no-record", "--source", "images", "--loop", "--rate", "1.0", "--image-fps", "2"]  # fmt: skip
SHARED = {"/rosout", "/parameter_events", "/diagnostics", "/clock"}  # absolute by ROS convention


def test_two_graphs_in_two_namespaces_do_not_mix(tmp_path: Path, ros_env: dict[str, str], listener) -> None:
    graphs = {}
    # Wearer A faces two people; wearer B a dog (the person checkpoint sees no person in it).
    for wearer, photo in (("wearer_a", "zidane.jpg"), ("wearer_b", "dog.jpg")):
        photos = photo_folder(tmp_path / wearer, (photo,))
        command = launcher_command("--path", photos, "--namespace", wearer, "--output", tmp_path / f"run_{wearer}")
        graphs[wearer] = NodeProcess([*command, *LIGHT], ros_env, with_stdout=True)
    try:
        for wearer, run in graphs.items():
            assert run.wait_for("[cue warning] System ready", timeout_s=150), f"{wearer}\n{run.log[-3000:]}"
        # The graph as DDS sees it, once both graphs' four nodes are up (a bounded wait for discovery).
        end = time.monotonic() + 30
        while time.monotonic() < end:
            rclpy.spin_once(listener, timeout_sec=0.1)
            names = listener.get_node_names_and_namespaces()
            if sum(ns in ("/wearer_a", "/wearer_b") for _, ns in names) >= 8:
                break
        ours = [(name, ns) for name, ns in names if ns in ("/wearer_a", "/wearer_b")]
        assert len(ours) == 8, names  # driver, rgb_perception, navigation, stream_monitor in each
        for name, ns in ours:
            topics = [t for t, _ in listener.get_publisher_names_and_types_by_node(name, ns)]
            topics += [t for t, _ in listener.get_subscriber_names_and_types_by_node(name, ns)]
            foreign = [t for t in topics if not t.startswith(f"{ns}/") and t not in SHARED]
            assert not foreign, (ns, name, foreign)
        for wearer in ("wearer_a", "wearer_b"):
            readers = listener.get_subscriptions_info_by_topic(f"/{wearer}/aria/rgb/detections")
            writers = listener.get_publishers_info_by_topic(f"/{wearer}/aria/rgb/detections")
            assert {(e.node_namespace, e.node_name) for e in writers} == {(f"/{wearer}", "rgb_perception")}
            assert (f"/{wearer}", "navigation") in {(e.node_namespace, e.node_name) for e in readers}
        assert not listener.get_publishers_info_by_topic("/aria/rgb/detections")  # nothing in the root namespace
        # Each wearer hears their own scene: A of people, B (sharing the network) of none.
        a, b = graphs["wearer_a"], graphs["wearer_b"]
        assert a.wait_for(("eople", "erson"), timeout_s=90), a.log[-3000:]
        heard_by_b = [line for line in b.log.splitlines() if "[cue" in line]
        assert heard_by_b and not [line for line in heard_by_b if "erson" in line or "eople" in line], heard_by_b
    finally:
        codes = {wearer: stop_group(run.process) for wearer, run in graphs.items()}
    assert codes == {"wearer_a": 0, "wearer_b": 0}, {w: r.log[-2000:] for w, r in graphs.items()}
