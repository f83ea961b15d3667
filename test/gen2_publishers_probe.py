"""Prints, as JSON, what the aria_driver publishes, subscribes to and serves while it plays an Aria Gen 2 recording
(for test_network_guard.py, against config/sros2_policy.xml; publishers_probe.py makes every node without a source).

`gen2_publishers_probe.py RUN_FOLDER RECORDING`: the driver as the graph starts it for `source:=vrs` on RECORDING,
with every image both raw and compressed (transport:=both) and no wait for perception, until it has made what
only Gen 2 glasses have: the front pair's topics, their stereo depth, the VIO's odometry and tf and the hands
(created from the source's first item of each, not at start). Exit 1, saying what is missing, if that has not
come in 60 s.
"""

from __future__ import annotations

import json
import sys
import time

import rclpy

from aria_nav_ros.core.cameras import FRONT_CAMERAS
from aria_nav_ros.graph.description import GraphSettings, describe_graph
from aria_nav_ros.nodes.aria_driver import AriaDriver

DEADLINE_S = 60.0


def main(run: str, recording: str) -> int:
    settings = GraphSettings(source="vrs", path=recording, output=run)
    (process,) = [p for p in describe_graph(settings) if p.nodes[0].name == "aria_driver"]
    extra = ["-p", "transport:=both", "-p", "wait_for:=none"]
    rclpy.init(args=["probe", *process.command()[3:], *extra])  # as the process is started
    node = AriaDriver()

    def gen2_made() -> bool:
        return (node.motion_pubs is not None and node.depth_pubs is not None and node.hands_pub is not None
                and all(c in node.published for c in FRONT_CAMERAS))  # fmt: skip

    end = time.monotonic() + DEADLINE_S
    while not gen2_made() and time.monotonic() < end:
        rclpy.spin_once(node, timeout_sec=0.1)
    made = gen2_made()
    out = {
        "aria_driver": {
            "publish": sorted({p.topic_name.lstrip("/") for p in node.publishers}),
            "subscribe": sorted({s.topic_name.lstrip("/") for s in node.subscriptions}),
            "reply": sorted({s.srv_name.lstrip("/").replace("aria_driver/", "~/") for s in node.services}),
        }
    }
    missing = {"odometry": node.motion_pubs is None, "stereo depth": node.depth_pubs is None,
               "hands": node.hands_pub is None,
               **{c: c not in node.published for c in FRONT_CAMERAS}}  # fmt: skip
    node.destroy_node()
    rclpy.shutdown()
    if not made:
        print(f"no Gen 2 publishers within {DEADLINE_S:g} s: {[k for k, v in missing.items() if v]}", file=sys.stderr)
        return 1
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
