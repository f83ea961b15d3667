"""Each custom message survives rclpy serialization field for field."""

import math
import random
import struct
from dataclasses import replace

import pytest
from rclpy.serialization import deserialize_message, serialize_message
from sensor_msgs.msg import Imu
from std_msgs.msg import Header

from aria_nav_ros.msg import Detection, DetectionArray, NavigationCue, StageTiming
from aria_nav_ros.ros.imu import imu_reading


def _detection(i: int) -> Detection:
    return Detection(
        class_id=i,
        class_name=f"person{i}",
        score=0.5 + i / 8,
        x_min=10.5 + i,
        y_min=20.25,
        x_max=300.0,
        y_max=1400.75,
        distance_m=2.5 * (i + 1),
        distance_source=Detection.DISTANCE_GROUND_PLANE,
        bearing_deg=-37.5,
        track_id=40 + i,
    )


def _round_trip(msg):
    data = serialize_message(msg)
    assert isinstance(data, bytes) and len(data) > 0
    return deserialize_message(data, type(msg))


def test_detection_round_trip() -> None:
    msg = _detection(3)
    assert _round_trip(msg) == msg


def test_detection_nan_distance_survives() -> None:
    msg = Detection(distance_m=float("nan"), distance_source=Detection.DISTANCE_UNKNOWN)
    back = _round_trip(msg)
    assert math.isnan(back.distance_m)
    assert back.distance_source == Detection.DISTANCE_UNKNOWN


def test_a_distance_bound_and_the_cut_edges_survive_and_convert_to_the_core() -> None:
    """Issue 28's fields: what a bound is (and from what), which edges cut the box, how much of the view it
    fills, and whether it is the wearer's own body, from the core's Detection to the message and back."""
    from aria_nav_ros.core.detection import DISTANCE_CLASS_WIDTH, DISTANCE_GROUND_EDGE, EDGE_BOTTOM, EDGE_RIGHT
    from aria_nav_ros.core.detection import Detection as CoreDetection
    from aria_nav_ros.ros.detections import detection_from_msg, detection_msg

    core = CoreDetection(0, "person", 0.75, (600.0, 300.0, 1407.0, 1407.0), 1.25, DISTANCE_GROUND_EDGE, 12.5, 3,
                         True, EDGE_RIGHT | EDGE_BOTTOM, 0.5, False)  # fmt: skip
    msg = _round_trip(detection_msg(core))
    assert msg.distance_source == Detection.DISTANCE_GROUND_EDGE == DISTANCE_GROUND_EDGE
    assert Detection.DISTANCE_CLASS_WIDTH == DISTANCE_CLASS_WIDTH
    assert msg.distance_is_bound and msg.cut_edges == Detection.EDGE_RIGHT | Detection.EDGE_BOTTOM
    assert detection_from_msg(msg) == core
    body = detection_from_msg(_round_trip(detection_msg(replace(core, distance_m=float("nan"), wearer_body=True))))
    assert body.wearer_body and math.isnan(body.distance_m)


def test_detection_array_round_trip() -> None:
    header = Header(frame_id="aria_rgb_optical")
    header.stamp.sec, header.stamp.nanosec = 1_700_000_000, 123_456_789
    msg = DetectionArray(
        header=header,
        camera="rgb",
        image_width=1408,
        image_height=1408,
        detections=[_detection(i) for i in range(5)],
        timings=[StageTiming(stage="detect", ms=1.25), StageTiming(stage="depth", ms=1.75)],
    )
    back = _round_trip(msg)
    assert back == msg
    assert [d.track_id for d in back.detections] == [40, 41, 42, 43, 44]
    assert back.header.stamp.nanosec == 123_456_789


def test_navigation_cue_round_trip() -> None:
    msg = NavigationCue(
        kind=NavigationCue.KIND_HAZARD,
        urgency=NavigationCue.URGENCY_CRITICAL,
        class_name="car",
        distance_m=3.0,
        bearing_deg=-60.0,
        zone="left",
        cameras=["rgb", "slam_left"],
        track_id=7,
        text="Coche a la izquierda, a tres metros",
    )
    back = _round_trip(msg)
    assert back == msg
    assert back.cameras == ["rgb", "slam_left"]
    assert back.text.endswith("tres metros")
    assert NavigationCue.URGENCY_INFO < NavigationCue.URGENCY_WARNING < NavigationCue.URGENCY_CRITICAL


def test_imu_reading_matches_rclpy_for_every_frame_id_length_and_value() -> None:
    """Navigation reads the IMU's stamp and acceleration from the serialized bytes (ros/imu.py): the same as
    rclpy's conversion, whatever the frame_id's length does to the alignment, NaN and infinities included."""
    rng = random.Random(7)
    specials = [math.nan, math.inf, -math.inf, -0.0, 5e-324, 1e308]
    for i in range(400):
        msg = Imu()
        msg.header.stamp.sec, msg.header.stamp.nanosec = rng.randint(-(2**31), 2**31 - 1), rng.randint(0, 2**32 - 1)
        msg.header.frame_id = "x" * (i % 23)
        msg.orientation.w = rng.uniform(-1, 1)
        msg.angular_velocity.z = rng.uniform(-10, 10)
        msg.orientation_covariance[4] = msg.linear_acceleration_covariance[0] = rng.uniform(-1, 1)
        a = msg.linear_acceleration
        a.x, a.y, a.z = (rng.choice(specials) if rng.random() < 0.1 else rng.uniform(-200, 200) for _ in range(3))
        reading = imu_reading(serialize_message(msg))
        want = deserialize_message(serialize_message(msg), Imu)
        assert (reading.sec, reading.nanosec) == (want.header.stamp.sec, want.header.stamp.nanosec)
        got, expected = reading.acceleration, (want.linear_acceleration.x, want.linear_acceleration.y,
                                               want.linear_acceleration.z)  # fmt: skip
        assert all(g == e or (math.isnan(g) and math.isnan(e)) for g, e in zip(got, expected, strict=True)), (i, got)
    with pytest.raises(Exception, match="deserialize"):  # cut short: rclpy's own error, which navigation logs
        imu_reading(serialize_message(Imu())[:40])


def test_imu_reading_of_another_encoding_goes_through_rclpy() -> None:
    """Big-endian classic CDR (the encapsulation 00 00) is not the fast path's: rclpy converts it, the same
    stamp and acceleration come out."""
    frame_id = b"imu_right\0"
    body = struct.pack(">iII", 12, 34, len(frame_id)) + frame_id
    body += b"\0" * (-len(body) % 8)  # doubles aligned to 8 from the end of the encapsulation
    body += struct.pack(">25d", *([0.0] * 3 + [1.0] + [0.0] * 21))  # orientation (w = 1), covariances, gyro
    body += struct.pack(">3d", 1.5, -2.5, 9.75) + struct.pack(">9d", *([0.0] * 9))
    raw = b"\x00\x00\x00\x00" + body
    want = deserialize_message(raw, Imu)
    assert (want.linear_acceleration.x, want.header.stamp.nanosec) == (1.5, 34)  # rclpy reads it as made
    assert imu_reading(raw) == (12, 34, (1.5, -2.5, 9.75))
