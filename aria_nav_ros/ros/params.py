"""Declared parameters: one table per node, with what `ros2 param describe` shows and the README prints.

Each node lists its parameters as `Param`s: a default, a description, a
range or a set of choices, and whether it may change while the node runs.
`declare` declares them with their ParameterDescriptor (type, description,
ranges, read-only) and refuses a bad value at start with the reason; `Live`
checks a run-time change and hands it to the node, which may still refuse it
("set_parameters" answers with the reason). The README's parameter tables
are written from these tables: `python -m aria_nav_ros.ros.params` prints them,
and test_params fails when the README differs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult
from rclpy.node import Node
from rclpy.parameter import Parameter

NODE_MODULES = {  # executable -> the module that holds its PARAMETERS
    "aria_driver": "aria_nav_ros.nodes.aria_driver",
    "rgb_perception / slam_detector": "aria_nav_ros.nodes.perception",
    "navigation": "aria_nav_ros.nodes.navigation",
    "recorder": "aria_nav_ros.nodes.recorder",
    "stream_monitor": "aria_nav_ros.nodes.stream_monitor",
}
README_BEGIN = "<!-- parameters: written by python -m aria_nav_ros.ros.params -->"
README_END = "<!-- parameters end -->"


@dataclass(frozen=True)
class Param:
    name: str
    default: object  # bool, int, float, str or a list of str: the parameter's type
    description: str
    live: bool = False  # may change while the node runs; otherwise read-only (a restart)
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()

    def descriptor(self) -> ParameterDescriptor:
        d = ParameterDescriptor(name=self.name, description=self.description, read_only=not self.live)
        d.type = Parameter.Type.from_parameter_value(self.default).value
        if self.low is not None and isinstance(self.default, int) and not isinstance(self.default, bool):
            d.integer_range = [IntegerRange(from_value=int(self.low), to_value=int(self.high), step=0)]
        elif self.low is not None:
            d.floating_point_range = [FloatingPointRange(from_value=self.low, to_value=self.high, step=0.0)]
        if self.choices:
            d.additional_constraints = "one of: " + ", ".join(repr(c) for c in self.choices)
        return d

    def problem(self, value: object) -> str:
        """Why `value` is refused ("" if it is not)."""
        if self.low is not None and not (self.low <= value <= self.high):
            return f"{self.name} {value!r}: from {self.low:g} to {self.high:g}"
        if self.choices and value not in self.choices:
            return f"{self.name} {value!r}: choose one of {', '.join(map(repr, self.choices))}"
        return ""


def declare(node: Node, params: Sequence[Param], **defaults: object) -> dict[str, object]:
    """Declares `params` (a default can be overridden per node class); ValueError names a bad value."""
    values = {}
    for param in params:
        default = defaults.get(param.name, param.default)
        value = node.declare_parameter(param.name, default, param.descriptor()).value
        refused = param.problem(value)
        if refused:
            raise ValueError(refused)
        values[param.name] = value
    return values


class Live:
    """Run-time changes of a node's live parameters: range and choices checked here, then `apply(name, value)`
    (which returns why it refuses, or "")."""

    def __init__(self, node: Node, params: Sequence[Param], apply: Callable[[str, object], str]) -> None:
        self.params = {p.name: p for p in params if p.live}
        self.apply = apply
        node.add_on_set_parameters_callback(self._on_set)

    def _on_set(self, changes: list[Parameter]) -> SetParametersResult:
        for change in changes:
            param = self.params.get(change.name)
            if param is None:
                continue  # read-only ones rclpy refuses itself; undeclared ones are not ours
            refused = param.problem(change.value) or self.apply(change.name, change.value)
            if refused:
                return SetParametersResult(successful=False, reason=refused)
        return SetParametersResult(successful=True)


def table(params: Sequence[Param]) -> str:
    lines = ["| parameter | default | values | at run time | meaning |", "| --- | --- | --- | --- | --- |"]
    for p in params:
        default = p.default if p.default not in ("", []) else "(empty)"
        values = f"{p.low:g} .. {p.high:g}" if p.low is not None else ", ".join(p.choices)
        lines.append(f"| `{p.name}` | `{default}` | {values} | {'yes' if p.live else ''} | {p.description} |")
    return "\n".join(lines)


def readme_section() -> str:
    parts = [README_BEGIN]
    for executable, module in NODE_MODULES.items():
        parts += [f"\n`{executable}`:\n", table(importlib.import_module(module).PARAMETERS)]
    return "\n".join([*parts, README_END])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", default="", help="write the tables into this README (between the markers)")
    args = parser.parse_args(argv)
    section = readme_section()
    if not args.readme:
        print(section)
        return 0
    with open(args.readme, encoding="utf-8") as f:
        text = f.read()
    start, end = text.index(README_BEGIN), text.index(README_END) + len(README_END)
    with open(args.readme, "w", encoding="utf-8") as f:
        f.write(text[:start] + section + text[end:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
