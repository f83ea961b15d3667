"""Draws the package's import graph from its source (the AST, nothing imported) into docs/imports.md.

The rings of DESIGN.md (core, ros, nodes) are one box each; the graph runtime (aria_nav_ros/graph/) is drawn
module by module, as one wing. It lists every import into the runtime from outside it, and any module loaded by
name (importlib.import_module, __import__).

    python scripts/import_graph.py            # rewrite docs/imports.md
    python scripts/import_graph.py --check    # exit 1 when docs/imports.md differs
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "aria_nav_ros"
WING = f"{PACKAGE}.graph"
OUT = ROOT / "docs" / "imports.md"
LAUNCH_FILE = "launch/hybrid.launch.py"


def module_name(path: Path) -> str:
    if path.as_posix() == LAUNCH_FILE:
        return "launch file"
    parts = list(path.with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources() -> dict[str, Path]:
    files = sorted((ROOT / PACKAGE).rglob("*.py")) + [ROOT / LAUNCH_FILE]
    return {module_name(f.relative_to(ROOT)): f for f in files}


def imports_of(path: Path, modules: set[str]) -> tuple[list[str], list[str]]:
    """The package's modules that `path` imports (at the top or inside a function), and the calls that load a
    module by name."""
    found, by_name = [], []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == PACKAGE]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == PACKAGE:
            for alias in node.names:  # `from package import module` names a module, else a name in one
                full = f"{node.module}.{alias.name}"
                found.append(full if full in modules else node.module)
        elif isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            if name in ("importlib.import_module", "import_module", "__import__"):
                by_name.append(f"{name}({ast.unparse(node.args[0]) if node.args else ''})")
    return found, by_name


def box(module: str) -> str:
    """Where a module is drawn: the runtime's modules one by one, the rest by ring."""
    if module == WING or module.startswith(WING + "."):
        return module.removeprefix(PACKAGE + ".")
    parts = module.split(".")
    if module == "launch file" or len(parts) == 1:
        return module
    if parts[1] in ("core", "ros", "nodes", "msg"):
        return parts[1]
    return module.removeprefix(PACKAGE + ".")  # a module at the package's root


def inward_imports() -> list[tuple[str, str]]:
    """(module, runtime module) for every import into the graph runtime from outside it."""
    files = sources()
    modules = set(files) | {f"{PACKAGE}.msg"}
    pairs = {(m, t) for m, path in files.items() for t in imports_of(path, modules)[0]}
    return sorted((m, t) for m, t in pairs if box(t).startswith("graph") and not box(m).startswith("graph"))


def render() -> str:
    files = sources()
    modules = set(files) | {f"{PACKAGE}.msg"}  # the messages are generated at build time
    edges: set[tuple[str, str]] = set()
    into_wing: list[tuple[str, str]] = []
    loaded_by_name: list[str] = []
    for module, path in files.items():
        found, by_name = imports_of(path, modules)
        loaded_by_name += [f"`{module}`: `{call}`" for call in by_name]
        for target in sorted(set(found)):
            source_box, target_box = box(module), box(target)
            if source_box != target_box and target_box != PACKAGE:
                edges.add((source_box, target_box))
            if target_box.startswith("graph") and not source_box.startswith("graph"):
                into_wing.append((module, target))
    wing = sorted({b for edge in edges for b in edge if b.startswith("graph")})
    ids = {name: name.replace(".", "_").replace(" ", "_") for edge in edges for name in edge}
    lines = ["```mermaid", "flowchart LR"]
    lines += ["  subgraph runtime [graph runtime: aria_nav_ros/graph]"]
    lines += [f'    {ids[name]}["{name}"]' for name in wing]
    lines += ["  end"]
    lines += [f'  {ids[name]}["{name}"]' for name in sorted(ids) if name not in wing]
    lines += [f"  {ids[a]} --> {ids[b]}" for a, b in sorted(edges)]
    lines.append("```")
    inward = [f"| `{m}` | `{t.removeprefix(PACKAGE + '.')}` |" for m, t in sorted(set(into_wing))]
    rings = {ring: sorted({box(t) for m, t in into_wing if box(m) == ring}) for ring in ("core", "ros", "nodes")}
    named = {ring: ", ".join(f"`{name}`" for name in found) or "nothing" for ring, found in rings.items()}
    summary = "; ".join(f"`{ring}`: {names}" for ring, names in named.items())
    return "\n".join(
        [
            "# Import graph",
            "",
            "Written from the source by `python scripts/import_graph.py` (the AST: every import, also those inside a "
            "function). The rings are one box each (`core`: no ROS; `ros`: adapters; `nodes`: one module per "
            "executable; `msg`: generated); the graph runtime, `aria_nav_ros/graph/`, is drawn module by module.",
            "",
            *lines,
            "",
            "## Imports into the runtime from outside it",
            "",
            f"What each ring imports of the runtime: {summary}.",
            "",
            "| module | imports |",
            "| --- | --- |",
            *inward,
            "",
            "## Modules loaded by name",
            "",
            *(loaded_by_name or ["None: every import is written out."]),
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/imports.md differs")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        return 0 if OUT.exists() and OUT.read_text() == text else 1
    OUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
