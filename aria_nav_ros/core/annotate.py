"""Drawing detections onto a frame, for people watching (rqt_image_view)."""

from __future__ import annotations

import math

import cv2
import numpy as np

from aria_nav_ros.core.detection import Detection

COLOUR = (255, 200, 0)  # RGB


def annotate(pixels: np.ndarray, detections: list[Detection], aliases: dict[str, str] | None = None) -> np.ndarray:
    """An RGB copy of `pixels` with a box and 'class 2.3 m' per detection.

    `aliases` names the model's classes as people know them (the fall checkpoint's "Normal" is a person).
    """
    aliases = aliases or {}
    image = cv2.cvtColor(pixels, cv2.COLOR_GRAY2RGB) if pixels.ndim == 2 else pixels.copy()
    thickness = max(2, image.shape[1] // 400)
    scale = max(0.5, image.shape[1] / 1400)
    for det in detections:
        x1, y1, x2, y2 = (int(round(v)) for v in det.box)
        cv2.rectangle(image, (x1, y1), (x2, y2), COLOUR, thickness)
        cv2.putText(
            image, label(det, aliases), (x1, max(0, y1 - 6)), cv2.FONT_HERSHEY_SIMPLEX, scale, COLOUR, thickness
        )
    return image


def label(det: Detection, aliases: dict[str, str]) -> str:
    """'person 2.3 m -12 deg': the class as people know it, distance when known, bearing."""
    distance = f" {det.distance_m:.1f} m" if not math.isnan(det.distance_m) else ""
    return f"{aliases.get(det.class_name, det.class_name)}{distance} {det.bearing_deg:+.0f} deg"
