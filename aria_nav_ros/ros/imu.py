"""What navigation reads of a sensor_msgs/Imu (its stamp and linear acceleration), from the serialized message.

Navigation takes every IMU sample (about 1000 a second) on the executor thread that also hands RGB results
on in the composed RGB process. rclpy's conversion of each into a Python message, numpy covariances and all,
was most of that thread's IMU work (bench/navigation_cost.py), and every microsecond of it holds the GIL the
perception worker waits for. Classic CDR, what rmw_fastrtps and rmw_cyclonedds write for ROS messages, puts
the acceleration at an offset fixed by the frame_id's length; any other encoding (big endian, XCDR2) is
converted the usual way.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from rclpy.serialization import deserialize_message
from sensor_msgs.msg import Imu

CDR_LE = b"\x00\x01"  # classic CDR, little endian: the first 2 of the 4 encapsulation bytes
_HEADER = struct.Struct("<iII")  # stamp sec, nanosec, frame_id's length (with its NUL)
_VECTOR = struct.Struct("<3d")
# After the header: orientation (4 doubles), its covariance (9), angular velocity (3), its covariance (9).
_TO_ACCELERATION = (4 + 9 + 3 + 9) * 8


class ImuReading(NamedTuple):
    sec: int  # header.stamp
    nanosec: int
    acceleration: tuple[float, float, float]  # m/s^2, in the message's frame


def imu_reading(raw: bytes) -> ImuReading:
    """The stamp and acceleration of a serialized sensor_msgs/Imu; raises on bytes that are not one."""
    if raw[:2] == CDR_LE and len(raw) >= 16:
        sec, nanosec, length = _HEADER.unpack_from(raw, 4)
        # Offsets count from the end of the 4-byte encapsulation; doubles are aligned to 8 there.
        start = 4 + ((12 + length + 7) & ~7) + _TO_ACCELERATION
        if start + 24 <= len(raw):  # (the covariance after it is not read: DDS delivers whole samples only)
            return ImuReading(sec, nanosec, _VECTOR.unpack_from(raw, start))
    msg = deserialize_message(raw, Imu)  # another encoding (or a short message: rclpy says what is wrong)
    a = msg.linear_acceleration
    return ImuReading(msg.header.stamp.sec, msg.header.stamp.nanosec, (a.x, a.y, a.z))
