"""The aria_driver node, in its own process, fed by FakeGlasses through the real live source.

`live_driver_peer.py FAIL_AFTER`: the first session fails after FAIL_AFTER frames.
"""

from __future__ import annotations

import sys

from fake_glasses import FakeGlasses

from aria_nav_ros.core.sources.aria_live import AriaLiveConfig, AriaLiveSource
from aria_nav_ros.nodes.aria_driver import AriaDriver
from aria_nav_ros.ros.spin import run_node

if __name__ == "__main__":
    fail_after = int(sys.argv[1])

    def session() -> FakeGlasses:
        return FakeGlasses(fail_after=fail_after if not FakeGlasses.sessions else None)

    source = AriaLiveSource(AriaLiveConfig(), session_factory=session)
    run_node(
        lambda: AriaDriver(source_factory=lambda: source), ["live_driver_peer", "--ros-args", "-p", "source:=live"]
    )
