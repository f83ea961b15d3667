"""Stand-in for `launch.event_handlers.OnProcessExit` (see ../README.md)."""

from __future__ import annotations

from collections.abc import Callable


class OnProcessExit:
    """`on_exit`: actions, or a callable (event, context) -> actions, as the real handler accepts."""

    def __init__(
        self, *, target_action: object = None, on_exit: list | Callable | None = None, handle_once: bool = False
    ) -> None:
        self.target_action, self.handle_once = target_action, handle_once
        self.on_exit = on_exit if callable(on_exit) else list(on_exit or [])

    def actions_on_exit(self, returncode: int, context: object) -> list:
        """What the handler does when its target exits with `returncode` (in `context`: a LaunchContext)."""
        if not callable(self.on_exit):
            return self.on_exit
        return list(self.on_exit(ProcessExited(returncode), context) or [])


class ProcessExited:
    """The event's field the launch file reads."""

    def __init__(self, returncode: int) -> None:
        self.returncode = returncode
