"""The wearer's own hands are no hazard (issue 28): the real person checkpoint on the real Aria kitchen recording.

On ../shared/data/aria/adt_video.vrs (hands over a worktop) the detector calls the wearer's hand and arm
"person" in the RGB image (lower right corner) and in the right SLAM camera, cut by the lower edge. Once cut
boxes get a distance bound they would be warned of ("Person on the right, under two meters") every time the
wearer reaches for something; the geometry marks them as the wearer's body (standing at their bound they would
be about 1 m tall, and every standing adult's head is above the eyes' horizon), and the policy says nothing.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from aria_nav_ros.core.cameras import optical_frame
from aria_nav_ros.core.detection import EDGE_BOTTOM
from aria_nav_ros.core.geometry import GeometryConfig, locate
from aria_nav_ros.core.navigation.config import NavigationConfig
from aria_nav_ros.core.navigation.policy import KIND_HAZARD, WARNING, NavigationPolicy
from aria_nav_ros.core.perception.engine import EngineConfig, PerceptionEngine
from aria_nav_ros.core.perception.models import load_detector
from aria_nav_ros.core.sources.base import Frame
from aria_nav_ros.core.sources.factory import SourceSettings, open_source

REAL_VRS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "aria" / "adt_video.vrs"
pytestmark = pytest.mark.skipif(
    not REAL_VRS.is_file(), reason=f"the real Aria recording {REAL_VRS} is absent (../shared)"
)
CONFIG = NavigationConfig.load()
GEOMETRY = GeometryConfig(eye_height_m=1.6, class_aliases=CONFIG.raw.get("class_aliases", {}))


@pytest.fixture(scope="module")
def recording() -> tuple[list[tuple[Frame, list]], dict, dict]:
    """Every frame of the recording with the real checkpoint's raw detections (CPU, as perception runs them)."""
    source = open_source(SourceSettings(kind="vrs", path=str(REAL_VRS)))
    engine = PerceptionEngine(
        load_detector("pkg:fall_detection/models/best.pt", torch.device("cpu"), half=False),
        None,
        EngineConfig(mode="naive"),
    )
    frames = []
    for item in source.items():
        if isinstance(item, Frame):
            pixels = item.pixels if item.pixels.ndim == 3 else item.pixels[:, :, None].repeat(3, axis=2)
            frames.append((item, engine.process(pixels).detections))
    return frames, source.calibration(), source.mounts()


def replay(recording, geometry: GeometryConfig) -> tuple[list, list[tuple[int, str]]]:
    """(located people cut by the lower edge, the hazard cues said) over the whole recording."""
    frames, models, mounts = recording
    policy = NavigationPolicy(CONFIG, "en")
    cut, said = [], []
    for frame, raw in sorted(frames, key=lambda f: f[0].device_time_ns):
        located = locate(raw, models[frame.camera], geometry, mounts[optical_frame(frame.camera)])
        cut += [d for d in located if CONFIG.canonical(d.class_name) == "person" and d.cut_edges & EDGE_BOTTOM]
        cues = policy.on_detections(frame.device_time_ns / 1e9, frame.camera, located)
        said += [(c.urgency, c.text) for c in cues if c.kind == KIND_HAZARD]
    return cut, said


def test_the_wearers_hands_on_the_real_kitchen_recording_are_never_said(recording) -> None:
    cut, said = replay(recording, GEOMETRY)
    assert len(cut) >= 2  # the wearer's hand in the RGB image and in the right SLAM camera
    assert all(d.wearer_body for d in cut)
    assert said == []


def test_without_the_rule_the_same_hands_would_be_a_warning(recording) -> None:
    """The rule is what keeps them silent: without it the bound makes them a close person."""
    cut, said = replay(recording, replace(GEOMETRY, wearer_body_height_ratio=0.0, wearer_body_top_deg=90.0))
    assert cut and all(d.distance_is_bound and not d.wearer_body for d in cut)
    assert any(urgency >= WARNING and "Person" in text and "under" in text for urgency, text in said), said
