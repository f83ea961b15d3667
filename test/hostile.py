"""Malformed and hostile messages for the fuzz test, and the valid ones sent between them.

Each maker takes a random generator and returns one message with something
wrong that the receiving node must refuse. Stamps of hostile camera frames
lie in HOSTILE_SEC, so that any output made from one can be recognised.
"""

from __future__ import annotations

import array
import math
import random

from builtin_interfaces.msg import Time
from geometry_msgs.msg import Pose, PoseArray
from nav_msgs.msg import Odometry
from sensor_msgs.msg import CameraInfo, Image, Imu

from aria_nav_ros.msg import Detection, DetectionArray, NavigationCue, StageTiming

HOSTILE_SEC = 1_000_000  # hostile frames are stamped HOSTILE_SEC + i (1970): no valid output has such a stamp
INF, NAN = math.inf, math.nan


def _data(size: int) -> array.array:
    return array.array("B", bytes(size))


def _stamp(i: int) -> Time:
    return Time(sec=HOSTILE_SEC + i // 1000, nanosec=(i % 1000) * 1_000_000)


def hostile_image(rng: random.Random, i: int) -> Image:
    msg = Image()
    msg.header.stamp = _stamp(i)
    w, h = rng.choice([(64, 48), (320, 240), (17, 3)])
    kind = rng.randrange(11)
    msg.encoding, msg.width, msg.height, msg.step = "rgb8", w, h, w * 3
    size = w * 3 * h
    if kind == 0:
        msg.encoding = rng.choice(["yuv422", "bayer_rggb8", "", "rgb8 ", "x" * 500, "RGB8"])
    elif kind == 1:
        msg.step = w * 3 - rng.randint(1, 3)  # step shorter than a row
    elif kind == 2:
        size -= rng.randint(1, w)  # data shorter than step x height
    elif kind == 3:
        size += rng.randint(1, 999)  # data longer
    elif kind == 4:
        msg.width = 0
    elif kind == 5:
        msg.height, size = 0, 0
    elif kind == 6:
        msg.width, msg.height, msg.step, size = 100_000, 1, 300_000, 300_000  # wider than any camera
    elif kind == 7:
        msg.width, msg.step = 2**31, 2**32 - 1  # sizes that overflow 32-bit arithmetic
    elif kind == 8:  # a depth map (NaN and infinity in it) on a camera topic
        msg.encoding, msg.step = "32FC1", w * 4
        values = array.array("f", [rng.choice([NAN, INF, -INF, 1.0]) for _ in range(w * h)])
        msg.data = array.array("B", values.tobytes())
        return msg
    elif kind == 9:
        size = 0  # no data at all
    else:
        msg.encoding, msg.step = "mono16", w * 2 - 1  # odd step for 2-byte pixels
        size = msg.step * h
    msg.data = _data(max(0, size))
    return msg


def hostile_camera_info(rng: random.Random, i: int) -> CameraInfo:
    msg = CameraInfo(width=320, height=240)
    msg.header.stamp = _stamp(i)
    k = [250.0, 0.0, 160.0, 0.0, 250.0, 120.0, 0.0, 0.0, 1.0]
    kind = rng.randrange(7)
    if kind == 0:
        k[rng.choice([0, 2, 4, 5])] = rng.choice([NAN, INF, -INF])
    elif kind == 1:
        k[0] = rng.choice([0.0, -250.0])
    elif kind == 2:
        k[2] = rng.choice([-1e9, 1e9])  # principal point far outside the image
    elif kind == 3:
        msg.width = rng.choice([0, 4_000_000_000])
    elif kind == 4:
        msg.height = 0
    elif kind == 5:
        msg.d = [0.1, NAN, 0.0, 0.0, INF]
    else:
        k = [0.0] * 9
    msg.k = k
    return msg


def _detection(rng: random.Random) -> Detection:
    """One detection with at least one impossible field."""
    d = Detection(class_name="person", score=0.9, x_min=10.0, y_min=10.0, x_max=50.0, y_max=90.0, distance_m=2.0,
                  distance_source=Detection.DISTANCE_CLASS_SIZE, bearing_deg=0.0, track_id=-1)  # fmt: skip
    kind = rng.randrange(10)
    if kind == 0:
        d.bearing_deg = rng.choice([NAN, INF, -INF, 1e9, -720.0])
    elif kind == 1:
        d.distance_m = rng.choice([INF, -INF, -1.0, 0.0, 1e12])
    elif kind == 2:
        d.score = rng.choice([NAN, 5.0, -0.5])
    elif kind == 3:
        d.class_name = rng.choice(["", "x" * 10_000, "car\x07truck", "\n\t"])
    elif kind == 4:
        d.distance_source = rng.choice([7, 200, 255])  # 4 and 5 are issue 28's bounds, 6 Gen 2's stereo
    elif kind == 5:
        d.x_min = rng.choice([NAN, INF])
    elif kind == 6:
        d.bearing_deg, d.distance_m = NAN, NAN
    elif kind == 7:
        d.score, d.class_name = INF, "💥" * 100  # too long a name, and an infinite score
    elif kind == 8:
        d.distance_m, d.bearing_deg = -INF, 1e30
    else:
        d.y_max = -INF
    return d


def hostile_detections(rng: random.Random, i: int, camera: str, stamp: Time) -> tuple[DetectionArray, int]:
    """A DetectionArray refused whole (returns 0) or made only of impossible detections (returns their number)."""
    msg = DetectionArray(camera=camera, image_width=640, image_height=480)
    msg.header.stamp = stamp
    kind = rng.randrange(6)
    if kind == 0:
        msg.camera = rng.choice(["", "rgb ", "slam_middle", "z" * 5000])
    elif kind == 1:
        msg.detections = [Detection(class_name="person", score=0.9, distance_m=2.0, bearing_deg=0.0)] * 300
    elif kind == 2:
        msg.header.stamp = Time(sec=rng.choice([2**31 - 1, -5, 0]), nanosec=0)  # far from any clock
    elif kind == 3:
        msg.header.stamp = Time(sec=stamp.sec, nanosec=rng.choice([1_000_000_000, 4_000_000_000]))
    else:
        msg.detections = [_detection(rng) for _ in range(rng.randint(1, 4))]
        msg.image_width, msg.image_height = rng.choice([(0, 0), (2**32 - 1, 1), (640, 480)])
        msg.timings = [StageTiming(stage="s" * rng.randint(0, 3000), ms=rng.choice([NAN, -INF, 1.0]))]
        return msg, len(msg.detections)
    return msg, 0


def hostile_imu(rng: random.Random, i: int, stamp: Time) -> Imu:
    msg = Imu()
    msg.header.stamp = stamp
    kind = rng.randrange(4)
    a = msg.linear_acceleration
    if kind == 0:
        a.x = rng.choice([NAN, INF, -INF])
    elif kind == 1:
        a.z = rng.choice([1e9, -1e20])
    elif kind == 2:
        msg.header.stamp = Time(sec=rng.choice([2**31 - 1, -100]), nanosec=0)
    else:
        msg.header.stamp = Time(sec=stamp.sec, nanosec=2_000_000_000)
    return msg


def hostile_odometry(rng: random.Random, i: int, stamp: Time) -> Odometry:
    """For navigation's walking state: each with one thing wrong (the rest a valid head walking at 1 m/s)."""
    msg = Odometry()
    msg.header.stamp, msg.header.frame_id, msg.child_frame_id = stamp, "odom", "aria_head"
    msg.pose.pose.orientation.w = 1.0
    msg.twist.twist.linear.x = 1.0
    kind = rng.randrange(5)
    if kind == 0:
        msg.pose.pose.orientation.w = rng.choice([NAN, 0.0, 7.0])
    elif kind == 1:
        msg.twist.twist.linear.y = rng.choice([NAN, INF, 1e9])
    elif kind == 2:
        msg.child_frame_id = rng.choice(["odom", "", "x" * 5000])  # a twist not in the head frame
    elif kind == 3:
        msg.header.stamp = Time(sec=rng.choice([2**31 - 1, -100]), nanosec=0)
    else:
        msg.header.stamp = Time(sec=stamp.sec, nanosec=2_000_000_000)
    return msg


def hostile_hands(rng: random.Random, i: int, stamp: Time) -> PoseArray:
    """For perception's wearer's hands: not in the head frame, NaN, out of reach, or far too many points."""
    msg = PoseArray()
    msg.header.stamp, msg.header.frame_id = stamp, "aria_head"
    count = rng.choice([2, 4, 1000])
    msg.poses = [Pose() for _ in range(count)]
    for pose in msg.poses:
        pose.position.x, pose.position.z = 0.3, -0.3
    kind = rng.randrange(3) if count < 1000 else -1
    if kind == 0:
        msg.header.frame_id = rng.choice(["odom", "", "aria_rgb_optical"])
    elif kind == 1:
        msg.poses[0].position.y = rng.choice([NAN, INF])
    elif kind == 2:
        msg.poses[-1].position.x = rng.choice([5.0, -1e6])
    return msg


def hostile_cue(rng: random.Random, i: int) -> NavigationCue:
    """For the recorder, which keeps whatever arrives: absurd but well-formed CDR."""
    return NavigationCue(kind=rng.randint(0, 255), urgency=255, class_name="c" * rng.randint(0, 10_000), distance_m=NAN,
                         bearing_deg=INF, cameras=["?"] * rng.randint(0, 500), track_id=-(2**31))  # fmt: skip


def hostile_stereo_depth(rng: random.Random, i: int, stamp: Time) -> tuple[Image, bool]:
    """For rgb_perception's stereo depth (aria/stereo/depth, 480x400 by its camera_info): another encoding or size,
    a data length that is not its layout's (refused), or the right kind filled with NaN, infinities and negative
    depths (taken: unmatched pixels; none is a measurement). Returns the message and whether it must be refused."""
    msg = Image()
    msg.header.stamp, msg.header.frame_id = stamp, "aria_stereo_optical"
    w, h = 480, 400
    kind = rng.randrange(4)
    if kind == 1:
        w, h = rng.choice([(640, 480), (17, 3)])
    msg.encoding, msg.width, msg.height, msg.step = "32FC1", w, h, w * 4
    values = array.array("f", [rng.choice([NAN, INF, -INF, -1.0, 0.0]) for _ in range(w * h)])
    data = bytes(values)
    if kind == 0:
        msg.encoding = rng.choice(["16UC1", "mono8", "32FC3", ""])
    elif kind == 2:
        data = data[: -rng.randint(1, 999)]
    msg.data = data
    return msg, kind != 3
