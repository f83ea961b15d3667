#!/usr/bin/env bash
# The main job: set up (quick when already done), then run the graph on the
# embedded sample. Extra arguments go to `python -m aria_nav_ros.graph`.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/scripts/setup.sh"
# shellcheck source=scripts/env.sh
source "$ROOT/scripts/env.sh"
cd "$ROOT"
run="outputs/run_$(date +%Y%m%d_%H%M%S)"
photos=$(python -c "from pathlib import Path; from aria_nav_ros.core.photos import photo_folder; \
print(photo_folder(Path('outputs/photos')))")
python -m aria_nav_ros.graph --path "$photos" --loop --duration 15 --output "$run" "$@"
echo "[main] run folder: $run"
