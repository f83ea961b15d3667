"""Point the ROS 2 wheels' CMake exports at this venv's Python and numpy headers.

The ros-kilted-* wheels are built in a container whose CPython lives under
/opt/python/cp311-cp311; their *Export.cmake files keep that path, and CMake
refuses a target whose include folder does not exist. Idempotent.
"""

from __future__ import annotations

import re
import sys
import sysconfig
from pathlib import Path

import numpy

BUILD_PYTHON = re.compile(r"/opt/python/cp3\d+-cp3\d+")


def main(venv: Path) -> int:
    python_include = sysconfig.get_paths()["include"]
    numpy_include = numpy.get_include()
    changed = 0
    for path in (venv / "share").glob("*/cmake/*.cmake"):
        text = path.read_text()
        if "/opt/python/" not in text:
            continue
        text = re.sub(
            BUILD_PYTHON.pattern + r"/lib/python3\.\d+/site-packages/numpy/_core/include", numpy_include, text
        )
        text = re.sub(BUILD_PYTHON.pattern + r"/include/python3\.\d+", python_include, text)
        path.write_text(text)
        changed += 1
        if "/opt/python/" in text:
            print(f"[setup] warning: {path} still names /opt/python/ after the rewrite")
    print(f"[setup] rewrote build-container paths in {changed} CMake export file(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
