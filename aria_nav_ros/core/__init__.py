"""The ROS-free core: nothing here imports rclpy or message packages."""
