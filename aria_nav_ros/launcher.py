"""`python -m aria_nav_ros.launcher`: the graph without ROS 2 launch. The launcher is aria_nav_ros.graph.launcher;
this name stays for the commands users type (the README, scripts/run_main.sh)."""

import sys

from aria_nav_ros.graph.launcher import main

if __name__ == "__main__":
    sys.exit(main())
