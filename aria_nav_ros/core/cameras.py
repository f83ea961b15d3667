"""The camera names used everywhere: code, topics, frames and parameters."""

RGB = "rgb"
SLAM_LEFT = "slam_left"
SLAM_RIGHT = "slam_right"
CAMERAS = (RGB, SLAM_LEFT, SLAM_RIGHT)


def image_topic(camera: str) -> str:
    return f"/aria/{camera}/image_raw"


def camera_info_topic(camera: str) -> str:
    return f"/aria/{camera}/camera_info"


def optical_frame(camera: str) -> str:
    """REP 103 optical frame of a camera (z forward, x right, y down)."""
    return f"aria_{camera}_optical"
