"""The wearer's arm in Gen 2's side camera, through the whole graph (issue 28 item 5, issue 29 item 3).

The real Gen 2 office walk (../shared/data/aria/gen2_unit_test.vrs) played as the README's second example does,
at the settings where the wearer heard "Careful! Person on the right, under half a meter" from slam_right (the
right arm held out sideways): every person box coming up from slam_right's lower edge is published as the
wearer's body, and slam_right says no hazard cue.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from processes import NodeProcess, launcher_command
from rosbags.highlevel import AnyReader

from aria_nav_ros.core.bag_types import typestore
from aria_nav_ros.core.detection import EDGE_BOTTOM

GEN2_VRS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "aria" / "gen2_unit_test.vrs"
CEILING_S = 400.0  # models load, 9 frames play, videos are written: about 20 s here
SETTINGS = ["--device", "cpu", "--rgb-imgsz", "320", "--slam-imgsz", "320", "--torch-threads", "1",
            "--depth-model", "", "--audio-sink", "wav"]  # fmt: skip


@pytest.mark.skipif(not GEN2_VRS.is_file(), reason=f"the real Aria Gen 2 recording {GEN2_VRS} is absent (../shared)")
def test_gen2s_side_camera_never_says_the_wearers_arm(tmp_path: Path, ros_env: dict[str, str]) -> None:
    run = tmp_path / "run"
    graph = NodeProcess(launcher_command("--source", "vrs", "--path", GEN2_VRS, "--exit-at-end", *SETTINGS,
                                         "--output", run), ros_env, with_stdout=True)  # fmt: skip
    code = graph.ended(timeout_s=CEILING_S)
    assert code == 0, graph.log[-3000:]
    arm = []
    with AnyReader([run / "bag"], default_typestore=typestore()) as reader:
        topics = [c for c in reader.connections if c.topic == "/aria/slam_right/detections"]
        for connection, _, raw in reader.messages(connections=topics):
            for d in reader.deserialize(raw, connection.msgtype).detections:
                if d.class_name in ("Normal", "person") and d.cut_edges & EDGE_BOTTOM and d.bearing_deg > 45:
                    arm.append(d)
    assert len(arm) >= 1 and all(d.wearer_body for d in arm), [(d.bearing_deg, d.wearer_body) for d in arm]
    cues = [json.loads(line) for line in (run / "cues.jsonl").read_text().splitlines()]
    assert [c["text"] for c in cues if c["class"] and c["cameras"] == ["slam_right"]] == [], cues
