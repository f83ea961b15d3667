"""The engine a perception node runs: loaded on configure, rebuilt when a live setting of its config changes,
freed on cleanup. ROS-free: the node says what happened (logs, events, diagnostics)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

from aria_nav_ros.core.perception.engine import EngineConfig, PerceptionEngine
from aria_nav_ros.core.perception.fallback import GRAPH_CAPTURE_FAILED, FallbackEngine
from aria_nav_ros.core.perception.models import ModelError, load_depth, load_detector

# The settings of EngineConfig that may change while the node runs (a captured CUDA graph holds their old values).
LIVE_FIELDS = ("depth_every", "conf", "iou", "classes")


@dataclass(frozen=True)
class Loaded:
    summary: str  # what runs where, for the log
    warning: str  # what runs worse than asked (no depth, or random depth weights); "" if nothing


class Models:
    def __init__(self, config: EngineConfig, download: bool, stepped_down: Callable[[str], None]) -> None:
        """`stepped_down(what)` hears each step down of the engine (out of memory, a failed graph capture)."""
        self.config = config  # live changes land here too: a later configure loads with them
        self.download = download
        self.stepped_down = stepped_down
        self.engine: FallbackEngine | None = None
        self.depth_trusted = False
        self.fallbacks: list[str] = []  # each step down, by kind (diagnostics)

    def load(self, model: str, depth_model: str, device_name: str) -> Loaded:
        """The models on `device_name` (auto: a GPU where there is one); ModelError without a detector. Depth that
        cannot load, or has random weights, is a warning and no distances from depth."""
        if device_name == "auto":
            device_name = "cuda" if torch.cuda.is_available() else "cpu"
        try:
            device = torch.device(device_name)
        except RuntimeError as error:
            raise ModelError(f"device {device_name!r} is none: auto, cpu, cuda or cuda:N ({error})") from error
        if device.type == "cuda" and not torch.cuda.is_available():  # else "the file is damaged", from the load
            raise ModelError(f"device {device_name!r}: no CUDA GPU usable here; set device to auto or cpu")
        half = self.config.half and device.type == "cuda"
        detector = load_detector(model, device, half, self.download)
        depth, warning = None, ""
        if depth_model:
            try:
                depth = load_depth(depth_model, device, half, self.download)
            except ModelError as error:
                warning = f"running without depth (geometric distances only): {error}"
        if depth is not None and not depth.trained:
            warning = f"depth model {depth.source} has random weights: not used for distances"
        self.depth_trusted = depth is not None and depth.trained
        self.engine = FallbackEngine(PerceptionEngine(detector, depth, self.config), self._stepped_down)
        engine = self.engine.engine
        compile_s = engine.compile_now()  # here, not at the first frame
        if engine.compile_error:
            eager = f"compile_models: the models run eagerly ({engine.compile_error})"
            warning = f"{warning}; {eager}" if warning else eager
        summary = (
            f"{model} on {device} ({engine.mode}{f', compiled in {compile_s:.0f} s' if engine.compiled else ''}),"
            f" depth: {depth.source if depth else 'none'}, classes {sorted(set(detector.names.values()))}"
        )
        return Loaded(summary, warning)

    def release(self) -> None:
        """The models and the GPU memory they held (a frame still in flight finishes with its own reference)."""
        self.engine = None
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def set(self, name: str, value: object) -> str:
        """A live setting of the engine's config: why it is refused, or "" (the engine takes it between frames)."""
        if name == "classes":
            value = tuple(c for c in value if c)
            names = set(self.engine.engine.detector.names.values()) if self.engine else set()
            unknown = sorted(set(value) - names)
            if unknown:
                return f"classes {unknown}: the model knows {sorted(names)}"
        self.config = replace(self.config, **{name: value})
        return ""

    def rebuild(self, changed: dict[str, object]) -> None:
        """Between frames: the engine in use rebuilt with the config's new values of `changed` (none where it has
        them already: loaded after the change)."""
        engine = self.engine
        if engine is None:
            return
        new = {name: getattr(self.config, name) for name in changed}
        if any(getattr(engine.engine.config, name) != value for name, value in new.items()):
            engine.reconfigure(**new)

    def values(self) -> dict[str, object]:
        """What the diagnostics say of the engine in use now (it may have stepped down)."""
        if self.engine is None:
            return {}
        engine = self.engine.engine
        return {
            "gpu_memory_mb": engine.gpu_memory_mb(),
            "mode": engine.mode,
            "fallbacks": ",".join(self.fallbacks) or "none",
            "imgsz": engine.config.imgsz,
            "device": str(engine.device),
        }

    def _stepped_down(self, step: str) -> None:
        """Named as what happened (a graph capture that failed is not memory)."""
        self.fallbacks.append("graph_capture" if step.startswith(GRAPH_CAPTURE_FAILED) else "out_of_memory")
        self.stepped_down(step)
