"""Shared test set-up: every test session gets its own DDS domain, and no process outlives its test.

The tests by what they start: unit/ (no DDS, no node: the ROS-free core and message conversions), ros/ (nodes
over real DDS), system/ (the whole graph: the launcher, the launch file, bags and reports). This folder holds what
they share: helpers and peers, the goldens. A test may build its scene with another tier's builders (a Gen 2
recording's poses, a rendered floor), so the tiers' folders are importable from any of them.
"""

from __future__ import annotations

import faulthandler
import fcntl
import os
import random
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import durations
import pytest

from aria_nav_ros.graph.dds_shm import free_stale_segments
from aria_nav_ros.graph.process import become_subreaper, children, command_line, running

TIERS = ("system", "ros", "unit")  # the whole graph, one node over DDS, no ROS: also the order files run in
for tier in TIERS:
    folder = str(Path(__file__).resolve().parent / tier)
    if folder not in sys.path:
        sys.path.append(folder)

# Tests talk over real DDS; a domain of their own keeps a graph running on the
# same machine (the main job, another test session) out of their topics. Up to 97: with three workers (below)
# the last is 100, under 101, the highest domain whose ports stay below Linux's ephemeral range.
os.environ.setdefault("ROS_DOMAIN_ID", str(random.Random(os.getpid()).randint(30, 97)))
# One CPU thread per torch (and OpenMP) in each test process and the nodes they start: several run at once on the
# few cores of a test machine, and OpenMP threads of one process spin while another's hold the core.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# Parallel workers (pytest-xdist, scripts/run_tests.sh: gw0, gw1, ...) inherit the domain of the session that
# started them: each moves to one of its own, next to it, so that no two workers' graphs hear each other.
if WORKER := os.environ.get("PYTEST_XDIST_WORKER", ""):
    os.environ["ROS_DOMAIN_ID"] = str(int(os.environ["ROS_DOMAIN_ID"]) + 1 + int(WORKER.removeprefix("gw")))


# Orphans of this session (a process whose parent died) come back to this process instead of init, so
# the fixture below finds every process a test left behind, however deep it was started.
SUBREAPER = become_subreaper()


# multiprocessing's resource tracker: one per process that used a spawn context, living as long as that
# process (the test session itself), shared by every test after it. Not something a test left behind.
SESSION_HELPERS = ("multiprocessing.resource_tracker",)


def _describe(pid: int) -> str | None:
    """The command line of a live child; None for a zombie (reaped here), one gone, or a session helper."""
    if not running(pid):
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        return None
    text = command_line(pid)
    return None if not text or any(helper in text for helper in SESSION_HELPERS) else text


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest files first (test/durations.json), then tier by tier, the whole graph first: parallel workers
    (--dist loadfile) take files in this order, so the long ones start early and the short ones fill the end,
    rather than a long one running alone at the end."""
    here = Path(__file__).resolve().parent
    seconds = durations.load()

    def order(item: pytest.Item) -> tuple[float, int]:
        path = item.path.resolve().relative_to(here.parent)
        folder = path.parts[1] if len(path.parts) > 2 else ""
        return -seconds.get(path.as_posix(), 0.0), TIERS.index(folder) if folder in TIERS else len(TIERS)

    items.sort(key=order)  # stable: within a file, its own order


@pytest.fixture(scope="session", autouse=True)
def scratch_in_the_session_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """What the session's processes write outside a test's tmp_path goes into pytest's session folder, which the
    retention settings in pyproject.toml bound (gone when every test passed, else kept with the failed tests'):
    ROS 2's log files (scripts/env.sh sends them to the repository's log/ros, where every session added to them)
    and the temporary files of the programs tests start (bench/fault_drill.py leaves its run folders, with a copy
    of the sample bag, in a tempfile.mkdtemp of its own). Processes started from here see it; this process's
    tempfile module may have read TMPDIR already."""
    scratch = tmp_path_factory.mktemp("scratch", numbered=False)
    settings = {"ROS_LOG_DIR": scratch / "ros_log", "TMPDIR": scratch / "tmp"}
    before = {name: os.environ.get(name) for name in settings}
    for name, path in settings.items():
        path.mkdir()
        os.environ[name] = str(path)
    yield scratch
    for name, value in before.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session", autouse=True)
def shared_memory_given_back():
    """Frees what DDS participants that died left in /dev/shm, before the session and after it: tests kill
    processes on purpose, and on a machine that runs the suite often those segments filled its RAM
    (aria_nav_ros.graph.dds_shm)."""
    free_stale_segments()
    yield
    free_stale_segments()


@pytest.fixture(autouse=True)
def no_process_outlives_the_test():
    """Fails the test, loudly, when any process it started is still alive after it; kills those (and gives
    back the shared memory of what it killed, as of earlier tests)."""
    before = set(children(os.getpid()))
    yield
    free_stale_segments()
    left = {pid: text for pid in set(children(os.getpid())) - before if (text := _describe(pid)) is not None}
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


HANG_CEILING_S = 600.0  # far longer than any test takes here (the longest: about 150 s on a loaded 2-core machine)


@pytest.fixture(autouse=True)
def no_test_hangs() -> Iterator[None]:
    """A test, its fixtures included, still running after HANG_CEILING_S ends its process with every thread's
    stack on stderr, rather than hang the suite: Fast DDS can deadlock deleting an entity of this process (the
    listener's, after the test's nodes went away; aria_nav_ros/graph/process.py tells the cycle), GIL held,
    where no Python timeout can act. faulthandler's watchdog is a C thread. Set up first, so torn down last."""
    faulthandler.dump_traceback_later(HANG_CEILING_S, exit=True, file=sys.__stderr__)
    yield
    faulthandler.cancel_dump_traceback_later()


# One path for every worker: taken at import, before the session's fixture gives each worker a TMPDIR of its own.
USB_SEARCH_LOCK = Path(tempfile.gettempdir()) / "aria_nav_tests_usb_search.lock"


@pytest.fixture
def usb_search() -> Iterator[None]:
    """For a test whose real Aria SDK looks for glasses over USB: one such test at a time, across the workers.
    The SDKs share the machine's one adb server (tcp:5037), which each search starts and stops when it was not
    running before: two searches at once stop each other's server, or leave one running."""
    with open(USB_SEARCH_LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        yield


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
