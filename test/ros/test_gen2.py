"""Aria Gen 2, on a real recording: five cameras upright, their real lenses and mounts, the device's own motion.

gen2_unit_test.vrs (../shared/data/aria: a real Aria Gen 2 recording with its
factory calibration and on-device VIO). Upright is judged as for Gen 1, from the
recording's own gravity (here its VIO's) and its own calibration, written out
here independently of the code: the quarter turn that makes gravity point
down each raw image is found, and each published frame must be its raw image
turned by exactly that. The driver node then plays it over real DDS.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from locations import ARIA_DATA

from aria_nav_ros.core.cameras import ALL_CAMERAS, FRONT_CAMERAS, IMU_FRAME, optical_frame
from aria_nav_ros.core.sources.aria_calibration import GEN1, GEN2, layout_of
from aria_nav_ros.core.sources.base import Frame
from aria_nav_ros.core.sources.factory import SourceSettings, open_source
from aria_nav_ros.core.sources.motion import Motion

DATA = ARIA_DATA
GEN2_VRS = DATA / "gen2_unit_test.vrs"
GEN1_VRS = DATA / "adt_video.vrs"
pytestmark = pytest.mark.skipif(
    not GEN2_VRS.is_file(), reason=f"the real Aria Gen 2 recording {GEN2_VRS} is absent (../shared)"
)
# The roles the extrinsics give (the side pair looks ~84 degrees out, the front pair ~20: see gen2_roles).
LABELS = {
    "rgb": "camera-rgb",
    "slam_left": "slam-side-left",
    "slam_right": "slam-side-right",
    "slam_front_left": "slam-front-left",
    "slam_front_right": "slam-front-right",
}
# The head frame (x forward, y left, z up) in projectaria's central pupil frame (x left, y up, z forward).
HEAD_IN_CPF = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])


def provider():
    from projectaria_tools.core import data_provider

    return data_provider.create_vrs_data_provider(str(GEN2_VRS))


def vio_poses(p) -> list:
    stream = p.get_stream_id_from_label("vio_high_frequency")
    return [p.get_vio_high_freq_data_by_index(stream, i) for i in range(p.get_num_data(stream))]


def gravity_in_device(poses: list, t_ns: int) -> np.ndarray:
    """The VIO's gravity in the device frame at the pose nearest `t_ns`."""
    pose = min(poses, key=lambda q: abs(q.tracking_timestamp.total_seconds() * 1e9 - t_ns))
    odometry_from_device = pose.transform_odometry_device.to_matrix()
    return odometry_from_device[:3, :3].T @ np.asarray(pose.gravity_odometry)


def quarter_turns_down(down: np.ndarray) -> int:
    """How many clockwise quarter turns of an image make `down` (x right, y down of the raw image) point down it.
    A clockwise turn takes an image's (x, y) to (-y, x)."""
    best, turns, xy = -math.inf, 0, np.asarray(down[:2], dtype=np.float64)
    for k in range(4):
        if xy[1] > best:
            best, turns = xy[1], k
        xy = np.array([-xy[1], xy[0]])
    return turns


def tilt_deg(down: np.ndarray) -> float:
    """How far (degrees) gravity, seen in the image plane (x right, y down), is from pointing straight down it."""
    return abs(math.degrees(math.atan2(down[0], down[1])))


def rotation_vector(rotation: np.ndarray) -> np.ndarray:
    """Axis times angle of a rotation (under half a turn)."""
    angle = math.acos(np.clip((np.trace(rotation) - 1.0) / 2.0, -1.0, 1.0))
    skew = np.array([rotation[2, 1] - rotation[1, 2], rotation[0, 2] - rotation[2, 0], rotation[1, 0] - rotation[0, 1]])
    return skew / 2.0 * (angle / math.sin(angle) if angle > 1e-12 else 1.0)


@pytest.fixture(scope="module")
def played() -> dict:
    """One pass of the recording through the VRS source: first frame per camera, every motion."""
    source = open_source(SourceSettings(kind="vrs", path=str(GEN2_VRS)))
    frames: dict[str, Frame] = {}
    motions: list[Motion] = []
    for item in source.items():
        if isinstance(item, Frame):
            frames.setdefault(item.camera, item)
        elif isinstance(item, Motion):
            motions.append(item)
    return {"source": source, "frames": frames, "motions": motions}


def test_the_generation_and_the_roles_come_from_the_calibration() -> None:
    p = provider()
    calibration = p.get_device_calibration()
    layout = layout_of(calibration)
    assert (layout.generation, layout.quarter_turns) == (GEN2, 0)
    assert layout.labels == LABELS
    assert "slam_left = slam-side-left (7.3 cm left, looking 84 deg left)" in layout.roles, layout.roles

    # The roles follow the sensors, not their names: with two labels swapped, the roles swap labels too.
    swap = {"slam-side-left": "slam-front-right", "slam-front-right": "slam-side-left"}

    class Relabelled:
        def __getattr__(self, name: str):
            return getattr(calibration, name)

        def get_camera_labels(self) -> list[str]:
            return [swap.get(label, label) for label in calibration.get_camera_labels()]

        def get_camera_calib(self, label: str):
            return calibration.get_camera_calib(swap.get(label, label))

    relabelled = layout_of(Relabelled())
    assert relabelled.labels["slam_left"] == "slam-front-right"
    assert relabelled.labels["slam_front_right"] == "slam-side-left"

    if GEN1_VRS.is_file():
        from projectaria_tools.core import data_provider

        gen1 = layout_of(data_provider.create_vrs_data_provider(str(GEN1_VRS)).get_device_calibration())
        assert (gen1.generation, gen1.quarter_turns, set(gen1.labels)) == (GEN1, 1, {"rgb", "slam_left", "slam_right"})


def test_every_gen2_camera_is_published_upright_by_the_vio_gravity(played) -> None:
    source, frames = played["source"], played["frames"]
    assert set(frames) == set(ALL_CAMERAS)
    p = provider()
    calibration = p.get_device_calibration()
    poses = vio_poses(p)
    for camera, label in LABELS.items():
        frame = frames[camera]
        sensor = calibration.get_camera_calib(label)
        down = sensor.get_transform_device_camera().rotation().to_matrix().T @ gravity_in_device(
            poses, frame.device_time_ns
        )
        turns = quarter_turns_down(down)
        assert turns == 0, (camera, down)  # Gen 2 records upright: gravity already points down every raw image
        assert tilt_deg(down) < 15.0, (camera, down)
        # The published frame is the raw one turned by exactly that (by correlation: identical pixels).
        stream = p.get_stream_id_from_label(label)
        index = p.get_index_by_time_ns(stream, frame.device_time_ns, _device_time())
        raw = p.get_image_data_by_index(stream, index)[0].to_numpy_array()
        assert np.array_equal(frame.pixels, np.rot90(raw, -turns)), camera
        assert frame.pixels.shape[:2] == tuple(int(v) for v in sensor.get_image_size())[::-1]
        # Its mount and the VIO's gravity agree: gravity in the head frame, through the published optical frame,
        # points down the published image.
        mount = source.mounts()[optical_frame(camera)]
        head_from_device = HEAD_IN_CPF.T @ np.linalg.inv(calibration.get_transform_device_cpf().to_matrix())[:3, :3]
        in_image = mount.rotation.T @ head_from_device @ gravity_in_device(poses, frame.device_time_ns)
        assert np.allclose(in_image, down, atol=1e-6), camera


def test_gen2_camera_models_are_the_calibrations_fisheye624(played) -> None:
    """Each published model projects as projectaria-tools projects through the factory calibration."""
    source = played["source"]
    calibration = provider().get_device_calibration()
    rng = np.random.default_rng(0)
    for camera, label in LABELS.items():
        model = source.calibration()[camera]
        sensor = calibration.get_camera_calib(label)
        assert model.model == "fisheye624" and len(model.distortion) == 12
        assert (model.width, model.height) == tuple(int(v) for v in sensor.get_image_size())
        rays = np.column_stack([rng.uniform(-1.0, 1.0, (200, 2)), np.ones(200)])  # up to 55 degrees off-axis
        checked = 0
        for ray, pixel in zip(rays, model.project(rays), strict=True):
            expected = sensor.project(ray)
            if expected is not None:
                assert pixel == pytest.approx(np.asarray(expected), abs=0.05), (camera, ray)
                checked += 1
        assert checked > 100, camera


def test_gen2_mounts_are_the_calibrations_extrinsics(played) -> None:
    source = played["source"]
    calibration = provider().get_device_calibration()
    cpf_from_device = np.linalg.inv(calibration.get_transform_device_cpf().to_matrix())
    mounts = source.mounts()
    assert set(mounts) == {*map(optical_frame, ALL_CAMERAS), IMU_FRAME}
    for camera, label in LABELS.items():
        pose = cpf_from_device @ calibration.get_camera_calib(label).get_transform_device_camera().to_matrix()
        mount = mounts[optical_frame(camera)]
        assert np.allclose(mount.rotation, HEAD_IN_CPF.T @ pose[:3, :3], atol=1e-6), camera
        assert np.allclose(mount.translation, HEAD_IN_CPF.T @ pose[:3, 3], atol=1e-6), camera
    # The front pair: a stereo pair 13.6 cm apart, looking ahead 36 degrees apart, both to their own side.
    left, right = (mounts[optical_frame(c)] for c in FRONT_CAMERAS)
    baseline = np.linalg.norm(np.subtract(left.translation, right.translation))
    assert baseline == pytest.approx(0.136, abs=0.002)
    apart = math.degrees(math.acos(float(left.rotation[:, 2] @ right.rotation[:, 2])))
    assert apart == pytest.approx(36.0, abs=1.0)
    assert left.rotation[1, 2] > 0 > right.rotation[1, 2]  # head y is left
    imu = calibration.get_imu_calib("imu-right").get_transform_device_imu().to_matrix()
    assert np.allclose(mounts[IMU_FRAME].translation, HEAD_IN_CPF.T @ (cpf_from_device @ imu)[:3, 3], atol=1e-6)


def test_the_vio_becomes_the_heads_odometry(played) -> None:
    """Every VIO pose becomes the head's: its velocity is its position's rate of change (the device origin's
    velocity, 7 cm away, differs by up to 0.2 m/s while the head turns at 3 rad/s), its angular velocity its
    rotation's, and odom is level (z up)."""
    motions = played["motions"]
    assert len(motions) == 237
    t = np.array([m.device_time_ns for m in motions]) / 1e9
    position = np.array([m.translation for m in motions])
    checked = 0
    for i in range(1, len(motions) - 1):
        if abs((t[i + 1] - t[i]) - (t[i] - t[i - 1])) > 1e-4:
            continue  # a central difference needs even steps (the recording's first one is double)
        step = t[i + 1] - t[i - 1]
        velocity = (position[i + 1] - position[i - 1]) / step
        assert motions[i].rotation @ motions[i].linear_velocity == pytest.approx(velocity, abs=0.005), i
        turn = rotation_vector(motions[i - 1].rotation.T @ motions[i + 1].rotation) / step
        assert motions[i].angular_velocity == pytest.approx(turn, abs=0.01), i
        checked += 1
    assert checked > 200
    speeds = np.linalg.norm([m.linear_velocity for m in motions], axis=1)
    assert 0.3 < speeds.min() and speeds.max() < 1.0  # walking
    # Level: the head's up stays near odom's up (the wearer looks 10-18 degrees down), and odom's gravity is -z.
    assert min(m.rotation[2, 2] for m in motions) > 0.9
    assert all(m.quality == 1.0 for m in motions)
    p = provider()
    assert all(np.allclose(q.gravity_odometry, [0.0, 0.0, -9.81]) for q in vio_poses(p))
    first = motions[0].device_time_ns
    assert first == pytest.approx(vio_poses(p)[0].tracking_timestamp.total_seconds() * 1e9, abs=1000)


def _device_time():
    from projectaria_tools.core.sensor_data import TimeDomain

    return TimeDomain.DEVICE_TIME


def test_the_driver_publishes_gen2_over_dds(listener, ros_env, played) -> None:
    """The driver node, in a process of its own, on the Gen 2 recording: all five cameras upright with their
    fisheye624 CameraInfo, /tf_static from the calibration, the VIO as odometry and odom -> head on /tf, and
    the VIO's gravity, carried through what was published alone, pointing down every published image."""
    import rclpy
    from nav_msgs.msg import Odometry
    from processes import NodeProcess, node_command
    from sensor_msgs.msg import CameraInfo, Image
    from tf2_msgs.msg import TFMessage
    from visualization_msgs.msg import MarkerArray

    from aria_nav_ros.core.mounting import HEAD_FRAME, mounts_from_transforms, rotation_of
    from aria_nav_ros.ros.qos import ODOMETRY_QOS, SENSOR_QOS, TF_QOS, TF_STATIC_QOS

    node = listener
    got: dict[str, list] = {"tf_static": [], "tf": [], "odometry": [], "depth": [], "depth_info": []}
    node.create_subscription(Image, "/aria/stereo/depth", got["depth"].append, SENSOR_QOS)
    node.create_subscription(CameraInfo, "/aria/stereo/camera_info", got["depth_info"].append, SENSOR_QOS)
    got["frusta"] = []
    node.create_subscription(MarkerArray, "/aria/frusta", got["frusta"].append, TF_STATIC_QOS)
    node.create_subscription(TFMessage, "/tf_static", got["tf_static"].append, TF_STATIC_QOS)
    node.create_subscription(TFMessage, "/tf", got["tf"].append, TF_QOS)
    node.create_subscription(Odometry, "/aria/odometry", got["odometry"].append, ODOMETRY_QOS)
    for camera in ALL_CAMERAS:
        got[camera], got[f"{camera}_info"] = [], []
        node.create_subscription(Image, f"/aria/{camera}/image_raw", got[camera].append, SENSOR_QOS)
        node.create_subscription(CameraInfo, f"/aria/{camera}/camera_info", got[f"{camera}_info"].append, SENSOR_QOS)
    params = {"source": "vrs", "path": str(GEN2_VRS), "wait_for": "subscribers", "loop": True}
    driver = NodeProcess(node_command("aria_driver", **params), ros_env)

    def enough() -> bool:
        cameras = all(got[c] and got[f"{c}_info"] for c in ALL_CAMERAS)
        motion = min(len(got["odometry"]), len(got["tf"])) >= 100
        frusta = bool(got["frusta"]) and len(got["frusta"][-1].markers) == len(ALL_CAMERAS)
        depth = bool(got["depth"]) and bool(got["depth_info"])
        return bool(got["tf_static"]) and cameras and motion and depth and frusta

    try:
        end = time.monotonic() + 60
        while time.monotonic() < end and not enough():
            rclpy.spin_once(node, timeout_sec=0.1)
    finally:
        code = driver.stop()
    log = driver.log[-3000:]
    assert code == 0, log
    assert enough(), f"{ {k: len(v) for k, v in got.items()} }\n{log}"
    assert "nominal" not in log  # the recording's own calibration, not Gen 1's fallback
    assert "camera roles, from the calibration's extrinsics: slam_left = slam-side-left" in driver.log
    markers = got["frusta"][-1].markers  # RViz's view of each of the five cameras, one marker id each
    assert {m.header.frame_id for m in markers} == set(map(optical_frame, ALL_CAMERAS))
    assert len({m.id for m in markers}) == len(ALL_CAMERAS)

    # /tf_static: every camera and the IMU, from the calibration (the source's mounts, checked above against it).
    source = open_source(SourceSettings(kind="vrs", path=str(GEN2_VRS)))
    mounts = mounts_from_transforms(got["tf_static"][-1].transforms)
    assert set(mounts) == {*map(optical_frame, ALL_CAMERAS), IMU_FRAME, "aria_stereo_optical"}
    for frame, mount in source.mounts().items():
        assert np.allclose(mounts[frame].rotation, mount.rotation, atol=1e-6), frame
        assert np.allclose(mounts[frame].translation, mount.translation, atol=1e-9), frame

    # nav_msgs/Odometry (REP 105): pose in odom, velocity in the head frame (child_frame_id), and odom -> head on
    # /tf with the same pose and stamp.
    assert {(m.header.frame_id, m.child_frame_id) for m in got["odometry"]} == {("odom", HEAD_FRAME)}
    tf = [t for m in got["tf"] for t in m.transforms]
    assert {(t.header.frame_id, t.child_frame_id) for t in tf} == {("odom", HEAD_FRAME)}
    by_stamp = {(t.header.stamp.sec, t.header.stamp.nanosec): t for t in tf}
    # Each pose's transform (the newest few may still be on their way: the wait ended on counts).
    both = [p for p in got["odometry"] if (p.header.stamp.sec, p.header.stamp.nanosec) in by_stamp]
    assert len(both) >= 90, (len(both), len(got["odometry"]))
    odometry = both[-1]
    same = by_stamp[(odometry.header.stamp.sec, odometry.header.stamp.nanosec)].transform
    q, p = odometry.pose.pose.orientation, odometry.pose.pose.position
    assert (same.rotation.x, same.rotation.y, same.rotation.z, same.rotation.w) == (q.x, q.y, q.z, q.w)
    assert (same.translation.x, same.translation.y, same.translation.z) == (p.x, p.y, p.z)
    # The twist is the head's own (child frame): the source's velocity in the head frame, sample by sample.
    by_time = {m.device_time_ns: m for m in played["motions"]}
    twist = odometry.twist.twist.linear
    assert any(np.allclose((twist.x, twist.y, twist.z), m.linear_velocity) for m in by_time.values())
    speeds = [math.hypot(m.twist.twist.linear.x, m.twist.twist.linear.y, m.twist.twist.linear.z)
              for m in got["odometry"]]  # fmt: skip
    assert 0.3 < min(speeds) and max(speeds) < 1.0  # the wearer walks at about 0.5 m/s
    stamps = [(m.header.stamp.sec, m.header.stamp.nanosec) for m in got["odometry"]]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)

    # Upright, from what was published alone: gravity from the published head pose (odom is z up), through the
    # published mounts, points down each published image; and each image has its camera's size and lens.
    head_in_odom = rotation_of(q.x, q.y, q.z, q.w)
    down_in_head = head_in_odom.T @ np.array([0.0, 0.0, -1.0])
    for camera in ALL_CAMERAS:
        image, info = got[camera][-1], got[f"{camera}_info"][-1]
        frame = optical_frame(camera)
        assert image.header.frame_id == info.header.frame_id == frame
        model = source.calibration()[camera]
        assert (image.width, image.height) == (info.width, info.height) == (model.width, model.height), camera
        assert info.distortion_model == "fisheye624" and list(info.d) == pytest.approx(model.distortion), camera
        assert (info.k[0], info.k[2], info.k[5]) == pytest.approx((model.fx, model.cx, model.cy)), camera
        down = mounts[frame].rotation.T @ down_in_head
        assert tilt_deg(down) < 25.0, (camera, down)  # the front pair looks 40 degrees down: judge in the image

    # Metric depth from the front pair: REP 118 in the rectified view, placed on /tf_static, a pinhole.
    depth, info = got["depth"][-1], got["depth_info"][-1]
    assert depth.encoding == "32FC1" and depth.header.frame_id == info.header.frame_id == "aria_stereo_optical"
    assert (depth.width, depth.height) == (info.width, info.height) and info.distortion_model == "plumb_bob"
    metres = np.frombuffer(bytes(depth.data), np.float32).reshape(depth.height, depth.width)
    assert np.isfinite(metres).mean() > 0.3 and 1.0 < np.nanmedian(metres) < 5.0
    view = mounts["aria_stereo_optical"]
    assert np.allclose(view.translation, mounts[optical_frame(FRONT_CAMERAS[0])].translation)
    assert view.rotation[:, 0] @ np.subtract(
        mounts[optical_frame(FRONT_CAMERAS[1])].translation, view.translation
    ) == pytest.approx(0.136, abs=0.002)  # x runs along the baseline, to the right camera


def test_front_pair_stereo_depth_agrees_with_the_ground_plane(played) -> None:
    """Metric depth from the front pair, checked on the real recording's floor. In every pair: the floor that the
    stereo points show is level by the VIO's gravity (within 3 degrees: rectification, extrinsics and matching
    right), a standing wearer's eye height below the view, and where the ground-plane geometry (that height, the
    VIO's gravity, the rectified rays) places the floor at 1-3 m, the stereo depth agrees: the median within 5 %
    and at least 40 % of those pixels within 10 % (the rest are the desk, boxes, wall and hands the flat-ground
    geometry takes for floor). The wearer's true eye height is not in the recording: the scale is held by the
    calibration's baseline, and only to a plausible height here."""
    from aria_nav_ros.core.sources.stereo import stereo_depth

    source = open_source(SourceSettings(kind="vrs", path=str(GEN2_VRS)))
    models, mounts = source.calibration(), source.mounts()
    left, right = FRONT_CAMERAS
    pair = stereo_depth(models[left], mounts[optical_frame(left)], models[right], mounts[optical_frame(right)])
    assert pair.baseline_m == pytest.approx(0.136, abs=0.002)
    assert pair.model.model == "pinhole"
    frames: dict[str, list[Frame]] = {left: [], right: []}
    for item in source.items():
        if isinstance(item, Frame) and item.camera in frames:
            frames[item.camera].append(item)
    motions = played["motions"]
    height, width = pair.model.height, pair.model.width
    u, v = np.meshgrid(np.arange(width), np.arange(height))
    rays = np.stack([(u - pair.model.cx) / pair.model.fx, (v - pair.model.cy) / pair.model.fy, np.ones(u.shape)], -1)
    assert len(frames[left]) == len(frames[right]) == 9
    for a, b in zip(frames[left], frames[right], strict=True):
        assert abs(a.device_time_ns - b.device_time_ns) < 1_000_000  # taken together
        depth = pair.depth(a.pixels, b.pixels)
        assert depth.dtype == np.float32 and depth.shape == (height, width)
        matched = np.isfinite(depth)
        assert matched.mean() > 0.3
        motion = min(motions, key=lambda m: abs(m.device_time_ns - a.device_time_ns))
        down = pair.mount.rotation.T @ motion.rotation.T @ np.array([0.0, 0.0, -1.0])  # in the rectified view
        points = rays * depth[..., None]
        below = points @ down
        # The floor: the commonest height below the view in the image's lower half, refined by a plane fit.
        lower = below[matched & (v > height / 2) & (depth < 5.0)]
        counts, edges = np.histogram(lower, bins=100, range=(0.5, 2.5))
        guess = edges[np.argmax(counts)] + 0.01
        floor = points[matched & (np.abs(below - guess) < 0.08)]
        centre = floor.mean(axis=0)
        normal = np.linalg.svd(floor - centre, full_matrices=False)[2][2]  # not the N x N U of N points
        tilt = math.degrees(math.acos(abs(float(normal @ down))))
        eye_height = float(centre @ down)
        assert tilt < 3.0, (a.device_time_ns, tilt)
        assert 1.6 < eye_height < 2.0, eye_height
        # The ground-plane geometry: each ray meets the floor at depth eye_height / (ray . down) (rays have z = 1).
        along = rays @ down
        ground = np.where(along > 1e-6, eye_height / np.maximum(along, 1e-6), np.inf)
        ground_range = ground * np.linalg.norm(rays, axis=-1)
        placed = (ground_range > 1.0) & (ground_range < 3.0) & matched
        ratio = depth[placed] / ground[placed]
        assert placed.sum() > 20_000
        assert np.median(ratio) == pytest.approx(1.0, abs=0.05), a.device_time_ns
        assert np.mean(np.abs(ratio - 1.0) < 0.10) > 0.4, a.device_time_ns


def test_stereo_depth_on_the_floor_is_within_ten_percent_of_the_ground_plane(played) -> None:
    """Issue 29's bound, on the real recording: where the ground-plane geometry (the calibration's rectified rays,
    the mounting, the VIO's gravity, a level floor at one eye height for the whole walk) places the floor at
    1-3 m, the stereo depth of the floor is within 10 %. The floor is told from the desk, boxes, wall and hands
    the flat-ground geometry also places there by the stereo surface itself: level (its normal within 15 degrees
    of gravity) and at the floor's height below the eyes within 0.25 m (a band of +-14 % in depth there, wider
    than the bound, so the selection does not make the agreement). The eye height is the one number not in the
    recording: the commonest floor height of the nine pairs, one value for the walk, not fitted per frame.
    Measured: eye height 1.79 m; per pair median relative error 0.028-0.063 and 74-98 % of the floor pixels within
    10 %; all nine pairs (16,017 floor pixels) 0.045 and 87 %."""
    from aria_nav_ros.core.sources.stereo import stereo_depth

    source = open_source(SourceSettings(kind="vrs", path=str(GEN2_VRS)))
    models, mounts = source.calibration(), source.mounts()
    left, right = FRONT_CAMERAS
    pair = stereo_depth(models[left], mounts[optical_frame(left)], models[right], mounts[optical_frame(right)])
    frames: dict[str, list[Frame]] = {left: [], right: []}
    for item in source.items():
        if isinstance(item, Frame) and item.camera in frames:
            frames[item.camera].append(item)
    height, width = pair.model.height, pair.model.width
    u, v = np.meshgrid(np.arange(width), np.arange(height))
    rays = np.stack([(u - pair.model.cx) / pair.model.fx, (v - pair.model.cy) / pair.model.fy, np.ones(u.shape)], -1)
    views = []  # per pair: stereo depth, gravity in the rectified view, the stereo points' height below the eyes
    for a, b in zip(frames[left], frames[right], strict=True):
        depth = pair.depth(a.pixels, b.pixels)
        motion = min(played["motions"], key=lambda m: abs(m.device_time_ns - a.device_time_ns))
        down = pair.mount.rotation.T @ motion.rotation.T @ np.array([0.0, 0.0, -1.0])
        points = rays * depth[..., None]
        views.append((depth, down, points, points @ down))
    floor_heights = []
    for depth, _, _, below in views:
        lower = below[np.isfinite(depth) & (v > height / 2) & (depth < 5.0)]
        counts, edges = np.histogram(lower, bins=100, range=(0.5, 2.5))
        floor_heights.append(edges[np.argmax(counts)] + 0.01)
    eye_height = float(np.median(floor_heights))
    assert 1.5 < eye_height < 1.9, floor_heights  # a standing adult's eyes
    errors, per_pair = [], []
    for depth, down, points, below in views:
        step = 5  # the stereo surface's normal from its points 5 px apart each way
        across, up = np.full(points.shape, np.nan), np.full(points.shape, np.nan)
        across[:, step:-step] = points[:, 2 * step :] - points[:, : -2 * step]
        up[step:-step] = points[2 * step :] - points[: -2 * step]
        normal = np.cross(across, up)
        with np.errstate(invalid="ignore"):
            level = np.abs(normal @ down) > math.cos(math.radians(15.0)) * np.linalg.norm(normal, axis=-1)
        along = rays @ down
        ground = np.where(along > 1e-6, eye_height / np.maximum(along, 1e-6), np.inf)  # depth where rays meet it
        ground_range = ground * np.linalg.norm(rays, axis=-1)
        placed = (ground_range > 1.0) & (ground_range < 3.0) & np.isfinite(depth)
        floor = placed & level & (np.abs(below - eye_height) < 0.25)
        error = np.abs(depth[floor] / ground[floor] - 1.0)
        assert floor.sum() > 1000, floor.sum()
        per_pair.append((float(np.median(error)), float(np.mean(error < 0.10))))
        errors.append(error)
    pooled = np.concatenate(errors)
    assert all(median < 0.10 for median, _ in per_pair), per_pair  # the bound, in every pair
    assert np.median(pooled) < 0.10 and np.mean(pooled < 0.10) > 0.8, (np.median(pooled), np.mean(pooled < 0.10))


def test_front_frames_are_paired_by_the_time_they_were_taken(played) -> None:
    """PairedDepth (the driver's stereo thread) matches only frames taken together, hands out the stamp it was
    given with the pair, and never holds the caller."""
    import threading

    from aria_nav_ros.core.sources.stereo import PairedDepth

    source, frames = played["source"], played["frames"]
    left, right = (frames[c] for c in FRONT_CAMERAS)
    out: list[tuple[np.ndarray, int]] = []
    done = threading.Event()

    def publish(depth: np.ndarray, stamp: int, view) -> None:
        out.append((depth, stamp))
        done.set()

    paired = PairedDepth(publish)
    lenses, mounts = source.calibration(), source.mounts()
    try:
        paired.frame(left.camera, 0, 10, left.pixels, lenses, mounts)
        paired.frame(right.camera, 10_000_000, 11, right.pixels, lenses, mounts)  # 10 ms later: not a pair
        paired.frame(left.camera, 20_000_000, 12, left.pixels, lenses, mounts)
        paired.frame(right.camera, 20_000_500, 13, right.pixels, lenses, mounts)  # 0.5 us apart: a pair
        assert done.wait(60.0), "no depth within 60 s"
    finally:
        paired.stop()
    assert [stamp for _, stamp in out] == [13]
    assert np.isfinite(out[0][0]).mean() > 0.3


def test_rgb_perception_measures_boxes_the_front_pair_sees_by_stereo(listener, ros_env) -> None:
    """Issue 29 item 5 over real DDS: the driver plays the Gen 2 recording (looped: its 0.2 s hold three RGB
    frames, and the pair's rectification is built on its first pair), rgb_perception pairs each frame with the
    stereo depth nearest its time (/aria/stereo/depth) and measures each box whose lower middle the stereo view
    sees: DISTANCE_STEREO among its sources, its distance within the matcher's range and its spread the matcher's
    (0.010 Z^2, widened by the pair's age). Checked against the recording's own calibration: such a box's lower
    middle lies inside the rectified view; and the same box placed by the geometry alone, for the record."""
    import rclpy
    from processes import NodeProcess, node_command

    from aria_nav_ros.core.cameras import RGB
    from aria_nav_ros.core.detection import DISTANCE_STEREO, RawDetection, source_bits
    from aria_nav_ros.core.geometry import GeometryConfig, locate
    from aria_nav_ros.core.perception.stereo_range import MIN_RANGE_M, lower_middle
    from aria_nav_ros.core.sources.stereo import RECTIFIED_F_PX, RECTIFIED_SIZE, rectified_view
    from aria_nav_ros.msg import DetectionArray
    from aria_nav_ros.ros.qos import RESULT_QOS

    arrays: list = []
    listener.create_subscription(DetectionArray, "/aria/rgb/detections", arrays.append, RESULT_QOS)
    bit = source_bits(DISTANCE_STEREO)

    def measured() -> list:
        return [d for a in arrays for d in a.detections if d.distance_sources & bit]

    procs = [
        NodeProcess(node_command("aria_driver", source="vrs", path=str(GEN2_VRS), loop=True), ros_env),
        NodeProcess(node_command("rgb_perception", depth_model='""', imgsz=320, threads=1, device="cpu"), ros_env),
    ]
    try:
        end = time.monotonic() + 240  # models load (~20 s here), then a stereo-measured box within a few loops
        while time.monotonic() < end and not measured() and all(p.process.poll() is None for p in procs):
            rclpy.spin_once(listener, timeout_sec=0.1)
    finally:
        codes = [p.stop() for p in procs]
    logs = "\n".join(p.log[-2000:] for p in procs)
    assert codes == [0, 0], logs
    boxes = [(d.class_name, round(d.distance_m, 2), d.distance_sources) for a in arrays for d in a.detections]
    assert measured(), (boxes, logs)
    assert "refused" not in logs  # the driver's stereo depth and its camera_info pass the node's checks

    source = open_source(SourceSettings(kind="vrs", path=str(GEN2_VRS)))
    next(source.items())
    models, mounts = source.calibration(), source.mounts()
    camera, mount = models[RGB], mounts[optical_frame(RGB)]
    view = rectified_view(*(mounts[optical_frame(c)] for c in FRONT_CAMERAS))[0]
    width, height = RECTIFIED_SIZE
    for d in measured():
        assert not d.wearer_body and not d.distance_is_bound
        assert MIN_RANGE_M * 0.9 < d.distance_m < 10.0 and 0 < d.distance_spread_m < 1.0, d
        box = (d.x_min, d.y_min, d.x_max, d.y_max)
        rays = mount.in_head(camera.unproject(lower_middle(box)))  # 2 m out along them, into the rectified view
        optical = (np.asarray(mount.translation) + 2.0 * rays - np.asarray(view.translation)) @ view.rotation
        u, v = (optical[:, :2] / optical[:, 2:3] * RECTIFIED_F_PX + np.array([width - 1, height - 1]) / 2).T
        inside = (optical[:, 2] > 0) & (u >= 0) & (u < width) & (v >= 0) & (v < height)
        assert inside.mean() >= 0.25, (box, inside.mean())
        raw = RawDetection(box, d.score, d.class_id, d.class_name, math.nan)
        geometry = GeometryConfig(class_aliases={"Normal": "person", "Fall": "person"})  # the node's defaults
        [alone] = locate([raw], camera, geometry, mount)
        print(f"{d.class_name} box {tuple(round(c) for c in box)}: {d.distance_m:.2f} +- {d.distance_spread_m:.3f} m,"
              f" sources {d.distance_sources:#09b}; by the geometry alone {alone.distance_m:.2f}"
              f" +- {alone.distance_spread_m:.2f} m, sources {alone.distance_sources:#09b}")  # fmt: skip
