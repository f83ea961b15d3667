"""The navigation policy: three cameras' detections in, a few timely cues out (ROS-free)."""
