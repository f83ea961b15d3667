"""A rosbags typestore that knows this package's messages as well as ROS 2's own.

The definitions are read from the package's .msg files (the source tree's
msg/ or an installed share/aria_nav_ros/msg), so bags written with it carry
the schemas other readers need to decode our types.
"""

from __future__ import annotations

from functools import cache

from rosbags.typesys import Stores, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore

from aria_nav_ros.core.share import PACKAGE, share_path


@cache
def typestore() -> Typestore:
    store = get_typestore(Stores.ROS2_KILTED)
    types = {}
    folder = share_path("msg")
    if not (folder / "Detection.msg").is_file():
        raise FileNotFoundError(f"{PACKAGE} message definitions not found (looked for {folder})")
    for path in sorted(folder.glob("*.msg")):
        types.update(get_types_from_msg(path.read_text(), f"{PACKAGE}/msg/{path.stem}"))
    store.register(types)
    return store
