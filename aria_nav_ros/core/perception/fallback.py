"""When memory runs out, or a CUDA graph cannot be captured, the engine steps down instead of stopping.

Out of memory: in order, each said through `on_step`: a smaller input (YOLO and
depth sides halved, down to MIN_IMGSZ / MIN_DEPTH_SIZE), then, from a GPU,
the CPU. A CUDA graph capture that fails for another reason (CaptureError:
an operation a graph cannot hold, a driver that refuses) is no memory problem:
the same input runs eagerly on two streams instead ("streams" mode), said
through `on_step` with its own name. The frame is tried again after each step.
Nothing steps back up by itself: a restart of the node does (memory that ran
out once is likely to run out again; a model that cannot be captured will not
be later).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import torch

from aria_nav_ros.core.perception.engine import (
    CaptureError,
    EngineOutput,
    PerceptionEngine,
    gpu_turn,
    out_of_memory,
)

MIN_IMGSZ = 320  # YOLO below this misses people at a few metres
MIN_DEPTH_SIZE = 266  # a multiple of 14 (the depth model's patch)
OUT_OF_MEMORY = "out of memory"
GRAPH_CAPTURE_FAILED = "CUDA graph capture failed"

__all__ = ["FallbackEngine", "GRAPH_CAPTURE_FAILED", "OUT_OF_MEMORY", "out_of_memory"]


class FallbackEngine:
    def __init__(self, engine: PerceptionEngine, on_step: Callable[[str], None]) -> None:
        self.engine = engine
        self.on_step = on_step
        self.steps: list[str] = []

    def process(self, pixels: np.ndarray | torch.Tensor, want_depth_map: bool = False) -> EngineOutput:
        start = time.perf_counter()
        with gpu_turn(self.engine.device):  # a step-down (synchronise, free, rebuild) in the same turn
            waited_ms = (time.perf_counter() - start) * 1000  # for the other engines of this process
            out = self._process(pixels, want_depth_map)
        out.timings_ms["gpu_turn_wait"] = waited_ms
        return out

    def _process(self, pixels: np.ndarray | torch.Tensor, want_depth_map: bool) -> EngineOutput:
        while True:
            try:
                return self.engine.process(pixels, want_depth_map)
            except CaptureError as error:
                cause = error.__cause__ or error
                said = (str(cause).strip().splitlines() or [""])[0][:200]  # CUDA's messages run to many lines
                reason, capture = f"{GRAPH_CAPTURE_FAILED} ({type(cause).__name__}: {said})", True
            except Exception as error:
                if not out_of_memory(error):
                    raise
                reason, capture = f"{OUT_OF_MEMORY} ({type(error).__name__})", False
            # Out of the except block: the failed try's tensors, held by its traceback, are free now.
            step = self._eager() if capture else self._step_down()
            if not step:  # nothing smaller left: the caller says so, frame by frame
                raise torch.OutOfMemoryError(f"{reason} at the smallest input on {self.engine.device}")
            self.steps.append(step)
            self.on_step(f"{reason}: {step}")

    def reconfigure(self, **changes: object) -> None:
        """The engine in use, rebuilt with `changes` to its config (conf, iou, classes, depth_every: live
        parameters): a captured CUDA graph holds the old values, so it is captured again on the next frame."""
        old = self.engine
        with gpu_turn(old.device):
            _release(old)
            self.engine = _rebuilt(old, **changes)

    def _eager(self) -> str:
        """The same models and input, eager on two streams: no graph to capture."""
        old = self.engine
        _release(old)
        self.engine = _rebuilt(old, mode="streams")
        return f"running eager ({self.engine.mode}) at input {old.config.imgsz} px on {old.device}, slower per frame"

    def _step_down(self) -> str:
        old = self.engine
        config = old.config
        _release(old)
        if config.imgsz > MIN_IMGSZ:
            imgsz = max(MIN_IMGSZ, config.imgsz // 2 // 32 * 32)
            depth_size = max(MIN_DEPTH_SIZE, config.depth_size // 2 // 14 * 14)
            # Eager models at the smaller input: compiling for its new sides would hold the next frames for seconds.
            smaller = replace(config, imgsz=imgsz, depth_size=depth_size, compile_models=False)
            self.engine = PerceptionEngine(old.detector, old.depth, smaller)
            return f"input {config.imgsz} -> {imgsz} px (depth {config.depth_size} -> {depth_size}), on {old.device}"
        if old.cuda and old.torch_models:
            cpu = torch.device("cpu")
            detector = replace(old.detector, module=old.detector.module.to(cpu).float())
            depth = replace(old.depth, module=old.depth.module.to(cpu).float()) if old.depth else None
            self.engine = PerceptionEngine(detector, depth, replace(config, half=False))
            del old
            _free_gpu()
            return f"moved to the CPU at input {config.imgsz} px: expect a few frames per second"
        return ""


def _rebuilt(old: PerceptionEngine, **changes: object) -> PerceptionEngine:
    """The same models with `changes` to the config: compiled models reused, models whose compilation failed left
    eager (compiling again would fail again, at the next frame)."""
    config = replace(old.config, **changes, compile_models=old.config.compile_models and old.compiled)
    return PerceptionEngine(old.detector, old.depth, config, compiled_from=old)


def _release(engine: PerceptionEngine) -> None:
    """Drop the engine's buffers and graphs (release() drops them first, then synchronises); a device that a
    broken capture left unable to synchronise is said by the next frame's error, not here."""
    try:
        engine.release()
    except RuntimeError:
        pass


def _free_gpu() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
