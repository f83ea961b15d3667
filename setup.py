"""pip install -e . : the ROS-free core (and the package's modules) without colcon.

The ROS build is CMakeLists.txt (ament_cmake + rosidl), run by colcon; this
file lets a machine without ROS (the GPU benchmark machine) import the core.
"""

from setuptools import find_packages, setup

setup(
    name="aria_nav_ros",
    version="0.1.0",
    description="Navigation aid for blind and low-vision people on Project Aria glasses",
    license="Apache-2.0",
    packages=find_packages(include=["aria_nav_ros", "aria_nav_ros.*"]),
    python_requires=">=3.10",
    install_requires=["numpy", "pyyaml", "opencv-python"],
)
