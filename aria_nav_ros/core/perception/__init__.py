"""The perception engine: YOLO and monocular depth on one frame, on the GPU where there is one.

ROS-free: numpy frames in, plain detections out, so it runs and is
benchmarked on a GPU machine without ROS.
"""
