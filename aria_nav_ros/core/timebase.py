"""Mapping a device clock to ROS time, monotonic per stream."""

from __future__ import annotations

DRIFT_PER_NS = 1e-4  # how fast the offset may rise: 100 ppm, above any crystal's drift
JUMP_BACK_NS = 1_000_000_000  # a device clock this far back means a new session


def stamp_ns(stamp: object) -> int:
    """Nanoseconds of a builtin_interfaces/Time (an rclpy message or a rosbags one)."""
    return stamp.sec * 1_000_000_000 + stamp.nanosec


class DeviceClock:
    """Stamps for items that carry device time.

    live: stamp = device time + offset, the offset being the smallest
    (arrival - device time) seen so far, allowed to creep up by the clock
    drift; a stamp is then never later than the item's arrival, and its
    spacing is the device's own. Otherwise (recordings replayed) the stamp is
    the time of publication. Either way a stream's stamps strictly increase,
    and a device clock that jumps back by more than a second (a new session)
    re-anchors the offset. (Streams interleave slightly out of device-time
    order, so smaller steps back are normal.)
    """

    def __init__(self, live: bool) -> None:
        self.live = live
        self._offset_ns: int | None = None
        self._last_device_ns: int | None = None
        self._last_stamp: dict[str, int] = {}

    def stamp(self, stream: str, device_ns: int, now_ns: int) -> int:
        stamp = self._map(device_ns, now_ns) if self.live else now_ns
        last = self._last_stamp.get(stream)
        if last is not None and stamp <= last:
            stamp = last + 1
        self._last_stamp[stream] = stamp
        return stamp

    def _map(self, device_ns: int, now_ns: int) -> int:
        arrival_offset = now_ns - device_ns
        last = self._last_device_ns
        if self._offset_ns is None or last is None or device_ns < last - JUMP_BACK_NS:
            self._offset_ns = arrival_offset
            self._last_stamp.clear()
            self._last_device_ns = device_ns
        else:
            allowed_rise = int(max(device_ns - last, 0) * DRIFT_PER_NS)
            self._offset_ns = min(self._offset_ns + allowed_rise, arrival_offset)
            self._last_device_ns = max(last, device_ns)
        return device_ns + self._offset_ns
