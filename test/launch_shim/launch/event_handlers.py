"""Stand-in for `launch.event_handlers.OnProcessExit` (see ../README.md)."""

from __future__ import annotations


class OnProcessExit:
    def __init__(self, *, target_action: object = None, on_exit: list | None = None) -> None:
        self.target_action, self.on_exit = target_action, list(on_exit or [])
