"""The device's own motion (core.sources.motion.Motion) as ROS messages.

nav_msgs/Odometry is what a ROS user expects, but nav_msgs is not among the
ROS 2 wheels this package installs from PyPI (ros-kilted-nav-msgs would add
it). Until then the same content goes out in its two standard halves, as
robot_localization and RViz read them:
- aria/odometry/pose: geometry_msgs/PoseStamped, the head in `odom`
  (Odometry.pose: header.frame_id odom);
- aria/odometry/twist: geometry_msgs/TwistStamped, the head's velocity in the
  head frame (Odometry.twist: in child_frame_id, aria_head);
- tf: odom -> aria_head (REP 105), one transform per pose.
The VIO gives no covariance, so none is claimed.
"""

from __future__ import annotations

from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseStamped, TransformStamped, TwistStamped
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from tf2_msgs.msg import TFMessage

from aria_nav_ros.core.cameras import ODOM_FRAME
from aria_nav_ros.core.mounting import HEAD_FRAME, quaternion_of
from aria_nav_ros.core.sources.motion import Motion

# Poses come at the IMU's rate (Gen 2: 800 Hz): small, best effort, a burst may queue (as the IMU's samples).
ODOMETRY_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=100,
    reliability=ReliabilityPolicy.BEST_EFFORT,
    durability=DurabilityPolicy.VOLATILE,
)
# tf as tf2's TransformBroadcaster publishes it (its listeners ask for reliable, volatile).
TF_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=100,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)


def motion_messages(motion: Motion, stamp: Time) -> tuple[PoseStamped, TwistStamped, TFMessage]:
    """The pose (in odom), the velocity (in the head frame) and the odom -> head transform of one motion."""
    x, y, z, w = quaternion_of(motion.rotation)
    pose = PoseStamped()
    pose.header.stamp, pose.header.frame_id = stamp, ODOM_FRAME
    p, q = pose.pose.position, pose.pose.orientation
    p.x, p.y, p.z = motion.translation
    q.x, q.y, q.z, q.w = x, y, z, w
    twist = TwistStamped()
    twist.header.stamp, twist.header.frame_id = stamp, HEAD_FRAME
    linear, angular = twist.twist.linear, twist.twist.angular
    linear.x, linear.y, linear.z = motion.linear_velocity
    angular.x, angular.y, angular.z = motion.angular_velocity
    transform = TransformStamped()
    transform.header.stamp, transform.header.frame_id = stamp, ODOM_FRAME
    transform.child_frame_id = HEAD_FRAME
    t, r = transform.transform.translation, transform.transform.rotation
    t.x, t.y, t.z = motion.translation
    r.x, r.y, r.z, r.w = x, y, z, w
    return pose, twist, TFMessage(transforms=[transform])
