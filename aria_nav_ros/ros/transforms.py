"""tf2_msgs/TFMessage from mounts in the head frame, and back (core.mounting holds the frames)."""

from __future__ import annotations

from builtin_interfaces.msg import Time
from geometry_msgs.msg import TransformStamped
from tf2_msgs.msg import TFMessage

from aria_nav_ros.core.mounting import HEAD_FRAME, Mount


def tf_message(mounts: dict[str, Mount], stamp: Time) -> TFMessage:
    """One transform per frame, each a child of the head frame."""
    msg = TFMessage()
    for frame, mount in sorted(mounts.items()):
        transform = TransformStamped()
        transform.header.stamp = stamp
        transform.header.frame_id = HEAD_FRAME
        transform.child_frame_id = frame
        t, r = transform.transform.translation, transform.transform.rotation
        t.x, t.y, t.z = mount.translation
        r.x, r.y, r.z, r.w = mount.quaternion()
        msg.transforms.append(transform)
    return msg
