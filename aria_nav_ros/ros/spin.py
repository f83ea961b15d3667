"""Running one node in its own process, with a clean exit on Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node


def run_node(make_node: Callable[[], Node], args: list[str] | None = None) -> None:
    """Init rclpy, spin the node until shutdown, then tear everything down."""
    rclpy.init(args=sys.argv if args is None else args)
    # SIGTERM (what a supervisor sends) ends the spin like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: rclpy.try_shutdown())
    node = None
    code = 0
    try:
        node = make_node()
        rclpy.spin(node)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except (ValueError, OSError) as error:  # bad parameters, missing files: say what, not a traceback
        print(f"[{make_node.__name__}] cannot start: {error}", file=sys.stderr)
        code = 2
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    if code:
        sys.exit(code)
