"""Shared test set-up: every test session gets its own DDS domain."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

# Tests talk over real DDS; a domain of their own keeps a graph running on the
# same machine (the main job, another test session) out of their topics.
os.environ.setdefault("ROS_DOMAIN_ID", str(random.Random(os.getpid()).randint(30, 99)))


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
