"""How a distance was found travels with it: the spread and the sources of msg/Detection, both ways, and in
RViz's label (issue 28 item 2). Built messages, no graph."""

from __future__ import annotations

import math

from aria_nav_ros.core.detection import (
    DISTANCE_CLASS_SIZE,
    DISTANCE_GROUND_EDGE,
    DISTANCE_GROUND_PLANE,
    DISTANCE_STEREO,
    Detection,
    detection_problem,
    source_bits,
)
from aria_nav_ros.msg import Detection as DetectionMsg
from aria_nav_ros.ros.detections import detection_from_msg, detection_msg, spread_label

MEASURED = Detection(
    0,
    "person",
    0.9,
    (1.0, 2.0, 3.0, 4.0),
    3.25,
    DISTANCE_GROUND_PLANE,
    5.0,
    distance_spread_m=0.25,
    distance_sources=source_bits(DISTANCE_CLASS_SIZE, DISTANCE_GROUND_PLANE),
)
BOUND = Detection(
    0,
    "person",
    0.9,
    (1.0, 2.0, 3.0, 4.0),
    1.5,
    DISTANCE_GROUND_EDGE,
    5.0,
    distance_is_bound=True,
    distance_sources=source_bits(DISTANCE_CLASS_SIZE, DISTANCE_GROUND_EDGE),
)


def test_spread_and_sources_go_through_the_message_both_ways() -> None:
    msg = detection_msg(MEASURED)
    assert msg.distance_sources == 0b110 and abs(msg.distance_spread_m - 0.25) < 1e-6
    assert detection_from_msg(msg) == MEASURED
    back = detection_from_msg(detection_msg(BOUND))  # a bound has no spread: NaN
    assert math.isnan(back.distance_spread_m) and back.distance_sources == BOUND.distance_sources


def test_a_publisher_that_names_no_source_gives_no_spread() -> None:
    """A message's float default is 0: without sources (an older publisher, a hand-made message) it is no spread."""
    msg = DetectionMsg(class_name="person", score=0.9, distance_m=2.0, bearing_deg=0.0)
    assert math.isnan(detection_from_msg(msg).distance_spread_m)


def test_impossible_spreads_and_sources_are_refused() -> None:
    from dataclasses import replace

    assert detection_problem(MEASURED) == "" and detection_problem(BOUND) == ""
    assert "spread" in detection_problem(replace(MEASURED, distance_spread_m=-1.0))
    assert "sources" in detection_problem(replace(MEASURED, distance_sources=1))  # bit 0: DISTANCE_UNKNOWN
    assert "sources" in detection_problem(replace(MEASURED, distance_sources=128))


def test_rviz_label_says_how_far_and_how_sure() -> None:
    assert spread_label(MEASURED) == "3.2 +- 0.2 m"
    assert spread_label(BOUND) == "< 1.5 m"


def test_stereo_is_a_source_of_its_own_in_the_message_and_its_bit_is_accepted() -> None:
    """Gen 2's front pair (DISTANCE_STEREO): the message's constant is the core's, and a detection measured by it
    goes through the message both ways and is accepted where it arrives."""
    from dataclasses import replace

    assert DetectionMsg.DISTANCE_STEREO == DISTANCE_STEREO == 6
    stereo = replace(
        MEASURED,
        distance_source=DISTANCE_STEREO,
        distance_sources=source_bits(DISTANCE_CLASS_SIZE, DISTANCE_STEREO),
    )
    msg = detection_msg(stereo)
    assert msg.distance_sources == 0b1000010 and detection_from_msg(msg) == stereo
    assert detection_problem(stereo) == ""
