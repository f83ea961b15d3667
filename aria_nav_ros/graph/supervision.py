"""What the launcher and launch/hybrid.launch.py do around the graph's processes, decided here once for both.

Before the graph starts, `prepare`: may it leave this machine (network_guard), the DDS settings it relies on,
its processes, room in shared memory (dds_shm). After a process exits, `after_exit`: start it again after
which delay, end the graph, or nothing. Before a restart, `restart`: the process as it is started again, and
the shared memory the dead one left given back. Each caller only turns the answers into its own actions
(the launcher: Popen and its loop; the launch file: launch actions and timers).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from aria_nav_ros.graph.dds_shm import free_stale_segments, make_room
from aria_nav_ros.graph.description import GraphSettings, Process, dds_environment, describe_graph
from aria_nav_ros.graph.network_guard import graph_network_verdict, security_environment
from aria_nav_ros.graph.protocol import EXIT_SOURCE

RESPAWN_DELAY_S = 2.0
MAX_RESPAWN_DELAY_S = 15.0
QUICK_EXIT_S = 10.0  # a process that dies sooner after its start is likely misconfigured: back off
DRAIN_S = 3.0  # after a replay ends: time for the last results and cues before the graph stops
UNSET = ("FASTDDS_BUILTIN_TRANSPORTS",)  # it would override the transports of the graph's DDS profile

RESTART, END, NOTHING = "restart", "end", "nothing"


@dataclass(frozen=True)
class AfterExit:
    """What a process's exit means for the graph."""

    action: str  # RESTART, END or NOTHING
    delay_s: float = 0.0  # RESTART: the wait before it starts again; END: the wait before the graph stops
    line: str = ""  # what to say about it ("" for nothing)
    code: int = 0  # the exit code it gives the graph (the launcher's is the worst of them)


def respawn_delay(previous_s: float, ran_for_s: float) -> float:
    """The wait before a dead process is started again: RESPAWN_DELAY_S after one that ran a while; after one
    that died right after starting, twice the previous wait, at most MAX_RESPAWN_DELAY_S, rather than spin."""
    return min(previous_s * 2, MAX_RESPAWN_DELAY_S) if ran_for_s < QUICK_EXIT_S else RESPAWN_DELAY_S


def after_exit(
    process: Process, code: int, ran_for_s: float, previous_delay_s: float = RESPAWN_DELAY_S, stopping: bool = False
) -> AfterExit:
    """The one decision after `process` exited with `code`, having run `ran_for_s`; `stopping`: the graph is
    already stopping (nothing is started again)."""
    if process.has_driver and code == EXIT_SOURCE:  # a source that cannot open will not by retrying
        return AfterExit(END, 0.0, "the source cannot open or failed: stopping the graph (the driver's log says why)",
                         EXIT_SOURCE)  # fmt: skip
    if stopping:
        return AfterExit(NOTHING, code=abs(code))
    if process.respawn:
        delay = respawn_delay(previous_delay_s, ran_for_s)
        return AfterExit(RESTART, delay, f"{process.name} exited with code {code}: restarting in {delay:g} s")
    if process.has_driver:  # a replay that ends on purpose ends the graph; a driver gone otherwise leaves it blind
        if code == 0:
            return AfterExit(END, DRAIN_S, f"the source has ended: stopping in {DRAIN_S:g} s")
        return AfterExit(END, 0.0, f"{process.name} exited with code {code}: stopping the graph", abs(code))
    return AfterExit(NOTHING, 0.0, f"{process.name} exited with code {code} and is not restarted", abs(code))


def restarted(process: Process) -> Process:
    """The process as it is started again after it died: a driver then waits for glasses missing just now
    (they may be reconnecting) rather than end the graph."""
    if not process.has_driver:
        return process
    nodes = tuple(
        replace(n, parameters={**n.parameters, "exit_on_open_failure": False}) if n.executable == "aria_driver" else n
        for n in process.nodes
    )
    return replace(process, nodes=nodes)


def restart(process: Process) -> tuple[Process, list[str]]:
    """Before `process` starts again: what to start, and the lines to say (the shared memory the dead one left,
    given back: a crash loop must not fill RAM)."""
    freed = free_stale_segments().line()
    return restarted(process), [freed] if freed else []


@dataclass(frozen=True)
class Prepared:
    """The graph about to start: whether it may, its processes, the environment they need, what to say."""

    allowed: bool
    processes: list[Process]
    environment: dict[str, str]  # set for every process
    unset: tuple[str, ...]  # removed from every process's environment
    lines: list[str]  # said before the start (a warning about the network, shared memory given back)
    refusal: str = ""  # why the graph may not start (then nothing else is done)


def prepare(settings: GraphSettings, env: Mapping[str, str]) -> Prepared:
    """Everything both starters do before the first process: discovery beyond this machine only where DDS
    security guards it or when asked, the DDS settings whatever shell started them, room in /dev/shm."""
    verdict = graph_network_verdict(env, settings.insecure_network)
    if not verdict.allowed:
        return Prepared(False, [], {}, (), [], refusal=verdict.line)
    processes = describe_graph(settings)
    lines = ([verdict.line] if verdict.line else []) + make_room(len(processes))
    return Prepared(True, processes, dds_environment(env), UNSET, lines)


def graph_environment(env: Mapping[str, str]) -> dict[str, str]:
    """`env` as a process of the graph gets it: with the DDS settings it relies on, without UNSET."""
    out = {**env, **dds_environment(env)}
    for name in UNSET:
        out.pop(name, None)
    return out


def enclave(process: Process, env: Mapping[str, str]) -> dict[str, str]:
    """The process's SROS2 enclave where SROS2 is on (scripts/sros2_keystore.sh); empty otherwise."""
    return security_environment(env, process.nodes[0].namespace, tuple(n.name for n in process.nodes))
