"""Stand-in for ROS 2 `launch` (see ../README.md): a LaunchDescription and a context to evaluate it in."""

from __future__ import annotations


class LaunchDescription:
    def __init__(self, initial_entities: list | None = None) -> None:
        self.entities = list(initial_entities or [])


class LaunchContext:
    """Holds the launch configurations, as the real context does after arguments are declared."""

    def __init__(self, launch_configurations: dict[str, str], *, is_shutdown: bool = False) -> None:
        self.launch_configurations = dict(launch_configurations)
        self.is_shutdown = is_shutdown  # the real context's property: a Shutdown event has been seen
