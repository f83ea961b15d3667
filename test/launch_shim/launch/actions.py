"""Stand-ins for the `launch.actions` the launch file uses (see ../README.md)."""

from __future__ import annotations

from collections.abc import Callable


class DeclareLaunchArgument:
    def __init__(self, name: str, *, default_value: str | None = None, description: str = "", choices=None) -> None:
        self.name, self.default_value, self.description, self.choices = name, default_value, description, choices


class OpaqueFunction:
    def __init__(self, *, function: Callable, args: list | None = None, kwargs: dict | None = None) -> None:
        self.function, self.args, self.kwargs = function, args or [], kwargs or {}

    def execute(self, context: object) -> list:
        return list(self.function(context, *self.args, **self.kwargs) or [])


class Shutdown:
    def __init__(self, *, reason: str = "") -> None:
        self.reason = reason


class TimerAction:
    def __init__(self, *, period: float | str, actions: list, cancel_on_shutdown: bool = True) -> None:
        self.period, self.actions, self.cancel_on_shutdown = float(period), list(actions), cancel_on_shutdown


class LogInfo:
    def __init__(self, *, msg: str) -> None:
        self.msg = msg


class RegisterEventHandler:
    def __init__(self, event_handler: object) -> None:
        self.event_handler = event_handler


class SetEnvironmentVariable:
    def __init__(self, name: str, value: str) -> None:
        self.name, self.value = name, value


class UnsetEnvironmentVariable:
    def __init__(self, name: str) -> None:
        self.name = name
