"""The device's own motion (core.sources.motion.Motion) as ROS messages.

- aria/odometry: nav_msgs/Odometry, as REP 105 and the message define it: the
  head's pose in `odom` (header.frame_id) and its velocity in the head frame
  (child_frame_id aria_head), both from one VIO sample;
- tf: odom -> aria_head, one transform per pose, same stamp.
The VIO gives no covariance: both are left all zero, which the messages'
convention reads as "unknown", not as exact.
"""

from __future__ import annotations

from builtin_interfaces.msg import Time
from geometry_msgs.msg import TransformStamped
from nav_msgs.msg import Odometry
from tf2_msgs.msg import TFMessage

from aria_nav_ros.core.cameras import ODOM_FRAME
from aria_nav_ros.core.mounting import HEAD_FRAME, quaternion_of
from aria_nav_ros.core.sources.motion import Motion


def motion_messages(motion: Motion, stamp: Time) -> tuple[Odometry, TFMessage]:
    """The odometry (pose in odom, velocity in the head frame) and the odom -> head transform of one motion."""
    x, y, z, w = quaternion_of(motion.rotation)
    odometry = Odometry()
    odometry.header.stamp, odometry.header.frame_id = stamp, ODOM_FRAME
    odometry.child_frame_id = HEAD_FRAME
    p, q = odometry.pose.pose.position, odometry.pose.pose.orientation
    p.x, p.y, p.z = motion.translation
    q.x, q.y, q.z, q.w = x, y, z, w
    linear, angular = odometry.twist.twist.linear, odometry.twist.twist.angular
    linear.x, linear.y, linear.z = motion.linear_velocity
    angular.x, angular.y, angular.z = motion.angular_velocity
    transform = TransformStamped()
    transform.header.stamp, transform.header.frame_id = stamp, ODOM_FRAME
    transform.child_frame_id = HEAD_FRAME
    t, r = transform.transform.translation, transform.transform.rotation
    t.x, t.y, t.z = motion.translation
    r.x, r.y, r.z, r.w = x, y, z, w
    return odometry, TFMessage(transforms=[transform])
