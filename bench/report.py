"""What every benchmark's result file says of its run, written one way: the command that reproduces it
(`command`), the machine it ran on (`machine`), latencies in one shape (`percentiles`), and the JSON file itself
(`write`).

The scripts run as `python bench/x.py`; with PYTHONSAFEPATH=1 (scripts/env.sh) bench/ is not on sys.path by
itself, so each script puts its own folder there before `from report import command, machine, write`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import shlex
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def command(script: str, argv: list[str] | None = None) -> str:
    """The command line, from the repository root, that runs `script` again with these arguments:
    `python bench/graph_bench.py --seconds 60`. `script` is the script's path (its `__file__`: a path inside the
    repository is written relative to it); `argv` the arguments a main(argv) was given, else sys.argv[1:]."""
    path = Path(script)
    if path.is_absolute() and path.resolve().is_relative_to(ROOT):
        script = path.resolve().relative_to(ROOT).as_posix()
    return "python " + shlex.join([script, *(sys.argv[1:] if argv is None else argv)])


def cpu_model() -> str:
    """The CPU's model name where Linux says it (platform.processor() is only 'x86_64' there)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """Where a result was measured: the CPU's model, its cores, Python's version, the host's name, and the GPU's
    name where the script has imported torch and CUDA works (torch is never imported here: it takes seconds)."""
    info: dict[str, Any] = {
        "processor": cpu_model(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "node": platform.node(),
    }
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
    return info


def percentiles(values: list[float]) -> dict[str, float]:
    """count, p50, p95, p99, p99.9, max and mean of `values` (only the count where there are none)."""
    if not values:
        return {"count": 0}
    a = np.asarray(values)
    return {"count": len(values), "p50": float(np.percentile(a, 50)), "p95": float(np.percentile(a, 95)),
            "p99": float(np.percentile(a, 99)), "p999": float(np.percentile(a, 99.9)), "max": float(a.max()),
            "mean": float(a.mean())}  # fmt: skip


def _plain(value: object) -> object:
    """A value json cannot write: a dataclass as its fields, anything else as its str (a Path, a numpy scalar)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return str(value)


def _scalar_lists_inline(text: str) -> str:
    """json.dumps(indent=1) output with each list of numbers, strings or nulls on one line: the per-frame samples
    of a run then take a line each, not one line per number (a result file a third of the size)."""
    out: list[str] = []
    pending: list[str] = []  # a list's lines while all its items are scalars
    for line in text.split("\n"):
        stripped = line.strip()
        if pending:
            if stripped.startswith(("[", "{")) or stripped.endswith(("[", "{")):  # a nested container: as it is
                out.extend(pending)
                pending = []
            elif stripped in ("]", "],"):
                out.append(pending[0] + " ".join(item.strip() for item in pending[1:]) + stripped)
                pending = []
                continue
            else:
                pending.append(line)
                continue
        if stripped.endswith("["):
            pending = [line]
        else:
            out.append(line)
    return "\n".join(out + pending)


def write(path: str | Path, report: dict[str, Any]) -> None:
    """The result file: JSON, one space an indent (lists of plain values on one line), non-ASCII as it is, a
    trailing newline; its folder made."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=1, ensure_ascii=False, default=_plain)
    path.write_text(_scalar_lists_inline(text) + "\n", encoding="utf-8")
