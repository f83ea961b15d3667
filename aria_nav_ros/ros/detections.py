"""Core detections <-> aria_nav_ros/msg/Detection(Array), and RViz markers for them."""

from __future__ import annotations

import math

from builtin_interfaces.msg import Duration
from std_msgs.msg import Header
from visualization_msgs.msg import Marker, MarkerArray

from aria_nav_ros.core.detection import Detection
from aria_nav_ros.core.mounting import HEAD_FRAME
from aria_nav_ros.msg import Detection as DetectionMsg
from aria_nav_ros.msg import DetectionArray, StageTiming


def detection_msg(det: Detection) -> DetectionMsg:
    x1, y1, x2, y2 = det.box
    return DetectionMsg(
        class_id=det.class_id, class_name=det.class_name, score=float(det.score),
        x_min=float(x1), y_min=float(y1), x_max=float(x2), y_max=float(y2),
        distance_m=float(det.distance_m), distance_source=det.distance_source,
        bearing_deg=float(det.bearing_deg), track_id=det.track_id, distance_is_bound=bool(det.distance_is_bound),
        cut_edges=int(det.cut_edges), view_share=float(det.view_share), wearer_body=bool(det.wearer_body),
        distance_spread_m=float(det.distance_spread_m), distance_sources=int(det.distance_sources),
    )  # fmt: skip


def detection_from_msg(msg: DetectionMsg) -> Detection:
    return Detection(
        msg.class_id,
        msg.class_name,
        msg.score,
        (msg.x_min, msg.y_min, msg.x_max, msg.y_max),
        msg.distance_m,
        msg.distance_source,
        msg.bearing_deg,
        msg.track_id,
        bool(msg.distance_is_bound),
        int(msg.cut_edges),
        float(msg.view_share),
        bool(msg.wearer_body),
        # A publisher that names no source gives no spread either (a message's float default is 0, not NaN).
        float(msg.distance_spread_m) if msg.distance_sources else math.nan,
        int(msg.distance_sources),
    )


def spread_label(det: Detection) -> str:
    """How far, as RViz labels it: "< 1.5 m" (a bound), "3.2 +- 0.4 m" (a measurement and its spread)."""
    if det.distance_is_bound:
        return f"< {det.distance_m:.1f} m"
    if math.isfinite(det.distance_spread_m):
        return f"{det.distance_m:.1f} +- {det.distance_spread_m:.1f} m"
    return f"{det.distance_m:.1f} m"


def detection_array(
    header: Header,
    camera: str,
    width: int,
    height: int,
    detections: list[Detection],
    timings_ms: dict[str, float],
) -> DetectionArray:
    return DetectionArray(
        header=header, camera=camera, image_width=width, image_height=height,
        detections=[detection_msg(d) for d in detections],
        timings=[StageTiming(stage=name, ms=float(ms)) for name, ms in timings_ms.items()],
    )  # fmt: skip


def markers(header: Header, camera: str, detections: list[Detection], eye_height_m: float) -> MarkerArray:
    """A cylinder and a label per detection with a distance, standing on the ground in the head frame
    (x forward, y left, z up: RViz places it through /tf_static)."""
    out = MarkerArray()
    header = Header(stamp=header.stamp, frame_id=HEAD_FRAME)
    out.markers.append(Marker(header=header, ns=camera, action=Marker.DELETEALL))
    lifetime = Duration(sec=0, nanosec=500_000_000)
    for i, det in enumerate(d for d in detections if not math.isnan(d.distance_m)):
        bearing = math.radians(det.bearing_deg)  # positive to the right: -y
        x, y = det.distance_m * math.cos(bearing), -det.distance_m * math.sin(bearing)
        body = Marker(header=header, ns=camera, id=2 * i, type=Marker.CYLINDER, action=Marker.ADD, lifetime=lifetime)
        body.pose.position.x, body.pose.position.y, body.pose.position.z = x, y, 0.85 - eye_height_m
        body.pose.orientation.w = 1.0  # a cylinder's axis is z: up
        body.scale.x = body.scale.y = 0.5
        body.scale.z = 1.7
        body.color.r, body.color.g, body.color.a = 1.0, 0.6, 0.8
        label = Marker(
            header=header,
            ns=camera,
            id=2 * i + 1,
            type=Marker.TEXT_VIEW_FACING,
            action=Marker.ADD,
            lifetime=lifetime,
            text=f"{det.class_name} {spread_label(det)}",
        )
        label.pose.position.x, label.pose.position.y, label.pose.position.z = x, y, 2.0 - eye_height_m
        label.pose.orientation.w = 1.0
        label.scale.z = 0.3
        label.color.r = label.color.g = label.color.b = label.color.a = 1.0
        out.markers += [body, label]
    return out
