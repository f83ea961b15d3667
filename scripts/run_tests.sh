#!/usr/bin/env bash
# The tests: set up (quick when already done), lint, then the suite as ROS 2 users run it: `colcon test`
# (CMakeLists.txt registers test/ with ament_cmake_pytest) and `colcon test-result`.
# Extra arguments go to pytest (through PYTEST_ADDOPTS), e.g. -q, -x, -k name.
# Three pytest-xdist workers by default, each in a DDS domain of its own (test/conftest.py), a file's tests on one
# worker (--dist loadfile: its shared graph runs too), the longest files first (test/conftest.py's order, which
# --no-loadscope-reorder keeps); ARIA_NAV_TEST_WORKERS=0 runs them in this process alone.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/scripts/setup.sh"
# shellcheck source=scripts/env.sh
source "$ROOT/scripts/env.sh"
cd "$ROOT"
ruff check .
WORKERS=${ARIA_NAV_TEST_WORKERS:-3}
[ "$WORKERS" = 0 ] || set -- -n "$WORKERS" --dist loadfile --no-loadscope-reorder "$@"
PYTEST_ADDOPTS=${1+$(printf "%q " "$@")}  # pytest splits it as a shell would (no arguments: none, not '')
export PYTEST_ADDOPTS
status=0
colcon --log-base "$ROOT/log" test --base-paths "$ROOT" --build-base "$ROOT/build" --install-base "$ROOT/install" \
  --event-handlers console_direct+ summary- --return-code-on-test-failure || status=$?
# Only pytest's results: under build/ CTest also writes its own file, which counts the whole suite as one more test.
colcon test-result --test-result-base "$ROOT/build/aria_nav_ros/test_results" --verbose || status=$?
# pytest's own count, as the last line (from the JUnit file colcon test-result read).
python - "$ROOT/build/aria_nav_ros/test_results/aria_nav_ros/pytest.xunit.xml" <<'PY'
import sys
import xml.etree.ElementTree as ElementTree

suite = ElementTree.parse(sys.argv[1]).getroot()
suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
total, failed = int(suite.get("tests", 0)), int(suite.get("failures", 0)) + int(suite.get("errors", 0))
skipped = int(suite.get("skipped", 0))
print(f"pytest: {total - failed - skipped} passed, {failed} failed, {skipped} skipped")
PY
exit "$status"
