"""Annotated images name classes as people know them (the fall checkpoint's "Normal" is a person)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from aria_nav_ros.core.annotate import annotate, label
from aria_nav_ros.core.detection import DISTANCE_UNKNOWN, Detection

ALIASES = {"Normal": "person", "Fall": "person"}


def detection(name: str, distance_m: float) -> Detection:
    return Detection(0, name, 0.9, (10.0, 20.0, 60.0, 90.0), distance_m, DISTANCE_UNKNOWN, -12.4)


def test_labels_use_the_alias_and_say_distance_only_when_known() -> None:
    assert label(detection("Normal", 2.34), ALIASES) == "person 2.3 m -12 deg"
    assert label(detection("Normal", math.nan), ALIASES) == "person -12 deg"
    assert label(detection("car", 8.0), ALIASES) == "car 8.0 m -12 deg"  # no alias: the model's name


def test_annotation_draws_a_box_on_a_copy() -> None:
    grey = np.zeros((120, 160), np.uint8)
    image = annotate(grey, [detection("Normal", 2.0)], ALIASES)
    assert image.shape == (120, 160, 3) and image[20, 35].any() and not grey.any()


class Publisher:
    def __init__(self, readers: int) -> None:
        self.readers, self.sent = readers, []

    def get_subscription_count(self) -> int:
        return self.readers

    def publish(self, msg: object) -> None:
        self.sent.append(msg)


class Node:
    """The one method Visualisation uses of a lifecycle node: publishers with a fixed number of readers."""

    def __init__(self, readers: dict[str, int]) -> None:
        self.readers, self.publishers = readers, {}

    def create_lifecycle_publisher(self, kind: type, topic: str, qos: object) -> Publisher:
        self.publishers[topic] = Publisher(self.readers.get(topic, 0))
        return self.publishers[topic]


def test_nothing_is_drawn_or_built_without_readers(monkeypatch) -> None:
    """The worker's frame draws no image and builds no marker for topics nobody reads; with readers, each gets its
    own: the rgb8 image, the same as JPEG, the markers."""
    from std_msgs.msg import Header

    from aria_nav_ros.ros import visualisation

    frame = np.zeros((120, 160, 3), np.uint8)
    dets = [detection("Normal", 2.0)]
    idle = visualisation.Visualisation(Node({}), "rgb", 80)
    monkeypatch.setattr(visualisation, "annotate", lambda *a: pytest.fail("drawn for nobody"))
    monkeypatch.setattr(visualisation, "markers", lambda *a: pytest.fail("markers built for nobody"))
    idle.publish(Header(frame_id="aria_rgb_optical"), frame, dets, ALIASES, 1.6)
    monkeypatch.undo()

    node = Node({"aria/rgb/annotated": 1, "aria/rgb/annotated/compressed": 1, "aria/rgb/markers": 1})
    watched = visualisation.Visualisation(node, "rgb", 80)
    watched.publish(Header(frame_id="aria_rgb_optical"), frame, dets, ALIASES, 1.6)
    sent = {topic: p.sent for topic, p in node.publishers.items()}
    assert [len(msgs) for msgs in sent.values()] == [1, 1, 1], sent.keys()
    image, jpeg, marks = (msgs[0] for msgs in sent.values())
    assert (image.encoding, image.width, image.height) == ("rgb8", 160, 120)
    assert "jpeg" in jpeg.format and bytes(jpeg.data[:2]) == b"\xff\xd8"
    assert any(m.text.startswith("Normal 2.0 m") for m in marks.markers)
