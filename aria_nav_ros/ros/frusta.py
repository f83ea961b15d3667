"""Each camera's field of view as an RViz marker: the rays through its image border, 1 m long.

Drawn in the camera's optical frame through its own lens model, so a fisheye's
view (wider than any pinhole's) shows as it is; RViz places it by /tf_static.
"""

from __future__ import annotations

import numpy as np
from geometry_msgs.msg import Point
from std_msgs.msg import Header
from visualization_msgs.msg import Marker

from aria_nav_ros.core.camera_model import CameraModel
from aria_nav_ros.core.cameras import ALL_CAMERAS, optical_frame

FRUSTA_TOPIC = "aria/frusta"
BORDER_STEPS = 16  # points per image edge: the border of a fisheye's view is curved
LENGTH_M = 1.0


def frustum_marker(camera: str, model: CameraModel, stamp) -> Marker:
    w, h = model.width - 1, model.height - 1
    t = np.linspace(0.0, 1.0, BORDER_STEPS, endpoint=False)
    border = np.concatenate(
        [np.stack([t * w, 0 * t], 1), np.stack([w + 0 * t, t * h], 1),
         np.stack([w - t * w, h + 0 * t], 1), np.stack([0 * t, h - t * h], 1)]
    )  # fmt: skip
    ends = model.unproject(border) * LENGTH_M
    marker = Marker(header=Header(stamp=stamp, frame_id=optical_frame(camera)), ns="frusta", type=Marker.LINE_LIST)
    marker.id = ALL_CAMERAS.index(camera)
    marker.action = Marker.ADD
    marker.scale.x = 0.01
    marker.color.r, marker.color.g, marker.color.b, marker.color.a = 0.3, 0.8, 1.0, 0.8
    marker.pose.orientation.w = 1.0
    corners = {0, BORDER_STEPS, 2 * BORDER_STEPS, 3 * BORDER_STEPS}
    for i, end in enumerate(ends):
        following = ends[(i + 1) % len(ends)]
        marker.points += [_point(end), _point(following)]  # the border
        if i in corners:
            marker.points += [Point(), _point(end)]  # from the lens to each corner
    return marker


def _point(xyz: np.ndarray) -> Point:
    return Point(x=float(xyz[0]), y=float(xyz[1]), z=float(xyz[2]))
