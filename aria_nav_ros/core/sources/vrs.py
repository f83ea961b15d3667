"""Frames, IMU and calibration from an Aria VRS recording (projectaria-tools)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property
from pathlib import Path

from aria_nav_ros.core.camera_model import CameraModel
from aria_nav_ros.core.cameras import CAMERAS, RGB
from aria_nav_ros.core.mounting import Mount
from aria_nav_ros.core.sources.aria_calibration import ARIA_LABELS, IMU_LABEL, aria_mounts, camera_models
from aria_nav_ros.core.sources.base import Frame, ImuSample, Item, SourceError
from aria_nav_ros.core.sources.recording import Recording
from aria_nav_ros.core.sources.upright import turn_clockwise


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
        self.upright = upright  # every camera is mounted sideways: published turned upright
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
        self.streams = {}
        for camera in cameras:
            stream = self.provider.get_stream_id_from_label(ARIA_LABELS[camera])
            if stream is not None:
                self.streams[str(stream)] = (camera, stream)
        if not self.streams:
            raise SourceError(f"VRS recording {self.path} holds none of the cameras {list(cameras)}")
        self.imu_stream = self.provider.get_stream_id_from_label(IMU_LABEL)

    def calibration(self) -> dict[str, CameraModel]:
        return self._calibrated[0]

    def mounts(self) -> dict[str, Mount]:
        return self._calibrated[1]

    @cached_property
    def _calibrated(self) -> tuple[dict[str, CameraModel], dict[str, Mount]]:
        device_calibration = self.provider.get_device_calibration()
        if device_calibration is None:
            return {}, {}
        return camera_models(device_calibration, self.upright), aria_mounts(device_calibration, self.upright)

    def items(self) -> Iterator[Item]:
        from projectaria_tools.core.sensor_data import SensorDataType, TimeDomain

        options = self.provider.get_default_deliver_queued_options()
        options.deactivate_stream_all()
        for _, stream in self.streams.values():
            options.activate_stream(stream)
        if self.imu_stream is not None:
            options.activate_stream(self.imu_stream)
        for data in self.provider.deliver_queued_sensor_data(options):
            t_ns = data.get_time_ns(TimeDomain.DEVICE_TIME)
            if data.sensor_data_type() == SensorDataType.IMU:
                imu = data.imu_data()
                yield ImuSample(t_ns, tuple(imu.accel_msec2), tuple(imu.gyro_radsec))
                continue
            camera, _ = self.streams[str(data.stream_id())]
            pixels = data.image_data_and_record()[0].to_numpy_array()
            pixels = turn_clockwise(pixels) if self.upright else pixels
            yield Frame(camera, pixels, "rgb8" if camera == RGB else "mono8", t_ns)
