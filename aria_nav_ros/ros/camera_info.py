"""sensor_msgs/CameraInfo from a CameraModel, and back.

A pinhole image is "plumb_bob" with zero distortion. An Aria image is published
as the sensor gives it (not rectified) and says so: distortion_model
"fisheye624", D its 12 coefficients (k0..k5, p0, p1, s0..s3; see
core.camera_model). ROS's image_geometry does not know that model, so
rectifying tools refuse it rather than use it wrongly; K holds f and c.
"""

from sensor_msgs.msg import CameraInfo
from std_msgs.msg import Header

from aria_nav_ros.core.camera_model import CameraModel, from_camera_info


def camera_info(model: CameraModel, header: Header) -> CameraInfo:
    msg = CameraInfo(header=header, width=model.width, height=model.height)
    msg.distortion_model = model.model if model.distortion else "plumb_bob"
    msg.d = list(model.distortion) if model.distortion else [0.0] * 5
    msg.k = [model.fx, 0.0, model.cx, 0.0, model.fy, model.cy, 0.0, 0.0, 1.0]
    msg.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    msg.p = [model.fx, 0.0, model.cx, 0.0, 0.0, model.fy, model.cy, 0.0, 0.0, 0.0, 1.0, 0.0]
    return msg


def camera_model_of(msg: CameraInfo) -> CameraModel:
    """ValueError for a lens model the geometry cannot use."""
    return from_camera_info(msg.width, msg.height, list(msg.k), msg.distortion_model, list(msg.d))
