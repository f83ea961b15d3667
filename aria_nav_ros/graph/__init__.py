"""The graph runtime: what runs the package's nodes as one graph, apart from the nodes themselves.

- description: the one description of the graph (processes, node names, parameters, launch arguments);
- supervision: what the launcher and launch/hybrid.launch.py do before the graph starts and after a process
  exits (restart after which delay, end the graph, or nothing);
- launcher: the graph without ROS 2 launch (`python -m aria_nav_ros.launcher`); run_report: its run folder;
- process: how every process of the graph starts and stops (signals, parent death, a stop deadline);
- protocol: what a node and the graph agree on (exit codes, the ready pipe): the one module nodes import;
- network_guard: whether the graph may leave this machine; dds_shm: shared memory dead processes left;
- regression: the lockstep replay against test/golden/.

This file imports nothing, so that a node importing the protocol loads no more of the runtime.
"""
