"""Prints, as JSON, what each of the graph's nodes publishes, subscribes to and serves once made (for
test_network_guard.py, against config/sros2_policy.xml).

`publishers_probe.py RUN_FOLDER [lockstep]`: every node of describe_graph(), made in this process one after the
other with the command-line arguments the graph starts it with (and autostart off: no model loads, no source
opens); the driver publishes every image both raw and compressed (transport:=both).
"""

from __future__ import annotations

import json
import sys

import rclpy

from aria_nav_ros.graph.description import GraphSettings, describe_graph
from aria_nav_ros.nodes.container import factories, maker


def main(run: str, lockstep: bool) -> None:
    out: dict[str, dict[str, list[str]]] = {}
    known = factories()
    for process in describe_graph(GraphSettings(output=run, lockstep=lockstep)):
        node_spec = process.nodes[0]
        extra = ["-p", "autostart:=false", "-p", "transport:=both"]
        rclpy.init(args=["probe", *process.command()[3:], *extra])  # as the process is started
        node = maker(node_spec.in_container, known)()
        out[node_spec.name] = {
            "publish": sorted({p.topic_name.lstrip("/") for p in node.publishers}),
            "subscribe": sorted({s.topic_name.lstrip("/") for s in node.subscriptions}),
            "reply": sorted({s.srv_name.lstrip("/").replace(f"{node_spec.name}/", "~/") for s in node.services}),
        }
        node.destroy_node()
        rclpy.shutdown()
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:] == ["lockstep"])
