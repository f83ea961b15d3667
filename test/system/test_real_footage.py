"""Real photos of people within reach of a camera, played through the whole graph: the wearer is warned.

Issue 28, item 8. The photos are scikit-image's (aria_nav_ros.core.footage: a man at a tripod camera, CC0;
the astronaut Eileen Collins, public domain), each held as a person standing still in front of the wearer.
Both people are cut by the frame well within 2 m, where the geometry has no foot on the ground to measure:
they must be warned with a bound ("Careful! Person ahead, under one meter"), not said without a distance.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from processes import LIGHT, NodeProcess, launcher_command
from rosbags.rosbag2 import Reader

from aria_nav_ros.core.bag_types import typestore
from aria_nav_ros.core.cameras import RGB, detections_topic
from aria_nav_ros.core.detection import DISTANCE_CLASS_WIDTH, DISTANCE_GROUND_EDGE
from aria_nav_ros.core.footage import missing_reason, standing_folder
from aria_nav_ros.core.navigation.config import NavigationConfig
from aria_nav_ros.nodes import perception

CEILING_S = 300.0  # a 2-core machine loads three detectors at once; this only keeps a hang from hanging the suite
FPS = 10.0  # Aria's 10 Hz profiles
# Each person stands in front of the wearer as long as a critical cue covers its zone: a second person no nearer
# in the same zone within it is told by the first's cue (close_range.critical_repeat_s, 6 s), not said again.
REPEAT_S = float(NavigationConfig.load()["close_range"]["critical_repeat_s"])
SECONDS_EACH = REPEAT_S
WITHIN_M = 2.0  # both people are far nearer than this (about 1 m and 0.5 m)
EDGE_BOTTOM = 8  # Detection.EDGE_BOTTOM
BOUND_SOURCES = (DISTANCE_GROUND_EDGE, DISTANCE_CLASS_WIDTH)


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory, ros_env: dict[str, str]) -> tuple[list, list[dict], list]:
    """The photos played once through the launcher's graph (light CPU settings, lockstep: every frame on the
    recorded clock): the scenes, the cues said and the RGB detections recorded."""
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("real_footage")
    photos, run = root / "photos", root / "run"
    scenes = standing_folder(photos, SECONDS_EACH, FPS)
    graph = NodeProcess(launcher_command("--source", "images", "--path", photos, "--image-fps", FPS, "--exit-at-end",
                                         "--lockstep", *LIGHT, "--output", run), ros_env, with_stdout=True)  # fmt: skip
    code = graph.ended(CEILING_S)
    assert code == 0, graph.log[-3000:]
    assert "Traceback" not in graph.log, graph.log[-3000:]
    cues = [json.loads(line) for line in (run / "cues.jsonl").read_text().splitlines()]
    return scenes, cues, rgb_detections(run)


def rgb_detections(run: Path) -> list[tuple[float, object]]:
    """(seconds since the first RGB frame, Detection) of every RGB detection the run's bag recorded."""
    store = typestore()
    frames = []
    with Reader(run / "bag") as reader:
        connections = [c for c in reader.connections if c.topic == "/" + detections_topic(RGB)]
        for connection, _, raw in reader.messages(connections=connections):
            msg = store.deserialize_cdr(raw, connection.msgtype)
            frames.append((msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec, msg.detections))
    assert frames, f"no RGB detections recorded in {run / 'bag'}"
    t0 = min(stamp for stamp, _ in frames)
    return [((stamp - t0) / 1e9, d) for stamp, detections in frames for d in detections]


def person_classes() -> set[str]:
    """The detector's own class names that the graph takes for people (the default checkpoint's Normal and
    Fall, by rgb_perception's class_aliases: its declared default)."""
    return {"person"} | {name for name, size in perception.class_aliases().items() if size == "person"}


def during(scene: tuple[str, float, float], t: float) -> bool:
    _, start, end = scene
    return start - 1e-6 <= t < end - 1e-6


def test_a_real_person_cut_by_the_frame_within_reach_is_warned_with_a_bound(played) -> None:
    """Each photo's person is warned (warning or critical) with a distance under 2 m said in words."""
    scenes, cues, _ = played
    for scene in scenes:
        said = [c for c in cues if c["class"] and during(scene, c["time"])]
        warned = [c for c in said if c["class"] == "person" and c["urgency"] in ("warning", "critical")
                  and c["distance_m"] is not None and c["distance_m"] <= WITHIN_M]  # fmt: skip
        assert warned, (scene, cues)
        assert all("meter" in c["text"] for c in warned), warned  # the distance is said, not only known


def test_the_warning_rests_on_a_bound_from_the_cut_box(played) -> None:
    """What made the warning: the detector's person box is cut by the lower edge, and the distance published
    with it is an upper bound (the lower edge's ground, or a person's width) within 2 m, not a measurement."""
    scenes, _, detections = played
    person = person_classes()
    for scene in scenes:
        people = [d for t, d in detections if during(scene, t) and d.class_name in person and not d.wearer_body]
        assert people, (scene, "no person detected")
        cut = [d for d in people if d.cut_edges & EDGE_BOTTOM]
        assert cut, (scene, [d.cut_edges for d in people])  # the footage is what it claims: cut by the frame
        bounded = [d for d in cut if d.distance_is_bound and d.distance_source in BOUND_SOURCES]
        assert len(bounded) >= len(cut) // 2, (scene, [(d.distance_source, d.distance_m) for d in cut])
        assert all(d.distance_m <= WITHIN_M for d in bounded), (scene, [d.distance_m for d in bounded])


def test_a_person_standing_within_reach_is_not_a_flood(played) -> None:
    """A still person within reach is critical, said again at most every critical_repeat_s: one hazard sentence
    per scene, never two in a row within it."""
    scenes, cues, _ = played
    hazards = [c for c in cues if c["class"]]
    for scene in scenes:
        assert len([c for c in hazards if during(scene, c["time"])]) <= 1, (scene, hazards)
    for before, after in zip(hazards, hazards[1:], strict=False):
        assert after["time"] - before["time"] >= REPEAT_S - 1e-6, hazards
