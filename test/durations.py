"""How long each test file took in the last run, for handing the longest files to the workers first.

test/conftest.py orders the files by test/durations.json (longest first, then tier by tier): with parallel workers
(--dist loadfile) the long files start early and the short ones fill the end, rather than one long file running
alone at the end. A stale or missing entry only changes the order. After tests were added or moved:

    bash scripts/run_tests.sh -q && source scripts/env.sh && python test/durations.py
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parents[1]
DURATIONS = Path(__file__).resolve().parent / "durations.json"
RESULTS = ROOT / "build" / "aria_nav_ros" / "test_results" / "aria_nav_ros" / "pytest.xunit.xml"


def load() -> dict[str, float]:
    """File (test/tier/test_x.py) -> seconds; empty where the file is missing or unreadable."""
    try:
        return {str(k): float(v) for k, v in json.loads(DURATIONS.read_text()).items()}
    except (OSError, ValueError, AttributeError):
        return {}


def from_results(results: Path) -> dict[str, float]:
    """Seconds per test file, summed over its tests, from pytest's JUnit file."""
    seconds: Counter[str] = Counter()
    for case in ElementTree.parse(results).getroot().iter("testcase"):
        module = case.get("classname", "").removeprefix("aria_nav_ros.")  # aria_nav_ros.test.unit.test_x[.Class]
        parts = module.split(".")
        if len(parts) >= 3 and parts[0] == "test":
            seconds["/".join(parts[:3]) + ".py"] += float(case.get("time", 0.0))
    return {name: round(value, 1) for name, value in sorted(seconds.items(), key=lambda item: -item[1])}


def main(argv: list[str]) -> int:
    results = Path(argv[0]) if argv else RESULTS
    durations = from_results(results)
    if not durations:
        print(f"no test files in {results}", file=sys.stderr)
        return 1
    DURATIONS.write_text(json.dumps(durations, indent=1) + "\n")
    print(f"wrote {DURATIONS} ({len(durations)} files, {sum(durations.values()):.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
