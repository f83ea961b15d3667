"""RGB frames handed from the driver to rgb_perception in one process (driver_with_rgb), and still published.

The registry alone first; then the real graph on the sample walk, started by
the launcher with the driver and rgb_perception composed, over real DDS for
everyone else (navigation, the recorder, the stream monitor).
"""

from __future__ import annotations

import json
from pathlib import Path

from processes import LIGHT, NodeProcess, launcher_command

from aria_nav_ros.graph.description import GraphSettings, describe_graph
from aria_nav_ros.graph.process import children
from aria_nav_ros.ros import handover

TOPIC = "/test_handover/aria/rgb/image_raw"


def test_only_a_provided_topic_is_taken_and_a_closed_taker_gets_nothing() -> None:
    got: list[object] = []
    assert handover.take(TOPIC, ("/", "rgb_perception"), got.append) is None  # no driver here: DDS it is
    handover.provide(TOPIC)
    try:
        taker = handover.take(TOPIC, ("/", "rgb_perception"), got.append)
        assert taker is not None and handover.takers(TOPIC) == {("/", "rgb_perception")}
        assert handover.take("/other" + TOPIC, ("/other", "rgb_perception"), got.append) is None  # by full name
        message = object()
        assert handover.hand(TOPIC, message) == 1 and got == [message]  # the object itself, not a copy
        taker.close()
        assert handover.hand(TOPIC, object()) == 0 and got == [message] and handover.takers(TOPIC) == set()
    finally:
        handover.withdraw(TOPIC)
    assert handover.take(TOPIC, ("/", "rgb_perception"), got.append) is None


def test_a_taker_that_fails_is_reported_and_the_others_still_get_the_message() -> None:
    def broken(_message: object) -> None:
        raise ValueError("bad frame")

    got: list[object] = []
    failed: list[tuple[tuple[str, str], Exception]] = []
    handover.provide(TOPIC)
    try:
        takers = [handover.take(TOPIC, ("/", "broken"), broken), handover.take(TOPIC, ("/", "fine"), got.append)]
        message = object()
        assert handover.hand(TOPIC, message, lambda node, error: failed.append((node, error))) == 1
        assert got == [message] and [(node, str(error)) for node, error in failed] == [(("/", "broken"), "bad frame")]
        for taker in takers:
            taker.close()
    finally:
        handover.withdraw(TOPIC)


def test_the_setting_puts_rgb_perception_into_the_drivers_process() -> None:
    apart = describe_graph(GraphSettings(path="walk"))
    together = describe_graph(GraphSettings(path="walk", driver_with_rgb=True, compose=True))
    assert [p.name for p in together] == [
        "aria_driver+rgb_perception+navigation",
        "recorder",
        "slam_detector_left",
        "slam_detector_right",
        "stream_monitor",
    ]
    assert together[0].has_driver and together[0].respawn == apart[0].respawn  # the driver's rules
    assert together[0].command()[2:6] == ["aria_nav_ros.nodes.container", "aria_driver", "rgb_perception", "navigation"]


def test_a_replay_with_rgb_in_the_drivers_process_hands_every_frame_over_and_still_publishes_it(
    tmp_path: Path, ros_env: dict[str, str], sample_bag: Path
) -> None:
    run, trace = tmp_path / "run", tmp_path / "trace"
    launcher = NodeProcess(
        launcher_command("--path", sample_bag, "--driver-with-rgb", "--exit-at-end", "--trace", trace, *LIGHT,
                         "--output", run),
        ros_env,
        with_stdout=True,
    )  # fmt: skip
    assert launcher.wait_for("[cue warning] System ready", timeout_s=120), launcher.log[-3000:]
    assert len(children(launcher.process.pid)) == 6, launcher.log[-3000:]  # 7 processes less one
    assert launcher.ended(180) == 0, launcher.log[-3000:]
    log = launcher.log
    assert "rgb: images handed over by the driver in this process" in log, log[-3000:]
    assert "Traceback" not in log and "refused" not in log, log[-3000:]
    records = {f.stem: [json.loads(line) for line in f.read_text().splitlines()] for f in trace.glob("*.jsonl")}
    published = [r["stamp"] for r in records["aria_driver"] if r.get("camera") == "rgb"]
    taken = {r["stamp"] for r in records["rgb_perception"]}  # processed, or skipped for a newer one
    processed = sorted(r["stamp"] for r in records["rgb_perception"] if "published" in r)
    heard = sorted(r["stamp"] for r in records["navigation"] if r.get("camera") == "rgb")
    # Every frame was handed over, in this process, as it was published: the composed node processed it or
    # skipped it for a newer one (the replay waited for it, a taker here, so the first frame too). Only the last
    # may lack a record: it can still have waited in the worker's slot when the graph stopped.
    assert published and set(published[:-1]) <= taken, sorted(set(published[:-1]) - taken)[:5]
    assert processed and set(processed) <= set(published)
    assert heard == processed  # its results still go to navigation
    # And every frame was still published over DDS for everyone else. Best effort promises no count there: the
    # replay waits for perception, not for the stream monitor, whose reader may match after the first frames
    # (99 of 100 came once). The monitor got frames, no more than were published, none malformed.
    streams = json.loads((run / "streams.json").read_text())
    assert 0 < streams["rgb"]["received"] <= len(published) and streams["rgb"]["rejected"] == 0, streams["rgb"]
    cues = [json.loads(line) for line in (run / "cues.jsonl").read_text().splitlines()]
    assert [c for c in cues if c["class"]] and cues[-1]["text"] == "Recording ended", cues
