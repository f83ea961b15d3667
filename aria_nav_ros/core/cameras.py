"""The camera names used everywhere: code, topics, frames and parameters."""

RGB = "rgb"
SLAM_LEFT = "slam_left"
SLAM_RIGHT = "slam_right"
CAMERAS = (RGB, SLAM_LEFT, SLAM_RIGHT)
# Nominal horizontal fields of view, for when no calibration is known: Aria's
# RGB camera (110 degrees) and its fisheye SLAM cameras (150 degrees).
NOMINAL_HFOV_DEG = {RGB: 110.0, SLAM_LEFT: 150.0, SLAM_RIGHT: 150.0}
IMU_TOPIC = "/aria/imu"
IMU_FRAME = "aria_imu"
TF_STATIC_TOPIC = "/tf_static"  # where each sensor sits on the head (core.mounting)
CUES_TOPIC = "/navigation/cues"
EVENTS_TOPIC = "/aria_nav/events"  # SystemEvent: what nodes tell the wearer about the aid itself


def image_topic(camera: str) -> str:
    return f"/aria/{camera}/image_raw"


def camera_info_topic(camera: str) -> str:
    return f"/aria/{camera}/camera_info"


def detections_topic(camera: str) -> str:
    return f"/aria/{camera}/detections"


def annotated_topic(camera: str) -> str:
    return f"/aria/{camera}/annotated"


def optical_frame(camera: str) -> str:
    """REP 103 optical frame of a camera (z forward, x right, y down)."""
    return f"aria_{camera}_optical"
