"""The aria_driver node, in its own process, fed by fake glasses through the real live source.

`live_driver_peer.py FAIL_AFTER`: FakeGlasses (Aria Gen 1); the first session fails after FAIL_AFTER frames.
`live_driver_peer.py FAIL_AFTER gen2`: FakeGen2Glasses (the real Gen 2 recording through the SDK's own stream
interface), tried as the helper tries the generations (Gen 2's SDK first, then Gen 1's); the glasses drop off the
link after FAIL_AFTER passes of the recording.
"""

from __future__ import annotations

import sys

from fake_glasses import FakeGlasses

from aria_nav_ros.core.sources.aria_live import AriaLiveConfig, AriaLiveSource
from aria_nav_ros.nodes.aria_driver import AriaDriver
from aria_nav_ros.ros.spin import run_node

if __name__ == "__main__":
    fail_after = int(sys.argv[1])
    config = AriaLiveConfig()
    if sys.argv[2:] == ["gen2"]:
        from fake_glasses_gen2 import FakeGen2Glasses, fake_sdk

        from aria_nav_ros.core.sources.aria_live_gen2 import Gen2Session

        glasses = FakeGen2Glasses(fail_after_passes=fail_after)
        source = AriaLiveSource(config, sessions=(lambda: Gen2Session(config, fake_sdk(glasses)), FakeGlasses))
    else:

        def session() -> FakeGlasses:
            return FakeGlasses(fail_after=fail_after if not FakeGlasses.sessions else None)

        source = AriaLiveSource(config, session_factory=session)
    run_node(
        lambda: AriaDriver(source_factory=lambda: source), ["live_driver_peer", "--ros-args", "-p", "source:=live"]
    )
