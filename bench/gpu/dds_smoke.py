"""Two processes over real DDS: full-size RGB frames at camera rate, counted and timed from publish to callback.

The smoke test of a carried ROS run-time (does rclpy import, do two processes talk over the project's
Fast DDS profile), and the transport figure the graph's RGB path pays. The publisher is this process;
the listener is a child started with the same environment.

    python bench/gpu/dds_smoke.py [--frames 150] [--hz 30] [--side 1408]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import rclpy
from rclpy.node import Node
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from aria_nav_ros.graph.description import dds_environment
from aria_nav_ros.ros.image import image_to_numpy, numpy_to_image
from aria_nav_ros.ros.qos import SENSOR_QOS

TOPIC = "/dds_smoke/image"


def listen(frames: int, timeout_s: float) -> None:
    """Child: receive until `frames` arrived or the publisher went quiet; print one JSON line."""
    rclpy.init()
    node = Node("dds_smoke_listener")
    latencies: list[float] = []

    def on_image(msg: Image) -> None:
        pixels = image_to_numpy(msg)  # the conversion perception pays too
        sent = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
        latencies.append((time.time_ns() - sent) / 1e6)
        assert pixels.shape[0] == msg.height

    node.create_subscription(Image, TOPIC, on_image, SENSOR_QOS)
    print("ready", flush=True)
    end = time.monotonic() + timeout_s
    while len(latencies) < frames and time.monotonic() < end:
        rclpy.spin_once(node, timeout_sec=0.1)
    a = np.asarray(latencies or [float("nan")])
    print(json.dumps({"received": len(latencies), "p50_ms": float(np.percentile(a, 50)),
                      "p99_ms": float(np.percentile(a, 99)), "max_ms": float(a.max())}), flush=True)  # fmt: skip
    node.destroy_node()
    rclpy.shutdown()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--hz", type=float, default=30.0)
    parser.add_argument("--side", type=int, default=1408)
    parser.add_argument("--listen", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.listen:
        listen(args.frames, 20.0 + args.frames / args.hz)
        return 0
    env = {**os.environ, **dds_environment(os.environ)}
    os.environ.update(env)  # this process uses the profile too
    child = subprocess.Popen([sys.executable, __file__, "--listen", "--frames", str(args.frames)],
                             stdout=subprocess.PIPE, text=True, env=env)  # fmt: skip
    assert child.stdout is not None
    if child.stdout.readline().strip() != "ready":
        raise SystemExit("the listener did not start")
    rclpy.init()
    node = Node("dds_smoke_talker")
    pub = node.create_publisher(Image, TOPIC, SENSOR_QOS)
    deadline = time.monotonic() + 10.0
    while pub.get_subscription_count() < 1 and time.monotonic() < deadline:
        rclpy.spin_once(node, timeout_sec=0.05)
    time.sleep(0.5)  # matching is two one-way messages: let the listener match this writer back
    pixels = np.random.default_rng(0).integers(0, 256, (args.side, args.side, 3), dtype=np.uint8)
    period = 1.0 / args.hz
    next_t = time.monotonic()
    for _ in range(args.frames):
        header = Header(frame_id="smoke")
        header.stamp.sec, header.stamp.nanosec = divmod(time.time_ns(), 1_000_000_000)
        pub.publish(numpy_to_image(pixels, "rgb8", header))
        next_t += period
        time.sleep(max(0.0, next_t - time.monotonic()))
    result = json.loads(child.stdout.readlines()[-1])
    child.wait(timeout=30)
    print(f"[dds_smoke] {args.side}x{args.side} rgb8 at {args.hz:g} Hz: {result['received']}/{args.frames} received,"
          f" publish->callback p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms")  # fmt: skip
    node.destroy_node()
    rclpy.shutdown()
    return 0 if result["received"] == args.frames else 1


if __name__ == "__main__":
    sys.exit(main())
