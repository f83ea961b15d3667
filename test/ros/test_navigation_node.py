"""The navigation node in its own process: detections in over DDS, cues out, sound into a WAV file."""

from __future__ import annotations

import time
import wave

import numpy as np
import rclpy
from processes import NodeProcess, node_command
from rclpy.node import Node

from aria_nav_ros.msg import Detection, DetectionArray, NavigationCue
from aria_nav_ros.ros.qos import RESULT_QOS


def test_navigation_node_speaks_escalating_cues_and_notices_a_lost_camera(ros_env, tmp_path) -> None:
    wav = tmp_path / "cues.wav"
    log = tmp_path / "cues.jsonl"
    command = node_command("navigation", audio_sink="wav", wav_path=wav, cues_log=log, language="en")
    nav = NodeProcess(command, ros_env)
    rclpy.init()
    node = Node("navigation_test_feeder")
    cues: list[NavigationCue] = []
    node.create_subscription(NavigationCue, "/navigation/cues", cues.append, RESULT_QOS)
    pubs = {
        c: node.create_publisher(DetectionArray, f"/aria/{c}/detections", RESULT_QOS)
        for c in ("rgb", "slam_left", "slam_right")
    }
    try:
        end = time.monotonic() + 30
        while any(p.get_subscription_count() == 0 for p in pubs.values()) and time.monotonic() < end:
            rclpy.spin_once(node, timeout_sec=0.1)
        start = time.monotonic()
        for i in range(60):  # 6 s at 10 Hz: a person walks up from 6 m to 0.1 m; slam_left falls silent at 3 s
            for camera, pub in pubs.items():
                if camera == "slam_left" and i >= 30:
                    continue
                msg = DetectionArray(camera=camera, image_width=1408, image_height=1408)
                msg.header.stamp = node.get_clock().now().to_msg()
                if camera == "rgb" and i <= 50:
                    msg.detections = [
                        Detection(
                            class_name="person",
                            score=0.9,
                            distance_m=round(6.0 - 0.1 * i, 3),
                            distance_source=Detection.DISTANCE_CLASS_SIZE,
                            bearing_deg=-3.0,
                            track_id=-1,
                        )
                    ]
                pub.publish(msg)
            while time.monotonic() < start + (i + 1) * 0.1:
                rclpy.spin_once(node, timeout_sec=0.02)
        end = time.monotonic() + 3
        while time.monotonic() < end:
            rclpy.spin_once(node, timeout_sec=0.05)
    finally:
        node.destroy_node()
        rclpy.shutdown()
        code = nav.stop()
    assert code == 0, nav.log[-2000:]
    hazards = [c for c in cues if c.kind == NavigationCue.KIND_HAZARD]
    urgencies = [c.urgency for c in hazards]
    assert urgencies == sorted(urgencies), [c.text for c in hazards]
    assert NavigationCue.URGENCY_CRITICAL in urgencies and NavigationCue.URGENCY_INFO in urgencies
    assert hazards[0].text == "Person ahead, six meters" and hazards[0].cameras == ["rgb"]
    system = [c.text for c in cues if c.kind == NavigationCue.KIND_SYSTEM]
    assert system.count("Left camera lost") == 1
    assert "[cue critical] Careful! Person ahead" in nav.log
    assert len(log.read_text().splitlines()) == len(cues)
    with wave.open(str(wav)) as w:
        assert w.getnchannels() == 2
        rate = w.getframerate()
        audio = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").reshape(-1, 2).astype(np.float32) / 32768
    assert len(audio) > rate  # more than a second of sound
    assert float(np.sqrt(np.mean(audio**2))) > 0.01


def test_without_a_sound_device_speech_goes_to_the_wav_file_with_a_warning(ros_env, tmp_path) -> None:
    wav = tmp_path / "fallback.wav"
    nav = NodeProcess(node_command("navigation", audio_sink="device", wav_path=wav, language="es"), ros_env)
    rclpy.init()
    node = Node("navigation_sound_feeder")
    pub = node.create_publisher(DetectionArray, "/aria/rgb/detections", RESULT_QOS)
    try:
        end = time.monotonic() + 30
        while pub.get_subscription_count() == 0 and time.monotonic() < end:
            rclpy.spin_once(node, timeout_sec=0.1)
        for _ in range(10):
            msg = DetectionArray(camera="rgb", image_width=640, image_height=480)
            msg.header.stamp = node.get_clock().now().to_msg()
            msg.detections = [Detection(class_name="person", score=0.9, distance_m=1.0, bearing_deg=0.0,
                                        distance_source=Detection.DISTANCE_CLASS_SIZE)]  # fmt: skip
            pub.publish(msg)
            rclpy.spin_once(node, timeout_sec=0.1)
        assert nav.wait_for("¡Cuidado! Persona delante", timeout_s=10), nav.log
        # Speech is made off the callbacks: wait until the WAV file holds half a second of sound.
        end = time.monotonic() + 20
        while not (wav.exists() and wav.stat().st_size > 44 + 22050 * 4 // 2) and time.monotonic() < end:
            time.sleep(0.05)
    finally:
        node.destroy_node()
        rclpy.shutdown()
        code = nav.stop()
    assert code == 0, nav.log
    assert f"no sound device: speech and earcons go to {wav}" in nav.log
    with wave.open(str(wav)) as w:
        audio = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    assert len(audio) > 2 * 22050 * 0.5 and int(np.abs(audio).max()) > 1000  # half a second of real sound


def test_a_cue_log_that_cannot_be_written_is_said_once_and_every_cue_is_still_spoken(ros_env, tmp_path) -> None:
    from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus

    blocked = tmp_path / "a_file"
    blocked.write_text("not a folder")  # the log's folder cannot be made: as a read-only or full disk
    wav = tmp_path / "cues.wav"
    command = node_command("navigation", audio_sink="wav", wav_path=wav, cues_log=blocked / "cues.jsonl")
    nav = NodeProcess(command, ros_env)
    rclpy.init()
    node = Node("navigation_log_feeder")
    cues: list[NavigationCue] = []
    statuses: list[DiagnosticStatus] = []
    node.create_subscription(NavigationCue, "/navigation/cues", cues.append, RESULT_QOS)
    node.create_subscription(
        DiagnosticArray, "/diagnostics", lambda m: statuses.extend(s for s in m.status if "navigation" in s.name),
        RESULT_QOS,
    )  # fmt: skip
    pub = node.create_publisher(DetectionArray, "/aria/rgb/detections", RESULT_QOS)
    try:
        end = time.monotonic() + 30
        while pub.get_subscription_count() == 0 and time.monotonic() < end:
            rclpy.spin_once(node, timeout_sec=0.1)
        end = time.monotonic() + 30
        distance = 6.0
        while time.monotonic() < end and not (
            len([c for c in cues if c.kind == NavigationCue.KIND_HAZARD]) >= 2
            and any("cue log not written" in s.message for s in statuses)
        ):
            msg = DetectionArray(camera="rgb", image_width=640, image_height=480)
            msg.header.stamp = node.get_clock().now().to_msg()
            distance = max(0.5, distance - 0.1)  # walking up: a new tier now and then
            msg.detections = [Detection(class_name="person", score=0.9, distance_m=distance, bearing_deg=0.0,
                                        distance_source=Detection.DISTANCE_CLASS_SIZE)]  # fmt: skip
            pub.publish(msg)
            rclpy.spin_once(node, timeout_sec=0.1)
    finally:
        node.destroy_node()
        rclpy.shutdown()
        code = nav.stop()
    assert code == 0 and nav.process.returncode == 0, nav.log[-3000:]
    assert len([c for c in cues if c.kind == NavigationCue.KIND_HAZARD]) >= 2, nav.log[-3000:]  # still cueing
    assert nav.count("cannot write the cue log") == 1, nav.log[-3000:]  # said once, not per cue
    warn = [s for s in statuses if "cue log not written" in s.message]
    assert warn and warn[-1].level == DiagnosticStatus.WARN
    assert "Traceback" not in nav.log
    with wave.open(str(wav)) as w:
        assert w.getnframes() > 22050 // 2  # and spoken
