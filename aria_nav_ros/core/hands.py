"""The wearer's own hands from the device's hand tracking (Aria Gen 2), to tell them apart from other people.

Gen 2 recordings (and glasses) track both hands on the device: each sample gives, per hand, a confidence and the
wrist and palm positions in the device frame (projectaria-tools' HandTrackingResult). Projected into a camera, a
tracked hand shows where the wearer's own hand is in that image; a person box that holds it is the wearer's
hand and arm, whatever the geometry of the box says (Gen 2's RGB camera sees a raised hand as tall as a person
standing 1.8 m away, its forearm ending in the fisheye's dark corner instead of the lower edge). Hands are kept
in the head frame (core.mounting), as the cameras' mounts are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from aria_nav_ros.core.camera_model import CameraModel
from aria_nav_ros.core.detection import DISTANCE_UNKNOWN, Detection
from aria_nav_ros.core.mounting import Mount

HAND_TRACKING_LABEL = "handtracking"  # the recording's stream
MIN_CONFIDENCE = 0.5  # a hand tracked with less is not believed
MAX_AGE_NS = 50_000_000  # a sample this far from a frame still says where the hand is (a hand moves cm in 50 ms)


@dataclass(frozen=True)
class Hands:
    """One hand-tracking sample: the tracked hands' wrist and palm points (metres, head frame), (N, 3)."""

    device_time_ns: int
    points: np.ndarray


def hands_of(result: Any, head_from_device: np.ndarray, device_time_ns: int) -> Hands:
    """From a projectaria-tools HandTrackingResult: the wrist and palm of each hand tracked confidently."""
    points = []
    for hand in (result.left_hand, result.right_hand):
        if hand is not None and hand.confidence >= MIN_CONFIDENCE:
            points += [np.asarray(hand.get_wrist_position_device()), np.asarray(hand.get_palm_position_device())]
    device = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    return Hands(device_time_ns, device @ head_from_device[:3, :3].T + head_from_device[:3, 3])


def read_vrs_hands(path: str | Path) -> list[Hands]:
    """Every hand-tracking sample of an Aria VRS recording, in device time; empty where it has none."""
    from projectaria_tools.core import data_provider

    from aria_nav_ros.core.sources.aria_calibration import head_from_device_of

    provider = data_provider.create_vrs_data_provider(str(path))
    stream = provider.get_stream_id_from_label(HAND_TRACKING_LABEL) if provider is not None else None
    calibration = provider.get_device_calibration() if provider is not None else None
    if stream is None or calibration is None:
        return []
    head_from_device = head_from_device_of(calibration)
    samples = []
    for index in range(provider.get_num_data(stream)):
        result = provider.get_hand_pose_data_by_index(stream, index)
        t_ns = int(result.tracking_timestamp.total_seconds() * 1e9)
        samples.append(hands_of(result, head_from_device, t_ns))
    return samples


def nearest(samples: Sequence[Hands], device_time_ns: int, max_age_ns: int = MAX_AGE_NS) -> Hands | None:
    """The sample nearest a frame's time, or None where none is within `max_age_ns`."""
    best = min(samples, key=lambda s: abs(s.device_time_ns - device_time_ns), default=None)
    return best if best is not None and abs(best.device_time_ns - device_time_ns) <= max_age_ns else None


def in_image(hands: Hands, camera: CameraModel, mount: Mount) -> np.ndarray:
    """(M, 2) pixels of the hand points in front of the camera and inside its image."""
    optical = (hands.points - np.asarray(mount.translation)) @ mount.rotation  # head -> the camera's optical frame
    optical = optical[optical[:, 2] > 0.02]  # behind or at the lens: not seen
    if not len(optical):
        return np.zeros((0, 2))
    pixels = camera.project(optical)
    inside = (pixels[:, 0] >= 0) & (pixels[:, 0] < camera.width) & (pixels[:, 1] >= 0) & (pixels[:, 1] < camera.height)
    return pixels[inside]


def mark_wearer_hands(
    detections: Sequence[Detection], pixels: np.ndarray, classes: Sequence[str], aliases: dict[str, str]
) -> list[Detection]:
    """`detections` with every box of `classes` that holds a tracked wrist or palm marked as the wearer's body
    (no distance: nothing to measure)."""
    marked = []
    for det in detections:
        x1, y1, x2, y2 = det.box
        holds = bool(len(pixels)) and bool(
            np.any((pixels[:, 0] >= x1) & (pixels[:, 0] <= x2) & (pixels[:, 1] >= y1) & (pixels[:, 1] <= y2))
        )
        if holds and aliases.get(det.class_name, det.class_name) in classes and not det.wearer_body:
            det = replace(det, wearer_body=True, distance_m=float("nan"), distance_source=DISTANCE_UNKNOWN)
            det = replace(det, distance_is_bound=False, distance_spread_m=float("nan"), distance_sources=0)
        marked.append(det)
    return marked
