"""A rosbags typestore that knows this package's messages as well as ROS 2's own.

The definitions are read from the package's .msg files (the source tree's
msg/ or an installed share/aria_nav_ros/msg), so bags written with it carry
the schemas other readers need to decode our types.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore

PACKAGE = "aria_nav_ros"


def msg_dir() -> Path:
    candidates = [Path(__file__).resolve().parents[2] / "msg"]
    for prefix in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep):
        if prefix:
            candidates.append(Path(prefix) / "share" / PACKAGE / "msg")
    for candidate in candidates:
        if (candidate / "Detection.msg").is_file():
            return candidate
    raise FileNotFoundError(f"{PACKAGE} message definitions not found in {[str(c) for c in candidates]}")


@cache
def typestore() -> Typestore:
    store = get_typestore(Stores.ROS2_KILTED)
    types = {}
    for path in sorted(msg_dir().glob("*.msg")):
        types.update(get_types_from_msg(path.read_text(), f"{PACKAGE}/msg/{path.stem}"))
    store.register(types)
    return store
