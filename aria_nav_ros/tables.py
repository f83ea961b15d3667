"""The generated tables of the documentation, written from the code so that they stay in step with it.

- README.md: the launch arguments (graph description's GraphSettings and SETTING_HELP);
- docs/parameters.md: every node's declared parameters (each node module's PARAMETERS), and navigation's cue
  rules (config/navigation.yaml's settings, declared as its parameters: nodes.navigation.RULES).

    python -m aria_nav_ros.tables --write .    # rewrite both between their markers (from the repository root)
    python -m aria_nav_ros.tables              # print them

test_params fails when a file differs from what this writes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from aria_nav_ros.graph.description import settings_table
from aria_nav_ros.nodes import aria_driver, navigation, perception, recorder, stream_monitor
from aria_nav_ros.ros.params import table

NODE_TABLES = {  # as the tables name them -> the module that declares their PARAMETERS
    "aria_driver": aria_driver,
    "rgb_perception / slam_detector": perception,
    "navigation": navigation,
    "recorder": recorder,
    "stream_monitor": stream_monitor,
}
LAUNCH_BEGIN = "<!-- launch arguments: written by python -m aria_nav_ros.tables -->"
LAUNCH_END = "<!-- launch arguments end -->"
PARAMS_BEGIN = "<!-- parameters: written by python -m aria_nav_ros.tables -->"
PARAMS_END = "<!-- parameters end -->"


def launch_section() -> str:
    return "\n".join([LAUNCH_BEGIN, settings_table(), LAUNCH_END])


def rules_table() -> str:
    """Navigation's cue rules: one row each, without the meaning (config/navigation.yaml's comment, which
    `ros2 param describe` shows)."""
    lines = ["| parameter | default | at run time |", "| --- | --- | --- |"]
    lines += [f"| `{p.name}` | `{p.default}` | {'yes' if p.live else ''} |" for p in navigation.RULES]
    return "\n".join(lines)


def parameters_section() -> str:
    parts = [PARAMS_BEGIN]
    for executable, module in NODE_TABLES.items():
        parts += [f"\n`{executable}`:\n", table(module.PARAMETERS)]
    parts += ["\n`navigation`'s cue rules (config/navigation.yaml; dotted: a section's key):\n", rules_table()]
    return "\n".join([*parts, PARAMS_END])


def sections() -> dict[str, tuple[str, str, str]]:
    """Relative path -> (begin marker, end marker, the text between them, markers included)."""
    return {
        "README.md": (LAUNCH_BEGIN, LAUNCH_END, launch_section()),
        "docs/parameters.md": (PARAMS_BEGIN, PARAMS_END, parameters_section()),
    }


def written(text: str, begin: str, end: str) -> str:
    """The marked section of `text`, markers included."""
    return text[text.index(begin) : text.index(end) + len(end)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", metavar="ROOT", default="", help="rewrite the files under this repository root")
    args = parser.parse_args(argv)
    for relative, (begin, end, section) in sections().items():
        if not args.write:
            print(f"{relative}:\n{section}\n")
            continue
        path = Path(args.write) / relative
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace(written(text, begin, end), section), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
