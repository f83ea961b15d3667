"""Running nodes in a process, with a clean exit on Ctrl-C or SIGTERM.

rclpy's own signal handler shuts the context down the moment Ctrl-C
arrives, while worker threads may still be publishing; here Ctrl-C and
SIGTERM (aria_nav_ros.graph.process) end the spin instead, the nodes stop their
threads in destroy_node, and only then is the context shut down. The exit
code is 0 for a stop, 2 for a node that cannot start, or what a node that
ended by itself asks for (`exit_code`, e.g. a source that cannot open).
"""

from __future__ import annotations

import gc
import math
import os
import sys
import threading
from collections.abc import Callable

import rclpy
from rclpy.exceptions import ParameterException
from rclpy.executors import Executor, ExternalShutdownException, MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.experimental import EventsExecutor
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

from aria_nav_ros.graph.process import BUILDING, RUNNING, STOPPING, start_process

_NEVER = threading.Event()

# The executor that runs a process's callbacks. rclpy's EventsExecutor hands
# each message straight to its callback; the wait-set executors rebuild a wait
# set per callback and cost far more per message (the graph benchmark shows it
# in lost IMU samples and frames). ARIA_NAV_EXECUTOR=waitset brings back the
# wait-set executors (single-threaded, multi-threaded for several nodes), for comparison.
EXECUTORS = ("events", "waitset")


def make_executor(node_count: int) -> Executor:
    name = os.environ.get("ARIA_NAV_EXECUTOR", "events")
    if name not in EXECUTORS:
        raise ValueError(f"ARIA_NAV_EXECUTOR={name!r}: choose one of {', '.join(EXECUTORS)}")
    if name == "events":
        return EventsExecutor()
    return SingleThreadedExecutor() if node_count == 1 else MultiThreadedExecutor()


# How long a Python thread may hold the GIL while another waits for it (Python's default: 5 ms).
# ARIA_NAV_GIL_SWITCH_MS sets it, to measure what a perception worker waits for in a busy process.
GIL_SWITCH_ENV = "ARIA_NAV_GIL_SWITCH_MS"


def set_gil_switch() -> None:
    value = os.environ.get(GIL_SWITCH_ENV, "")
    if not value:
        return
    try:
        milliseconds = float(value)
    except ValueError:
        milliseconds = math.nan
    if not 0.0 < milliseconds <= 1000.0:  # nan too
        raise ValueError(f"{GIL_SWITCH_ENV}={value!r}: milliseconds, more than 0 and at most 1000")
    sys.setswitchinterval(milliseconds / 1000.0)


def run_nodes(makers: list[Callable[[], Node]], args: list[str] | None = None) -> int:
    """Init rclpy, make the nodes, spin them until Ctrl-C or SIGTERM, tear down; the exit code."""
    stop = start_process()  # again: a process that did not start through aria_nav_ros.nodes
    try:
        set_gil_switch()
    except ValueError as error:
        print(f"cannot start: {error}", file=sys.stderr)
        return 2
    rclpy.init(args=sys.argv if args is None else args, signal_handler_options=SignalHandlerOptions.NO)
    nodes: list[Node] = []
    executor: Executor | None = None
    code = 0
    try:
        stop.phase = BUILDING
        try:
            for make in makers:
                nodes.append(make())
        except (ValueError, OSError, ParameterException) as error:  # bad parameters, missing files: say what
            # (a parameter of the wrong type: "Trying to set parameter 'x' to '24' of type 'INTEGER', ...")
            stop.phase = STOPPING
            print(f"cannot start: {error}", file=sys.stderr)
            gc.collect()  # a node made half-way holds the DDS participant (and its shared memory) until collected
            return 2
        executor = make_executor(len(nodes))
        for node in nodes:
            executor.add_node(node)
        stop.phase = RUNNING
        # Short waits: the loop must get to see the stop flag. A node whose work
        # is over (a replay played to its end) sets its `finished` event.
        while not stop.requested.is_set():
            ended = [node for node in nodes if getattr(node, "finished", _NEVER).is_set()]
            if ended:  # the teardown below asks for the stop (and its deadline)
                code = max(getattr(node, "exit_code", 0) for node in ended)
                break
            executor.spin_once(timeout_sec=0.2)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        stop.phase = STOPPING
        stop.request()  # the deadline holds for the teardown too
        # Every DDS deletion below may wait for ever inside Fast DDS, GIL held (a deadlock of its event thread,
        # aria_nav_ros.graph.process): the stop's deadline, armed above, is a C thread that ends the process even then.
        if executor is not None:  # nothing may run a callback of a node being destroyed
            for node in nodes:
                executor.remove_node(node)
            executor.shutdown(1.0)
        for node in reversed(nodes):
            node.destroy_node()
        rclpy.try_shutdown()
    return code


def exit_now(code: int) -> None:
    """End the process once its nodes are torn down, without the interpreter's own teardown.

    Everything of ours is closed by then (bags, sound, traces, logs flushed below). What is left, tearing
    down torch and its threads, took over 5 s on a loaded 2-core machine: a stop must not wait for it.
    """
    if os.environ.get("ARIA_NAV_EXIT") == "interpreter":  # the old way, for bench/stop_bench.py's baseline
        sys.exit(code)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def run_node(make_node: Callable[[], Node], args: list[str] | None = None) -> None:
    exit_now(run_nodes([make_node], args))
