"""Walking or standing from the wearer's measured speed (Aria Gen 2's VIO, aria/odometry) where it comes, the IMU's
step rule where it does not: in the core, on the real Gen 2 recording, and through the navigation node over DDS."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from locations import ARIA_DATA

from aria_nav_ros.core.navigation.motion import MotionState, level_velocity

GEN2_VRS = ARIA_DATA / "gen2_unit_test.vrs"
GRAVITY = (0.0, 0.0, 9.81)


def quaternion(yaw: float, pitch: float) -> tuple[float, float, float, float]:
    """The head turned `yaw` about odom's z, then pitched down by `pitch` (about its own y: x forward, y left)."""
    cy, sy, cp, sp = math.cos(yaw / 2), math.sin(yaw / 2), math.cos(pitch / 2), math.sin(pitch / 2)
    # q = q_yaw(z) * q_pitch(y); a positive rotation about y takes x down.
    return (-sy * sp, cy * sp, sy * cp, cy * cp)


def head_axes(yaw: float, pitch: float) -> np.ndarray:
    """The same rotation as a matrix, built independently (columns: the head's axes in odom)."""
    cz, sz, cp, sp = math.cos(yaw), math.sin(yaw), math.cos(pitch), math.sin(pitch)
    turn = np.array([[cz, -sz, 0.0], [sz, cz, 0.0], [0.0, 0.0, 1.0]])
    tilt = np.array([[cp, 0.0, sp], [0.0, 1.0, 0.0], [-sp, 0.0, cp]])
    return turn @ tilt


@pytest.mark.parametrize(("yaw", "pitch"), [(0.0, 0.0), (0.5, 0.3), (-2.0, 0.6), (3.0, -0.2)])
def test_the_level_velocity_drops_the_vertical_and_keeps_the_heading(yaw: float, pitch: float) -> None:
    """A wearer looking down at the floor while walking straight on at 1 m/s, sidestepping left at 0.3 m/s and
    sinking at 0.2 m/s: (1.0, 0.3) in the level head frame, whatever the heading and the pitch."""
    axes = head_axes(yaw, pitch)
    q = quaternion(yaw, pitch)
    assert np.allclose(axes[:, 0][2], -math.sin(pitch))  # pitched down: x points below the horizon
    heading = np.array([math.cos(yaw), math.sin(yaw), 0.0])
    left = np.array([-math.sin(yaw), math.cos(yaw), 0.0])
    in_odom = 1.0 * heading + 0.3 * left + np.array([0.0, 0.0, -0.2])
    in_head = axes.T @ in_odom
    assert level_velocity(q, tuple(in_head)) == pytest.approx((1.0, 0.3), abs=1e-9)


def test_the_measured_speed_decides_and_the_step_rule_takes_over_without_it() -> None:
    state = MotionState(window_s=1.0, walking_std=0.6, walking_speed=0.25)
    steps = [(0.0, 0.0, 9.81 + 2.0 * math.sin(2 * math.pi * 1.9 * i / 100)) for i in range(300)]  # 1.9 Hz steps
    for i in range(100):  # standing still by the IMU, walking at 0.8 m/s by the VIO
        state.add(i / 100, GRAVITY)
        state.add_velocity(i / 100, 0.8, 0.0)
    assert (state.walking, state.source) == (True, "vio") and state.speed == pytest.approx(0.8)
    assert state.closing_speed(0.0) == pytest.approx(0.8) and state.closing_speed(90.0) == pytest.approx(0.0)
    assert state.closing_speed(-30.0) == pytest.approx(0.8 * math.cos(math.radians(30)))
    for i in range(100, 200):  # steps by the IMU, but the VIO says the head barely moves: standing (swaying)
        state.add(i / 100, steps[i])
        state.add_velocity(i / 100, 0.05, -0.03)
    assert (state.walking, state.source) == (False, "vio")
    for i in range(200, 320):  # the VIO stops (lost track): a window later the step rule judges again
        state.add(i / 100, steps[i % 300])
    assert (state.walking, state.source, state.speed) == (True, "imu", None)
    assert state.closing_speed(0.0) is None
    state.add(0.0, GRAVITY)  # a replay restarted: the old run's velocities are not the new run's
    assert state.source == "imu"


def test_velocities_go_stale_when_the_imu_stops_with_them_while_images_go_on() -> None:
    """The glasses' motion streams both lost (VIO and IMU), the cameras still running: the last velocity (2 m/s
    towards everything ahead) would make every still obstacle near for ever. The images' times age it too; an
    image older than the velocities (perception's latency) does not."""
    state = MotionState(window_s=1.0, walking_std=0.6, walking_speed=0.25)
    for i in range(100):
        state.add(i / 100, GRAVITY)
        state.add_velocity(i / 100, 2.0, 0.0)
    state.seen(0.2)  # an image from before the newest velocity: a slow detector's
    assert state.closing_speed(0.0) == pytest.approx(2.0)
    state.seen(1.5)  # half a second on
    assert state.closing_speed(0.0) == pytest.approx(2.0)
    state.seen(2.5)  # a window and a half after both streams stopped
    assert (state.closing_speed(0.0), state.source, state.walking) == (None, "imu", False)


@pytest.mark.skipif(not GEN2_VRS.is_file(), reason=f"the real Aria Gen 2 recording {GEN2_VRS} is absent (../shared)")
def test_on_the_real_gen2_recording_the_vio_says_walking_where_the_step_rule_does_not() -> None:
    """The recording walks at 0.3-1.0 m/s (test_gen2), slowly and for 0.3 s: the IMU's spread stays under the step
    rule's threshold (standing), the measured speed, through the Odometry messages the driver publishes, says
    walking, at the head's horizontal speed."""
    from builtin_interfaces.msg import Time

    from aria_nav_ros.core.sources.base import ImuSample
    from aria_nav_ros.core.sources.factory import SourceSettings, open_source
    from aria_nav_ros.core.sources.motion import Motion
    from aria_nav_ros.ros.odometry import motion_messages

    imu_only, both = MotionState(1.0, 0.6, 0.25), MotionState(1.0, 0.6, 0.25)
    horizontal = []
    for item in open_source(SourceSettings(kind="vrs", path=str(GEN2_VRS))).items():
        if isinstance(item, ImuSample):
            imu_only.add(item.device_time_ns / 1e9, item.accel)
            both.add(item.device_time_ns / 1e9, item.accel)
        elif isinstance(item, Motion):
            odometry, _ = motion_messages(item, Time())
            q, v = odometry.pose.pose.orientation, odometry.twist.twist.linear
            both.add_velocity(item.device_time_ns / 1e9, *level_velocity((q.x, q.y, q.z, q.w), (v.x, v.y, v.z)))
            horizontal.append((item.rotation @ np.asarray(item.linear_velocity))[:2])
    assert len(horizontal) == 237
    assert (imu_only.walking, imu_only.source) == (False, "imu")
    assert (both.walking, both.source) == (True, "vio")
    assert both.speed == pytest.approx(float(np.mean(np.linalg.norm(horizontal, axis=1))), rel=1e-6)
    assert 0.3 < both.speed < 1.0


def test_the_navigation_node_judges_walking_by_the_odometry_and_by_the_imu_without_it(ros_env, listener) -> None:
    """The node in its own process: standing by the IMU but 0.8 m/s by the odometry is walking (from the VIO);
    broken odometry is refused and counted; once the odometry stops, the IMU's steps decide again."""
    import rclpy
    from diagnostic_msgs.msg import DiagnosticArray
    from nav_msgs.msg import Odometry
    from processes import NodeProcess, node_command
    from sensor_msgs.msg import Imu

    from aria_nav_ros.ros.qos import IMU_QOS, ODOMETRY_QOS, RESULT_QOS

    nav = NodeProcess(node_command("navigation", audio_sink="none"), ros_env)
    node = listener
    status: dict[str, str] = {}

    def on_diagnostics(msg: DiagnosticArray) -> None:
        for s in msg.status:
            if s.name.endswith("/navigation"):
                status.clear()
                status.update({kv.key: kv.value for kv in s.values})

    node.create_subscription(DiagnosticArray, "/diagnostics", on_diagnostics, RESULT_QOS)
    imu_pub = node.create_publisher(Imu, "/aria/imu", IMU_QOS)
    odometry_pub = node.create_publisher(Odometry, "/aria/odometry", ODOMETRY_QOS)
    q = quaternion(0.7, 0.25)
    forward = head_axes(0.7, 0.25).T @ np.array([0.8 * math.cos(0.7), 0.8 * math.sin(0.7), 0.0])
    tick = [0]

    def publish(odometry: str, stepping: bool) -> None:
        stamp = node.get_clock().now().to_msg()
        imu = Imu()
        imu.header.stamp, imu.header.frame_id = stamp, "aria_imu"
        bounce = 2.0 * math.sin(2 * math.pi * 1.9 * tick[0] / 50) if stepping else 0.0
        imu.linear_acceleration.z = 9.81 + bounce
        imu_pub.publish(imu)
        tick[0] += 1
        if odometry:
            msg = Odometry()
            msg.header.stamp, msg.header.frame_id, msg.child_frame_id = stamp, "odom", "aria_head"
            o = msg.pose.pose.orientation
            o.x, o.y, o.z, o.w = q
            msg.twist.twist.linear.x, msg.twist.twist.linear.y, msg.twist.twist.linear.z = forward
            if odometry == "broken":
                msg.child_frame_id = "odom"  # a twist in odom: not what Odometry promises
            odometry_pub.publish(msg)

    def run_until(condition, odometry: str, stepping: bool, ceiling_s: float = 30.0) -> bool:
        end = time.monotonic() + ceiling_s
        while time.monotonic() < end:
            publish(odometry, stepping)
            rclpy.spin_once(node, timeout_sec=0.02)  # about 50 Hz
            if condition():
                return True
        return False

    try:
        standing = run_until(lambda: status.get("walking_from") == "imu" and status.get("walking") == "False",
                             "", stepping=False, ceiling_s=60.0)  # fmt: skip
        assert standing, (status, nav.log[-2000:])
        by_vio = run_until(lambda: status.get("walking_from") == "vio", "good", stepping=False)
        assert by_vio, (status, nav.log[-2000:])
        assert status["walking"] == "True" and float(status["speed_mps"]) == pytest.approx(0.8, abs=0.02), status
        refused = run_until(lambda: int(status.get("refused_odometry", 0)) > 0, "broken", stepping=False)
        assert refused, status
        by_steps = run_until(lambda: status.get("walking_from") == "imu" and status.get("walking") == "True",
                             "", stepping=True)  # fmt: skip
        assert by_steps, (status, nav.log[-2000:])
        assert status["speed_mps"] == "not measured"
    finally:
        code = nav.stop()
    assert code == 0, nav.log[-2000:]
    assert "refused odometry: twist in 'odom', not the head frame 'aria_head'" in nav.log
