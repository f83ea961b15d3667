"""Shared test set-up: every test session gets its own DDS domain, and no process outlives its test."""

from __future__ import annotations

import os
import random
import signal
from pathlib import Path

import pytest

from aria_nav_ros.process import become_subreaper

# Tests talk over real DDS; a domain of their own keeps a graph running on the
# same machine (the main job, another test session) out of their topics.
os.environ.setdefault("ROS_DOMAIN_ID", str(random.Random(os.getpid()).randint(30, 99)))


# Orphans of this session (a process whose parent died) come back to this process instead of init, so
# the fixture below finds every process a test left behind, however deep it was started.
SUBREAPER = become_subreaper()


def _children() -> list[int]:
    me = os.getpid()
    pids: list[int] = []
    for task in Path(f"/proc/{me}/task").iterdir():
        try:
            pids += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            pass
    return pids


# multiprocessing's resource tracker: one per process that used a spawn context, living as long as that
# process (the test session itself), shared by every test after it. Not something a test left behind.
SESSION_HELPERS = ("multiprocessing.resource_tracker",)


def _describe(pid: int) -> str | None:
    """The command line of a live child; None for a zombie (reaped here), one gone, or a session helper."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if state == "Z":
            os.waitpid(pid, os.WNOHANG)
            return None
        text = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        return None if any(helper in text for helper in SESSION_HELPERS) else text
    except (OSError, ChildProcessError):
        return None


@pytest.fixture(autouse=True)
def no_process_outlives_the_test():
    """Fails the test, loudly, when any process it started is still alive after it; kills those."""
    before = set(_children())
    yield
    left = {pid: text for pid in set(_children()) - before if (text := _describe(pid)) is not None}
    for pid in left:
        for kill in (os.killpg, os.kill):  # its group (what it started too), then itself
            try:
                kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    if left:
        pytest.fail("processes outlived the test (killed now):\n" + "\n".join(f"  {p}: {t}" for p, t in left.items()))


@pytest.fixture(scope="session")
def ros_env() -> dict[str, str]:
    """The environment for node processes started by a test."""
    env = dict(os.environ)
    missing = [k for k in ("AMENT_PREFIX_PATH", "FASTDDS_DEFAULT_PROFILES_FILE") if k not in env]
    if missing:
        pytest.fail(f"{', '.join(missing)} not set: run the tests through scripts/run_tests.sh")
    return env


@pytest.fixture
def listener():
    """An rclpy node in the test process, for subscribing to what node processes publish."""
    import rclpy
    from rclpy.node import Node

    rclpy.init()
    node = Node("test_listener")
    yield node
    node.destroy_node()
    rclpy.shutdown()


SET_UP_SAMPLE = Path(__file__).resolve().parents[1] / "outputs" / "sample" / "walk"


@pytest.fixture(scope="session")
def sample_bag(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample setup.sh built; built afresh when missing."""
    if (SET_UP_SAMPLE / "metadata.yaml").exists():
        return SET_UP_SAMPLE
    path = tmp_path_factory.mktemp("sample") / "walk"
    from aria_nav_ros.core import sample

    sample.write_sample(path)
    return path
