#!/usr/bin/env bash
# Make an SROS2 keystore for the aria_nav_ros graph: one enclave per process (aria_nav_ros.graph.network_guard.enclave),
# each with the permissions of config/sros2_policy.xml (only the graph's own nodes publish images, detections,
# cues and events). Needs the ros2 CLI with sros2, on a ROS install whose DDS has security.
#   scripts/sros2_keystore.sh KEYSTORE
# then: export ROS_SECURITY_KEYSTORE=KEYSTORE ROS_SECURITY_ENABLE=true ROS_SECURITY_STRATEGY=Enforce
# The launcher and the launch file then give each process its enclave (ROS_SECURITY_ENCLAVE_OVERRIDE).
# The policy names the graph without a namespace; for namespace:=NS its enclaves and ns="/" need NS in front.
set -euo pipefail
keystore=${1:?usage: $0 KEYSTORE}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
policy="$root/config/sros2_policy.xml"
if ! command -v ros2 >/dev/null 2>&1; then
  echo "[sros2] no ros2 CLI here (it cannot be installed from PyPI, and these wheels' Fast DDS has no security):" \
    "run this on a ROS 2 install with sros2; nothing was made" >&2
  exit 1
fi
ros2 security create_keystore "$keystore"
# The enclaves, as the policy names them (one per process, and aria_nav_container for composed processes).
enclaves=$(python3 -c 'import sys, xml.etree.ElementTree as E
print("\n".join(e.get("path") for e in E.parse(sys.argv[1]).getroot().iter("enclave")))' "$policy")
for enclave in $enclaves; do
  ros2 security create_enclave "$keystore" "$enclave"
  ros2 security create_permission "$keystore" "$enclave" "$policy"
done
echo "[sros2] keystore $keystore: enclaves $(echo "$enclaves" | tr '\n' ' ')" >&2
