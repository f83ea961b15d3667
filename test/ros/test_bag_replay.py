"""Record the driver's streams with the recorder, replay the bag through the driver, record again: the
replay delivers every item the bag holds, and every frame that comes back is bit-exact and in order; the bags
decode outside ROS. (Camera frames are best-effort: on a loaded machine DDS may drop one between the driver and
the recorder, so the test counts what the source delivers, not what the transport carries.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from processes import NodeProcess, node_command
from rosbags.rosbag2 import Reader

from aria_nav_ros.core.bag_types import typestore
from aria_nav_ros.core.cameras import CAMERAS, image_topic
from aria_nav_ros.core.image import ImageLayout, to_array
from aria_nav_ros.core.photos import photo_folder

TOPICS = [image_topic(c) for c in CAMERAS] + ["/aria/rgb/camera_info", "/aria/imu"]


def frames_in(bag: Path) -> dict[str, list[np.ndarray]]:
    """Pixels per image topic, in bag order, read with rosbags (no rclpy)."""
    store = typestore()
    frames: dict[str, list[np.ndarray]] = {f"/{image_topic(c)}": [] for c in CAMERAS}  # the bag's resolved names
    with Reader(bag) as reader:
        connections = [c for c in reader.connections if c.topic in frames]
        for connection, _, raw in reader.messages(connections=connections):
            msg = store.deserialize_cdr(raw, connection.msgtype)
            layout = ImageLayout(msg.encoding, msg.height, msg.width, msg.step, bool(msg.is_bigendian))
            frames[connection.topic].append(to_array(layout, msg.data).copy())
    return frames


def record(source: dict[str, object], bag: Path, env: dict[str, str]) -> tuple[str, int]:
    """The recorder's log, and how many items (frames and IMU samples) the driver's source delivered."""
    topics = json.dumps(TOPICS)
    recorder = NodeProcess(node_command("recorder", path=bag, topics=topics), env)
    driver = NodeProcess(node_command("aria_driver", wait_for="subscribers", **source), env)
    try:
        assert driver.wait_for("finished after", timeout_s=60), driver.log[-3000:]
    finally:
        assert driver.stop() == 0, driver.log[-3000:]
        assert recorder.stop() == 0, recorder.log[-3000:]
    [delivered] = re.findall(r"finished after (\d+) items", driver.log)
    return recorder.log, int(delivered)


def in_order(part: list[np.ndarray], whole: list[np.ndarray]) -> bool:
    """Every frame of `part` is bit-exact a frame of `whole`, in the same order (DDS may drop, never alter)."""
    rest = iter(whole)
    return all(any(a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b) for b in rest) for a in part)


def test_recorded_bag_replays_bit_exactly(tmp_path: Path, ros_env: dict[str, str]) -> None:
    photos = photo_folder(tmp_path / "photos")
    first, second = tmp_path / "first", tmp_path / "second"
    count = len(list(photos.iterdir()))
    _, delivered = record({"source": "images", "path": photos, "image_fps": 5.0, "stand_in_slam": True}, first,
                          ros_env)  # fmt: skip
    assert delivered == 3 * count  # each photo: the RGB view and two stand-in SLAM views
    log, replayed_items = record({"source": "bag", "path": first}, second, ros_env)
    assert "wrote" in log

    recorded, replayed = frames_in(first), frames_in(second)
    with Reader(first) as reader:  # the replay delivered every image and IMU sample the first bag holds
        assert replayed_items == sum(c.msgcount for c in reader.connections if c.topic != "/aria/rgb/camera_info")
    for topic in recorded:
        assert 0 < len(recorded[topic]) <= count and 0 < len(replayed[topic]) <= len(recorded[topic]), topic
        assert in_order(replayed[topic], recorded[topic]), topic
    # The photos differ, so an exact match is not a match of empty frames.
    rgb = recorded[f"/{image_topic('rgb')}"]
    assert not np.array_equal(rgb[0], rgb[1])


def test_recorded_bag_carries_our_message_definitions(tmp_path: Path) -> None:
    """A custom message written by BagWriter decodes with a reader that only knows the bag."""
    from rosbags.typesys import Stores, get_types_from_msg, get_typestore

    from aria_nav_ros.core.bag_writer import BagWriter

    store = typestore()
    Cue = store.types["aria_nav_ros/msg/NavigationCue"]
    Header = store.types["std_msgs/msg/Header"]
    Time = store.types["builtin_interfaces/msg/Time"]
    cue = Cue(
        header=Header(stamp=Time(sec=3, nanosec=4), frame_id="aria_rgb_optical"),
        kind=0,
        urgency=2,
        class_name="person",
        distance_m=1.5,
        bearing_deg=-10.0,
        zone="ahead",
        cameras=["rgb"],
        track_id=7,
        text="Person ahead, one and a half meters",
    )
    bag = tmp_path / "cues"
    writer = BagWriter(bag)
    writer.add_topic("/navigation/cues", "aria_nav_ros/msg/NavigationCue")
    writer.write("/navigation/cues", 5, store.serialize_cdr(cue, "aria_nav_ros/msg/NavigationCue"))
    writer.close()

    # A fresh typestore without our types: the definitions come from the bag itself.
    plain = get_typestore(Stores.ROS2_KILTED)
    with Reader(bag) as reader:
        [connection] = reader.connections
        assert "Detection" not in plain.types.get(connection.msgtype, "")
        plain.register(get_types_from_msg(connection.msgdef.data, connection.msgtype))
        [(_, timestamp, raw)] = list(reader.messages())
    back = plain.deserialize_cdr(raw, connection.msgtype)
    assert timestamp == 5
    assert (back.text, back.urgency, back.cameras, back.track_id) == (cue.text, 2, ["rgb"], 7)
