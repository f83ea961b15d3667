"""rgb_perception: YOLO and depth on the RGB camera (see nodes/perception.py)."""

from aria_nav_ros.nodes.perception import RgbPerception, rgb_main

__all__ = ["RgbPerception", "main"]
main = rgb_main

if __name__ == "__main__":
    main()
