#!/usr/bin/env bash
# The main job: set up (quick when already done), then play the sample walk
# (outputs/sample/walk, built by setup.sh from real photos) through the whole
# graph: driver, RGB perception with navigation, two SLAM detectors, stream
# monitor and recorder, with the real person checkpoint. Cues are printed as
# they are spoken, progress every 5 s; the run folder outputs/run_<time>/
# holds cues.jsonl, summary.json, navigation.wav, annotated_<camera>.mp4 and
# bag/. Extra arguments go to `python -m aria_nav_ros.launcher` (--help).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$ROOT/scripts/setup.sh"
# shellcheck source=scripts/env.sh
source "$ROOT/scripts/env.sh"
cd "$ROOT"
# Without a GPU each detector takes a good part of a second per frame: play
# the walk at a quarter of its speed with smaller inputs, and allow three
# seconds (not one) before a lagging camera is said to be lost; one torch
# thread per detector (three processes on every core fight over them). Where the
# sample's views look (its SLAM views are the photos' halves) is in its /tf_static.
if python -c "import sys, torch; sys.exit(not torch.cuda.is_available())"; then
  pace=(--rate 1.0)
else
  pace=(--rate 0.25 --rgb-imgsz 480 --slam-imgsz 320 --camera-timeout 3.0 --torch-threads 1)
fi
python -m aria_nav_ros.launcher --path outputs/sample/walk --exit-at-end "${pace[@]}" \
  --output "outputs/run_$(date +%Y%m%d_%H%M%S)" "$@"
