"""slam_detector: YOLO on one SLAM camera, set by the `camera` parameter (see nodes/perception.py)."""

from aria_nav_ros.nodes.perception import SlamDetector, slam_main

__all__ = ["SlamDetector", "main"]
main = slam_main

if __name__ == "__main__":
    main()
