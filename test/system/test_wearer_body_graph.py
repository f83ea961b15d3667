"""The wearer's own body on the real Gen 2 recording, through the whole graph (issue 28 item 5, issue 29 item 3).

The real Gen 2 office walk (../shared/data/aria/gen2_unit_test.vrs) played once as the README's second example
does, at the settings where the wearer heard "Careful! Person on the right, under half a meter" from slam_right (the
right arm held out sideways):
- every person box coming up from slam_right's lower edge is published as the wearer's body, and slam_right says
  no hazard cue;
- the device's hand tracking goes out on /aria/hands (PoseArray, head frame), one message per frame of a camera
  perception reads, stamped as that frame; every person box that holds a tracked wrist or palm (projected here
  through the recording's own calibration, from what the bag holds) is published as the wearer's body, and no
  hazard cue is about one (the RGB camera sees the raised right hand and the left hand reaching ahead);
- navigation judges the walk by the VIO on /aria/odometry.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from locations import ARIA_DATA
from processes import NodeProcess, launcher_command
from rosbags.highlevel import AnyReader

from aria_nav_ros.core.bag_types import typestore
from aria_nav_ros.core.cameras import CAMERAS, optical_frame
from aria_nav_ros.core.detection import EDGE_BOTTOM
from aria_nav_ros.core.hands import Hands, in_image
from aria_nav_ros.core.sources.factory import SourceSettings, open_source

GEN2_VRS = ARIA_DATA / "gen2_unit_test.vrs"
CEILING_S = 400.0  # models load, 9 frames play, videos are written: about 30 s here
SETTINGS = ["--device", "cpu", "--rgb-imgsz", "320", "--slam-imgsz", "320", "--torch-threads", "1",
            "--depth-model", "", "--audio-sink", "wav"]  # fmt: skip
PERSON = ("Normal", "Fall", "person")  # the real checkpoint's two classes of person, and COCO's
pytestmark = pytest.mark.skipif(
    not GEN2_VRS.is_file(), reason=f"the real Aria Gen 2 recording {GEN2_VRS} is absent (../shared)"
)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, ros_env: dict[str, str]) -> dict:
    """One run of the graph: every camera's detections and every hands message (by stamp), the cues, the
    perception nodes' last diagnostics."""
    folder = tmp_path_factory.mktemp("gen2") / "run"
    graph = NodeProcess(launcher_command("--source", "vrs", "--path", GEN2_VRS, "--exit-at-end", *SETTINGS,
                                         "--output", folder), ros_env, with_stdout=True)  # fmt: skip
    code = graph.ended(timeout_s=CEILING_S)
    assert code == 0, graph.log[-3000:]
    out: dict = {"detections": {c: [] for c in CAMERAS}, "hands": {}, "diagnostics": {}}
    with AnyReader([folder / "bag"], default_typestore=typestore()) as reader:
        for connection, _, raw in reader.messages():
            msg = reader.deserialize(raw, connection.msgtype)
            camera = connection.topic.split("/")[2] if connection.topic.endswith("/detections") else ""
            if camera:
                stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
                out["detections"][camera].append((stamp, msg.detections))
            elif connection.topic == "/aria/hands":
                stamp = msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec
                out["hands"][stamp] = msg
            elif connection.topic == "/diagnostics":
                for status in msg.status:
                    out["diagnostics"][status.name] = {kv.key: kv.value for kv in status.values}
    out["cues"] = [json.loads(line) for line in (folder / "cues.jsonl").read_text().splitlines()]
    return out


def test_gen2s_side_camera_never_says_the_wearers_arm(run: dict) -> None:
    arm = [d for _, detections in run["detections"]["slam_right"] for d in detections
           if d.class_name in PERSON and d.cut_edges & EDGE_BOTTOM and d.bearing_deg > 45]  # fmt: skip
    assert len(arm) >= 1 and all(d.wearer_body for d in arm), [(d.bearing_deg, d.wearer_body) for d in arm]
    assert [c["text"] for c in run["cues"] if c["class"] and c["cameras"] == ["slam_right"]] == [], run["cues"]


def test_the_tracked_hands_are_published_and_never_said(run: dict) -> None:
    # /aria/hands: the wrists and palms in the head frame, within reach of it.
    hands = run["hands"]
    assert len(hands) >= 9, len(hands)
    assert {m.header.frame_id for m in hands.values()} == {"aria_head"}
    points = {s: np.array([(p.position.x, p.position.y, p.position.z) for p in m.poses]) for s, m in hands.items()}
    assert all(len(p) in (2, 4) for p in points.values()) and max(len(p) for p in points.values()) == 4
    assert all(np.all(np.linalg.norm(p, axis=1) < 1.0) for p in points.values())
    # Every person box that holds a tracked hand (the hands sent with its frame, projected through the recording's
    # calibration) is the wearer's body; the RGB camera sees hands in every frame and has such boxes.
    source = open_source(SourceSettings(kind="vrs", path=str(GEN2_VRS)))
    held = []
    for camera in CAMERAS:
        model, mount = source.calibration()[camera], source.mounts()[optical_frame(camera)]
        for stamp, detections in run["detections"][camera]:
            assert stamp in points, (camera, stamp)  # a hands message for each frame, stamped as the frame
            pixels = in_image(Hands(stamp, points[stamp]), model, mount)
            for d in detections:
                inside = (pixels[:, 0] >= d.x_min) & (pixels[:, 0] <= d.x_max)
                if d.class_name in PERSON and np.any(inside & (pixels[:, 1] >= d.y_min) & (pixels[:, 1] <= d.y_max)):
                    held.append((camera, d))
    assert sum(camera == "rgb" for camera, _ in held) >= 3, held
    assert all(d.wearer_body and math.isnan(d.distance_m) for _, d in held), [(c, d.bearing_deg) for c, d in held]
    marked = {name: int(v["wearer_hands"]) for name, v in run["diagnostics"].items() if "wearer_hands" in v}
    assert marked.get("aria_nav_ros/rgb_perception", 0) >= 3, marked  # by the hands, not already by the geometry
    # No hazard cue is about a hand: none from the RGB camera, none at a held box's bearing in its camera.
    hazards = [c for c in run["cues"] if c["class"]]
    assert not [c for c in hazards if "rgb" in c["cameras"]], hazards
    for camera, d in held:
        near = [c for c in hazards if camera in c["cameras"] and abs(c["bearing_deg"] - d.bearing_deg) < 5]
        assert not near, (camera, d.bearing_deg, near)


def test_navigation_judges_the_walk_by_the_vio(run: dict) -> None:
    """The recording walks at about 0.5 m/s, too gently for the IMU's step rule (test_walking_state): navigation,
    reading aria/odometry, says walking, from the VIO."""
    navigation = next(v for name, v in run["diagnostics"].items() if name.endswith("/navigation"))
    assert (navigation["walking"], navigation["walking_from"]) == ("True", "vio"), navigation
    assert 0.3 < float(navigation["speed_mps"]) < 1.0, navigation
