#!/usr/bin/env bash
# The main job: set up (quick when already done), then run the whole graph
# (driver, RGB perception, two SLAM detectors, navigation) on the sample
# photos, with the real person checkpoint. Cues are printed as they are
# spoken; the run folder under outputs/ holds cues.jsonl, navigation.wav and
# streams.json. Extra arguments go to `python -m aria_nav_ros.graph`.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/scripts/setup.sh"
# shellcheck source=scripts/env.sh
source "$ROOT/scripts/env.sh"
cd "$ROOT"
run="outputs/run_$(date +%Y%m%d_%H%M%S)"
photos=$(python -c "from pathlib import Path; from aria_nav_ros.core.photos import photo_folder; \
print(photo_folder(Path('outputs/photos')))")
# On a machine without a GPU the detectors take a good part of a second per
# frame: two photos a second, small SLAM inputs, RGB and navigation composed,
# and three seconds (not one) before a lagging camera is said to be lost.
# The stand-in SLAM views are the photo's halves: they look 17.5 degrees
# (a quarter of the 70-degree field of view) to each side, not Aria's 60.
python -m aria_nav_ros.graph --path "$photos" --image-fps 2 --loop --duration 45 --slam-imgsz 320 \
  --compose --camera-timeout 3.0 --slam-yaw-deg 17.5 --output "$run" "$@"
