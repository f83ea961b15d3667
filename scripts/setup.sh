#!/usr/bin/env bash
# Set up aria_nav_ros on a fresh Debian/Ubuntu machine, from this repo alone:
#   1. the apt packages it needs (only those missing),
#   2. a venv ($ARIA_NAV_VENV, default ~/.cache/aria_nav_ros/venv) with ROS 2 Kilted from PyPI wheels, colcon, torch,
#      ultralytics and the rest of requirements.txt (skipped when unchanged),
#   3. the colcon build of this package into install/;
#   4. the sample walk bag (outputs/sample/walk), rebuilt when core/sample.py changes.
# A second run reinstalls nothing. Afterwards: `source scripts/env.sh`.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The venv lives outside the source tree: CMake refuses exported include
# folders (numpy's, inside the venv) that lie under the package's sources.
VENV="${ARIA_NAV_VENV:-$HOME/.cache/aria_nav_ros/venv}"
APT_PACKAGES=(cmake g++ make git espeak-ng libportaudio2 darknet iproute2) # iproute2: the two-host tests (ip netns)

say() { echo "[setup] $*"; }

# --- 1. apt ------------------------------------------------------------------
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
# The ROS 2 wheels are built for CPython 3.11: use it, from apt if need be.
PYTHON=$(command -v python3.11 || true)
if [ -z "$PYTHON" ]; then
  missing+=(python3.11 python3.11-venv python3.11-dev)
elif ! "$PYTHON" -c "import ensurepip, sysconfig, os, sys; \
    sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h')))" 2>/dev/null; then
  missing+=(python3.11-venv python3.11-dev)
fi
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  say "apt: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  PYTHON=$(command -v python3.11)
fi

# --- 2. venv -----------------------------------------------------------------
[ -x "$VENV/bin/python" ] || { say "creating $VENV"; mkdir -p "$(dirname "$VENV")"; "$PYTHON" -m venv "$VENV"; }
stamp="$VENV/.requirements.sha256"
want=$(sha256sum "$ROOT/requirements.txt" "$ROOT/scripts/fix_ros_cmake_exports.py" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "pip: installing requirements.txt (torch is large: the first run takes minutes)"
  mkdir -p "$ROOT/log"
  "$VENV/bin/python" -m pip install -r "$ROOT/requirements.txt" >"$ROOT/log/pip_install.txt" 2>&1 \
    || { tail -30 "$ROOT/log/pip_install.txt"; say "pip install failed (log/pip_install.txt)"; exit 1; }
  # The wheels' CMake exports name the include folders of the container they
  # were built in; point them at this venv's Python and numpy.
  "$VENV/bin/python" "$ROOT/scripts/fix_ros_cmake_exports.py" "$VENV"
  echo "$want" > "$stamp"
else
  say "pip: requirements unchanged, nothing to install"
fi
# The venv is the ROS 2 underlay (env.sh puts it on AMENT_PREFIX_PATH); colcon warns about a prefix without
# local_setup files. env.sh already sets up everything the venv holds, so they have nothing to do.
for shell in sh bash; do
  [ -f "$VENV/local_setup.$shell" ] || echo "# aria_nav_ros: the venv is set up by scripts/env.sh" > "$VENV/local_setup.$shell"
done
# ultralytics writes its settings file, with a banner, at its first import: here, not in the main job's console.
"$VENV/bin/python" -c "import ultralytics" >/dev/null 2>&1 || true

# --- 3. colcon build ---------------------------------------------------------
# shellcheck source=scripts/env.sh
source "$ROOT/scripts/env.sh" --no-install
cd "$ROOT"
# /tf_static needs tf2_msgs, which the PyPI ROS wheels lack: build its message from interfaces/ (its real name
# and fields), unless the ROS underneath has it (a full ROS 2 install).
BASE_PATHS=("$ROOT")
if ! python -c "import tf2_msgs.msg" 2>/dev/null; then
  BASE_PATHS+=("$ROOT/interfaces")
fi
say "colcon build (${BASE_PATHS[*]#$ROOT/})"
colcon --log-base "$ROOT/log" build --symlink-install \
  --base-paths "${BASE_PATHS[@]}" --build-base "$ROOT/build" --install-base "$ROOT/install" \
  --event-handlers console_cohesion- summary- status- >"$ROOT/log/colcon_build.txt" 2>&1 \
  || { cat "$ROOT/log/colcon_build.txt"; say "colcon build failed"; exit 1; }

# --- 4. the sample walk (a rosbag2 made from the packages' photos) -------------
SAMPLE="$ROOT/outputs/sample/walk"
sample_want=$(sha256sum "$ROOT/aria_nav_ros/core/sample.py" | cut -d' ' -f1)
if [ "$(cat "$SAMPLE.sha256" 2>/dev/null)" != "$sample_want" ] || [ ! -f "$SAMPLE/metadata.yaml" ]; then
  say "building the sample walk bag $SAMPLE"
  # shellcheck source=scripts/env.sh
  source "$ROOT/scripts/env.sh"
  python -m aria_nav_ros.core.sample "$SAMPLE"
  echo "$sample_want" > "$SAMPLE.sha256"
fi
say "ready: source scripts/env.sh"
