"""Two nodes in two processes exchange full-size images and a custom message over real DDS.

Best-effort sensor QoS, the package's shared-memory transport profile. Every
message that arrives must be bit-exact; and nearly all must arrive (with the
built-in transports, 1408x1408 best-effort frames were lost almost entirely).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from locations import HELPERS
from processes import kill_group, spawn

PEER = str(HELPERS / "dds_peer.py")
COUNT = 20


def test_images_and_detections_cross_processes_bit_exact(tmp_path: Path, ros_env: dict[str, str]) -> None:
    out = tmp_path / "report.json"
    receiver = spawn([sys.executable, PEER, "receive", str(COUNT), str(out)], ros_env)
    try:
        publisher = subprocess.run([sys.executable, PEER, "publish", str(COUNT)], env=ros_env, timeout=90)
        assert publisher.returncode == 0, "the publisher never matched the subscriber"
        assert receiver.wait(timeout=90) == 0
    finally:
        kill_group(receiver.pid)
        receiver.wait()
    report = json.loads(out.read_text())
    for kind in ("rgb", "mono", "detections"):
        assert report[kind]["wrong"] == [], f"{kind}: frames {report[kind]['wrong']} arrived altered"
        # Keep-last-1 may drop a frame the subscriber was too slow for; the
        # transport itself must not lose most of them.
        assert len(report[kind]["exact"]) >= COUNT * 3 // 4, f"{kind}: only {report[kind]['exact']} arrived"
