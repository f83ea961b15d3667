"""Faults injected into the running graph (bench/fault_drill.py): the wearer is told, and cues come back.

The drill itself is the benchmark script (it also writes the report under
bench/results/); here it runs into a temporary file and its report is checked.
The deadline is functional, not a speed target: a lost camera must be said
within the timeout navigation had in force when it stopped (it follows the
stream's pace: about 1 s on an idle machine, longer when results come
slowly), plus its 0.1 s tick and a second for transport and a loaded machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from locations import ROOT

CEILING_S = 10.0  # config/navigation.yaml's liveness ceiling: no timeout is longer


def deadline(fault: dict) -> float:
    """When the fault must have been said: the timeout navigation reported just before it, and some slack. The
    drill says it 0.1 s after the timeout on a quiet machine (docs/reliability.md); on this 2-core machine busy
    with the suite and other work, a clean-clone run heard "Cameras lost" 1.55 s after a 1 s timeout. The slack
    allows a loaded machine that much and more; the speed itself is measured by bench/fault_drill.py."""
    timeout = fault["timeout_s"]
    assert timeout is not None and 0 < timeout <= CEILING_S, fault  # navigation reports its timeouts
    return timeout + 2.5


def test_fault_drill_every_fault_is_said_and_the_graph_recovers(tmp_path: Path, ros_env: dict[str, str]) -> None:
    out = tmp_path / "faults.json"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "fault_drill.py"), "--out", str(out)],
                          env=ros_env, capture_output=True, text=True, timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    report = json.loads(out.read_text())
    rows = {fault["key"]: fault for fault in report["faults"]}
    source, perception, navigation = rows["source_stops"], rows["perception_killed"], rows["navigation_killed"]
    model, launcher, gpu, unreadable = (
        rows["model_missing"],
        rows["launcher_killed"],
        rows["gpu_lost"],
        rows["recording_unreadable"],
    )
    assert report["launcher_exit_code"] == 0, "\n".join(report["launcher_stop_log"])

    # Glasses unplugged: one cue within the watchdog's timeout, then "Cameras back" and hazard cues again.
    assert "Cameras lost" in source["heard"] and source["first_cue_s"] <= deadline(source), source
    assert "Front camera lost" not in source["heard"], source  # one cue for the whole, not one per camera
    assert source["recovery_s"] is not None and source["next_hazard_s"] is not None, source

    # A perception worker killed: said within its camera's timeout, restarted, back, and its camera cues again.
    assert perception["first_cue_s"] is not None and perception["first_cue_s"] <= deadline(perception), perception
    assert perception["restarted_s"] is not None and perception["recovery_s"] is not None, perception
    assert perception["next_hazard_s"] is not None, perception
    # The shared memory it had (DDS, /dev/shm) was given back when the launcher restarted it.
    assert perception["shm_segments"] > 0 and perception["shm_segments_left"] == 0, perception

    # Navigation killed: restarted, it says it is ready again and cues resume.
    assert navigation["restarted_s"] is not None and navigation["recovery_s"] is not None, navigation
    assert navigation["next_hazard_s"] is not None, navigation

    # A missing model: the log names the file and what to do; the wearer hears which camera is not working,
    # from the node itself ("not working" is never said for silence). Navigation says it within 2 s of hearing
    # of it. The news reaches navigation once DDS has discovered the node, which has only just started: 0.2 to
    # 0.8 s here with the project's Fast DDS profile (up to 3.4 s with Fast DDS's default discovery timing,
    # bench/discovery.py), more on a loaded machine, so it is held to the liveness ceiling, not to 2 s.
    assert "/nonexistent/yolo11n.pt not found" in model["error_logged"] and "'model' parameter" in model["error_logged"]
    assert {"Front camera not working", "Left camera not working", "Right camera not working"} <= set(model["heard"])
    for camera, times in model["cameras"].items():
        assert None not in times.values(), (camera, model)
        assert times["error_s"] <= times["navigation_heard_s"] <= times["said_s"], (camera, model)
        assert times["said_s"] - times["navigation_heard_s"] <= 2.0, (camera, model)
        assert times["navigation_heard_s"] - times["error_s"] <= CEILING_S, (camera, model)

    # The GPU lost under a perception node: the node says so itself, heard within 2 s of its first failed frame,
    # and "back" once it works again, with hazard cues from that camera.
    assert "Front camera not working" in gpu["heard"], gpu
    assert gpu["after_failure_s"] is not None and gpu["after_failure_s"] <= 2.0, gpu
    assert "Front camera back" in gpu["heard"] and gpu["next_hazard_s"] is not None, gpu

    # The recording unreadable while it plays: said as such within 2 s of the driver finding out.
    assert "Recording failed" in unreadable["heard"], unreadable
    assert unreadable["after_failure_s"] is not None and unreadable["after_failure_s"] <= 2.0, unreadable
    assert "is corrupt" in unreadable["error_logged"], unreadable

    # The launcher SIGKILLed: every process of the graph (6: no recorder) ends by itself, navigation saying so.
    assert launcher["processes"] == 6 and launcher["left_running"] == 0, launcher
    assert launcher["heard"] == ["Navigation stopped"], launcher
