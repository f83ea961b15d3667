"""The whole aria_nav_ros graph: `ros2 launch aria_nav_ros hybrid.launch.py [name:=value ...]`.

The processes, node names, parameters and respawn policy come from
`aria_nav_ros.graph.description`, the same description that
`python -m aria_nav_ros.launcher` starts on machines without ROS 2 launch.
Node parameters are read from config/aria_nav.yaml (or params_file:=...);
the launch arguments (`--show-args`) are set on top of it. What happens
before the start (the network guard, the DDS settings, shared memory) and
after a process exits (restart it after which delay, end the launch, or
nothing) is decided by `aria_nav_ros.graph.supervision`, for the launcher
and this file alike: perception workers and navigation are started again
when they die, with backoff; with exit_at_end:=true the end of a replay ends
the launch, and a source that cannot open (a missing file, no glasses)
always does. Each run writes to a fresh run folder unless output:= names one.

    ros2 launch aria_nav_ros hybrid.launch.py path:=outputs/sample/walk device:=cuda compose:=true
"""

import os
import time

from launch import LaunchDescription
from launch.actions import (
    DeclareLaunchArgument,
    LogInfo,
    OpaqueFunction,
    RegisterEventHandler,
    SetEnvironmentVariable,
    Shutdown,
    TimerAction,
    UnsetEnvironmentVariable,
)
from launch.event_handlers import OnProcessExit
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from aria_nav_ros.graph.description import PACKAGE, SETTING_HELP, GraphSettings, Process, fresh_output
from aria_nav_ros.graph.supervision import END, RESPAWN_DELAY_S, RESTART, after_exit, enclave, prepare, restart


def node_action(process: Process) -> Node:
    """One process of the graph as a launch_ros Node action."""
    common = {
        "package": PACKAGE,
        "executable": process.executable,
        "output": "screen",
    }
    namespace = process.nodes[0].namespace  # the graph's, the same for every node
    if namespace:
        common["namespace"] = namespace
    own = enclave(process, os.environ)
    if own:  # SROS2 on: the process's own enclave (scripts/sros2_keystore.sh), as the launcher gives it
        common["additional_env"] = own
    if len(process.nodes) > 1:  # composed: the container takes the node names; settings are per node name
        return Node(
            **common,
            arguments=[node.in_container for node in process.nodes],
            parameters=[process.params_file],
            ros_arguments=[*process.composed_overrides(), "--log-level", process.log_level],
        )
    node = process.nodes[0]
    return Node(
        **common,
        name=node.name,
        parameters=[process.params_file, node.parameters],
        remappings=list(node.remappings),
        ros_arguments=["--log-level", process.log_level],
    )


def supervised(process: Process, delay_s: float = RESPAWN_DELAY_S) -> list:
    """The process's action and what its exit does, as supervision.after_exit decides for the launcher too:
    start it again after a delay (backing off while it keeps dying right after its start, where launch_ros's
    own respawn would wait a fixed time), end the launch (at once, or after the last results of a replay), or
    nothing."""
    action = node_action(process)
    started = time.monotonic()

    def on_exit(event: object, context: object) -> list:
        verdict = after_exit(process, event.returncode, time.monotonic() - started, delay_s, context.is_shutdown)
        said = [LogInfo(msg=verdict.line)] if verdict.line else []
        if verdict.action == END:
            stop = Shutdown(reason=verdict.line)
            return [*said, TimerAction(period=verdict.delay_s, actions=[stop]) if verdict.delay_s > 0 else stop]
        if verdict.action != RESTART:
            return said

        def start_again(_context: object) -> list:
            again, lines = restart(process)
            return [*(LogInfo(msg=line) for line in lines), *supervised(again, verdict.delay_s)]

        return [*said, TimerAction(period=verdict.delay_s, actions=[OpaqueFunction(function=start_again)])]

    # handle_once: a process exits once; its handler goes with it (a restart registers its own).
    return [action, RegisterEventHandler(OnProcessExit(target_action=action, on_exit=on_exit, handle_once=True))]


def graph_actions(context: object) -> list:
    values = {name: LaunchConfiguration(name).perform(context) for name in SETTING_HELP}
    settings = fresh_output(GraphSettings.from_strings(values))  # each node makes the folder it writes to
    plan = prepare(settings, os.environ)  # as the launcher: the network guard, the DDS settings, shared memory
    if not plan.allowed:  # nothing starts; launch reports the error and exits non-zero
        raise RuntimeError(plan.refusal)
    # The DDS settings the graph relies on, whatever shell ros2 launch was started from.
    actions: list = [SetEnvironmentVariable(name, value) for name, value in plan.environment.items()]
    actions += [UnsetEnvironmentVariable(name) for name in plan.unset]
    actions += [LogInfo(msg=line) for line in plan.lines]
    for process in plan.processes:
        actions += supervised(process)
    return actions


def generate_launch_description() -> LaunchDescription:
    defaults = GraphSettings().as_strings()
    arguments = [
        DeclareLaunchArgument(name, default_value=defaults[name], description=SETTING_HELP[name])
        for name in SETTING_HELP
    ]
    return LaunchDescription([*arguments, OpaqueFunction(function=graph_actions)])
