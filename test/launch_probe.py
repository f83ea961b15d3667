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
    TimerAction,
    UnsetEnvironmentVariable,
)
from launch_ros.actions import Node  # noqa: E402

from aria_nav_ros.graph.protocol import EXIT_SOURCE  # noqa: E402


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
    stopping = LaunchContext(context.launch_configurations, is_shutdown=True)
    try:
        actions = [a for e in description.entities if isinstance(e, OpaqueFunction) for a in e.execute(context)]
    except RuntimeError as refused:  # the launch file refuses to start the graph (network_guard): nothing starts
        print(json.dumps({"arguments": sorted(declared), "refused": str(refused)}))
        return
    handlers: dict[int, object] = {}

    def register(started: list) -> None:
        handlers.update({id(a.event_handler.target_action): a.event_handler for a in started
                         if isinstance(a, RegisterEventHandler)})  # fmt: skip

    def on_exit(action: object, code: int, in_context: object = context) -> list:
        handler = handlers.get(id(action))
        return [] if handler is None else handler.actions_on_exit(code, in_context)

    def ends(action: object, code: int) -> bool:
        """Its exit with `code` shuts the launch down: at once, or after a timer (the last results of a replay)."""
        now = on_exit(action, code)
        later = [y for t in now if isinstance(t, TimerAction) for y in t.actions]
        return any(isinstance(x, Shutdown) for x in [*now, *later])

    def restart_timer(action: object, in_context: object = context) -> TimerAction | None:
        actions = on_exit(action, 1, in_context)
        return next((a for a in actions if isinstance(a, TimerAction) and not isinstance(a.actions[0], Shutdown)), None)

    def restarts(action: object, count: int = 4) -> list[dict]:
        """The process dying right after each start, `count` times: each wait and the command started again."""
        out = []
        for _ in range(count):
            timer = restart_timer(action)
            started = [a for function in timer.actions for a in function.execute(context)]
            register(started)
            action = next(a for a in started if isinstance(a, Node))
            out.append({"after_s": timer.period, "command": action.command_line()})
        return out

    register(actions)
    environment = {a.name: a.value for a in actions if isinstance(a, SetEnvironmentVariable)}
    unset = [a.name for a in actions if isinstance(a, UnsetEnvironmentVariable)]
    processes = [
        {
            "command": a.command_line(),
            "respawn": restart_timer(a) is not None,
            # The exit codes (of 0, 1 and EXIT_SOURCE) on which this process's exit shuts the launch down.
            "ends_launch_on": [c for c in (0, 1, EXIT_SOURCE) if ends(a, c)],
            "restarts": restarts(a) if restart_timer(a) is not None else [],
            "restarts_while_stopping": restart_timer(a, stopping) is not None,
        }
        for a in actions
        if isinstance(a, Node)
    ]
    print(json.dumps({"arguments": sorted(declared), "environment": environment, "unset": unset,
                      "processes": processes}))  # fmt: skip


if __name__ == "__main__":
    main()
