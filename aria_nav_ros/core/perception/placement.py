"""Where a detector's boxes are: from the camera's lens (CameraInfo), its mounting on the head (/tf_static), the
head's height and tilt (live settings), the wearer's tracked hands (Aria Gen 2) and, where a trusted depth model
runs, the floor its map sees (core.floor_depth: metric depth, and the obstacle in the walking corridor); on Aria
Gen 2, the RGB camera's boxes also get the front stereo pair's metric depth (core.perception.stereo_range).

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
from aria_nav_ros.core.cameras import NOMINAL_HFOV_DEG, RGB, optical_frame
from aria_nav_ros.core.detection import DISTANCE_UNKNOWN, Detection, RawDetection
from aria_nav_ros.core.floor_depth import FloorFit, fit_floor, locate_with_floor
from aria_nav_ros.core.geometry import AHEAD, GeometryConfig, why_no_distance
from aria_nav_ros.core.hands import Hands, in_image, mark_wearer_hands, nearest
from aria_nav_ros.core.image import MAX_SIDE
from aria_nav_ros.core.mounting import HEAD_FRAME, NOMINAL_ARIA, Mount
from aria_nav_ros.core.perception.stereo_range import StereoFrame, stereo_estimates
from aria_nav_ros.core.perception.stereo_range import nearest as nearest_stereo

MAX_HAND_POINTS = 8  # two hands, a few points each
MAX_HAND_REACH_M = 1.5  # a tracked hand farther from the head is not the wearer's
HAND_SAMPLES = 32  # a second of Gen 2's 30 Hz samples
STEREO_FRAMES = 4  # the newest stereo depth images (a few frames' worth: the pair's matching lags the RGB frame)


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


def stereo_depth_problem(encoding: str, width: int, height: int, view: CameraModel) -> str:
    """Why a stereo depth image is refused ("" if it is not): REP 118 metres (32FC1) of the size its camera_info
    says (`view`: the last one that passed)."""
    if encoding != "32FC1":
        return f"encoding {encoding[:32]!r}: stereo depth is 32FC1 metres (REP 118)"
    if (width, height) != (view.width, view.height):
        return f"{width}x{height}, its camera_info says {view.width}x{view.height}"
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
        # The floor's fit of the last fresh depth map, and what it was fitted for (lens, mounting, head): the frames
        # between depth runs (depth_every) sample that same map, so its fit still makes them metric.
        self._floor: tuple[tuple, FloorFit | None] | None = None
        # The front pair's metric depth (Aria Gen 2, RGB camera only), newest last, and its view's lens
        # (aria/stereo/camera_info): looked up by a frame's stamp, as the hands are.
        self.stereo: deque[StereoFrame] = deque(maxlen=STEREO_FRAMES)
        self.stereo_model: CameraModel | None = None
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
        depth_map: np.ndarray | None = None,
    ) -> Placed:
        """Distances and bearings of a frame's boxes; a guessed lens gives none (it could raise a false alarm).
        `depth_map`: the depth model's relative inverse depth over the whole frame, when it ran on this frame."""
        geometry = self.geometry
        if not depth_trusted:
            raw = [replace(d, inverse_depth=math.nan) for d in raw]
        mount = self.mounts.get(frame_id)
        nominal = mount is None
        if nominal:
            mount = NOMINAL_ARIA.get(optical_frame(self.camera), AHEAD)
        floor = self._floor_fit(depth_map, camera, mount, geometry) if depth_trusted and not guessed else None
        fresh = depth_map if floor is not None and depth_map is not None else None  # (None: no fit to try again)
        more = self._stereo(raw, camera, mount, geometry.pitch_deg, stamp_ns) if not guessed else []
        hands = nearest(list(self.hands), stamp_ns) if not guessed else None
        tracked = hands.points if hands is not None else None  # the wearer's hands: no corridor obstacle
        detections = locate_with_floor(raw, camera, geometry, mount, fresh, fit=floor, more=more, hands=tracked)
        marked = 0
        if hands is not None:  # (a guessed lens could put a hand on someone else: then the geometry alone judges)
            before = sum(d.wearer_body for d in detections)
            detections = mark_wearer_hands(
                detections, in_image(hands, camera, mount), geometry.wearer_body_classes, geometry.class_aliases
            )
            marked = sum(d.wearer_body for d in detections) - before
        said = []
        # Not strict: an obstacle the depth map found follows the boxes (and has a distance).
        for det, located in zip(raw, detections, strict=False):
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

    def _floor_fit(
        self, depth_map: np.ndarray | None, camera: CameraModel, mount: Mount, geometry: GeometryConfig
    ) -> FloorFit | None:
        """The floor's fit of this frame's map, or of the last map fitted for the same lens, mounting and head."""
        key = (camera, mount.rotation.tobytes(), mount.translation, geometry.eye_height_m, geometry.pitch_deg)
        if depth_map is not None:
            self._floor = (key, fit_floor(depth_map, camera, geometry, mount))
        kept = self._floor
        return kept[1] if kept is not None and kept[0] == key else None

    def _stereo(
        self, raw: list[RawDetection], camera: CameraModel, mount: Mount, pitch_deg: float, stamp_ns: int
    ) -> list:
        """The stereo measurement of each box, where the RGB camera has stereo depth near the frame's time whose
        view is on /tf_static; empty where it has none (Gen 1, the other cameras)."""
        frame = nearest_stereo(list(self.stereo), stamp_ns) if self.camera == RGB and raw else None
        stereo_mount = self.mounts.get(frame.frame_id) if frame is not None else None
        if stereo_mount is None:
            return []
        age = frame.stamp_ns - stamp_ns
        return stereo_estimates([d.box for d in raw], camera, mount, pitch_deg, frame, stereo_mount, age)
