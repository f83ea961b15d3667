"""Frames, IMU, the device's own motion and calibration from an Aria VRS recording (projectaria-tools).

Either generation: which one it is comes from the recording's device calibration (aria_calibration.layout_of),
and with it the camera labels, the turn that makes frames upright (Gen 1: 90 degrees clockwise; Gen 2: none)
and, for Gen 2, the front pair of CV cameras (published besides the cameras asked for) and the on-device VIO
(`vio_high_frequency`: Motion items) and its hand tracking (`handtracking`: core.hands.Hands items).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from pathlib import Path

import numpy as np

from aria_nav_ros.core.camera_model import CameraModel
from aria_nav_ros.core.cameras import CAMERAS, FRONT_CAMERAS, RGB
from aria_nav_ros.core.hands import HAND_TRACKING_LABEL, hands_of
from aria_nav_ros.core.mounting import Mount
from aria_nav_ros.core.sources.aria_calibration import (
    ARIA_LABELS,
    GEN1,
    IMU_LABEL,
    QUARTER_TURNS,
    AriaLayout,
    aria_mounts,
    camera_models,
    head_from_device_of,
    layout_of,
)
from aria_nav_ros.core.sources.base import Frame, ImuSample, Item, SourceError
from aria_nav_ros.core.sources.motion import motion_of_vio
from aria_nav_ros.core.sources.recording import Recording
from aria_nav_ros.core.sources.upright import turn_upright

VIO_LABEL = "vio_high_frequency"  # Gen 2's on-device VIO at the IMU's rate, with velocity and gravity


class VrsSource(Recording):
    def __init__(
        self,
        path: str | Path,
        speed: float = 1.0,
        loop: bool = False,
        cameras: tuple[str, ...] = CAMERAS,
        upright: bool = True,
    ) -> None:
        super().__init__(f"VRS recording {path}", speed, loop)
        self.path = Path(path)
        self.upright = upright  # frames published upright (Gen 1's are turned; Gen 2's are recorded so)
        if not self.path.is_file():
            raise SourceError(f"VRS recording {self.path} does not exist")
        if self.path.stat().st_size == 0:
            raise SourceError(f"VRS recording {self.path} is empty")
        try:
            from projectaria_tools.core import data_provider
        except ImportError as error:
            raise SourceError(f"cannot read {self.path}: projectaria-tools is not installed") from error
        self.provider = data_provider.create_vrs_data_provider(str(self.path))
        if self.provider is None:
            raise SourceError(f"VRS recording {self.path} cannot be opened (corrupt, or not a VRS file)")
        self.device_calibration = self.provider.get_device_calibration()
        try:
            self.layout = self._layout()
        except ValueError as error:
            raise SourceError(f"VRS recording {self.path}: {error}") from error
        self.name = f"VRS recording {path} (Aria {self.layout.generation})"
        self.streams = {}
        # The front pair (Gen 2) is read by no detector: published besides the cameras asked for, where it exists.
        for camera in (*cameras, *(c for c in FRONT_CAMERAS if c not in cameras)):
            label = self.layout.labels.get(camera)
            stream = self.provider.get_stream_id_from_label(label) if label else None
            if stream is not None:
                self.streams[str(stream)] = (camera, stream)
        if not any(camera in cameras for camera, _ in self.streams.values()):
            raise SourceError(f"VRS recording {self.path} holds none of the cameras {list(cameras)}")
        self.cameras = tuple(camera for camera, _ in self.streams.values())
        self.imu_stream = self.provider.get_stream_id_from_label(IMU_LABEL)
        self.vio_stream = self.provider.get_stream_id_from_label(VIO_LABEL)
        self.hands_stream = self.provider.get_stream_id_from_label(HAND_TRACKING_LABEL)  # Gen 2: the wearer's hands

    def _layout(self) -> AriaLayout:
        if self.device_calibration is not None:
            return layout_of(self.device_calibration)
        # No calibration: the recording's device version still tells the generation; Gen 1's labels are all it has.
        version = self.provider.get_device_version().name
        if version != GEN1:
            raise ValueError(f"an Aria {version} recording without a device calibration")
        return AriaLayout(GEN1, dict(ARIA_LABELS), QUARTER_TURNS[GEN1])

    @property
    def hand_tracking(self) -> bool:
        """Whether the recording has the device's hand tracking (and the calibration to put it on the head)."""
        return self.hands_stream is not None and self.device_calibration is not None

    @property
    def roles(self) -> str:
        """Which sensor plays which camera role, and why (Gen 2: decided from the extrinsics); empty for Gen 1."""
        return self.layout.roles

    def calibration(self) -> dict[str, CameraModel]:
        return self._calibrated[0]

    def mounts(self) -> dict[str, Mount]:
        return self._calibrated[1]

    @cached_property
    def _calibrated(self) -> tuple[dict[str, CameraModel], dict[str, Mount]]:
        if self.device_calibration is None:
            return {}, {}
        return camera_models(self.device_calibration, self.upright), aria_mounts(self.device_calibration, self.upright)

    @cached_property
    def _head_from_device(self) -> np.ndarray | None:
        return head_from_device_of(self.device_calibration) if self.device_calibration is not None else None

    def items(self) -> Iterator[Item]:
        from projectaria_tools.core.sensor_data import SensorDataType, TimeDomain

        turns = self.layout.quarter_turns if self.upright else 0
        # The VIO gives the device's motion; the head's needs the calibration (where the CPF sits on the device).
        vio = self.vio_stream if self._head_from_device is not None else None
        hands = self.hands_stream if self._head_from_device is not None else None  # kept in the head frame too
        options = self.provider.get_default_deliver_queued_options()
        options.deactivate_stream_all()
        for stream in (*(s for _, s in self.streams.values()), self.imu_stream, vio, hands):
            if stream is not None:
                options.activate_stream(stream)
        for data in self.provider.deliver_queued_sensor_data(options):
            t_ns = data.get_time_ns(TimeDomain.DEVICE_TIME)
            kind = data.sensor_data_type()
            if kind == SensorDataType.IMU:
                imu = data.imu_data()
                yield ImuSample(t_ns, tuple(imu.accel_msec2), tuple(imu.gyro_radsec))
            elif kind == SensorDataType.VIO_HIGH_FREQ:
                yield motion_of_vio(t_ns, data.vio_high_freq_data(), self._head_from_device)
            elif kind == SensorDataType.HAND_POSE:
                yield hands_of(data.hand_pose_data(), self._head_from_device, t_ns)
            else:
                camera, _ = self.streams[str(data.stream_id())]
                pixels = turn_upright(data.image_data_and_record()[0].to_numpy_array(), turns)
                yield Frame(camera, pixels, "rgb8" if camera == RGB else "mono8", t_ns)
