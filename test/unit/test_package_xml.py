"""package.xml declares what the code imports (so that `rosdep install` on a ROS machine leaves nothing out), and
nothing it does not."""

from __future__ import annotations

import ast
import sys
import xml.etree.ElementTree as ElementTree

from locations import ROOT

# An imported top-level module -> its rosdep key (ROS packages are their own key).
KEYS = {
    "aria": "python3-projectaria-client-sdk-pip",  # live glasses (aria.sdk)
    "cv2": "python3-opencv",
    "mcap": "python3-mcap-pip",
    "mcap_ros2": "python3-mcap-ros2-support-pip",
    "numpy": "python3-numpy",
    "onnx": "python3-onnx-pip",  # a depth model written as ONNX (floor depth test)
    "onnxruntime": "python3-onnxruntime-pip",
    "projectaria_tools": "python3-projectaria-tools-pip",
    "psutil": "python3-psutil",
    "pytest": "python3-pytest",
    "rosbags": "python3-rosbags-pip",
    "sounddevice": "python3-sounddevice-pip",
    "torch": "python3-torch-pip",
    "torchvision": "python3-torchvision-pip",  # nvJPEG: JPEG frames decoded on the GPU
    "transformers": "python3-transformers-pip",
    "ultralytics": "python3-ultralytics-pip",
    "yaml": "python3-yaml",
}
# Declared without a Python import: what the generated messages and the programs the code runs need.
NOT_IMPORTED = {
    "rosidl_default_runtime": "the generated aria_nav_ros.msg types",
    "espeak-ng": "speech (a program, run by core/navigation/audio.py)",
    "libportaudio2": "the library sounddevice loads",
    "ament_cmake_pytest": "CMakeLists.txt registers the suite with it (colcon test)",
}


def imported(folders: list[str]) -> set[str]:
    """The third-party top-level modules the Python files under `folders` import (at any depth in the file)."""
    local = {p.stem for p in (ROOT / "test").rglob("*.py")} | {"aria_nav_ros", "conftest"}  # helpers and tests
    found = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                found |= {n.split(".")[0] for n in names}
    return {m for m in found if m not in sys.stdlib_module_names and m not in local and m != "__future__"}


def declared() -> dict[str, set[str]]:
    tags: dict[str, set[str]] = {}
    for element in ElementTree.parse(ROOT / "package.xml").getroot():
        tags.setdefault(element.tag, set()).add((element.text or "").strip())
    return tags


def test_every_import_is_declared_with_its_rosdep_key() -> None:
    tags = declared()
    run_time = tags.get("depend", set()) | tags.get("exec_depend", set())
    code = {KEYS.get(m, m) for m in imported(["aria_nav_ros", "launch", "bin"])}
    tests = {KEYS.get(m, m) for m in imported(["test"])}
    assert not code - run_time, f"imported at run time but not an exec_depend: {sorted(code - run_time)}"
    missing = tests - run_time - tags.get("test_depend", set())
    assert not missing, f"imported by the tests but not a test_depend: {sorted(missing)}"
    unused = run_time - code - set(NOT_IMPORTED)
    assert not unused, f"declared but never imported: {sorted(unused)}"
    assert not tags.get("test_depend", set()) - tests - set(NOT_IMPORTED), "a test_depend no test imports"


def test_the_import_scan_sees_nested_and_from_imports() -> None:
    """The comparison above is worth something only if the scan finds imports inside functions too."""
    modules = imported(["aria_nav_ros"])
    assert {"sounddevice", "projectaria_tools", "aria", "torch", "rclpy"} <= modules  # imported inside functions
    assert "os" not in modules and "aria_nav_ros" not in modules
