"""Stand-in for `launch.substitutions.LaunchConfiguration` (see ../README.md)."""

from __future__ import annotations


class LaunchConfiguration:
    def __init__(self, variable_name: str, *, default: str | None = None) -> None:
        self.variable_name, self.default = variable_name, default

    def perform(self, context: object) -> str:
        configurations = context.launch_configurations
        if self.variable_name not in configurations and self.default is None:
            raise KeyError(f"launch configuration {self.variable_name!r} is not set")
        return configurations.get(self.variable_name, self.default)
