"""bench/README.md's index of results, written from the result files themselves: each file, where it ran, and
the command that made it (the file's own `wrapper_command` where a wrapper ran it, else its `command`).

    python bench/readme.py            # print the index
    python bench/readme.py --write    # rewrite it in bench/README.md (test_docs fails when it differs)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
README = HERE / "README.md"
BEGIN = "<!-- results index: written by python bench/readme.py -->"
END = "<!-- results index end -->"


def machine(result: dict) -> str:
    """Where a result was measured, in a few words: the GPU's name, else the CPU's cores."""
    info = result.get("machine")
    gpu = result.get("gpu") or (info.get("gpu") if isinstance(info, dict) else None)
    if isinstance(gpu, dict):
        gpu = gpu.get("name")
    if gpu:
        return str(gpu).split(" (")[0]
    cores = result.get("machine_cores") or (info.get("cpus") if isinstance(info, dict) else None)
    return f"CPU, {cores} cores" if cores else "CPU"


def index(results: Path = RESULTS) -> str:
    lines = [BEGIN, "| result | measured on | command |", "| --- | --- | --- |"]
    for path in sorted(results.glob("*.json")):
        result = json.loads(path.read_text())
        command = " ".join(str(result.get("wrapper_command") or result["command"]).split()).replace("|", "\\|")
        lines.append(f"| [`{path.name}`](results/{path.name}) | {machine(result)} | `{command}` |")
    return "\n".join([*lines, END])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"rewrite the index in {README.name}")
    args = parser.parse_args(argv)
    if not args.write:
        print(index())
        return 0
    text = README.read_text()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    README.write_text(text[:start] + index() + text[end:])
    return 0


if __name__ == "__main__":
    sys.exit(main())
