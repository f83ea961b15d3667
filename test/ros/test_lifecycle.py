"""Lifecycle transitions through the standard services, over DDS, as `ros2 lifecycle set` makes them.

rgb_perception, navigation and the driver are driven through deactivate,
activate, cleanup, configure and activate again while the driver plays photos and navigation listens: results
stop and come back with its state, and the wearer is told (navigation says
"System paused" while perception is inactive, and "System back" once it is
active again); navigation itself says it stopped when it is deactivated; the
driver publishes nothing while inactive ("Cameras lost") and reopens its
source after a cleanup.
"""

from __future__ import annotations

import time
from pathlib import Path

import rclpy
from lifecycle_msgs.msg import State, Transition
from lifecycle_msgs.srv import ChangeState, GetState
from processes import NodeProcess, node_command
from services import call

from aria_nav_ros.core.photos import photo_folder
from aria_nav_ros.msg import DetectionArray, NavigationCue
from aria_nav_ros.ros.qos import RESULT_QOS


def test_lifecycle_transitions_over_dds(listener, ros_env, tmp_path: Path) -> None:
    photos = photo_folder(tmp_path / "photos", ("zidane.jpg",))
    processes = [
        NodeProcess(node_command("aria_driver", path=photos, image_fps=4.0, loop=True), ros_env),
        NodeProcess(node_command("rgb_perception", depth_model="''", imgsz=320, device="cpu"), ros_env),
        NodeProcess(
            node_command("navigation", audio_sink="none", cameras="[rgb]", camera_timeout=1.0, watchdog_timeout=2.0),
            ros_env,
        ),
    ]
    perception = processes[1]
    arrays: list[DetectionArray] = []
    cues: list[str] = []
    listener.create_subscription(DetectionArray, "/aria/rgb/detections", arrays.append, RESULT_QOS)
    listener.create_subscription(NavigationCue, "/navigation/cues", lambda c: cues.append(c.text), RESULT_QOS)

    def state(node: str = "rgb_perception") -> int:
        return call(listener, GetState, f"/{node}/get_state", GetState.Request()).current_state.id

    def change(transition: int, node: str = "rgb_perception") -> bool:
        request = ChangeState.Request(transition=Transition(id=transition))
        return call(listener, ChangeState, f"/{node}/change_state", request).success

    def until(condition, timeout_s: float = 60.0) -> bool:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end and not condition():
            rclpy.spin_once(listener, timeout_sec=0.1)
        return condition()

    try:
        assert until(lambda: len(arrays) >= 3), perception.log[-2000:]
        assert state() == State.PRIMARY_STATE_ACTIVE  # autostart

        assert change(Transition.TRANSITION_DEACTIVATE) and state() == State.PRIMARY_STATE_INACTIVE
        assert until(lambda: "System paused" in cues), cues  # the wearer is told, not left in silence
        stopped = len(arrays)
        assert not until(lambda: len(arrays) > stopped, timeout_s=3.0), "results while inactive"

        assert change(Transition.TRANSITION_ACTIVATE) and state() == State.PRIMARY_STATE_ACTIVE
        assert until(lambda: len(arrays) > stopped + 2), perception.log[-2000:]
        assert until(lambda: "System back" in cues), (cues, processes[2].log[-2000:])

        # Cleanup frees the models; configure loads them again; results come back once active.
        assert change(Transition.TRANSITION_DEACTIVATE) and change(Transition.TRANSITION_CLEANUP)
        assert state() == State.PRIMARY_STATE_UNCONFIGURED
        assert perception.wait_for("models freed", timeout_s=10), perception.log[-2000:]
        assert change(Transition.TRANSITION_CONFIGURE) and change(Transition.TRANSITION_ACTIVATE)
        again = len(arrays)
        assert until(lambda: len(arrays) > again + 2), perception.log[-2000:]

        # Navigation too: deactivated, it tells the wearer it stopped and says nothing more until active.
        navigation = processes[2]
        assert state("navigation") == State.PRIMARY_STATE_ACTIVE
        assert change(Transition.TRANSITION_DEACTIVATE, "navigation")
        assert state("navigation") == State.PRIMARY_STATE_INACTIVE
        assert navigation.wait_for("Navigation stopped", timeout_s=10), navigation.log[-2000:]
        said = len(cues)
        assert change(Transition.TRANSITION_ACTIVATE, "navigation")
        assert until(lambda: len(cues) > said), navigation.log[-2000:]  # people in view again: said again

        # The driver: inactive, it publishes nothing (perception has nothing to do); cleaned up, its source is
        # closed; configured and active again, frames (and results) flow again.
        assert change(Transition.TRANSITION_DEACTIVATE, "aria_driver")
        assert until(lambda: "Cameras lost" in cues[said:]), (cues[said:], navigation.log[-1500:])  # no frames come
        paused = len(arrays)
        assert not until(lambda: len(arrays) > paused, timeout_s=3.0), "results while the driver is inactive"
        assert change(Transition.TRANSITION_CLEANUP, "aria_driver")
        assert state("aria_driver") == State.PRIMARY_STATE_UNCONFIGURED
        assert change(Transition.TRANSITION_CONFIGURE, "aria_driver")
        assert change(Transition.TRANSITION_ACTIVATE, "aria_driver")
        assert until(lambda: len(arrays) > paused + 2), processes[0].log[-2000:]
    finally:
        codes = [p.stop() for p in processes]
    assert codes == [0, 0, 0], "\n".join(p.log[-1500:] for p in processes)
