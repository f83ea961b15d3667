"""sensor_msgs/CameraInfo from a PinholeCamera."""

from sensor_msgs.msg import CameraInfo
from std_msgs.msg import Header

from aria_nav_ros.core.sources.base import PinholeCamera


def camera_info(pinhole: PinholeCamera, header: Header) -> CameraInfo:
    msg = CameraInfo(header=header, width=pinhole.width, height=pinhole.height)
    msg.distortion_model = "plumb_bob"
    msg.d = [0.0] * 5
    msg.k = [pinhole.fx, 0.0, pinhole.cx, 0.0, pinhole.fy, pinhole.cy, 0.0, 0.0, 1.0]
    msg.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    msg.p = [pinhole.fx, 0.0, pinhole.cx, 0.0, 0.0, pinhole.fy, pinhole.cy, 0.0, 0.0, 0.0, 1.0, 0.0]
    return msg


def pinhole_of(msg: CameraInfo) -> PinholeCamera:
    k = msg.k
    return PinholeCamera(int(msg.width), int(msg.height), float(k[0]), float(k[4]), float(k[2]), float(k[5]))
