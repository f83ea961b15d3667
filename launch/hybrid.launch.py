"""The whole aria_nav_ros graph: `ros2 launch aria_nav_ros hybrid.launch.py [name:=value ...]`.

The processes, node names, parameters and respawn policy come from
`aria_nav_ros.graph.describe_graph`, the same description that
`python -m aria_nav_ros.launcher` starts on machines without ROS 2 launch.
Node parameters are read from config/aria_nav.yaml (or params_file:=...);
the launch arguments (`--show-args`) are set on top of it. The DDS settings
(Fast DDS with the project's profile, discovery on this machine) are set
here, as the launcher sets them, and each run writes to a fresh run folder
unless output:= names one. Perception
workers and navigation are started again when they die, with the launcher's
backoff (graph.respawn_delay); with
exit_at_end:=true the end of a replay ends the launch, and a source that
cannot open (the driver exits with EXIT_SOURCE: a missing file, no glasses)
always does.

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

from aria_nav_ros.dds_shm import free_stale_segments, make_room
from aria_nav_ros.graph import (
    EXIT_SOURCE,
    PACKAGE,
    RESPAWN_DELAY_S,
    SETTING_HELP,
    GraphSettings,
    Process,
    dds_environment,
    describe_graph,
    fresh_output,
    respawn_delay,
    restarted,
)
from aria_nav_ros.network_guard import graph_network_verdict, security_environment


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
    enclave = security_environment(os.environ, namespace, tuple(n.name for n in process.nodes))
    if enclave:  # SROS2 on: the process's own enclave (scripts/sros2_keystore.sh), as the launcher gives it
        common["additional_env"] = enclave
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
    """The process's action and what its exit does, by the launcher's rules: a driver whose source cannot open
    ends the launch, as does the end of a replay that is not restarted; a process marked respawn is started
    again after `respawn_delay` (backing off while it keeps dying right after its start, where launch_ros's
    own respawn would wait a fixed time), unless the launch is shutting down."""
    action = node_action(process)
    started = time.monotonic()
    driver = process.has_driver

    def on_exit(event: object, context: object) -> list:
        code = event.returncode
        if driver and code == EXIT_SOURCE:
            return [Shutdown(reason="the source cannot open or failed (the driver's log says why)")]
        if not process.respawn:
            return [Shutdown(reason="the source has ended")] if driver else []
        if context.is_shutdown:
            return []
        delay = respawn_delay(delay_s, time.monotonic() - started)
        again = restarted(process)

        def restart(_context: object) -> list:
            freed = free_stale_segments().line()  # what the dead one left: a crash loop must not fill RAM
            return [*([LogInfo(msg=freed)] if freed else []), *supervised(again, delay)]

        return [
            LogInfo(msg=f"{process.name} exited with code {code}: restarting in {delay:g} s"),
            TimerAction(period=delay, actions=[OpaqueFunction(function=restart)]),
        ]

    # handle_once: a process exits once; its handler goes with it (a restart registers its own).
    return [action, RegisterEventHandler(OnProcessExit(target_action=action, on_exit=on_exit, handle_once=True))]


def graph_actions(context: object) -> list:
    values = {name: LaunchConfiguration(name).perform(context) for name in SETTING_HELP}
    settings = fresh_output(GraphSettings.from_strings(values))  # each node makes the folder it writes to
    # Discovery beyond this machine only where DDS security guards it, or when asked (as the launcher decides).
    verdict = graph_network_verdict(os.environ, settings.insecure_network)
    if not verdict.allowed:  # nothing starts; launch reports the error and exits non-zero
        raise RuntimeError(verdict.line)
    # The DDS settings the graph relies on, whatever shell ros2 launch was started from (as the launcher does).
    actions: list = [SetEnvironmentVariable(name, value) for name, value in dds_environment(os.environ).items()]
    actions.append(UnsetEnvironmentVariable("FASTDDS_BUILTIN_TRANSPORTS"))  # it would override the profile
    if verdict.line:
        actions.append(LogInfo(msg=verdict.line))
    processes = describe_graph(settings)
    actions += [LogInfo(msg=line) for line in make_room(len(processes))]  # what crashed DDS programs left
    for process in processes:
        actions += supervised(process)
    return actions


def generate_launch_description() -> LaunchDescription:
    defaults = GraphSettings().as_strings()
    arguments = [
        DeclareLaunchArgument(name, default_value=defaults[name], description=SETTING_HELP[name])
        for name in SETTING_HELP
    ]
    return LaunchDescription([*arguments, OpaqueFunction(function=graph_actions)])
