"""The embedded sample: an Aria-like walk made from real photos, written as a rosbag2 (MCAP).

Nothing of it is committed: `scripts/setup.sh` builds it from the photos the
machine's packages ship (`python -m aria_nav_ros.core.sample OUT`). The walk
is a few scenes, each one photo: zooming into the photo over the scene stands
for walking towards the people in it (the zoom follows 1 / remaining
distance, as a real approach does), a constant zoom for standing still. The
IMU says walking (a 1.9 Hz step rhythm) or standing (gravity and a little
noise). Every byte follows from the photos and the constants here, so two
builds give the same messages.

Topics, as `aria_driver` publishes them: upright RGB (704x704 rgb8, Aria's
binned RGB size), two SLAM views (640x480 mono8: the photo's left and right
halves, upright, standing in for the peripheral cameras), CameraInfo for
each, /aria/imu at 200 Hz and /tf_static (where each view looks: `mounts`).
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from aria_nav_ros.core.bag_types import typestore
from aria_nav_ros.core.bag_writer import BagWriter
from aria_nav_ros.core.camera_model import CameraModel
from aria_nav_ros.core.cameras import (
    IMU_FRAME,
    IMU_TOPIC,
    PICTURE_HFOV_DEG,
    RGB,
    SLAM_LEFT,
    SLAM_RIGHT,
    TF_STATIC_TOPIC,
    camera_info_topic,
    image_topic,
    optical_frame,
)
from aria_nav_ros.core.mounting import HEAD_FRAME, Mount, looking
from aria_nav_ros.core.photos import DARKNET_DATA, ultralytics_assets

RGB_SIZE = 704
SLAM_SIZE = (640, 480)  # width, height
FPS = 10.0  # every camera; Aria's 10 Hz profiles
IMU_HZ = 200.0
WALK_SPEED_MPS = 1.2
STEP_HZ = 1.9
START_NS = 1_700_000_000_000_000_000  # a fixed start: the same stamps in every build


@dataclass(frozen=True)
class Scene:
    photo: str  # a file name from ultralytics' assets or darknet's data
    seconds: float
    walking: bool
    start_m: float  # distance to the people when the scene starts
    focus: tuple[float, float]  # where the wearer heads, as fractions of the photo's square crop


WALK = (
    Scene("kite.jpg", 3.0, True, 12.0, (0.5, 0.55)),  # a beach, people far ahead
    Scene("bus.jpg", 3.0, True, 6.0, (0.45, 0.6)),  # people by a bus, walking towards them
    Scene("zidane.jpg", 2.0, True, 4.0, (0.5, 0.5)),  # two men, close and getting closer
    Scene("person.jpg", 2.0, False, 3.0, (0.5, 0.5)),  # standing by a woman with her dog
)


def photo_path(name: str) -> Path:
    assets = ultralytics_assets()
    for folder in ([assets] if assets else []) + [DARKNET_DATA]:
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"photo {name} not found: install ultralytics (pip) and darknet (apt); setup.sh does")


def zoom_at(scene: Scene, t: float) -> float:
    """How much bigger things look after t seconds of the scene: start distance / distance now."""
    if not scene.walking:
        return 1.0
    return scene.start_m / max(scene.start_m - WALK_SPEED_MPS * t, 0.5)


def crop_zoom(image: np.ndarray, zoom: float, focus: tuple[float, float], size: tuple[int, int]) -> np.ndarray:
    """The part of `image` a camera `zoom` times closer sees, centred near `focus`, resized to `size`."""
    h, w = image.shape[:2]
    aspect = size[0] / size[1]
    cw = min(w, h * aspect) / zoom
    ch = cw / aspect
    cx = min(max(focus[0] * w, cw / 2), w - cw / 2)
    cy = min(max(focus[1] * h, ch / 2), h - ch / 2)
    # An affine warp keeps sub-pixel steps smooth from frame to frame (a crop would jump by whole pixels).
    scale = size[0] / cw
    warp = np.array([[scale, 0.0, size[0] / 2 - scale * cx], [0.0, scale, size[1] / 2 - scale * cy]])
    return cv2.warpAffine(image, warp, size, flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT)


@dataclass(frozen=True)
class SampleFrame:
    camera: str
    t_ns: int
    pixels: np.ndarray
    encoding: str


PERIOD_NS = int(1e9 / FPS)


def scene_starts(walk: tuple[Scene, ...]) -> Iterator[tuple[Scene, int]]:
    """Each scene with the time it starts: scenes follow each other, a whole number of frames long."""
    t0_ns = START_NS
    for scene in walk:
        yield scene, t0_ns
        t0_ns += round(scene.seconds * FPS) * PERIOD_NS


def walk_frames(walk: tuple[Scene, ...] = WALK) -> Iterator[SampleFrame]:
    """Every camera frame of the walk, in time order."""
    for scene, t0_ns in scene_starts(walk):
        bgr = cv2.imread(str(photo_path(scene.photo)))
        if bgr is None:
            raise ValueError(f"photo {scene.photo} cannot be decoded")
        side = min(bgr.shape[:2])
        top, left = (bgr.shape[0] - side) // 2, (bgr.shape[1] - side) // 2
        square = cv2.cvtColor(bgr[top : top + side, left : left + side], cv2.COLOR_BGR2RGB)
        grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        half = grey.shape[1] // 2
        for k in range(round(scene.seconds * FPS)):
            t = k / FPS
            zoom = zoom_at(scene, t)
            t_ns = t0_ns + k * PERIOD_NS
            yield SampleFrame(RGB, t_ns, crop_zoom(square, zoom, scene.focus, (RGB_SIZE, RGB_SIZE)), "rgb8")
            # The SLAM cameras see wider: the same approach magnifies their view less.
            slam_zoom = math.sqrt(zoom)
            for camera, part in ((SLAM_LEFT, grey[:, :half]), (SLAM_RIGHT, grey[:, half:])):
                yield SampleFrame(camera, t_ns, crop_zoom(part, slam_zoom, (0.5, 0.5), SLAM_SIZE), "mono8")


def walk_imu(walk: tuple[Scene, ...] = WALK) -> Iterator[tuple[int, tuple[float, float, float]]]:
    """(time, acceleration in m/s^2, gravity included) at IMU_HZ: a step rhythm while walking."""
    rng = np.random.default_rng(20261122)
    for scene, t0_ns in scene_starts(walk):
        for k in range(round(scene.seconds * IMU_HZ)):
            t = k / IMU_HZ
            noise = rng.normal(0.0, 0.03, 3)
            if scene.walking:
                phase = 2 * math.pi * STEP_HZ * t
                accel = (0.8 * math.sin(phase + 0.6), 0.5 * math.sin(phase / 2), 9.81 + 1.8 * math.sin(phase))
            else:
                accel = (0.0, 0.0, 9.81)
            yield t0_ns + round(k * 1e9 / IMU_HZ), tuple(float(a + n) for a, n in zip(accel, noise, strict=True))


def calibration() -> dict[str, CameraModel]:
    return {
        RGB: CameraModel.from_fov(RGB_SIZE, RGB_SIZE, PICTURE_HFOV_DEG),
        SLAM_LEFT: CameraModel.from_fov(*SLAM_SIZE, PICTURE_HFOV_DEG / 2),
        SLAM_RIGHT: CameraModel.from_fov(*SLAM_SIZE, PICTURE_HFOV_DEG / 2),
    }


def mounts() -> dict[str, Mount]:
    """Recorded on /tf_static: the RGB view looks ahead; each SLAM view, half of the photo, looks at its half's
    centre (a quarter of the field of view out); the IMU (gravity on +z) is level with the head."""
    return {
        optical_frame(RGB): looking(0.0),
        optical_frame(SLAM_LEFT): looking(-PICTURE_HFOV_DEG / 4),
        optical_frame(SLAM_RIGHT): looking(PICTURE_HFOV_DEG / 4),
        IMU_FRAME: Mount(np.eye(3)),
    }


class _Messages:
    """Serialized ROS 2 messages for the sample, built with the rosbags typestore (no ROS needed)."""

    def __init__(self) -> None:
        self.store = typestore()
        self.types = self.store.types

    def header(self, t_ns: int, frame: str) -> object:
        sec, nanosec = divmod(t_ns, 1_000_000_000)
        return self.types["std_msgs/msg/Header"](
            stamp=self.types["builtin_interfaces/msg/Time"](sec=sec, nanosec=nanosec), frame_id=frame
        )

    def image(self, frame: SampleFrame) -> bytes:
        pixels = np.ascontiguousarray(frame.pixels)
        channels = 1 if pixels.ndim == 2 else pixels.shape[2]
        msg = self.types["sensor_msgs/msg/Image"](
            header=self.header(frame.t_ns, optical_frame(frame.camera)),
            height=pixels.shape[0],
            width=pixels.shape[1],
            encoding=frame.encoding,
            is_bigendian=0,
            step=pixels.shape[1] * channels,
            data=pixels.reshape(-1),
        )
        return self.store.serialize_cdr(msg, "sensor_msgs/msg/Image")

    def camera_info(self, camera: str, t_ns: int, pin: CameraModel) -> bytes:
        msg = self.types["sensor_msgs/msg/CameraInfo"](
            header=self.header(t_ns, optical_frame(camera)),
            height=pin.height,
            width=pin.width,
            distortion_model="plumb_bob",
            d=np.zeros(5),
            k=np.array([pin.fx, 0, pin.cx, 0, pin.fy, pin.cy, 0, 0, 1], dtype=np.float64),
            r=np.eye(3).ravel(),
            p=np.array([pin.fx, 0, pin.cx, 0, 0, pin.fy, pin.cy, 0, 0, 0, 1, 0], dtype=np.float64),
            binning_x=0,
            binning_y=0,
            roi=self.types["sensor_msgs/msg/RegionOfInterest"](
                x_offset=0, y_offset=0, height=0, width=0, do_rectify=False
            ),
        )
        return self.store.serialize_cdr(msg, "sensor_msgs/msg/CameraInfo")

    def tf_static(self, t_ns: int, frames: dict[str, Mount]) -> bytes:
        types = self.types
        transforms = []
        for frame, mount in sorted(frames.items()):
            x, y, z, w = mount.quaternion()
            transforms.append(
                types["geometry_msgs/msg/TransformStamped"](
                    header=self.header(t_ns, HEAD_FRAME),
                    child_frame_id=frame,
                    transform=types["geometry_msgs/msg/Transform"](
                        translation=types["geometry_msgs/msg/Vector3"](*mount.translation),
                        rotation=types["geometry_msgs/msg/Quaternion"](x=x, y=y, z=z, w=w),
                    ),
                )
            )
        return self.store.serialize_cdr(
            types["tf2_msgs/msg/TFMessage"](transforms=transforms), "tf2_msgs/msg/TFMessage"
        )

    def imu(self, t_ns: int, accel: tuple[float, float, float]) -> bytes:
        vector = self.types["geometry_msgs/msg/Vector3"]
        msg = self.types["sensor_msgs/msg/Imu"](
            header=self.header(t_ns, IMU_FRAME),
            orientation=self.types["geometry_msgs/msg/Quaternion"](x=0.0, y=0.0, z=0.0, w=1.0),
            orientation_covariance=np.array([-1.0, 0, 0, 0, 0, 0, 0, 0, 0]),  # -1: no orientation estimate
            angular_velocity=vector(x=0.0, y=0.0, z=0.0),
            angular_velocity_covariance=np.zeros(9),
            linear_acceleration=vector(x=accel[0], y=accel[1], z=accel[2]),
            linear_acceleration_covariance=np.zeros(9),
        )
        return self.store.serialize_cdr(msg, "sensor_msgs/msg/Imu")


def write_sample(path: Path, walk: tuple[Scene, ...] = WALK) -> dict[str, int]:
    """Write the walk as a rosbag2 MCAP folder at `path` (replacing it); returns messages per topic."""
    if path.exists():
        shutil.rmtree(path)
    messages = _Messages()
    cams = calibration()
    writer = BagWriter(path)
    for camera in cams:
        writer.add_topic(f"/{image_topic(camera)}", "sensor_msgs/msg/Image")
        writer.add_topic(f"/{camera_info_topic(camera)}", "sensor_msgs/msg/CameraInfo")
    writer.add_topic(f"/{IMU_TOPIC}", "sensor_msgs/msg/Imu")
    writer.add_topic(f"/{TF_STATIC_TOPIC}", "tf2_msgs/msg/TFMessage")
    imu = list(walk_imu(walk))
    next_imu = 0
    try:
        writer.write(f"/{TF_STATIC_TOPIC}", START_NS, messages.tf_static(START_NS, mounts()))
        for frame in walk_frames(walk):
            while next_imu < len(imu) and imu[next_imu][0] <= frame.t_ns:
                t_ns, accel = imu[next_imu]
                writer.write(f"/{IMU_TOPIC}", t_ns, messages.imu(t_ns, accel))
                next_imu += 1
            info = messages.camera_info(frame.camera, frame.t_ns, cams[frame.camera])
            writer.write(f"/{camera_info_topic(frame.camera)}", frame.t_ns, info)
            writer.write(f"/{image_topic(frame.camera)}", frame.t_ns, messages.image(frame))
        for t_ns, accel in imu[next_imu:]:
            writer.write(f"/{IMU_TOPIC}", t_ns, messages.imu(t_ns, accel))
    finally:
        writer.close()
    return dict(writer.counts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the sample walk bag from the real photos.")
    parser.add_argument("path", type=Path, help="the bag folder to write (replaced if it exists)")
    args = parser.parse_args(argv)
    counts = write_sample(args.path)
    total = sum(counts.values())
    print(f"sample walk: {args.path} ({total} messages: " + ", ".join(f"{t} {n}" for t, n in counts.items()) + ")")
    return 0


if __name__ == "__main__":
    sys.exit(main())
