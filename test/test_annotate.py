"""Annotated images name classes as people know them (the fall checkpoint's "Normal" is a person)."""

from __future__ import annotations

import math

import numpy as np

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
