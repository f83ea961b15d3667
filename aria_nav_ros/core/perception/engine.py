"""One frame in, boxes with their inverse depth out: YOLO and depth, three ways.

- naive: eager, one model after the other, each result copied to the host as
  soon as it exists (the baseline to beat);
- streams: eager, YOLO and depth on two CUDA streams, one copy at the end;
- graphs: each step captured once in a CUDA graph over static buffers (YOLO
  and depth as two parallel branches of one graph), replayed per frame.

The frame is uploaded once from pinned memory, letterboxed and normalised on
the GPU, and stays there until the last box; depth runs every Nth frame and
its map stays on the GPU; one small array comes back. On a machine without
CUDA every mode runs the naive path on the CPU.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from aria_nav_ros.core.detection import RawDetection
from aria_nav_ros.core.perception.cuda_context import shrink_stack
from aria_nav_ros.core.perception.models import DepthModel, Detector
from aria_nav_ros.core.perception.ops import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    OUT_FIELDS,
    Letterbox,
    depth_input,
    letterbox,
    sample_inverse_depth,
    select_boxes,
    to_nchw,
)

MODES = ("naive", "streams", "graphs")
# Inductor's compiled kernels kept across reboots (its own default lies under /tmp): a start compiles from them in
# 12-14 s instead of 50-55 (H100, bench/README.md). A TORCHINDUCTOR_CACHE_DIR of the user's wins.
INDUCTOR_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "aria_nav_ros" / "torchinductor"
OUT_OF_MEMORY_SIGNS = ("out of memory", "ALLOC_FAILED")  # the allocator's and the CUDA libraries' words


def out_of_memory(error: BaseException) -> bool:
    """The allocator's OOM, or a CUDA library failing to allocate its workspace."""
    if isinstance(error, torch.OutOfMemoryError):
        return True
    return isinstance(error, RuntimeError) and any(sign in str(error) for sign in OUT_OF_MEMORY_SIGNS)


class CaptureError(RuntimeError):
    """A CUDA graph could not be captured for a reason other than memory: an operation a graph cannot hold
    (a host sync, a data-dependent branch), a library or driver that refuses capture. The same model still
    runs eagerly; memory running out during a capture is raised as out of memory instead."""


@dataclass(frozen=True)
class EngineConfig:
    mode: str = "graphs"
    half: bool = True  # fp16 on the GPU (the CPU always runs fp32)
    imgsz: int = 640  # YOLO input side
    depth_size: int = 518  # depth input side (a multiple of 14)
    depth_every: int = 1  # run depth on every Nth frame, reuse its map between
    conf: float = 0.25
    iou: float = 0.45
    top_k: int = 100  # most boxes per frame
    classes: tuple[str, ...] = ()  # class names to keep; empty keeps all
    two_streams: bool = True  # streams/graphs: YOLO and depth side by side (False: one after the other)
    pinned_upload: bool = True  # copy the frame into pinned memory, then DMA; False: CUDA stages it itself
    # streams/graphs, PyTorch models (not ONNX, TensorRT): both through torch.compile (inductor), compiled by
    # compile_now() (perception's configure); eager if it fails. Faster frames (engine_compiled_h100.json); a CPU
    # runs naive and compiles nothing.
    compile_models: bool = True


@dataclass
class EngineOutput:
    detections: list[RawDetection]
    depth_fresh: bool  # depth ran on this frame
    depth_map: np.ndarray | None  # (D, D) relative inverse depth, when asked for and fresh
    timings_ms: dict[str, float] = field(default_factory=dict)


# The engines of one process (one_detector_process: every camera's detector in one CUDA context) take turns on
# a GPU, a frame at a time, and so does other work on it (a JPEG decoded there, an engine rebuilt). Measured on
# the H200 without turns: one engine's CUDA graph capture broke the others' work and captures ("operation not
# permitted when stream is capturing"), and all fell back to eager. A frame's GPU work is a few milliseconds
# with graphs, so turns cost little; one engine per process never waits. Re-entrant: an engine's step-down
# (FallbackEngine) holds the turn around the engine's own.
_TURNS: dict[str, threading.RLock] = {}
_TURNS_LOCK = threading.Lock()


def gpu_turn(device: torch.device | str) -> contextlib.AbstractContextManager:
    """The process's turn on a CUDA `device` (a no-op for the CPU)."""
    device = torch.device(device)
    if device.type != "cuda":
        return contextlib.nullcontext()
    key = f"cuda:{device.index if device.index is not None else torch.cuda.current_device()}"
    with _TURNS_LOCK:
        return _TURNS.setdefault(key, threading.RLock())


class PerceptionEngine:
    def __init__(
        self,
        detector: Detector,
        depth: DepthModel | None,
        config: EngineConfig,
        compiled_from: PerceptionEngine | None = None,
    ) -> None:
        """`compiled_from`: an engine of the same models whose compilation this one reuses (a rebuild for a live
        change: compiling again would hold its next frame for seconds)."""
        if config.mode not in MODES:
            raise ValueError(f"mode {config.mode!r}: choose one of {', '.join(MODES)}")
        if config.depth_every < 1:
            raise ValueError(f"depth_every must be >= 1, got {config.depth_every}")
        self.detector = detector
        self.depth = depth
        self.config = config
        self.device = next(detector.module.parameters(), torch.empty(0)).device
        self.cuda = self.device.type == "cuda"
        self.dtype = torch.float16 if (self.cuda and config.half) else torch.float32
        self.mode = config.mode if self.cuda else "naive"
        # The context's per-thread stack reservation down to what the kernels need (cuda_context.py).
        self.stack_limit = shrink_stack(self.device) if self.cuda else None
        # Plain torch modules: what a CUDA graph can capture, torch.compile compile and the CPU take.
        self.torch_models = detector.capturable and (depth is None or depth.capturable)
        if self.mode == "graphs" and not self.torch_models:
            self.mode = "streams"  # exported models (ONNX, TensorRT) run outside graphs
        keep = set(config.classes)
        mask = [1.0 if not keep or name in keep else 0.0 for _, name in sorted(detector.names.items())]
        self.class_mask = torch.tensor(mask, device=self.device)
        self.mean = torch.tensor(IMAGENET_MEAN, device=self.device, dtype=self.dtype).view(1, 3, 1, 1)
        self.std = torch.tensor(IMAGENET_STD, device=self.device, dtype=self.dtype).view(1, 3, 1, 1)
        self.frames = 0
        self._pipelines: dict[tuple[int, ...], _Pipeline] = {}
        # What the frame path calls: the modules, or inductor's compilation of them (its kernels are captured in
        # the CUDA graphs like any others). Compilation happens in compile_now() or else at the first frame; a
        # failure there falls back.
        self.detect_net = detector.module
        self.depth_net = depth.module if depth is not None else None
        self.compile_error = ""
        self.compiled = bool(config.compile_models and self.mode != "naive" and self.torch_models)
        if self.compiled and compiled_from is not None and compiled_from.compiled:
            self.detect_net, self.depth_net = compiled_from.detect_net, compiled_from.depth_net
        elif self.compiled:
            self.detect_net = torch.compile(detector.module, dynamic=False)
            if depth is not None:
                self.depth_net = torch.compile(depth.module, dynamic=False)

    @property
    def names(self) -> dict[int, str]:
        return self.detector.names

    def compile_now(self) -> float:
        """torch.compile's compilation now (perception's configure), not at the first frame, which would wait for
        it: the models' inputs have fixed sides (imgsz, depth_size) whatever the camera's, so one call of each on
        zeros compiles what every frame then runs. Any failure, memory running out included, leaves the models
        eager (compile_error says why; the first frame then captures them, stepping down if memory runs out
        there). Seconds it took (0 when nothing is compiled)."""
        if not self.compiled:
            return 0.0
        start = time.perf_counter()
        os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(INDUCTOR_CACHE))
        imgsz, depth_size = self.config.imgsz, self.config.depth_size
        try:
            with gpu_turn(self.device), torch.inference_mode():
                self.detect_net(torch.zeros(1, 3, imgsz, imgsz, device=self.device, dtype=self.dtype))
                if self.depth_net is not None:
                    self.depth_net(torch.zeros(1, 3, depth_size, depth_size, device=self.device, dtype=self.dtype))
                torch.cuda.synchronize(self.device)
        except Exception as error:
            self._uncompile(error)
            if out_of_memory(error):
                torch.cuda.empty_cache()
        finally:
            _shutdown_compile_workers()
        return time.perf_counter() - start

    def process(self, pixels: np.ndarray | torch.Tensor, want_depth_map: bool = False) -> EngineOutput:
        """One frame: (H, W, 3) rgb or (H, W) grey uint8, on the host (numpy) or already on a device (a tensor:
        a JPEG decoded there, nothing to upload)."""
        start = time.perf_counter()
        with gpu_turn(self.device):
            pipe = self._pipeline(pixels.shape)
            run_depth = self.depth is not None and self.frames % self.config.depth_every == 0
            self.frames += 1
            if self.mode == "naive":
                out, timings = self._naive(pipe, pixels, run_depth)
            else:
                out, timings = self._overlapped(pipe, pixels, run_depth)
            depth_map = None
            if want_depth_map and run_depth:
                depth_map = pipe.depth_cache[0].float().cpu().numpy()
        timings["total"] = (time.perf_counter() - start) * 1000
        return EngineOutput(self._detections(out), run_depth, depth_map, timings)

    # -- the three ways ---------------------------------------------------------------------------

    def _naive(self, pipe: _Pipeline, pixels: np.ndarray, run_depth: bool) -> tuple[np.ndarray, dict]:
        t0 = time.perf_counter()
        host = pixels if isinstance(pixels, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(pixels))
        frame = host.to(self.device)
        x = to_nchw(frame, self.dtype)
        t1 = time.perf_counter()
        with torch.inference_mode():
            boxes = select_boxes(
                self.detect_net(letterbox(x, pipe.box)),
                pipe.box,
                self.class_mask,
                self.config.top_k,
                self.config.conf,
                self.config.iou,
            )
            boxes_host = boxes.cpu()  # the seed's way: each result fetched as soon as it exists
            t2 = time.perf_counter()
            if run_depth:
                pipe.depth_cache.copy_(self.depth_net(depth_input(x, self.config.depth_size, self.mean, self.std)))
            if self.depth is not None:
                boxes_host[:, 7] = sample_inverse_depth(boxes, pipe.depth_cache, pipe.height, pipe.width).cpu()
        t3 = time.perf_counter()
        timings = {"upload": (t1 - t0) * 1000, "detect": (t2 - t1) * 1000, "depth": (t3 - t2) * 1000}
        return boxes_host.numpy(), timings

    def _overlapped(self, pipe: _Pipeline, pixels: np.ndarray, run_depth: bool) -> tuple[np.ndarray, dict]:
        main = torch.cuda.current_stream(self.device)
        t0 = time.perf_counter()
        on_device = isinstance(pixels, torch.Tensor)
        if self.config.pinned_upload and not on_device:
            # Into pinned memory (a DMA can then read it), by numpy: one thread's memcpy. torch's copy_ splits it
            # over its CPU thread pool, whose waking beside other processes' pools took 5-9 ms of a 1.5 MB copy
            # at p99 (bench/gpu_tail.py, H100, two SLAM processes beside).
            np.copyto(pipe.host_pixels, pixels)
        host_copy_ms = (time.perf_counter() - t0) * 1000
        pipe.events[0].record(main)
        if on_device:
            source = pixels
        else:
            source = pipe.host_frame if self.config.pinned_upload else torch.from_numpy(pixels)
        pipe.frame.copy_(source, non_blocking=True)
        pipe.events[1].record(main)
        if self.mode == "graphs":
            graph = pipe.graph_with_depth if run_depth else pipe.graph_without_depth
            if graph is None:
                graph = self._capture(pipe, run_depth)
            graph.replay()
        else:
            with torch.inference_mode():
                self._eager_if_compile_fails(lambda: self._body(pipe, run_depth))
        pipe.events[2].record(main)
        pipe.host_out.copy_(pipe.out, non_blocking=True)  # the one copy back
        pipe.events[3].record(main)
        pipe.events[3].synchronize()
        e = pipe.events
        timings = {
            "host_copy": host_copy_ms,
            "upload": e[0].elapsed_time(e[1]),
            "infer": e[1].elapsed_time(e[2]),
            "download": e[2].elapsed_time(e[3]),
        }
        return pipe.host_out.numpy().copy(), timings

    def _body(self, pipe: _Pipeline, run_depth: bool) -> None:
        """Everything between upload and download, YOLO and depth forked onto two streams."""
        main = torch.cuda.current_stream(self.device)
        x = to_nchw(pipe.frame, self.dtype)
        pipe.detect_stream.wait_stream(main)  # after x: both branches read it
        pipe.depth_stream.wait_stream(main)
        with torch.cuda.stream(pipe.detect_stream):
            preds = self.detect_net(letterbox(x, pipe.box))
            pipe.boxes.copy_(
                select_boxes(preds, pipe.box, self.class_mask, self.config.top_k, self.config.conf, self.config.iou)
            )
        if not self.config.two_streams:
            pipe.depth_stream.wait_stream(pipe.detect_stream)  # one after the other
        if run_depth:
            with torch.cuda.stream(pipe.depth_stream):
                pipe.depth_cache.copy_(self.depth_net(depth_input(x, self.config.depth_size, self.mean, self.std)))
        main.wait_stream(pipe.detect_stream)
        main.wait_stream(pipe.depth_stream)
        pipe.out.copy_(pipe.boxes)
        if self.depth is not None:
            pipe.out[:, 7] = sample_inverse_depth(pipe.boxes, pipe.depth_cache, pipe.height, pipe.width)

    def _capture(self, pipe: _Pipeline, run_depth: bool) -> torch.cuda.CUDAGraph:
        """Capture the body as a graph. Memory running out is raised as it is (FallbackEngine steps the input
        down); any other failure as CaptureError (FallbackEngine runs eager instead)."""
        try:
            return self._try_capture(pipe, run_depth)
        except Exception as error:
            # A capture that memory broke half-way can surface as a capture error ("operation not permitted
            # when stream is capturing"): the cause chain says which it was.
            cause: BaseException | None = error
            while cause is not None:
                if out_of_memory(cause):
                    raise
                cause = cause.__cause__ or cause.__context__
            raise CaptureError(f"CUDA graph capture failed ({type(error).__name__}: {error})") from error

    def _try_capture(self, pipe: _Pipeline, run_depth: bool) -> torch.cuda.CUDAGraph:
        side = torch.cuda.Stream(self.device)
        side.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(side), torch.inference_mode():
            self._eager_if_compile_fails(lambda: self._warm_up(pipe, run_depth))
        torch.cuda.current_stream(self.device).wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        # thread_local: work of this process's other threads outside the GPU turn (none is meant to be) cannot
        # break this capture; under the default ("global") it would.
        with torch.cuda.graph(graph, capture_error_mode="thread_local"), torch.inference_mode():
            self._body(pipe, run_depth)
        if run_depth:
            pipe.graph_with_depth = graph
        else:
            pipe.graph_without_depth = graph
        graph.replay()  # the capture itself computed nothing
        return graph

    def _warm_up(self, pipe: _Pipeline, run_depth: bool) -> None:
        for _ in range(3):  # lazy inits, autotuning and compilation stay out of the graph
            self._body(pipe, run_depth)

    def _eager_if_compile_fails(self, step: Callable[[], None]) -> None:
        """`step`, and again with the eager modules if compiling the models (at their first call) failed."""
        compiling = self.compiled
        try:
            step()
        except Exception as error:
            if not self.compiled or out_of_memory(error):
                raise
            self._uncompile(error)
            step()
        finally:
            if compiling:
                _shutdown_compile_workers()

    def _uncompile(self, error: Exception) -> None:
        """torch.compile failed (no Triton, an unsupported operation): the eager modules from now on."""
        self.compile_error = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        self.compiled = False
        self.detect_net = self.detector.module
        self.depth_net = self.depth.module if self.depth is not None else None

    # -- buffers and results ----------------------------------------------------------------------

    def _pipeline(self, shape: tuple[int, ...]) -> _Pipeline:
        if shape not in self._pipelines:
            if len(shape) not in (2, 3) or (len(shape) == 3 and shape[2] != 3):
                raise ValueError(f"frame of shape {shape}: expected (H, W, 3) rgb or (H, W) grey")
            self._pipelines[shape] = _Pipeline(shape, self)
        return self._pipelines[shape]

    def _detections(self, out: np.ndarray) -> list[RawDetection]:
        found = []
        for row in out[out[:, 6] > 0.5]:
            class_id = int(row[5])
            inverse_depth = float(row[7]) if self.depth is not None else math.nan
            found.append(
                RawDetection(
                    (float(row[0]), float(row[1]), float(row[2]), float(row[3])),
                    float(row[4]),
                    class_id,
                    self.names.get(class_id, str(class_id)),
                    inverse_depth,
                )
            )
        return found

    def release(self) -> None:
        """Drop every buffer and captured graph (they are made again on the next frame)."""
        self._pipelines.clear()
        if self.cuda:
            torch.cuda.synchronize(self.device)
            torch.cuda.empty_cache()

    def gpu_memory_mb(self) -> float:
        """Peak GPU memory this process has allocated (0 on the CPU)."""
        return torch.cuda.max_memory_allocated(self.device) / 2**20 if self.cuda else 0.0


def _shutdown_compile_workers() -> None:
    """Inductor compiles in a pool of worker processes: none may outlive the node's stop, nor a failed compile."""
    from torch._inductor.async_compile import shutdown_compile_workers

    shutdown_compile_workers()


class _Pipeline:
    """The static buffers (and captured graphs) for one input shape."""

    def __init__(self, shape: tuple[int, ...], engine: PerceptionEngine) -> None:
        self.height, self.width = shape[0], shape[1]
        self.box = Letterbox.fit(self.height, self.width, engine.config.imgsz)
        device, size = engine.device, engine.config.depth_size
        self.depth_cache = torch.zeros(1, size, size, device=device, dtype=engine.dtype)
        self.graph_with_depth: torch.cuda.CUDAGraph | None = None
        self.graph_without_depth: torch.cuda.CUDAGraph | None = None
        if not engine.cuda:
            return
        self.host_frame = torch.empty(shape, dtype=torch.uint8).pin_memory()
        self.host_pixels = self.host_frame.numpy()  # the same pinned memory, for numpy to write
        self.frame = torch.empty(shape, dtype=torch.uint8, device=device)
        self.boxes = torch.zeros(engine.config.top_k, OUT_FIELDS, device=device)
        self.out = torch.zeros(engine.config.top_k, OUT_FIELDS, device=device)
        self.host_out = torch.zeros(engine.config.top_k, OUT_FIELDS).pin_memory()
        self.detect_stream = torch.cuda.Stream(device)
        self.depth_stream = torch.cuda.Stream(device)
        self.events = [torch.cuda.Event(enable_timing=True) for _ in range(4)]
