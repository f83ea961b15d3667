"""aria_nav_ros: a navigation aid for blind and low-vision people on Project Aria glasses.

Two rings: `core` knows nothing of ROS (plain dataclasses and numpy, runnable
on a GPU machine without ROS); `ros` and `nodes` adapt the core to ROS 2.
The generated messages live in `aria_nav_ros.msg` after a colcon build.
"""
