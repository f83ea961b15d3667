"""Shared memory that a killed DDS participant leaves in /dev/shm is found and given back; a live one's is not.

Real Fast DDS participants (navigation node processes, the project's profile)
in real processes; one is SIGKILLed, as the out-of-memory killer or a hard
exit would end it. The doomed one is alone on its DDS domain: a live peer
that had mapped its segment would remove it by itself after a few seconds
(Fast DDS's watchdog), which is not what this tests.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from processes import NodeProcess, node_command

from aria_nav_ros.graph.dds_shm import (
    PROCESS_BYTES,
    SHM_DIR,
    free_stale_segments,
    room_line,
    segments_of,
    stale_segments,
)

pytestmark = pytest.mark.skipif(not SHM_DIR.is_dir(), reason="no /dev/shm: Fast DDS's shared memory lives elsewhere")


def navigation(tmp_path: Path, name: str, env: dict[str, str]) -> NodeProcess:
    """A navigation node (a lifecycle node, as the driver and perception are) that writes its sound to a file."""
    return NodeProcess(node_command("navigation", audio_sink="wav", wav_path=tmp_path / f"{name}.wav"), env)


def own_segments(node: NodeProcess, timeout_s: float = 60.0) -> list[Path]:
    """The node's own segments, once it is up."""
    assert node.wait_for("navigation: language", timeout_s=timeout_s), node.log
    end = time.monotonic() + timeout_s
    while time.monotonic() < end and node.process.poll() is None:
        if owned := segments_of([node.process.pid])[node.process.pid]:
            return owned
        time.sleep(0.1)
    raise AssertionError(f"no shared-memory segment of {node.process.pid} within {timeout_s:g} s\n{node.log}")


def test_a_killed_participants_segment_is_given_back_and_a_live_ones_stays(
    tmp_path: Path, ros_env: dict[str, str]
) -> None:
    alone = {**ros_env, "ROS_DOMAIN_ID": str(int(ros_env["ROS_DOMAIN_ID"]) + 100)}  # conftest's are 30-99
    live, doomed = navigation(tmp_path, "live", ros_env), navigation(tmp_path, "doomed", alone)
    try:
        kept, lost = own_segments(live), own_segments(doomed)
        assert not {*kept} & {*stale_segments(min_age_s=0)}, "a live participant's segment counted as stale"
        doomed.process.send_signal(signal.SIGKILL)
        doomed.process.wait(timeout=30)
        assert all(s.exists() for s in lost), "Fast DDS removed a killed participant's segment by itself"
        assert {*lost} <= {*stale_segments(min_age_s=0)}
        freed = free_stale_segments(min_age_s=0)
        assert freed.segments >= len(lost) and freed.bytes > 0, freed
        assert "freed" in freed.line() and "/dev/shm" in freed.line()
        assert not [s for s in lost if s.exists() or s.with_name(s.name + "_el").exists()]
        assert all(s.exists() for s in kept), "a live participant's segment was removed"
        assert live.process.poll() is None
    finally:
        code = live.stop()
        doomed.stop()
    assert code == 0, live.log[-2000:]
    assert not [s for s in kept if s.exists()], "a cleanly stopped participant left its segment"


def test_too_little_room_in_shared_memory_is_said_with_the_numbers() -> None:
    assert room_line(0) == ""
    line = room_line(10**7)  # ten million participants: no machine has 335 TB of /dev/shm
    need = f"{10**7 * PROCESS_BYTES / 1e6:.0f}"
    assert line.startswith("only ") and f"10000000 processes need about {need} MB" in line, line
