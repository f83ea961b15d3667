"""The wearer's hands from the device's hand tracking (core.hands.Hands) as geometry_msgs/PoseArray.

aria/hands: in the head frame (aria_head), one pose per tracked point: each confidently tracked hand's wrist,
then its palm, the left hand before the right; orientation identity (the tracking gives points, not
orientations). An empty array says "no hand tracked now". PoseArray is the standard message that RViz draws
and any reader decodes without this package's types; a MarkerArray would show only in RViz, and a message of
our own would be unreadable to the tools.
"""

from __future__ import annotations

import numpy as np
from builtin_interfaces.msg import Time
from geometry_msgs.msg import Pose, PoseArray

from aria_nav_ros.core.hands import Hands
from aria_nav_ros.core.mounting import HEAD_FRAME


def hands_message(hands: Hands, stamp: Time) -> PoseArray:
    msg = PoseArray()
    msg.header.stamp, msg.header.frame_id = stamp, HEAD_FRAME
    for x, y, z in hands.points:
        pose = Pose()
        pose.position.x, pose.position.y, pose.position.z = float(x), float(y), float(z)
        msg.poses.append(pose)  # orientation: identity (w = 1 by default)
    return msg


def points_of(msg: PoseArray) -> np.ndarray:
    """(N, 3) metres in the message's frame."""
    return np.array([(p.position.x, p.position.y, p.position.z) for p in msg.poses], dtype=np.float64).reshape(-1, 3)
