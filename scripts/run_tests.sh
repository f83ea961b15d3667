#!/usr/bin/env bash
# The tests: set up (quick when already done), lint, then pytest.
# Extra arguments go to pytest.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/scripts/setup.sh"
# shellcheck source=scripts/env.sh
source "$ROOT/scripts/env.sh"
cd "$ROOT"
ruff check .
pytest "$@"  # not `python -m`: that would import the sources, not the build
