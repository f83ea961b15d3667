# Source this file (bash) to get the shell aria_nav_ros runs in:
#   source scripts/env.sh
# It activates the venv made by scripts/setup.sh, adds the colcon install of this package, and sets the
# DDS settings the graph relies on.
_aria_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck disable=SC1091
_aria_venv="${ARIA_NAV_VENV:-$HOME/.cache/aria_nav_ros/venv}"
if [ ! -f "$_aria_venv/bin/activate" ]; then
  if [ -z "${ARIA_NAV_VENV:-}" ]; then
    echo "[env] no venv at $_aria_venv (the default): run scripts/setup.sh first, or, if your venv is" \
      "elsewhere, set ARIA_NAV_VENV to it (the same value setup.sh was run with)" >&2
  else
    echo "[env] no venv at ARIA_NAV_VENV=$_aria_venv: run ARIA_NAV_VENV=$_aria_venv scripts/setup.sh first" >&2
  fi
  return 1
fi
source "$_aria_venv/bin/activate"
# The venv is the ROS 2 "underlay": ament_index finds the message packages there.
export AMENT_PREFIX_PATH="$VIRTUAL_ENV${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}"
export CMAKE_PREFIX_PATH="$VIRTUAL_ENV${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
export RMW_IMPLEMENTATION=rmw_fastrtps_cpp
# 1408x1408 images between processes: a shared-memory segment that holds a
# whole frame; the built-in transports (LARGE_DATA included) lose best-effort
# frames of that size (config/fastdds_large_images.xml says more).
export FASTDDS_DEFAULT_PROFILES_FILE="$_aria_root/config/fastdds_large_images.xml"
unset FASTDDS_BUILTIN_TRANSPORTS
# Discovery stays on this machine unless the user says otherwise.
export ROS_AUTOMATIC_DISCOVERY_RANGE="${ROS_AUTOMATIC_DISCOVERY_RANGE:-LOCALHOST}"
# Import the built package (install/), never the source folder it shadows when
# `python -m ...` runs from the repository root: only the build has `.msg`.
export PYTHONSAFEPATH=1
mkdir -p "$_aria_root/log"
export ROS_LOG_DIR="${ROS_LOG_DIR:-$_aria_root/log/ros}"
if [ "${1:-}" != "--no-install" ]; then
  if [ ! -f "$_aria_root/install/setup.bash" ]; then
    echo "[env] $_aria_root/install is missing: run scripts/setup.sh first" >&2
    return 1
  fi
  # colcon's setup.bash reads unset variables: let it, even under `set -u`.
  _aria_nounset=$(set +o | grep nounset)
  set +u
  # shellcheck disable=SC1091
  source "$_aria_root/install/setup.bash"
  eval "$_aria_nounset"
  unset _aria_nounset
fi
unset _aria_root _aria_venv
