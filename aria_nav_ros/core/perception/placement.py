"""Where a detector's boxes are: from the camera's lens (CameraInfo), its mounting on the head (/tf_static), the
head's height and tilt (live settings) and the wearer's tracked hands (Aria Gen 2).

ROS-free: the node hands over what arrives (checked here first) and says what this reports: a camera without
its lens model or mounting is guessed at, counted and said; a box whose distance is missing is said once per
reason.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, replace

import numpy as np

from aria_nav_ros.core.camera_model import CameraModel
from aria_nav_ros.core.cameras import NOMINAL_HFOV_DEG, optical_frame
from aria_nav_ros.core.detection import DISTANCE_UNKNOWN, Detection, RawDetection
from aria_nav_ros.core.geometry import AHEAD, GeometryConfig, locate, why_no_distance
from aria_nav_ros.core.hands import Hands, in_image, mark_wearer_hands, nearest
from aria_nav_ros.core.image import MAX_SIDE
from aria_nav_ros.core.mounting import HEAD_FRAME, NOMINAL_ARIA, Mount

MAX_HAND_POINTS = 8  # two hands, a few points each
MAX_HAND_REACH_M = 1.5  # a tracked hand farther from the head is not the wearer's
HAND_SAMPLES = 32  # a second of Gen 2's 30 Hz samples


def intrinsics_problem(k: list[float], d: list[float], width: int, height: int) -> str:
    """Why a CameraInfo's size, K and D are refused ("" if they are not)."""
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        return f"size {width}x{height}"
    if not all(math.isfinite(v) for v in (*k, *d)):
        return "K or D holds NaN or infinity"
    # A crop of a wider picture (a stand-in SLAM view: its half) has its principal point at or past its edge.
    if not (k[0] > 0 and k[4] > 0 and -width <= k[2] <= 2 * width and -height <= k[5] <= 2 * height):
        return f"fx {k[0]}, fy {k[4]} must be > 0, cx {k[2]}, cy {k[5]} within an image size of it"
    return ""


def hands_problem(frame_id: str, points: np.ndarray) -> str:
    """Why a hand-tracking sample is refused ("" if it is not)."""
    if frame_id.lstrip("/") != HEAD_FRAME:
        return f"in {frame_id[:64]!r}, not the head frame {HEAD_FRAME!r}"
    if len(points) > MAX_HAND_POINTS or not np.all(np.abs(points) <= MAX_HAND_REACH_M):  # also refuses NaN
        return f"{len(points)} points, not within {MAX_HAND_REACH_M} m of the head"
    return ""


@dataclass(frozen=True)
class Placed:
    detections: list[Detection]
    nominal_mount: bool  # no /tf_static for the frame: Aria Gen 1's nominal mounting
    wearer_hands: int  # person boxes the hand tracking marked as the wearer's
    no_distance: list[str]  # why boxes have no distance, each reason the first time only


class Placement:
    def __init__(self, camera: str, geometry: GeometryConfig) -> None:
        self.camera = camera
        self.geometry = geometry  # replaced whole on a live change: a frame reads it once
        self.model: CameraModel | None = None  # from the newest CameraInfo that passed its checks
        self.mounts: dict[str, Mount] = {}  # optical frame -> where it sits on the head (/tf_static)
        # The device's hand tracking, newest last: looked up by a frame's stamp once its detections are out of the
        # model, by when the sample of the frame's time has come.
        self.hands: deque[Hands] = deque(maxlen=HAND_SAMPLES)
        self._no_distance_said: set[str] = set()

    def set_geometry(self, name: str, value: object) -> str:
        """A live setting of the head (eye_height_m, pitch_deg)."""
        self.geometry = replace(self.geometry, **{name: float(value)})
        return ""

    def camera_for(self, width: int, height: int) -> tuple[CameraModel, bool]:
        """The lens model for a frame of this size, and whether it is guessed (no matching CameraInfo: a nominal
        field of view, whose distances the caller must not trust)."""
        model = self.model
        if model is not None and (model.width, model.height) == (width, height):
            return model, False
        return CameraModel.from_fov(width, height, NOMINAL_HFOV_DEG[self.camera]), True

    def place(
        self,
        raw: list[RawDetection],
        camera: CameraModel,
        guessed: bool,
        frame_id: str,
        stamp_ns: int,
        depth_trusted: bool,
    ) -> Placed:
        """Distances and bearings of a frame's boxes; a guessed lens gives none (it could raise a false alarm)."""
        geometry = self.geometry
        if not depth_trusted:
            raw = [replace(d, inverse_depth=math.nan) for d in raw]
        mount = self.mounts.get(frame_id)
        nominal = mount is None
        if nominal:
            mount = NOMINAL_ARIA.get(optical_frame(self.camera), AHEAD)
        detections = locate(raw, camera, geometry, mount)
        hands = nearest(list(self.hands), stamp_ns) if not guessed else None
        marked = 0
        if hands is not None:  # (a guessed lens could put a hand on someone else: then the geometry alone judges)
            before = sum(d.wearer_body for d in detections)
            detections = mark_wearer_hands(
                detections, in_image(hands, camera, mount), geometry.wearer_body_classes, geometry.class_aliases
            )
            marked = sum(d.wearer_body for d in detections) - before
        said = []
        for det, located in zip(raw, detections, strict=True):
            if math.isnan(located.distance_m):
                why = why_no_distance(det, camera, geometry, located.wearer_body)
                if why not in self._no_distance_said:
                    self._no_distance_said.add(why)
                    said.append(why)
        if guessed:
            detections = [
                replace(
                    d,
                    distance_m=math.nan,
                    distance_source=DISTANCE_UNKNOWN,
                    distance_is_bound=False,
                    distance_spread_m=math.nan,
                    distance_sources=0,
                )
                for d in detections
            ]
        return Placed(detections, nominal, marked, said)
