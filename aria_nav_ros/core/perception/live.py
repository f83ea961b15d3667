"""Settings that change while perception runs (`ros2 param set`): one row per setting, applied in one place.

A row names the setting, how a new value takes effect at once (or why it is refused), and, for a setting that
what a frame uses holds (a captured CUDA graph keeps its conf), what the worker does with it between two
frames. Changes arrive in the executor's thread; the worker takes them up before its next frame, all changes
of one kind together (conf and iou set at once rebuild the engine once). ROS-free: the node wires the rows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

Apply = Callable[[str, object], str | None]  # (name, value): why it is refused; "" or None once it is in effect
BetweenFrames = Callable[[dict[str, object]], None]  # {name: value} changed since the last frame


@dataclass(frozen=True)
class LiveSetting:
    name: str
    apply: Apply
    between_frames: BetweenFrames | None = None  # run by the worker before its next frame, with the value
    says_itself: bool = False  # its apply tells of the change (else the table's `said` does)


class LiveSettings:
    def __init__(
        self, settings: Sequence[LiveSetting], live_names: Iterable[str], said: Callable[[str, object], None]
    ) -> None:
        """`live_names`: the parameters declared live; each must have exactly one row (a setting declared live
        that nothing applies would be accepted and do nothing). `said(name, value)`: each change made."""
        self.settings = {s.name: s for s in settings}
        self.said = said
        declared = set(live_names)
        if len(self.settings) != len(settings) or set(self.settings) != declared:
            raise ValueError(f"live settings {sorted(self.settings)} are not the live parameters {sorted(declared)}")
        self._pending: dict[str, object] = {}
        self._lock = threading.Lock()

    def change(self, name: str, value: object) -> str:
        """A new value (the executor's thread): why it is refused, or "" once it is in effect or queued."""
        setting = self.settings[name]
        refused = setting.apply(name, value)
        if refused:
            return refused
        if setting.between_frames is not None:
            with self._lock:
                self._pending[name] = value
        if not setting.says_itself:
            self.said(name, value)
        return ""

    def between_frames(self) -> None:
        """The worker, before a frame: every queued change, once per kind of change."""
        with self._lock:
            pending, self._pending = self._pending, {}
        groups: dict[BetweenFrames, dict[str, object]] = {}
        for name, value in pending.items():
            groups.setdefault(self.settings[name].between_frames, {})[name] = value
        for take_up, changes in groups.items():
            take_up(changes)
