"""bench/two_hosts.py's link: two network namespaces, a veth pair, UDP only; a frame crosses it.

Skipped where network namespaces cannot be made (not root, no CAP_SYS_ADMIN, no `ip`).
"""

from __future__ import annotations

import importlib
import shutil
import signal
import subprocess
import sys

import pytest
from locations import ROOT

PEER = str(ROOT / "test" / "two_hosts_peer.py")


@pytest.fixture(scope="module")
def two_hosts():
    if shutil.which("ip") is None:
        pytest.skip("no `ip` (iproute2) here")
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        module = importlib.import_module("two_hosts")
    finally:
        sys.path.remove(str(ROOT / "bench"))
    problem = module.netns_error()
    if problem:
        pytest.skip(f"network namespaces cannot be made here: {problem}")
    return module


def test_a_frame_crosses_the_link_over_udp_and_the_namespaces_go(two_hosts, ros_env) -> None:
    with two_hosts.two_hosts("t") as link:
        names = [link.netns(side) for side in (two_hosts.GLASSES, two_hosts.GPU)]
        before = link.counters()
        receiver = subprocess.Popen([*link.prefix(two_hosts.GPU), sys.executable, PEER, "receive"], env=ros_env)
        sender = subprocess.Popen([*link.prefix(two_hosts.GLASSES), sys.executable, PEER, "publish"], env=ros_env)
        try:
            code = receiver.wait(timeout=30)  # the receiver ends as soon as the frame is in
        finally:
            if receiver.poll() is None:
                receiver.kill()
                receiver.wait()
            sender.send_signal(signal.SIGINT)
            sender.wait(timeout=15)
        after = link.counters()
        assert code == 0, f"receiver exit {code}: 2 = no frame within its limit, 1 = wrong pixels"
        # It came through the veth (a 640x480 frame is 307 kB), not through shared memory.
        assert after["tx_bytes"] - before["tx_bytes"] > 640 * 480
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert not any(name in listed for name in names), listed
