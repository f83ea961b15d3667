"""ROS 2 nodes: wiring between the core and topics. One module per executable."""

import sys

if sys.argv[0] == "-m":  # `python -m aria_nav_ros.nodes.<module>`: a node process is starting
    # Before the node module's heavy imports (torch takes seconds): a stop asked now exits at once.
    from aria_nav_ros.graph.process import start_process

    start_process()
