"""Over 5,000 malformed and hostile messages to every subscriber of the graph, valid ones in between.

Each node runs in its own process over real DDS: rgb_perception and a
slam_detector (real checkpoint, CPU), navigation, stream_monitor, recorder.
Every hostile message must be refused (counted in the node's diagnostics,
logged), never turned into an output; no node may die; the valid messages
sent among them, and after them, must still be processed.
"""

from __future__ import annotations

import json
import math
import random
import time
from pathlib import Path

import cv2
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from geometry_msgs.msg import PoseArray
from hostile import (
    HOSTILE_SEC,
    hostile_camera_info,
    hostile_cue,
    hostile_detections,
    hostile_hands,
    hostile_image,
    hostile_imu,
    hostile_odometry,
    hostile_stereo_depth,
)
from nav_msgs.msg import Odometry
from processes import NodeProcess, node_command
from rosbags.rosbag2 import Reader
from sensor_msgs.msg import CameraInfo, Image, Imu
from std_msgs.msg import Header

from aria_nav_ros.core.camera_model import CameraModel
from aria_nav_ros.core.cameras import (
    CAMERAS,
    CUES_TOPIC,
    HANDS_TOPIC,
    IMU_TOPIC,
    ODOMETRY_TOPIC,
    STEREO,
    STEREO_DEPTH_TOPIC,
    camera_info_topic,
    detections_topic,
    image_topic,
)
from aria_nav_ros.core.photos import real_photos
from aria_nav_ros.core.timebase import stamp_ns
from aria_nav_ros.msg import Detection, DetectionArray, NavigationCue
from aria_nav_ros.ros.camera_info import camera_info
from aria_nav_ros.ros.diagnostics import DIAGNOSTICS_TOPIC
from aria_nav_ros.ros.image import numpy_to_image
from aria_nav_ros.ros.qos import HANDS_QOS, IMU_QOS, ODOMETRY_QOS, RESULT_QOS, SENSOR_QOS

ROUNDS = 450  # x 12 hostile messages
ROUND_S = 0.05
DETECTORS = {"rgb": "rgb_perception", "slam_left": "slam_detector"}


def _frames() -> dict[str, Image]:
    [bus] = [p for p in real_photos() if p.name == "bus.jpg"]
    rgb = cv2.resize(cv2.cvtColor(cv2.imread(str(bus)), cv2.COLOR_BGR2RGB), (320, 320))
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)[40:280]
    return {"rgb": numpy_to_image(rgb, "rgb8"), "slam_left": numpy_to_image(grey, "mono8"),
            "slam_right": numpy_to_image(grey, "mono8")}  # fmt: skip


def test_hostile_messages_are_refused_logged_and_survived(listener, ros_env, tmp_path: Path) -> None:
    cpu = {"device": "cpu", "imgsz": 160, "threads": 1, "depth_model": '""'}
    nodes = {
        "rgb_perception": NodeProcess(node_command("rgb_perception", **cpu), ros_env),
        "slam_detector": NodeProcess(node_command("slam_detector", camera="slam_left", **cpu), ros_env),
        "navigation": NodeProcess(
            node_command("navigation", audio_sink="wav", wav_path=tmp_path / "n.wav", cues_log=tmp_path / "cues.jsonl"),
            ros_env,
        ),
        "stream_monitor": NodeProcess(node_command("stream_monitor", summary_path=tmp_path / "streams.json"), ros_env),
        "recorder": NodeProcess(node_command("recorder", path=tmp_path / "bag"), ros_env),
    }
    node = listener
    pub = {}
    for camera in CAMERAS:
        pub[image_topic(camera)] = node.create_publisher(Image, image_topic(camera), SENSOR_QOS)
        pub[camera_info_topic(camera)] = node.create_publisher(CameraInfo, camera_info_topic(camera), SENSOR_QOS)
        pub[detections_topic(camera)] = node.create_publisher(DetectionArray, detections_topic(camera), RESULT_QOS)
    pub[IMU_TOPIC] = node.create_publisher(Imu, IMU_TOPIC, IMU_QOS)
    pub[CUES_TOPIC] = node.create_publisher(NavigationCue, CUES_TOPIC, RESULT_QOS)
    pub[ODOMETRY_TOPIC] = node.create_publisher(Odometry, ODOMETRY_TOPIC, ODOMETRY_QOS)
    pub[HANDS_TOPIC] = node.create_publisher(PoseArray, HANDS_TOPIC, HANDS_QOS)
    pub[STEREO_DEPTH_TOPIC] = node.create_publisher(Image, STEREO_DEPTH_TOPIC, SENSOR_QOS)
    pub[camera_info_topic(STEREO)] = node.create_publisher(CameraInfo, camera_info_topic(STEREO), SENSOR_QOS)
    stereo_view = CameraModel(480, 400, 180.0, 180.0, 239.5, 199.5)  # Gen 2's rectified front view
    diagnostics: dict[str, dict[str, str]] = {}
    node.create_subscription(
        DiagnosticArray,
        DIAGNOSTICS_TOPIC,
        lambda m: diagnostics.update({s.name.split("/")[-1]: {v.key: v.value for v in s.values} for s in m.status}),
        RESULT_QOS,
    )
    outputs: dict[str, list[DetectionArray]] = {c: [] for c in DETECTORS}
    for camera in DETECTORS:
        node.create_subscription(DetectionArray, detections_topic(camera), outputs[camera].append, RESULT_QOS)
    cues: list[NavigationCue] = []  # navigation's own (the hostile ones sent to the recorder have urgency 255)
    node.create_subscription(NavigationCue, CUES_TOPIC, lambda c: c.urgency < 255 and cues.append(c), RESULT_QOS)

    def spin(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            rclpy.spin_once(node, timeout_sec=0.01)

    frames = _frames()

    def send_valid(now_msg, distance_m: float = 2.5) -> None:
        for camera, frame in frames.items():
            frame.header.stamp = now_msg
            info = camera_info(CameraModel.from_fov(frame.width, frame.height, 90.0), frame.header)
            pub[camera_info_topic(camera)].publish(info)
            pub[image_topic(camera)].publish(frame)
        person = Detection(class_name="person", score=0.9, x_min=1.0, y_min=1.0, x_max=9.0, y_max=30.0,
                           distance_m=distance_m, distance_source=Detection.DISTANCE_CLASS_SIZE,
                           bearing_deg=60.0)  # fmt: skip
        array = DetectionArray(camera="slam_right", image_width=640, image_height=480, detections=[person])
        array.header.stamp = now_msg
        pub[detections_topic("slam_right")].publish(array)
        imu = Imu()
        imu.header.stamp = now_msg
        imu.linear_acceleration.y = 9.81
        pub[IMU_TOPIC].publish(imu)

    sent = {"image": {c: 0 for c in CAMERAS}, "camera_info": {c: 0 for c in CAMERAS}, "detections": 0,
            "detection": 0, "imu": 0, "cue": 0, "odometry": 0, "hands": 0, "stereo_depth": 0}  # fmt: skip
    try:
        # Ready: the detectors have loaded their model (and subscribe), navigation listens.
        for name in DETECTORS.values():
            started = nodes[name].wait_for(" on cpu ", timeout_s=120)
            assert started, (name, nodes[name].process.poll(), nodes[name].log[-2000:])
        end = time.monotonic() + 30
        wanted = [image_topic("rgb"), image_topic("slam_left"), detections_topic("slam_right"), IMU_TOPIC]
        while any(pub[t].get_subscription_count() < 1 for t in wanted) and time.monotonic() < end:
            spin(0.2)
        spin(2.0)  # the recorder subscribes to topics as they appear
        fuzz_start = node.get_clock().now()
        rng = random.Random(8)
        for i in range(ROUNDS):
            round_end = time.monotonic() + ROUND_S
            now_msg = node.get_clock().now().to_msg()
            for camera in CAMERAS:
                pub[image_topic(camera)].publish(hostile_image(rng, i))
                sent["image"][camera] += 1
                pub[camera_info_topic(camera)].publish(hostile_camera_info(rng, i))
                sent["camera_info"][camera] += 1
                msg, bad_detections = hostile_detections(rng, i, camera, now_msg)
                pub[detections_topic(camera)].publish(msg)
                sent["detection" if bad_detections else "detections"] += bad_detections or 1
            for _ in range(2):
                pub[IMU_TOPIC].publish(hostile_imu(rng, i, now_msg))
                sent["imu"] += 1
            pub[CUES_TOPIC].publish(hostile_cue(rng, i))
            sent["cue"] += 1
            pub[ODOMETRY_TOPIC].publish(hostile_odometry(rng, i, now_msg))
            sent["odometry"] += 1
            pub[HANDS_TOPIC].publish(hostile_hands(rng, i, now_msg))
            sent["hands"] += 1
            view_header = Header(stamp=now_msg, frame_id="aria_stereo_optical")
            pub[camera_info_topic(STEREO)].publish(camera_info(stereo_view, view_header))
            depth, refused = hostile_stereo_depth(rng, i, now_msg)
            pub[STEREO_DEPTH_TOPIC].publish(depth)
            sent["stereo_depth"] += refused
            if i % 2 == 0:
                send_valid(now_msg)
            spin(max(0.0, round_end - time.monotonic()))
        fuzz_end = node.get_clock().now()
        for _ in range(30):  # valid only, after the storm; our person comes near (critical: always said)
            send_valid(node.get_clock().now().to_msg(), distance_m=1.2)
            spin(0.1)
        spin(2.5)  # the last diagnostics (once a second)
        alive = {name: p.process.poll() is None for name, p in nodes.items()}
    finally:
        codes = {name: p.stop(30) for name, p in nodes.items()}
    logs = {name: p.log for name, p in nodes.items()}
    for name, log in logs.items():  # kept for a look after a failure (pytest's tmp_path)
        (tmp_path / f"{name}.log").write_text(log)
    hostile_total = sum(sent["image"].values()) + sum(sent["camera_info"].values()) + sent["imu"] + sent["cue"]
    hostile_total += 3 * ROUNDS  # one DetectionArray per camera and round
    assert hostile_total >= 5000, sent

    # No node died, each stopped cleanly, none printed a traceback.
    assert all(alive.values()), {n: logs[n][-3000:] for n, a in alive.items() if not a}
    assert all(code == 0 for code in codes.values()), (codes, {n: logs[n][-2000:] for n in logs})
    assert not [n for n, log in logs.items() if "Traceback" in log], {n: log[-3000:] for n, log in logs.items()}

    # Perception: every hostile frame and CameraInfo that arrived refused (counted), none turned into
    # detections; valid frames, also after the storm, still detected. How many arrive over best effort
    # depends on the machine's load (a main job beside the suite lost a quarter): not a pass mark here.
    for camera, name in DETECTORS.items():
        counts = diagnostics[name]
        refused_images, refused_infos = int(counts["refused_image"]), int(counts["refused_camera_info"])
        assert 0 < refused_images <= sent["image"][camera], (camera, counts, sent)
        assert 0 < refused_infos <= sent["camera_info"][camera], (camera, counts)
        assert int(counts["errors"]) == 0, counts
        assert not [m for m in outputs[camera] if HOSTILE_SEC <= m.header.stamp.sec < HOSTILE_SEC + 60]
        after = [m for m in outputs[camera] if stamp_ns(m.header.stamp) > fuzz_end.nanoseconds]
        assert after and any(d.class_name == "Normal" for m in after for d in m.detections), camera
        assert "refused image" in logs[name] and "refused camera_info" in logs[name]
        # The wearer's hands (best effort: those that arrived), refused before any box could be marked with them.
        assert 0 < int(counts["refused_hands"]) <= sent["hands"] and int(counts["wearer_hands"]) == 0, counts
        assert "refused hands:" in logs[name]
    # Gen 2's stereo depth of another encoding or size than its camera_info: refused; NaN-filled: taken, harmless.
    counts = diagnostics["rgb_perception"]
    assert 0 < int(counts["refused_stereo_depth"]) <= sent["stereo_depth"], (counts, sent)
    assert "refused stereo_depth:" in logs["rgb_perception"]

    # Navigation: over reliable DDS every refusal is counted exactly; IMU (best effort): those that arrived.
    counts = diagnostics["navigation"]
    assert int(counts["refused_detections"]) == sent["detections"], (counts, sent)
    assert int(counts["refused_detection"]) == sent["detection"], (counts, sent)
    assert 0 < int(counts["refused_imu"]) <= sent["imu"], (counts, sent)
    assert 0 < int(counts["refused_odometry"]) <= sent["odometry"], (counts, sent)
    assert counts["walking_from"] == "imu", counts  # no broken odometry was taken for the wearer's speed
    for kind in ("detections", "detection", "imu", "odometry"):
        assert f"refused {kind}:" in logs["navigation"]
    hazards = [c for c in cues if c.kind == NavigationCue.KIND_HAZARD]
    said = [c.text for c in cues]
    assert all(c.class_name == "person" for c in hazards), said  # what the detectors see in the bus photo, and ours
    assert [c for c in hazards if c.cameras == ["slam_right"] and c.zone == "right"], said
    assert all(math.isfinite(c.bearing_deg) and c.text.isprintable() and len(c.text) < 80 for c in cues)
    stamps = [stamp_ns(c.header.stamp) for c in hazards]
    assert any(t > fuzz_end.nanoseconds for t in stamps), said  # still cueing after the storm
    assert any(fuzz_start.nanoseconds < t < fuzz_end.nanoseconds for t in stamps)  # and during it

    # The stream monitor refused what it cannot decode, counted the rest; the recorder's bag is whole.
    streams = json.loads((tmp_path / "streams.json").read_text())
    for camera in CAMERAS:
        assert 0 < streams[camera]["rejected"] <= sent["image"][camera] and streams[camera]["received"] > 0
    with Reader(tmp_path / "bag") as reader:
        topics = {c.topic: c.msgcount for c in reader.connections}
    assert topics.get(f"/{IMU_TOPIC}", 0) > 0, topics  # hostile IMU kept as it came (what arrived of it)
    assert all(topics.get(f"/{image_topic(c)}", 0) > 0 for c in CAMERAS), topics
