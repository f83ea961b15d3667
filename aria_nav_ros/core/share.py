"""Where the package's data lives: what it installs under share/aria_nav_ros (config/, msg/), or the source tree's.

One lookup for every reader (the graph's params file, the navigation config, the message definitions for bags):
an install found through AMENT_PREFIX_PATH first, then one above this file (an install whose environment is
not sourced), then the source tree. ROS-free: only the environment variable is read.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE = "aria_nav_ros"
SOURCE_TREE = Path(__file__).resolve().parents[2]


def share_path(*parts: str) -> Path:
    """The first existing share/aria_nav_ros/<parts>, else the source tree's <parts> (which may not exist)."""
    prefixes = [Path(p) for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
    prefixes += list(Path(__file__).resolve().parents)
    for prefix in prefixes:
        candidate = prefix.joinpath("share", PACKAGE, *parts)
        if candidate.exists():
            return candidate
    return SOURCE_TREE.joinpath(*parts)
