"""A CUDA graph that cannot be captured is no memory problem: named as what it is, and the engine runs eager.

On the CPU: the classification of errors (a capture's own words are not out of memory), the engine's capture
step that sorts a failure into CaptureError or out of memory, and FallbackEngine's answer to each with the
real person checkpoint on a real photo. On a GPU: a model that cannot be captured (a host sync in its
forward), for real.
"""

from __future__ import annotations

import os

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from aria_nav_ros.core.perception.engine import CaptureError, EngineConfig, PerceptionEngine, out_of_memory
from aria_nav_ros.core.perception.fallback import GRAPH_CAPTURE_FAILED, OUT_OF_MEMORY, FallbackEngine
from aria_nav_ros.core.perception.models import Detector, load_detector
from aria_nav_ros.core.photos import real_photos

# The GPU machine has no fall_detection package: ARIA_NAV_TEST_CHECKPOINT names the carried copy there.
CHECKPOINT = os.environ.get("ARIA_NAV_TEST_CHECKPOINT", "pkg:fall_detection/models/best.pt")
CPU = torch.device("cpu")
# What CUDA says when a graph meets an operation it cannot hold (a host sync while capturing).
CAPTURE_WORDS = "CUDA error: operation not permitted when stream is capturing"


def bus() -> np.ndarray:
    [path] = [p for p in real_photos() if p.name == "bus.jpg"]
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def people(detections: list) -> int:
    return sum(d.class_name in ("Normal", "Fall") for d in detections)


@pytest.fixture(scope="module")
def detector() -> Detector:
    return load_detector(CHECKPOINT, CPU, half=False)


def test_out_of_memory_is_memory_and_a_capture_failure_is_not() -> None:
    assert out_of_memory(torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB"))
    assert out_of_memory(RuntimeError("cuDNN error: CUBLAS_STATUS_ALLOC_FAILED"))
    assert not out_of_memory(RuntimeError(CAPTURE_WORDS))
    assert not out_of_memory(RuntimeError("CUDA error: operation failed due to a previous error during capture"))
    assert not out_of_memory(RuntimeError("cudaErrorStreamCaptureUnsupported"))


class _RefusesOnce(nn.Module):
    """The detector, but its first call fails with `error` (later calls run): a failure at one frame."""

    def __init__(self, module: nn.Module, error: Exception) -> None:
        super().__init__()
        self.module = module
        self.error: Exception | None = error

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.error is not None:
            error, self.error = self.error, None
            raise error
        return self.module(x)


def test_capture_words_outside_a_capture_are_a_frame_failure_not_a_step_down(detector: Detector) -> None:
    """Before, 'capturing stream' counted as out of memory: the input was halved for an error memory never
    caused. Now the error is the caller's to report, and the engine is left as it was."""
    refusing = Detector(_RefusesOnce(detector.module, RuntimeError(CAPTURE_WORDS)), detector.names, True, "test")
    steps: list[str] = []
    engine = FallbackEngine(PerceptionEngine(refusing, None, EngineConfig(imgsz=640)), steps.append)
    with pytest.raises(RuntimeError, match="stream is capturing"):
        engine.process(bus())
    assert steps == [] and engine.engine.config.imgsz == 640
    assert people(engine.process(bus()).detections) >= 3  # the next frame runs as before


def test_the_capture_step_sorts_its_failures(detector: Detector, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = PerceptionEngine(detector, None, EngineConfig())

    def fails(error: Exception):
        def capture(pipe, run_depth):
            raise error

        return capture

    # Not memory: CaptureError, the CUDA error kept as its cause.
    monkeypatch.setattr(engine, "_try_capture", fails(RuntimeError(CAPTURE_WORDS)))
    with pytest.raises(CaptureError, match="CUDA graph capture failed") as caught:
        engine._capture(None, False)
    assert CAPTURE_WORDS in str(caught.value.__cause__)
    # Memory that ran out during the capture stays out of memory, also when CUDA's capture words come first.
    monkeypatch.setattr(engine, "_try_capture", fails(torch.OutOfMemoryError("CUDA out of memory")))
    with pytest.raises(torch.OutOfMemoryError):
        engine._capture(None, False)
    try:
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 512.00 MiB")
    except torch.OutOfMemoryError as oom:
        broken = RuntimeError(CAPTURE_WORDS)
        broken.__context__ = oom
    monkeypatch.setattr(engine, "_try_capture", fails(broken))
    with pytest.raises(RuntimeError) as caught_broken:
        engine._capture(None, False)
    assert not isinstance(caught_broken.value, CaptureError) and out_of_memory(caught_broken.value.__context__)


def test_a_failed_capture_runs_eager_and_says_so(detector: Detector, monkeypatch: pytest.MonkeyPatch) -> None:
    """FallbackEngine's answer to CaptureError: the same input, eager, the frame tried again and found; said
    once, by its own name (never 'out of memory')."""
    first = PerceptionEngine(detector, None, EngineConfig(imgsz=640, mode="graphs"))
    try:
        raise RuntimeError(CAPTURE_WORDS)
    except RuntimeError as cuda_error:
        refusal = CaptureError(f"CUDA graph capture failed (RuntimeError: {cuda_error})")
        refusal.__cause__ = cuda_error
    real_process = first.process
    calls: list[int] = []

    def capture_fails_once(pixels: np.ndarray, want_depth_map: bool = False):
        calls.append(1)
        if len(calls) == 1:
            raise refusal  # as _capture raises it on a GPU (the CPU never captures)
        return real_process(pixels, want_depth_map)

    monkeypatch.setattr(first, "process", capture_fails_once)
    steps: list[str] = []
    engine = FallbackEngine(first, steps.append)
    out = engine.process(bus())
    assert people(out.detections) >= 3  # the frame that failed was tried again, eager, and found people
    assert len(steps) == 1 and steps[0].startswith(f"{GRAPH_CAPTURE_FAILED} (RuntimeError: {CAPTURE_WORDS}")
    assert "running eager" in steps[0] and OUT_OF_MEMORY not in steps[0]
    assert engine.engine is not first and engine.engine.config.mode == "streams"
    assert engine.engine.config.imgsz == 640  # no step down: memory was never short
    assert people(engine.process(bus()).detections) >= 3 and len(steps) == 1


class _SyncsOnTheHost(nn.Module):
    """The detector with a host sync in its forward (a data-dependent branch): runs eagerly, cannot be captured."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.amax().item() < 0:  # never true; asking is what a graph cannot hold
            x = -x
        return self.module(x)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="a CUDA graph capture needs a CUDA GPU")
def test_on_a_gpu_a_model_that_cannot_be_captured_runs_eager() -> None:
    cuda = torch.device("cuda")
    real = load_detector(CHECKPOINT, cuda, half=True)
    syncing = Detector(_SyncsOnTheHost(real.module), real.names, True, "test")
    steps: list[str] = []
    engine = FallbackEngine(PerceptionEngine(syncing, None, EngineConfig(mode="graphs")), steps.append)
    assert engine.engine.mode == "graphs"
    out = engine.process(bus())
    assert len(steps) == 1 and steps[0].startswith(GRAPH_CAPTURE_FAILED) and OUT_OF_MEMORY not in steps[0]
    assert engine.engine.mode == "streams" and engine.engine.config.imgsz == 640
    assert people(out.detections) >= 3
    assert people(engine.process(bus()).detections) >= 3 and len(steps) == 1
