"""When memory runs out, the engine steps down instead of stopping.

Steps, in order, each said through `on_step`: a smaller input (YOLO and
depth sides halved, down to MIN_IMGSZ / MIN_DEPTH_SIZE), then, from a GPU,
the CPU. The frame that ran out is tried again after each step. Nothing
steps back up by itself: a restart of the node does (memory that ran out once
is likely to run out again).
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import torch

from aria_nav_ros.core.perception.engine import EngineOutput, PerceptionEngine

MIN_IMGSZ = 320  # YOLO below this misses people at a few metres
MIN_DEPTH_SIZE = 266  # a multiple of 14 (the depth model's patch)


def out_of_memory(error: BaseException) -> bool:
    """The allocator's OOM, a CUDA library failing to allocate its workspace, or a CUDA graph capture that
    memory running out broke half-way (its stream is left capturing, and the next try says so)."""
    if isinstance(error, torch.OutOfMemoryError):
        return True
    text = str(error)
    signs = ("out of memory", "ALLOC_FAILED", "capturing stream", "StreamCapture")
    return isinstance(error, RuntimeError) and any(sign in text for sign in signs)


class FallbackEngine:
    def __init__(self, engine: PerceptionEngine, on_step: Callable[[str], None]) -> None:
        self.engine = engine
        self.on_step = on_step
        self.steps: list[str] = []

    def process(self, pixels: np.ndarray, want_depth_map: bool = False) -> EngineOutput:
        while True:
            try:
                return self.engine.process(pixels, want_depth_map)
            except Exception as error:
                if not out_of_memory(error):
                    raise
                reason = f"out of memory ({type(error).__name__})"
            # Out of the except block: the failed try's tensors, held by its traceback, are free now.
            step = self._step_down()
            if not step:  # nothing smaller left: the caller says so, frame by frame
                raise torch.OutOfMemoryError(f"{reason} at the smallest input on {self.engine.device}")
            self.steps.append(step)
            self.on_step(f"{reason}: {step}")

    def _step_down(self) -> str:
        old = self.engine
        config = old.config
        old.release()
        if config.imgsz > MIN_IMGSZ:
            imgsz = max(MIN_IMGSZ, config.imgsz // 2 // 32 * 32)
            depth_size = max(MIN_DEPTH_SIZE, config.depth_size // 2 // 14 * 14)
            self.engine = PerceptionEngine(old.detector, old.depth, replace(config, imgsz=imgsz, depth_size=depth_size))
            return f"input {config.imgsz} -> {imgsz} px (depth {config.depth_size} -> {depth_size}), on {old.device}"
        if old.cuda and old.detector.capturable and (old.depth is None or old.depth.capturable):
            cpu = torch.device("cpu")
            detector = replace(old.detector, module=old.detector.module.to(cpu).float())
            depth = replace(old.depth, module=old.depth.module.to(cpu).float()) if old.depth else None
            self.engine = PerceptionEngine(detector, depth, replace(config, half=False))
            del old
            _free_gpu()
            return f"moved to the CPU at input {config.imgsz} px: expect a few frames per second"
        return ""


def _free_gpu() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
