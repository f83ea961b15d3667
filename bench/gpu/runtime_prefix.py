"""The ROS 2 run-time for a machine without ROS: the installed files of rclpy (Fast DDS) and the message packages.

Run with a Python (3.12 for the lent GPU machine) whose environment has the ros-kilted wheels installed:
it walks the dependency closure of the roots below through the installed distributions' metadata and copies
their files, in the same prefix layout (lib/, share/, lib/pythonX.Y/site-packages), into PREFIX. What the
target machine already has (numpy, PyYAML, setuptools, typing-extensions) and what only builds need (ament
CMake linters, headers, static libraries, scripts) stays behind. The prefix is used with
PYTHONPATH=PREFIX/lib/pythonX.Y/site-packages, LD_LIBRARY_PATH=PREFIX/lib plus each ros_*.libs folder (what
the wheels' own .pth bootstrapper would set; a .pth is not read from PYTHONPATH) and AMENT_PREFIX_PATH=PREFIX.

    python bench/gpu/runtime_prefix.py PREFIX
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from packaging.requirements import Requirement

ROOTS = (
    ("ros-kilted-rclpy", ("fastrtps",)),
    ("ros-kilted-std-msgs", ()),
    ("ros-kilted-sensor-msgs", ()),
    ("ros-kilted-geometry-msgs", ()),
    ("ros-kilted-visualization-msgs", ()),
    ("ros-kilted-diagnostic-msgs", ()),
    ("ros-kilted-nav-msgs", ()),
    ("ros-kilted-rosidl-default-runtime", ()),
    ("ros-kilted-ament-index-python", ()),
)
ON_TARGET = {"numpy", "pyyaml", "setuptools", "typing-extensions"}  # the GPU machine's image has them


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(roots: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, str]:
    """Every distribution the roots need at run time (with their extras), name -> version."""
    found: dict[str, tuple[str, set[str]]] = {}
    todo = [(name, set(extras)) for name, extras in roots]
    while todo:
        name, extras = todo.pop()
        key = _key(name)
        if key in found and extras <= found[key][1]:
            continue
        try:
            dist = distribution(name)
        except PackageNotFoundError as error:
            raise SystemExit(f"{name} is not installed in {sys.prefix}: install the ros-kilted wheels first") from error
        found[key] = (dist.version, found.get(key, ("", set()))[1] | extras)
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in (extras or {""})):
                todo.append((req.name, set(req.extras)))
    return {key: version for key, (version, _) in sorted(found.items())}


def wanted(relative: Path) -> bool:
    parts = relative.parts
    if parts[0] in ("include", "bin") or "__pycache__" in parts or "include" in parts[:3]:
        return False
    return relative.suffix not in (".a", ".pyc")


def copy_prefix(prefix: Path, names: list[str]) -> int:
    site = Path("lib", f"python{sys.version_info.major}.{sys.version_info.minor}", "site-packages")
    total = 0
    for name in names:
        if name in ON_TARGET or name.startswith("ros-ament-cmake"):
            continue
        dist = distribution(name)
        for entry in dist.files or []:
            source = Path(dist.locate_file(entry))
            relative = Path(os.path.normpath(site / entry))  # data files are recorded as ../../../lib/...
            if not source.is_file() or not wanted(relative):
                continue
            target = prefix / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
            total += source.stat().st_size
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("prefix", type=Path)
    args = parser.parse_args()
    if args.prefix.exists():
        shutil.rmtree(args.prefix)
    names = closure(ROOTS)
    size = copy_prefix(args.prefix, list(names))
    (args.prefix / "DISTRIBUTIONS.txt").write_text("".join(f"{n}=={v}\n" for n, v in names.items()))
    print(f"[runtime_prefix] {len(names)} distributions, {size / 1e6:.0f} MB into {args.prefix}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
