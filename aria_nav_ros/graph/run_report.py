"""What a run left in its folder, summed up: summary.json, annotated videos, a printed summary.

The run folder holds cues.jsonl and navigation.wav (navigation), streams.json
(stream_monitor) and bag/ (recorder: detections, cues, annotated images,
diagnostics, IMU). From the bag come frames and frames per second per
camera, camera-to-cue latency (a cue's arrival at the recorder minus the
stamp of the image it is based on; all processes share this machine's
clock) and one MP4 of annotated frames per camera.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np
from rosbags.rosbag2 import Reader

from aria_nav_ros.core.bag_types import typestore
from aria_nav_ros.core.cameras import CAMERAS, CUES_TOPIC, annotated_topic, compressed_topic, detections_topic, in_bag
from aria_nav_ros.core.jpeg import decompress
from aria_nav_ros.core.navigation.config import TIERS
from aria_nav_ros.core.navigation.policy import KIND_HAZARD
from aria_nav_ros.core.timebase import stamp_ns
from aria_nav_ros.graph.description import GraphSettings


def read_cues(run: Path) -> list[dict]:
    path = run / "cues.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line] if path.exists() else []


def cue_counts(cues: list[dict]) -> dict[str, object]:
    """The one count of a run's cues, for progress and summary alike: hazard cues by tier (an object's class was
    said), and the aid's own health cues by text ("System ready", "Recording ended", ...)."""
    return {
        "cues": {u: sum(c["urgency"] == u and bool(c["class"]) for c in cues) for u in TIERS},
        "system_cues": dict(Counter(c["text"] for c in cues if not c["class"])),
    }


def cue_line(counts: dict[str, object]) -> str:
    hazards, system = counts["cues"], counts["system_cues"]
    line = f"{sum(hazards.values())} cues: " + ", ".join(f"{u} {n}" for u, n in hazards.items())
    return line + f"; {sum(system.values())} system cues"


def cue_progress(run: Path) -> str:
    return cue_line(cue_counts(read_cues(run)))


def percentiles(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "p50": None, "p95": None, "p99": None}
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {"n": len(values), "p50": round(float(p50), 1), "p95": round(float(p95), 1), "p99": round(float(p99), 1)}


class _BagDigest:
    """One pass over the run's bag: result counts and times, cue latencies, annotated videos."""

    def __init__(self, bag: Path, run: Path) -> None:
        self.detections: dict[str, list[int]] = {c: [] for c in CAMERAS}  # receive times
        self.latency_ms: list[float] = []
        self.videos: dict[str, str] = {}
        store = typestore()
        writers: dict[str, cv2.VideoWriter] = {}
        with Reader(bag) as reader:
            topics = in_bag(reader.topics, {detections_topic(c): c for c in CAMERAS})
            # Annotated images, as JPEG (what the graph records) or raw.
            annotated = in_bag(reader.topics, {compressed_topic(annotated_topic(c)): c for c in CAMERAS})
            annotated.update(in_bag(reader.topics, {annotated_topic(c): c for c in CAMERAS}))
            cues = set(in_bag(reader.topics, {CUES_TOPIC: True}))
            wanted = [c for c in reader.connections if c.topic in {*topics, *annotated, *cues}]
            # An empty list is "every connection" to rosbags: a bag without results (a recorder that lost its
            # topics list) gives nothing to digest, not a KeyError on its other topics.
            for connection, received_ns, raw in reader.messages(connections=wanted) if wanted else ():
                if connection.topic in topics:
                    self.detections[topics[connection.topic]].append(received_ns)
                    continue
                msg = store.deserialize_cdr(raw, connection.msgtype)
                if connection.topic in cues:
                    if msg.kind == KIND_HAZARD:
                        self.latency_ms.append((received_ns - stamp_ns(msg.header.stamp)) / 1e6)
                    continue
                camera = annotated[connection.topic]
                if connection.msgtype == "sensor_msgs/msg/CompressedImage":
                    rgb, _ = decompress(bytes(msg.data), msg.format)
                else:
                    rgb = np.asarray(msg.data, dtype=np.uint8).reshape(msg.height, msg.width, 3)
                frame = rgb[:, :, ::-1]  # the video writer takes BGR
                if camera not in writers:
                    path = run / f"annotated_{camera}.mp4"
                    # 5 frames per second of video: about what a CPU graph annotates; GPU runs play faster.
                    writers[camera] = cv2.VideoWriter(
                        str(path), cv2.VideoWriter_fourcc(*"mp4v"), 5.0, (frame.shape[1], frame.shape[0])
                    )
                    self.videos[camera] = path.name
                writers[camera].write(np.ascontiguousarray(frame))
        for writer in writers.values():
            writer.release()


def write_report(run: Path, settings: GraphSettings) -> str:
    """Write run/summary.json (and the annotated videos); return a printable summary."""
    cues = read_cues(run)
    streams_path = run / "streams.json"
    streams = json.loads(streams_path.read_text()) if streams_path.exists() else {}
    bag = run / "bag"
    digest = _BagDigest(bag, run) if (bag / "metadata.yaml").exists() else None
    summary: dict[str, object] = {
        "settings": asdict(settings),
        "frames_received": {c: s["received"] for c, s in streams.items()},
        **cue_counts(cues),
    }
    if digest is not None:
        per_camera = {}
        for camera, times in digest.detections.items():
            span_s = (times[-1] - times[0]) / 1e9 if len(times) > 1 else 0.0
            fps = (len(times) - 1) / span_s if span_s > 0 else None
            per_camera[camera] = {"frames": len(times), "fps": fps and round(fps, 2)}
        summary["frames_processed"] = per_camera
        summary["videos"] = digest.videos
        if settings.lockstep:  # stamps are the recording's, not this machine's: no latency to speak of
            summary["camera_to_cue_ms"] = {"n": 0, "note": "lockstep replay on the recorded clock"}
        else:
            summary["camera_to_cue_ms"] = percentiles(digest.latency_ms)
    (run / "summary.json").write_text(json.dumps(summary, indent=2))
    return _printable(run, summary)


def _printable(run: Path, summary: dict) -> str:
    lines = [f"[graph] run folder {run}"]
    received = summary["frames_received"]
    for camera, stats in summary.get("frames_processed", {}).items():
        fps = "-" if stats["fps"] is None else f"{stats['fps']:.1f}"
        got = f"{received[camera]} frames received, " if camera in received else ""
        lines.append(f"  {camera:<11} {got}{stats['frames']} processed ({fps} per second)")
    latency = summary.get("camera_to_cue_ms")
    if latency and latency.get("n"):
        lines.append(f"  camera to cue: p50 {latency['p50']} ms, p95 {latency['p95']} ms, p99 {latency['p99']} ms")
    lines.append("  " + cue_line(summary))
    system = summary.get("system_cues") or {}
    lines.append("  system cues: " + (", ".join(f"{text} x{n}" for text, n in system.items()) or "none"))
    files = sorted(p.name for p in run.iterdir())
    lines.append("  files: " + ", ".join(files))
    return "\n".join(lines)
