"""What decoding a camera's JPEG frame costs (issue 20: perception taking image_raw/compressed).

    python bench/decode_bench.py [--photos /usr/share/darknet/data] [--out bench/results/decode_cpu.json]

Frames are real photos made into the driver's sizes (RGB 1408x1408 and 704x704 colour, SLAM 640x480 grey)
and compressed as the driver does (core/jpeg.py, quality 80). Per frame size it times, on the same bytes:
OpenCV on the CPU (perception on a CPU: `jpeg.decompress`), and where a CUDA GPU is present, nvJPEG on the GPU
(`jpeg.decompress_on`, as perception decodes on a GPU: torchvision's `decode_jpeg`, the bytes copied up, the
result left on the GPU for the engine). It prints a table and writes JSON (median and p99 ms, and the CPU's
time over the GPU's on the same frames).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from aria_nav_ros.core.jpeg import compress, decompress, decompress_on

sys.path.insert(0, str(Path(__file__).resolve().parent))  # report, beside this file (PYTHONSAFEPATH=1)
from report import command, machine, write  # noqa: E402

SIZES = {"rgb_1408": ((1408, 1408), "rgb8"), "rgb_704": ((704, 704), "rgb8"), "slam_640x480": ((640, 480), "mono8")}


def frames(photos: Path, size: tuple[int, int], encoding: str, quality: int) -> list[tuple[bytes, str]]:
    out = []
    for path in sorted(photos.glob("*.jpg")):
        picture = cv2.imread(str(path))
        if picture is None:
            continue
        picture = cv2.resize(picture, size, interpolation=cv2.INTER_AREA)
        pixels = cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY if encoding == "mono8" else cv2.COLOR_BGR2RGB)
        out.append(compress(pixels, encoding, quality))
    if not out:
        raise SystemExit(f"no photos (*.jpg) in {photos}")
    return out


def timed(work, items: list, repeats: int, sync=lambda: None) -> list[float]:
    """Milliseconds per call of work(item), over `repeats` passes of the items after one warm-up pass."""
    for item in items:
        work(item)
    sync()
    times = []
    for _ in range(repeats):
        for item in items:
            start = time.perf_counter()
            work(item)
            sync()
            times.append((time.perf_counter() - start) * 1000)
    return times


def stats(times: list[float]) -> dict[str, float]:
    return {"median_ms": float(np.median(times)), "p99_ms": float(np.percentile(times, 99)), "n": len(times)}


def gpu_decoder():
    """decode(item) -> a CUDA tensor (core.jpeg.decompress_on, what perception uses on a GPU), and a sync;
    (None, None) where no CUDA GPU or torchvision is present."""
    try:
        import torch
        import torchvision  # noqa: F401  (decompress_on's)
    except ImportError:
        return None, None
    if not torch.cuda.is_available():
        return None, None
    return (lambda item: decompress_on(item[0], item[1], "cuda")[0]), torch.cuda.synchronize


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", default="/usr/share/darknet/data", help="a folder of real .jpg photos")
    parser.add_argument("--quality", type=int, default=80, help="the driver's jpeg_quality")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--out", default="bench/results/decode_cpu.json")
    args = parser.parse_args()
    decode_gpu, sync = gpu_decoder()
    rows: dict[str, dict] = {}
    for name, (size, encoding) in SIZES.items():
        items = frames(Path(args.photos), size, encoding, args.quality)
        row = {"frames": len(items), "jpeg_kb_mean": float(np.mean([len(d) for d, _ in items]) / 1024)}
        row["cpu_opencv"] = stats(timed(lambda item: decompress(*item), items, args.repeats))
        if decode_gpu is not None:
            first = decode_gpu(items[0]).cpu().numpy()
            reference = decompress(*items[0])[0].reshape(first.shape)
            # Two decoders may round differently, never by much: the GPU decodes the same picture.
            row["gpu_vs_cpu_mean_abs_diff"] = float(np.abs(first.astype(int) - reference.astype(int)).mean())
            row["gpu_nvjpeg"] = stats(timed(decode_gpu, items, args.repeats, sync))
            row["cpu_over_gpu_median"] = row["cpu_opencv"]["median_ms"] / row["gpu_nvjpeg"]["median_ms"]
        rows[name] = row
    where = machine()
    if decode_gpu is None:  # the GPU that decoded, not one torch saw without torchvision
        where.pop("gpu", None)
    report = {"command": command(__file__), "machine": where, "quality": args.quality, "sizes": rows}
    write(args.out, report)
    print(f"{'frame':14}{'KB':>7}{'CPU med/p99 ms':>18}{'GPU med/p99 ms':>18}{'CPU/GPU':>9}")
    for name, row in rows.items():
        cpu, gpu = row["cpu_opencv"], row.get("gpu_nvjpeg")
        gpu_text = f"{gpu['median_ms']:.2f} / {gpu['p99_ms']:.2f}" if gpu else "-"
        ratio = f"{row['cpu_over_gpu_median']:.1f}x" if gpu else "-"
        cpu_text = f"{cpu['median_ms']:.2f} / {cpu['p99_ms']:.2f}"
        print(f"{name:14}{row['jpeg_kb_mean']:7.0f}{cpu_text:>18}{gpu_text:>18}{ratio:>9}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
