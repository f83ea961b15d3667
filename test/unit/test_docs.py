"""The documentation stays readable and in step: the README short with its two commands, every link found, the
benchmarks' index written from the result files (the README's and docs/parameters.md's generated tables are
checked by test_params, the cue rules' by test_cue_rules)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from locations import ROOT

PAGES = [ROOT / "README.md", ROOT / "bench" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
TWO_COMMANDS = """```bash
bash scripts/run_main.sh     # set up, then play the sample walk through the whole graph
bash scripts/run_tests.sh    # set up, then lint (ruff) and run the tests (colcon test: pytest)
```"""


def anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)  # a '#' in a code block is no heading
    return {anchor(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


def test_the_readme_is_short_with_its_contents_and_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 300
    assert "## Contents" in text
    assert TWO_COMMANDS in text


def test_every_link_between_the_pages_is_found() -> None:
    broken = []
    for page in PAGES:
        for target in LINK.findall(page.read_text()):
            if re.match(r"[a-z]+:", target):
                continue  # a web address
            path, _, fragment = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            if not linked.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif fragment and linked.suffix == ".md" and fragment not in anchors(linked):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def test_the_benchmarks_index_is_written_from_the_result_files() -> None:
    spec = importlib.util.spec_from_file_location("bench_readme", ROOT / "bench" / "readme.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = module.README.read_text()
    written = text[text.index(module.BEGIN) : text.index(module.END) + len(module.END)]
    assert written == module.index(), "bench/README.md's index is stale: python bench/readme.py --write"


def test_the_import_graph_is_drawn_from_the_source() -> None:
    """docs/imports.md: the runtime as one wing; the rings import of it only the protocol and the process life."""
    spec = importlib.util.spec_from_file_location("import_graph", ROOT / "scripts" / "import_graph.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "docs" / "imports.md").read_text() == module.render(), "stale: python scripts/import_graph.py"
    inward = {(module.box(m), module.box(t)) for m, t in module.inward_imports()}
    rings = {(source, target) for source, target in inward if source in ("core", "ros", "nodes")}
    assert {target for _, target in rings} <= {"graph.protocol", "graph.process"}, rings
