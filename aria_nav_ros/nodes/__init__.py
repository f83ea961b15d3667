"""ROS 2 nodes: wiring between the core and topics. One module per executable."""
