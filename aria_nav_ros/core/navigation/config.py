"""NavigationConfig: config/navigation.yaml as a typed object (every number lives in the YAML).

The file is also the navigation node's parameters (each key, dotted: `cooldown.per_object`): `flat` lists them,
`comments` gives each the file's own comment as its description, and `with_values` applies set ones.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from aria_nav_ros.core.detection import OBSTACLE, OBSTACLE_PRIORITY
from aria_nav_ros.core.share import share_path

TIERS = ("info", "warning", "critical")  # in rising urgency; the index is the urgency number
# What the policy reads without a default: checked when the file is loaded, so that an older or mistyped file
# is "cannot start" with the key's name, not an error in the middle of a walk.
NUMBERS = (
    "default_priority", "hysteresis_m", "side_weight", "zones.ahead_half_width_deg", "cooldown.per_object",
    "cooldown.global", "tracking.max_bearing_jump_deg", "tracking.max_distance_jump_m",
    "tracking.max_distance_jump_ratio", "tracking.forget_after", "tracking.speed_window", "tracking.speed_min_span_s",
    "motion.window", "motion.walking_accel_std", "motion.walking_speed", "motion.standing_info_cooldown_factor",
    "camera_timeout", "camera_back_after", "watchdog_timeout", "start_timeout", "tiers.default.critical",
    "tiers.default.warning", "tiers.default.info", "time_to_contact.default.critical",
    "time_to_contact.default.warning", "time_to_contact.default.range_m", "tracking.cross_camera_bearing_deg",
    "tracking.cross_camera_within_s", "camera_failure_hold_s",
)  # fmt: skip
BOOLS = ("announce_unlisted_classes", "say_recording_ended", "habituation.group", "close_range.scale_ttc")
MAPPINGS = ("class_priority", "hazard_aliases", "tiers", "time_to_contact", "earcon", "habituation", "close_range",
            "liveness")  # fmt: skip
KEY = re.compile(r"^( *)([^#:\s][^#:]*):")  # a mapping key in block style (`  per_object: 3.0`)


def config_path(path: str | Path | None = None) -> Path:
    """The cue rules file: `path`, or the package's config/navigation.yaml."""
    return Path(path) if path else share_path("config", "navigation.yaml")


def check(data: Any) -> list[str]:
    """What is missing or of the wrong type in a navigation config."""
    if not isinstance(data, dict):
        return ["not a mapping of settings"]

    def value(dotted: str) -> Any:
        node = data
        for key in dotted.split("."):
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return node

    problems = [f"{k} must be a mapping" for k in MAPPINGS if not isinstance(value(k), dict)]
    for key in NUMBERS:
        v = value(key)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            problems.append(f"{key} must be a number (it is {v!r})")
    problems += [
        f"{key} must be true or false (it is {value(key)!r})" for key in BOOLS if not isinstance(value(key), bool)
    ]
    # Every number of the rules is a distance, a time, a count, a weight or an angle's width: NaN or a negative
    # one would silently turn a rule off (no distance is below NaN), so it is refused with its name.
    problems += [f"{key} must be a finite number, not negative (it is {v!r})" for key, v in _numbers(data, "")
                 if not (math.isfinite(v) and v >= 0)]  # fmt: skip
    return problems


def _numbers(node: dict[str, Any], prefix: str) -> list[tuple[str, float]]:
    """(dotted name, value) of every number in the config's tree (bools are no numbers)."""
    out: list[tuple[str, float]] = []
    for key, value in node.items():
        if isinstance(value, dict):
            out += _numbers(value, f"{prefix}{key}.")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out.append((f"{prefix}{key}", float(value) if abs(value) < 1e300 else math.inf))  # (an int past float)
    return out


@dataclass(frozen=True)
class NavigationConfig:
    raw: dict[str, Any]

    @staticmethod
    def load(path: str | Path | None = None) -> NavigationConfig:
        path = config_path(path)
        try:
            data = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as error:
            raise ValueError(f"navigation config {path} cannot be read: {error}") from error
        problems = check(data)
        if problems:
            raise ValueError(f"navigation config {path}: {'; '.join(problems)} (see config/navigation.yaml)")
        return NavigationConfig(data)

    def flat(self) -> dict[str, Any]:
        """Every setting by its dotted name (a mapping's keys joined with '.'): the node's parameters."""
        out: dict[str, Any] = {}

        def walk(prefix: str, node: dict[str, Any]) -> None:
            for key, value in node.items():
                if isinstance(value, dict):
                    walk(f"{prefix}{key}.", value)
                else:
                    out[f"{prefix}{key}"] = value

        walk("", self.raw)
        return out

    @staticmethod
    def from_flat(values: dict[str, Any]) -> NavigationConfig:
        """The config made of dotted settings (the node's parameters), checked as a file is."""
        raw: dict[str, Any] = {key: {} for key in MAPPINGS}  # an empty mapping in the file has no parameters
        for dotted, value in values.items():
            *path, last = dotted.split(".")
            node = raw
            for key in path:
                node = node.setdefault(key, {})
            node[last] = value
        problems = check(raw)
        if problems:
            raise ValueError("; ".join(problems))
        return NavigationConfig(raw)

    def canonical(self, class_name: str) -> str:
        return self.raw["hazard_aliases"].get(class_name, class_name)

    def is_hazard(self, class_name: str) -> bool:
        """Said to the wearer: a class in `class_priority`, or any class with `announce_unlisted_classes`; and what
        the depth map finds standing in the walking corridor (OBSTACLE), unless `class_priority` gives it 0."""
        name = self.canonical(class_name)
        if name == OBSTACLE:
            return self.priority(name) > 0
        return name in self.raw["class_priority"] or bool(self.raw["announce_unlisted_classes"])

    def priority(self, class_name: str) -> float:
        name = self.canonical(class_name)
        default = OBSTACLE_PRIORITY if name == OBSTACLE else self.raw["default_priority"]
        return float(self.raw["class_priority"].get(name, default))

    def tier_distances(self, class_name: str) -> dict[str, float]:
        tiers = self.raw["tiers"]
        return {k: float(v) for k, v in tiers.get(self.canonical(class_name), tiers["default"]).items()}

    def contact_times(self, class_name: str) -> dict[str, float]:
        """Seconds to contact at which each tier starts, for this class."""
        times = self.raw["time_to_contact"]
        return {k: float(v) for k, v in times.get(self.canonical(class_name), times["default"]).items()}

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]


def comments(text: str) -> dict[str, str]:
    """Each block-style key's comment in the YAML text (the lines above it, or its own line's), by dotted name.
    A key without one has its section's (`tiers.car.critical`: `tiers`'s): see `described`."""
    out: dict[str, str] = {}
    above: list[str] = []
    path: list[tuple[int, str]] = []  # (indent, key) of the enclosing keys
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            above.append(stripped.lstrip("# ").strip())
            continue
        match = KEY.match(line)
        if not match:
            above = []
            continue
        indent = len(match.group(1))
        path = [(i, k) for i, k in path if i < indent] + [(indent, match.group(2).strip())]
        own = line.split("#", 1)[1].strip() if "#" in line else ""
        said = " ".join([*above, own]).strip()
        if said:
            out[".".join(k for _, k in path)] = said
        above = []
    return out


def described(dotted: str, notes: dict[str, str]) -> str:
    """The comment of the setting, else of the nearest section around it."""
    parts = dotted.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in notes:
            return notes[".".join(parts[:n])]
    return ""
