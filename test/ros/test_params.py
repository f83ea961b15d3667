"""Declared parameters: descriptors over DDS, live changes that take effect, bad values refused with the reason."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from locations import ROOT
from processes import NodeProcess, node_command
from rcl_interfaces.msg import Parameter, ParameterType, ParameterValue
from rcl_interfaces.srv import DescribeParameters, SetParameters, SetParametersAtomically
from services import call

from aria_nav_ros.core.photos import photo_folder
from aria_nav_ros.msg import DetectionArray
from aria_nav_ros.ros.qos import RESULT_QOS
from aria_nav_ros.tables import sections, written


def test_generated_tables_are_the_declarations() -> None:
    """README.md's launch arguments and docs/parameters.md's node parameters, as the code declares them."""
    for relative, (begin, end, section) in sections().items():
        text = (ROOT / relative).read_text()
        assert written(text, begin, end) == section, f"{relative} is stale: python -m aria_nav_ros.tables --write ."


def double(name: str, value: float) -> Parameter:
    return Parameter(name=name, value=ParameterValue(type=ParameterType.PARAMETER_DOUBLE, double_value=value))


def set_double(node, target: str, name: str, value: float):
    request = SetParameters.Request(parameters=[double(name, value)])
    return call(node, SetParameters, f"/{target}/set_parameters", request).results[0]


def test_perception_describes_refuses_and_applies_live_changes(listener, ros_env, tmp_path: Path) -> None:
    photos = photo_folder(tmp_path / "photos", ("zidane.jpg", "bus.jpg"))
    driver = NodeProcess(node_command("aria_driver", path=photos, image_fps=4.0, loop=True), ros_env)
    perception = NodeProcess(node_command("rgb_perception", depth_model="''", imgsz=320, device="cpu"), ros_env)
    arrays: list[DetectionArray] = []
    listener.create_subscription(DetectionArray, "/aria/rgb/detections", arrays.append, RESULT_QOS)
    try:
        described = call(
            listener, DescribeParameters, "/rgb_perception/describe_parameters",
            DescribeParameters.Request(names=["conf", "imgsz", "mode"]), timeout_s=60,
        ).descriptors  # fmt: skip
        conf, imgsz, mode = described
        assert not conf.read_only and conf.floating_point_range[0].to_value == 1.0 and conf.description
        assert imgsz.read_only and imgsz.integer_range[0].from_value == 32
        assert "graphs" in mode.additional_constraints

        refused = set_double(listener, "rgb_perception", "conf", 1.5)
        assert not refused.successful and "out of range" in refused.reason, refused  # rclpy checks the range
        assert not set_double(listener, "rgb_perception", "imgsz", 480.0).successful  # read-only (and an int)

        # Live: a threshold between the scores seen so far, in effect from the next frame (the engine is rebuilt).
        def scores() -> list[float]:
            return sorted(d.score for a in arrays for d in a.detections)

        end = time.monotonic() + 90
        while time.monotonic() < end and (len(scores()) < 4 or scores()[-1] - scores()[0] < 0.1):
            rclpy.spin_once(listener, timeout_sec=0.1)
        seen = scores()
        assert len(seen) >= 4 and seen[-1] - seen[0] >= 0.1, (seen, perception.log[-2000:])
        threshold = round((seen[0] + seen[-1]) / 2, 2)
        assert set_double(listener, "rgb_perception", "conf", threshold).successful
        arrays.clear()
        end = time.monotonic() + 60
        while time.monotonic() < end and sum(bool(a.detections) for a in arrays) < 4:
            rclpy.spin_once(listener, timeout_sec=0.1)
        later = [a for a in arrays if a.detections][1:]  # the frame in flight at the change may be the old engine's
        assert later and all(d.score >= threshold for a in later for d in a.detections), (seen, threshold)
        assert f"conf is now {threshold!r}" in perception.log
    finally:
        codes = [driver.stop(), perception.stop()]
    assert codes == [0, 0], perception.log[-2000:]


def test_navigation_declares_the_cue_rules_as_its_parameters(listener, ros_env) -> None:
    """config/navigation.yaml's settings are navigation's parameters: described by the file's comment, set like
    any parameter (camera_timeout as the graph passes it) and in the policy's hands; the ones read at each cue
    change at run time, the others are read-only."""
    reports: list[DiagnosticArray] = []
    listener.create_subscription(DiagnosticArray, "/diagnostics", reports.append, RESULT_QOS)
    nav = NodeProcess(node_command("navigation", audio_sink="none", cameras="[rgb]", camera_timeout=12.5), ros_env)
    try:
        names = ["camera_timeout", "cooldown.per_object", "habituation.first_repeat_s"]
        timeout, per_object, first = call(
            listener, DescribeParameters, "/navigation/describe_parameters",
            DescribeParameters.Request(names=names), timeout_s=60,
        ).descriptors  # fmt: skip
        assert timeout.read_only and "is lost" in timeout.description, timeout
        assert not per_object.read_only and per_object.description and first.read_only
        assert set_double(listener, "navigation", "cooldown.per_object", 4.0).successful
        assert not set_double(listener, "navigation", "habituation.first_repeat_s", 5.0).successful
        # An atomic set with one bad value changes nothing: the good one is not applied before the bad is seen.
        french = Parameter(name="language", value=ParameterValue(type=ParameterType.PARAMETER_STRING,
                                                                 string_value="fr"))  # fmt: skip
        negative = double("tiers.default.critical", -1.0)
        # A node parameter and a cue rule, or two cue rules: the rules are one table with the node's parameters.
        for bad in ([double("volume", 0.5), french], [double("cooldown.global", 3.0), french],
                    [double("cooldown.global", 4.0), negative]):  # fmt: skip
            request = SetParametersAtomically.Request(parameters=bad)
            refused = call(listener, SetParametersAtomically, "/navigation/set_parameters_atomically", request).result
            assert not refused.successful and ("language 'fr'" in refused.reason or "not negative" in refused.reason)

        def allowed() -> list[str]:  # the silence the policy allows the camera now (its floor, before any pace)
            return [kv.value for a in reports for s in a.status for kv in s.values if kv.key == "rgb_timeout_s"]

        end = time.monotonic() + 30
        while time.monotonic() < end and not allowed():
            rclpy.spin_once(listener, timeout_sec=0.1)
        assert allowed() and allowed()[-1] == "12.50", (allowed(), nav.log[-2000:])
        assert "cooldown.per_object is now 4.0" in nav.log
        assert "volume is now" not in nav.log and "cooldown.global is now" not in nav.log
    finally:
        code = nav.stop()
    assert code == 0, nav.log[-2000:]


def test_a_bad_value_at_start_is_refused_with_the_reason(ros_env) -> None:
    command = node_command("navigation", language="fr", audio_sink="none")
    result = subprocess.run(command, env=ros_env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "language 'fr': choose one of 'en', 'es'" in result.stderr, result.stderr[-2000:]


def test_live_settings_are_one_table() -> None:
    """A live parameter is one row: applied (or refused) at once, handed to the worker between frames where its row
    says so, changes of one kind together; a live parameter without a row is refused at start."""
    from aria_nav_ros.core.perception.live import LiveSetting, LiveSettings

    applied, rebuilt, said = {}, [], []

    def apply(name: str, value: object) -> str:
        if value == "bad":
            return f"{name}: bad"
        applied[name] = value
        return ""

    rows = [
        LiveSetting("conf", apply, rebuilt.append),
        LiveSetting("iou", apply, rebuilt.append),
        LiveSetting("pitch_deg", apply),
        LiveSetting("fault", apply, says_itself=True),
    ]
    live = LiveSettings(rows, ["conf", "iou", "pitch_deg", "fault"], lambda name, value: said.append(name))
    assert live.change("conf", 0.5) == live.change("iou", 0.3) == live.change("pitch_deg", 10.0) == ""
    assert live.change("conf", "bad") == "conf: bad" and live.change("fault", "gpu_lost") == ""
    assert applied == {"conf": 0.5, "iou": 0.3, "pitch_deg": 10.0, "fault": "gpu_lost"} and not rebuilt
    assert said == ["conf", "iou", "pitch_deg"]  # the fault says itself; a refused value is not said
    live.between_frames()
    live.between_frames()
    assert rebuilt == [{"conf": 0.5, "iou": 0.3}]  # one rebuild for both, once
    with pytest.raises(ValueError, match="depth_every"):
        LiveSettings(rows, ["conf", "iou", "pitch_deg", "fault", "depth_every"], print)
