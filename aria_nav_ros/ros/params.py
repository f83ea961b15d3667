"""Declared parameters: one table per node, with what `ros2 param describe` shows and docs/parameters.md prints.

Each node lists its parameters as `Param`s: a default, a description, a
range or a set of choices, and whether it may change while the node runs.
`declare` declares them with their ParameterDescriptor (type, description,
ranges, read-only) and refuses a bad value at start with the reason; `Live`
checks a run-time change and hands it to the node, which may still refuse it
("set_parameters" answers with the reason). docs/parameters.md is written
from these tables (aria_nav_ros.tables), and test_params fails when it differs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, SetParametersResult
from rclpy.node import Node
from rclpy.parameter import Parameter


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
    """Run-time changes of a node's live parameters: range and choices checked here, then `check(changes)` (the
    node's own checks of them all together, without side effects: why it refuses, or ""), then `apply(name,
    value)` of each (which returns why it refuses, or ""). One Live a node: rclpy runs every on-set callback, so
    a second one refusing would come after the first had applied."""

    def __init__(
        self,
        node: Node,
        params: Sequence[Param],
        apply: Callable[[str, object], str],
        check: Callable[[dict[str, object]], str] | None = None,
    ) -> None:
        self.params = {p.name: p for p in params if p.live}
        self.apply = apply
        self.check = check
        node.add_on_set_parameters_callback(self._on_set)

    def _on_set(self, changes: list[Parameter]) -> SetParametersResult:
        # Read-only ones rclpy refuses itself; undeclared ones are not ours.
        ours = [(self.params[c.name], c.value) for c in changes if c.name in self.params]
        # Every range and choice first: an atomic set with one bad value changes nothing (apply acts at once).
        for param, value in ours:
            refused = param.problem(value)
            if refused:
                return SetParametersResult(successful=False, reason=refused)
        refused = self.check({param.name: value for param, value in ours}) if self.check and ours else ""
        if refused:
            return SetParametersResult(successful=False, reason=refused)
        for param, value in ours:
            refused = self.apply(param.name, value)
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
