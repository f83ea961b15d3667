"""Evaluates launch/hybrid.launch.py with the stand-ins of test/launch_shim and prints its processes as JSON.

python test/launch_probe.py '{"compose": "false"}'   # launch arguments given on the command line
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "launch_shim"))

from launch import LaunchContext  # noqa: E402  (the stand-in, found first)
from launch.actions import (  # noqa: E402
    DeclareLaunchArgument,
    OpaqueFunction,
    RegisterEventHandler,
    SetEnvironmentVariable,
    Shutdown,
    UnsetEnvironmentVariable,
)

from aria_nav_ros.graph import EXIT_SOURCE  # noqa: E402


def main() -> None:
    given = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    spec = importlib.util.spec_from_file_location("hybrid_launch", HERE.parent / "launch" / "hybrid.launch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    description = module.generate_launch_description()
    declared = {e.name: e.default_value for e in description.entities if isinstance(e, DeclareLaunchArgument)}
    unknown = set(given) - set(declared)
    if unknown:
        raise SystemExit(f"not launch arguments: {sorted(unknown)}")
    context = LaunchContext({**declared, **given})
    actions = [a for e in description.entities if isinstance(e, OpaqueFunction) for a in e.execute(context)]
    handlers = {
        id(a.event_handler.target_action): a.event_handler for a in actions if isinstance(a, RegisterEventHandler)
    }

    def ends_launch_on(action: object) -> list[int]:
        """The exit codes (of 0, 1 and EXIT_SOURCE) on which this process's exit shuts the launch down."""
        handler = handlers.get(id(action))
        if handler is None:
            return []
        return [c for c in (0, 1, EXIT_SOURCE) if any(isinstance(x, Shutdown) for x in handler.actions_on_exit(c))]

    environment = {a.name: a.value for a in actions if isinstance(a, SetEnvironmentVariable)}
    unset = [a.name for a in actions if isinstance(a, UnsetEnvironmentVariable)]
    settings = (RegisterEventHandler, SetEnvironmentVariable, UnsetEnvironmentVariable)
    processes = [
        {"command": a.command_line(), "respawn": a.respawn, "ends_launch_on": ends_launch_on(a)}
        for a in actions
        if not isinstance(a, settings)
    ]
    print(json.dumps({"arguments": sorted(declared), "environment": environment, "unset": unset,
                      "processes": processes}))  # fmt: skip


if __name__ == "__main__":
    main()
