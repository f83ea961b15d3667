"""Tensor steps of the engine, all of fixed shape so that a CUDA graph can hold them.

Pre-processing (letterbox for YOLO, resize and normalise for depth),
post-processing (top-k and a matrix form of NMS instead of a variable-length
one), and sampling the depth map inside each box.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
PAD_VALUE = 114 / 255  # ultralytics' letterbox grey
OUT_FIELDS = 8  # x1, y1, x2, y2, score, class, kept, inverse depth


@dataclass(frozen=True)
class Letterbox:
    """Where an H x W image sits inside the S x S network input."""

    size: int
    scale: float
    new_h: int
    new_w: int
    top: int
    left: int

    @staticmethod
    def fit(height: int, width: int, size: int) -> Letterbox:
        scale = size / max(height, width)
        new_h, new_w = round(height * scale), round(width * scale)
        return Letterbox(size, scale, new_h, new_w, (size - new_h) // 2, (size - new_w) // 2)


def to_nchw(frame: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """(H, W, C) or (H, W) uint8 -> (1, 3, H, W) in [0, 1]; grey images are repeated to 3 channels."""
    x = frame.unsqueeze(-1) if frame.dim() == 2 else frame
    x = x.permute(2, 0, 1).unsqueeze(0).to(dtype) / 255.0
    return x.expand(1, 3, x.shape[2], x.shape[3]) if x.shape[1] == 1 else x


def letterbox(x: torch.Tensor, box: Letterbox) -> torch.Tensor:
    resized = F.interpolate(x, size=(box.new_h, box.new_w), mode="bilinear", align_corners=False)
    out = torch.full((1, 3, box.size, box.size), PAD_VALUE, dtype=x.dtype, device=x.device)
    out[:, :, box.top : box.top + box.new_h, box.left : box.left + box.new_w] = resized
    return out


def depth_input(x: torch.Tensor, size: int, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    resized = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    return (resized - mean) / std


def select_boxes(
    preds: torch.Tensor, box: Letterbox, class_mask: torch.Tensor, top_k: int, conf: float, iou: float
) -> torch.Tensor:
    """(1, 4 + C, N) predictions -> (top_k, OUT_FIELDS) boxes in source pixels, `kept` 1 or 0.

    Non-maximum suppression in matrix form: a box is dropped when a higher
    scoring box of its class overlaps it by more than `iou`, whether or not
    that box was itself dropped (slightly stricter than greedy NMS, and of
    fixed shape).
    """
    p = preds[0].transpose(0, 1).float()  # (N, 4 + C)
    class_scores = p[:, 4:] * class_mask
    scores, classes = class_scores.max(dim=1)
    k = min(top_k, scores.shape[0])
    scores, index = scores.topk(k)
    classes = classes[index].float()
    cxcywh = p[index, :4]
    xyxy = torch.cat((cxcywh[:, :2] - cxcywh[:, 2:] / 2, cxcywh[:, :2] + cxcywh[:, 2:] / 2), dim=1)
    overlaps = box_iou(xyxy, xyxy)
    same_class = classes[:, None] == classes[None, :]
    higher = torch.ones(k, k, device=p.device, dtype=torch.bool).triu(diagonal=1)  # row i scores above col j
    suppressed = ((overlaps > iou) & same_class & higher).any(dim=0)
    kept = (~suppressed & (scores >= conf)).float()
    out = torch.zeros(top_k, OUT_FIELDS, device=p.device, dtype=torch.float32)
    # Back to source pixels; Python scalars only (a tensor made from a list cannot be graph-captured).
    out[:k, 0] = (xyxy[:, 0] - box.left) / box.scale
    out[:k, 1] = (xyxy[:, 1] - box.top) / box.scale
    out[:k, 2] = (xyxy[:, 2] - box.left) / box.scale
    out[:k, 3] = (xyxy[:, 3] - box.top) / box.scale
    out[:k, 4] = scores
    out[:k, 5] = classes
    out[:k, 6] = kept
    return out


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    area_a = (a[:, 2] - a[:, 0]).clamp(min=0) * (a[:, 3] - a[:, 1]).clamp(min=0)
    area_b = (b[:, 2] - b[:, 0]).clamp(min=0) * (b[:, 3] - b[:, 1]).clamp(min=0)
    top_left = torch.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (bottom_right - top_left).clamp(min=0).prod(dim=2)
    return inter / (area_a[:, None] + area_b[None, :] - inter + 1e-9)


def sample_inverse_depth(
    boxes: torch.Tensor, depth: torch.Tensor, height: int, width: int, grid: int = 5
) -> torch.Tensor:
    """Median inverse depth inside each box's central lower part, where the object itself is.

    boxes: (K, >=4) in source pixels; depth: (1, D, D) over the whole frame.
    """
    k = boxes.shape[0]
    steps = (torch.arange(grid, device=boxes.device, dtype=torch.float32) + 0.5) / grid
    x1, y1, x2, y2 = (boxes[:, i : i + 1] for i in range(4))
    w, h = x2 - x1, y2 - y1
    xs = x1 + w * (0.25 + 0.5 * steps)  # middle half of the width
    ys = y1 + h * (0.4 + 0.5 * steps)  # from 40% to 90% of the height
    gx = (xs / width) * 2 - 1
    gy = (ys / height) * 2 - 1
    points = torch.stack((gx[:, None, :].expand(k, grid, grid), gy[:, :, None].expand(k, grid, grid)), dim=-1)
    # One image, K x grid rows of grid points: no copy of the map per box.
    values = F.grid_sample(
        depth[None].float(), points.reshape(1, k * grid, grid, 2), mode="bilinear", align_corners=False
    )  # (1, 1, K * grid, grid)
    return values.reshape(k, grid * grid).median(dim=1).values
