"""The QoS profiles this package uses, named by what they carry: one place for every topic's delivery."""

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy


def _profile(depth: int, reliable: bool, latched: bool = False) -> QoSProfile:
    """Keep the last `depth`; reliable or best effort; latched (transient local) for late readers or volatile."""
    return QoSProfile(
        history=HistoryPolicy.KEEP_LAST,
        depth=depth,
        reliability=ReliabilityPolicy.RELIABLE if reliable else ReliabilityPolicy.BEST_EFFORT,
        durability=DurabilityPolicy.TRANSIENT_LOCAL if latched else DurabilityPolicy.VOLATILE,
    )


# Camera frames: best effort, newest only. A late frame is worth less than the
# next one, so nothing may queue up behind a slow subscriber.
SENSOR_QOS = _profile(1, reliable=False)

# IMU samples: best effort like the cameras, but every sample counts for the
# walking/standing estimate and they are small, so a burst may queue.
IMU_QOS = _profile(100, reliable=False)

# Poses come at the VIO's rate (Gen 2: 800 Hz): small, best effort, a burst may queue (as the IMU's samples).
ODOMETRY_QOS = _profile(100, reliable=False)

# The wearer's hands: a sample per CV frame (Gen 2: 30 Hz), small: best effort with a short queue, so that a
# reader busy with a frame still finds the samples of that frame's time.
HANDS_QOS = _profile(10, reliable=False)

# What the recorder reads of the sensors: best effort like the cameras, but a short queue: a disk write may stall
# a frame or two.
RECORD_SENSOR_QOS = _profile(10, reliable=False)

# Results (detections, cues): small, and each one matters.
RESULT_QOS = _profile(10, reliable=True)

# Events about the aid itself (SystemEvent): few, and each must reach navigation even when it starts
# after the event (a disk already full at the start), so the last few are kept for late readers.
EVENTS_QOS = _profile(5, reliable=True, latched=True)

# tf as tf2's TransformBroadcaster publishes it (its listeners ask for reliable, volatile).
TF_QOS = _profile(100, reliable=True)

# /tf_static: where each sensor sits, latched for late joiners (as tf2's static broadcaster does: the newest
# message holds every transform).
TF_STATIC_QOS = _profile(1, reliable=True, latched=True)
