"""The camera names used everywhere: code, topics, frames and parameters.

Topic names are relative (the ROS 2 convention): a graph started in a namespace (`namespace:=wearer1`)
publishes under it, and two graphs on one network do not mix. So is tf_static (/tf_static in the root
namespace; in a namespace, /wearer1/tf_static, as multi-robot ROS 2 stacks do: two wearers' glasses use the same
frame names with different calibrations). /diagnostics (statuses named with the node's namespace) and /clock
stay absolute, where every ROS tool looks for them. A bag stores resolved names: `in_bag` matches them.
"""

from collections.abc import Iterable
from functools import partial
from typing import TypeVar

T = TypeVar("T")

RGB = "rgb"
SLAM_LEFT = "slam_left"
SLAM_RIGHT = "slam_right"
CAMERAS = (RGB, SLAM_LEFT, SLAM_RIGHT)  # the cameras perception reads (detectors, navigation)
# Aria Gen 2's front pair of CV cameras, looking ahead and overlapping (a stereo pair): published where the glasses
# have them, read by no detector. (Gen 2's side pair are slam_left and slam_right, in Gen 1's roles.)
SLAM_FRONT_LEFT = "slam_front_left"
SLAM_FRONT_RIGHT = "slam_front_right"
FRONT_CAMERAS = (SLAM_FRONT_LEFT, SLAM_FRONT_RIGHT)
ALL_CAMERAS = CAMERAS + FRONT_CAMERAS
# Metric depth from the front pair (core.sources.stereo), in its rectified left view: aria/stereo/depth (REP 118),
# aria/stereo/camera_info, frame aria_stereo_optical.
STEREO = "stereo"
STEREO_DEPTH_TOPIC = "aria/stereo/depth"
# Nominal horizontal fields of view, for when no calibration is known: Aria's
# RGB camera (110 degrees) and its fisheye SLAM cameras (150 degrees).
NOMINAL_HFOV_DEG = {RGB: 110.0, SLAM_LEFT: 150.0, SLAM_RIGHT: 150.0, SLAM_FRONT_LEFT: 150.0, SLAM_FRONT_RIGHT: 150.0}
# Videos and photos (and the sample made of photos): a phone's picture, across its whole width, unless told.
PICTURE_HFOV_DEG = 70.0
IMU_TOPIC = "aria/imu"
IMU_FRAME = "aria_imu"
TF_STATIC_TOPIC = "tf_static"  # where each sensor sits on the head (core.mounting); see above
# The device's own motion (its on-device VIO, Aria Gen 2): the head in a gravity-aligned odometry frame (REP 105:
# z up, continuous, drifts), as a transform on tf and as nav_msgs/Odometry (pose in odom, velocity in the head frame).
TF_TOPIC = "tf"
ODOM_FRAME = "odom"
ODOMETRY_TOPIC = "aria/odometry"
# The wearer's own hands from the device's hand tracking (Aria Gen 2; core.hands, ros.hands), in the head frame.
HANDS_TOPIC = "aria/hands"
CUES_TOPIC = "navigation/cues"
EVENTS_TOPIC = "aria_nav/events"  # SystemEvent: what nodes tell the wearer about the aid itself


def camera_topic(camera: str, stream: str) -> str:
    """A camera's topic: aria/<camera>/<stream>."""
    return f"aria/{camera}/{stream}"


# Each camera's streams, by what they carry (called with the camera's name).
image_topic = partial(camera_topic, stream="image_raw")  # sensor_msgs/Image, as the driver publishes it
camera_info_topic = partial(camera_topic, stream="camera_info")
detections_topic = partial(camera_topic, stream="detections")  # DetectionArray
annotated_topic = partial(camera_topic, stream="annotated")  # the image with its boxes drawn
markers_topic = partial(camera_topic, stream="markers")  # visualization_msgs/MarkerArray
# Depth Anything's relative inverse depth (no unit): not a REP 118 depth image, so not named one.
inverse_depth_topic = partial(camera_topic, stream="inverse_depth")


def optical_frame(camera: str) -> str:
    """REP 103 optical frame of a camera (z forward, x right, y down)."""
    return f"aria_{camera}_optical"


def compressed_topic(image: str) -> str:
    """image_transport's name for the JPEG stream of an image topic."""
    return f"{image}/compressed"


def in_bag(bag_topics: Iterable[str], names: dict[str, T]) -> dict[str, T]:
    """The topics of a bag (resolved names, e.g. /wearer1/aria/imu) that are `names` (relative, or absolute),
    in whatever namespace the graph ran, each with the value `names` gives it."""
    found = {}
    for topic in bag_topics:
        for name, value in names.items():
            if topic == name or (not name.startswith("/") and (topic == f"/{name}" or topic.endswith(f"/{name}"))):
                found[topic] = value
    return found
