"""Engine benchmark: naive vs streams vs CUDA graphs on the same frames, and three engines sharing a GPU.

Runs without ROS (the GPU machine has none): YOLO11n at 640 and Depth
Anything V2 Small at 518 with random weights of the real architectures,
fp16, batch 1, on 1408x1408 frames made from real photos. Each frame is
timed from host memory to results in host memory. Prints a table and
writes JSON under bench/results/.

    python bench/engine_bench.py --frames 300 --out bench/results/engine_h100.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]  # the core without installing it, and the probe beside this

import torch  # noqa: E402
from gpu_memory_probe import charged_mb  # noqa: E402  (beside this script)
from report import command, machine, write  # noqa: E402

from aria_nav_ros.core.perception.engine import EngineConfig, PerceptionEngine  # noqa: E402
from aria_nav_ros.core.perception.models import RANDOM_DEPTH, load_depth, load_detector  # noqa: E402

DETECTOR = "yolo11n.yaml"  # the YOLO11n architecture; random weights (no hub here)


def frames(count: int, shape: tuple[int, ...]) -> list[np.ndarray]:
    """Real photos (ultralytics' bus and zidane) at the camera's size, shifted so every frame differs."""
    import cv2
    from ultralytics.utils import ASSETS

    photos = [cv2.imread(str(ASSETS / name)) for name in ("bus.jpg", "zidane.jpg")]
    out = []
    for i in range(count):
        image = cv2.resize(photos[i % 2], (shape[1], shape[0]))
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if len(shape) == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        out.append(np.ascontiguousarray(np.roll(image, i * 3, axis=1)))
    return out


def make_engine(
    mode: str,
    with_depth: bool,
    depth_every: int = 1,
    two_streams: bool = True,
    pinned: bool = True,
    compiled: bool = EngineConfig.compile_models,
) -> PerceptionEngine:
    """An engine as perception's configure leaves it: its models compiled (unless `compiled` is False)."""
    device = torch.device("cuda")
    if compiled:
        # Compiled as in a node's process, where nothing was compiled before: dynamo keeps at most 8 versions of
        # a function, and the engines made earlier in this process (other YOLO heads) would use them up.
        torch._dynamo.reset()
    detector = load_detector(DETECTOR, device, half=True)
    depth = load_depth(RANDOM_DEPTH, device, half=True) if with_depth else None
    config = EngineConfig(
        mode=mode, depth_every=depth_every, two_streams=two_streams, pinned_upload=pinned, compile_models=compiled
    )
    engine = PerceptionEngine(detector, depth, config)
    engine.compile_now()
    return engine


def time_engine(engine: PerceptionEngine, images: list[np.ndarray], warmup: int) -> dict:
    for image in images[:warmup]:
        engine.process(image)
    torch.cuda.synchronize()
    times, outputs = [], []
    for image in images:
        start = time.perf_counter()
        out = engine.process(image)
        times.append((time.perf_counter() - start) * 1000)
        outputs.append(out)
    t = np.asarray(times)
    stages = {k: float(np.median([o.timings_ms[k] for o in outputs])) for k in outputs[0].timings_ms}
    return {
        "stage_median_ms": stages,
        "median_ms": float(np.median(t)),
        "p90_ms": float(np.percentile(t, 90)),
        "mean_ms": float(t.mean()),
        "fps": float(1000 / np.median(t)),
        "frames": len(images),
        "mode_run": engine.mode,
        "boxes_per_frame": float(np.mean([len(o.detections) for o in outputs])),
        "first_boxes": [list(d.box) + [d.score, d.inverse_depth] for d in outputs[0].detections[:5]],
    }


def single_process(args: argparse.Namespace) -> dict:
    rgb = frames(args.frames, (1408, 1408, 3))
    results = {}
    # The default engine (graphs, two streams, pinned upload, compiled models) and each way beside it with the
    # models eager: the modes compared as they were measured before compiling became the default.
    variants = (
        ("naive", "naive", 1, True, True, False),
        ("streams", "streams", 1, True, True, False),
        ("graphs_one_stream", "graphs", 1, False, True, False),
        ("graphs_eager_models", "graphs", 1, True, True, False),
        ("graphs", "graphs", 1, True, True, True),
        ("graphs_pageable_upload", "graphs", 1, True, False, False),
        ("graphs_depth_every_3", "graphs", 3, True, True, False),
    )
    for name, mode, depth_every, two_streams, pinned, compiled in variants:
        torch.cuda.reset_peak_memory_stats()
        start = time.perf_counter()
        engine = make_engine(mode, True, depth_every, two_streams, pinned, compiled)
        made_s = time.perf_counter() - start
        results[name] = time_engine(engine, rgb, args.warmup)
        results[name].update(compiled=engine.compiled, compile_error=engine.compile_error, made_s=made_s)
        results[name]["peak_allocated_mb"] = torch.cuda.max_memory_allocated() / 2**20
        del engine
        torch.cuda.empty_cache()
    return results


def check_modes_agree(checkpoint: str) -> dict:
    """The real person checkpoint on real photos: every mode must find the same boxes and depths."""
    import cv2
    from ultralytics.utils import ASSETS

    device = torch.device("cuda")
    detector = load_detector(checkpoint, device, half=True)
    depth = load_depth(RANDOM_DEPTH, device, half=True)
    images = [cv2.cvtColor(cv2.imread(str(ASSETS / n)), cv2.COLOR_BGR2RGB) for n in ("bus.jpg", "zidane.jpg")]
    found = {}
    for mode in ("naive", "streams", "graphs"):
        engine = PerceptionEngine(detector, depth, EngineConfig(mode=mode))
        found[mode] = [[(d.box, d.class_id, d.inverse_depth) for d in engine.process(im).detections] for im in images]
    report = {"boxes_per_photo": [len(d) for d in found["naive"]]}
    for mode in ("streams", "graphs"):
        same_count = all(len(a) == len(b) for a, b in zip(found[mode], found["naive"], strict=True))
        box_err = max(
            (
                abs(x - y)
                for a, b in zip(found[mode], found["naive"], strict=True)
                for da, db in zip(a, b, strict=False)
                for x, y in zip(da[0], db[0], strict=True)
            ),
            default=0.0,
        )
        depth_err = max(
            (
                abs(da[2] - db[2]) / max(abs(db[2]), 1e-6)
                for a, b in zip(found[mode], found["naive"], strict=True)
                for da, db in zip(a, b, strict=False)
            ),
            default=0.0,
        )
        report[mode] = {"same_count": same_count, "max_box_diff_px": box_err, "max_inverse_depth_rel_diff": depth_err}
    return report


def _processor():
    """Depth Anything V2's image processor as the hub model ships it (518, aspect kept, multiple of 14)."""
    from transformers import DPTImageProcessor

    return DPTImageProcessor(
        do_resize=True,
        size={"height": 518, "width": 518},
        keep_aspect_ratio=True,
        ensure_multiple_of=14,
        resample=3,  # bicubic
        do_rescale=True,
        do_normalize=True,
        image_mean=[0.485, 0.456, 0.406],
        image_std=[0.229, 0.224, 0.225],
    )


def _user_depth_pipeline(device: torch.device):
    """What a user writes for depth: transformers' depth-estimation pipeline around Depth Anything V2 Small
    (random weights: no hub here), with the image processor the hub model ships (518, aspect kept, x14)."""
    from transformers import pipeline

    from aria_nav_ros.core.perception.models import random_depth_anything_small

    processor = _processor()
    model = random_depth_anything_small().to(device).half().eval()
    return pipeline("depth-estimation", model=model, image_processor=processor, device=device, dtype=torch.float16)


def user_row(checkpoint: str, count: int, warmup: int) -> dict:
    """'What a user would write' against our engine, same checkpoint, same 1408x1408 frames, host to host:
    ultralytics `predict` on the full frame, then the transformers depth-estimation pipeline (sequential)."""
    from PIL import Image
    from ultralytics import YOLO

    device = torch.device("cuda")
    images = frames(count + warmup, (1408, 1408, 3))
    yolo = YOLO(checkpoint)
    depth_pipe = _user_depth_pipeline(device)

    def user(image: np.ndarray) -> None:
        result = yolo.predict(image[:, :, ::-1], imgsz=640, quantize=16, device=0, conf=0.25, iou=0.45, verbose=False)
        result[0].boxes.data.cpu().numpy()
        depth_pipe(Image.fromarray(image))["predicted_depth"].float().cpu().numpy()

    rows: dict[str, dict] = {}
    for name in ("user", "naive", "graphs"):
        if name == "user":
            run = user
        else:
            detector = load_detector(checkpoint, device, half=True)
            config = EngineConfig(mode=name, compile_models=False)  # as engine_user_h200.json was measured
            engine = PerceptionEngine(detector, load_depth(RANDOM_DEPTH, device, half=True), config)
            run = engine.process
        for image in images[:warmup]:
            run(image)
        torch.cuda.synchronize()
        times = []
        for image in images[warmup:]:
            start = time.perf_counter()
            run(image)
            times.append((time.perf_counter() - start) * 1000)
        t = np.asarray(times)
        rows[name] = {"median_ms": float(np.median(t)), "p99_ms": float(np.percentile(t, 99)), "frames": len(t)}
    for name in ("naive", "graphs"):
        rows[name]["user_over_this_median"] = rows["user"]["median_ms"] / rows[name]["median_ms"]
        rows[name]["user_over_this_p99"] = rows["user"]["p99_ms"] / rows[name]["p99_ms"]
    return rows


def fair_peer(detector_path: str, images: list[np.ndarray], warmup: int) -> dict:
    """What a careful user writes, against the engine with the same detector in the same run, host to host:
    ultralytics `predict` in fp16 on the GPU, and Depth Anything V2 Small in fp16 on the GPU fed by its image
    processor's tensors (resized on the CPU as the processor does), its map brought to the frame's size; one
    after the other, and on two threads with a CUDA stream each. Then the engine's graphs, eager and with
    torch.compile."""
    import threading

    from ultralytics import YOLO

    from aria_nav_ros.core.perception.models import random_depth_anything_small

    device = torch.device("cuda")
    yolo = YOLO(detector_path)
    processor = _processor()
    depth_model = random_depth_anything_small().to(device).half().eval()
    depth_stream = torch.cuda.Stream(device)

    def detect(image: np.ndarray) -> None:
        result = yolo.predict(image[:, :, ::-1], imgsz=640, quantize=16, device=0, conf=0.25, iou=0.45, verbose=False)
        result[0].boxes.data.cpu().numpy()

    def depth(image: np.ndarray) -> None:
        with torch.inference_mode():
            pixels = processor(images=image, return_tensors="pt")["pixel_values"].to(device, torch.float16)
            predicted = depth_model(pixel_values=pixels).predicted_depth
            size = image.shape[:2]
            torch.nn.functional.interpolate(predicted[:, None], size=size, mode="bilinear")[0, 0].float().cpu()

    def sequential(image: np.ndarray) -> None:
        detect(image)
        depth(image)

    def two_streams(image: np.ndarray) -> None:
        def on_stream() -> None:
            with torch.cuda.stream(depth_stream):
                depth(image)

        side = threading.Thread(target=on_stream)
        side.start()
        detect(image)
        side.join()

    runs: dict[str, object] = {"fair_peer": sequential, "fair_peer_two_streams": two_streams}
    compile_s: dict[str, float] = {}
    for name, compiled in (("graphs", True), ("graphs_eager_models", False)):  # the default, then eager models
        detector = load_detector(detector_path, device, half=True)
        config = EngineConfig(mode="graphs", compile_models=compiled)
        if compiled:
            torch._dynamo.reset()  # as make_engine
        runs[name] = PerceptionEngine(detector, load_depth(RANDOM_DEPTH, device, half=True), config)
        compile_s[name] = runs[name].compile_now()  # perception's configure: the first compilation of this process
    # The default engine's models (their compilation reused) with the frame uploaded from pageable memory: CUDA
    # stages it itself, no copy into pinned memory first.
    default = runs["graphs"]
    runs["graphs_pageable_upload"] = PerceptionEngine(
        default.detector, default.depth, replace(default.config, pinned_upload=False), compiled_from=default
    )
    compile_s["graphs_pageable_upload"] = runs["graphs_pageable_upload"].compile_now()
    rows: dict[str, dict] = {}
    for name, run in runs.items():
        engine = run if isinstance(run, PerceptionEngine) else None
        step = engine.process if engine else run
        compile_start = time.perf_counter()
        for image in images[:warmup]:
            step(image)
        torch.cuda.synchronize()
        warm_s = time.perf_counter() - compile_start
        times = []
        for image in images[warmup:]:
            start = time.perf_counter()
            step(image)
            times.append((time.perf_counter() - start) * 1000)
        t = np.asarray(times)
        rows[name] = {
            "median_ms": float(np.median(t)),
            "p99_ms": float(np.percentile(t, 99)),
            "frames": len(t),
            "warmup_s": warm_s,
        }
        if engine is not None:
            rows[name].update(compiled=engine.compiled, compile_error=engine.compile_error, compile_s=compile_s[name])
    for name in ("fair_peer", "fair_peer_two_streams", "graphs_eager_models", "graphs_pageable_upload"):
        rows[name]["over_graphs_median"] = rows[name]["median_ms"] / rows["graphs"]["median_ms"]
    return rows


def _worker(role: str, seconds: float, rate_hz: float, results, start_barrier) -> None:
    torch.cuda.init()
    if role == "rgb":
        engine = make_engine("graphs", True)
        images = frames(40, (1408, 1408, 3))
    else:
        engine = make_engine("graphs", False)
        images = frames(40, (480, 640))
    for image in images[:10]:
        engine.process(image)
    torch.cuda.synchronize()
    start_barrier.wait()
    count, times, from_due = 0, [], []
    begin = time.perf_counter()
    end = begin + seconds
    while time.perf_counter() < end:
        due = time.perf_counter()
        if rate_hz > 0:  # a camera: the next frame exists only at its time
            due = begin + count / rate_hz
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        t0 = time.perf_counter()
        engine.process(images[count % len(images)])
        done = time.perf_counter()
        times.append((done - t0) * 1000)
        from_due.append((done - due) * 1000)  # paced: from the frame's capture, waiting behind others included
        count += 1
    results[role] = {
        "fps": count / seconds,
        "frames": count,
        "median_ms": float(np.median(times)),
        "p90_ms": float(np.percentile(times, 90)),
        "p99_ms": float(np.percentile(times, 99)),
        "from_capture_p99_ms": float(np.percentile(from_due, 99)),
        "from_capture_max_ms": float(np.max(from_due)),
        "peak_allocated_mb": torch.cuda.max_memory_allocated() / 2**20,
        "reserved_mb": torch.cuda.memory_reserved() / 2**20,
        "process_mb": charged_mb(),
    }


def three_processes(seconds: float, rate_hz: float) -> dict:
    ctx = multiprocessing.get_context("spawn")
    manager = ctx.Manager()
    results = manager.dict()
    barrier = ctx.Barrier(3)
    workers = [
        ctx.Process(target=_worker, args=(role, seconds, rate_hz, results, barrier))
        for role in ("rgb", "slam_left", "slam_right")
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out = dict(results)
    known = [r["process_mb"] for r in out.values() if r.get("process_mb") is not None]
    out["total_process_mb"] = sum(known) if len(known) == 3 else None
    out["total_reserved_mb"] = sum(r["reserved_mb"] for r in out.values() if isinstance(r, dict))
    return out


def header() -> dict[str, object]:
    """What every result file starts with: the command that made it and where it ran (with torch's version)."""
    return {"command": command(__file__), "machine": {**machine(), "torch": torch.__version__}}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--shared-seconds", type=float, default=20.0)
    parser.add_argument("--checkpoint", default="", help="a real YOLO .pt: check that all modes agree on it")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "engine.json"))
    parser.add_argument("--user-row", action="store_true", help="only: what a user would write vs the engine"
                        " (ultralytics predict + transformers depth pipeline; needs --checkpoint)")  # fmt: skip
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("engine_bench needs a CUDA GPU", file=sys.stderr)
        return 2
    if args.user_row:
        if not args.checkpoint:
            parser.error("--user-row needs --checkpoint (a real YOLO .pt)")
        rows = user_row(args.checkpoint, args.frames, args.warmup)
        report = {
            **header(),
            "detector": f"{args.checkpoint} at 640, fp16",
            "depth": "Depth Anything V2 Small (random weights) at 518, fp16",
            "frame": "1408x1408 rgb8 in host memory -> boxes and depth in host memory",
            "user": "ultralytics YOLO.predict on the full frame, then transformers pipeline('depth-estimation')",
            "rows": rows,
        }
        write(args.out, report)
        print(f"\n{'':<10}{'median ms':>10}{'p99 ms':>9}{'user/this median':>18}{'user/this p99':>15}")
        for name, r in rows.items():
            ratios = f"{r['user_over_this_median']:>18.2f}{r['user_over_this_p99']:>15.2f}" if name != "user" else ""
            print(f"{name:<10}{r['median_ms']:>10.2f}{r['p99_ms']:>9.2f}{ratios}")
        print(f"\nwrote {args.out}")
        return 0
    agreement = check_modes_agree(args.checkpoint) if args.checkpoint else None
    peer = fair_peer(args.checkpoint or DETECTOR, frames(args.frames + args.warmup, (1408, 1408, 3)), args.warmup)
    single = single_process(args)
    shared = three_processes(args.shared_seconds, 0.0)
    paced = three_processes(args.shared_seconds, 30.0)
    naive, graphs = single["naive"]["median_ms"], single["graphs"]["median_ms"]
    report = {
        **header(),
        "detector": f"{DETECTOR} (random weights) at 640, fp16",
        "depth": "Depth Anything V2 Small (random) at 518, fp16",
        "frame": "1408x1408 rgb8 in host memory -> results in host memory",
        "modes_agree_on_real_checkpoint": agreement,
        "single": single,
        "speedup_graphs_over_naive": naive / graphs,
        "speedup_streams_over_naive": naive / single["streams"]["median_ms"],
        "three_processes_flat_out": shared,
        "three_processes_30hz": paced,
        "fair_peer_detector": args.checkpoint or f"{DETECTOR} (random weights)",
        "fair_peer_rows": peer,
        "fair_peer_median_ms": peer["fair_peer"]["median_ms"],
        "fair_peer_over_graphs_median": peer["fair_peer"]["over_graphs_median"],
        "graphs_eager_models_over_graphs_median": peer["graphs_eager_models"]["over_graphs_median"],
    }
    write(args.out, report)
    print(f"\n{'mode':<24}{'median ms':>10}{'p90 ms':>10}{'fps':>8}{'peak MB':>9}{'x naive':>9}")
    for name, r in single.items():
        print(
            f"{name:<24}{r['median_ms']:>10.2f}{r['p90_ms']:>10.2f}{r['fps']:>8.0f}{r['peak_allocated_mb']:>9.0f}"
            f"{naive / r['median_ms']:>9.2f}"
        )
    print("\nstage medians (ms):")
    for name, r in single.items():
        print(f"  {name:<22}" + "  ".join(f"{k} {v:.2f}" for k, v in r["stage_median_ms"].items()))
    for title, run in (("flat out", shared), ("each camera at 30 Hz", paced)):
        print(f"\nthree processes sharing the GPU for {args.shared_seconds:g} s, {title} (graphs):")
        for role in ("rgb", "slam_left", "slam_right"):
            r = run[role]
            print(
                f"  {role:<11}{r['fps']:>7.0f} fps  median {r['median_ms']:.2f} ms  p90 {r['p90_ms']:.2f} ms"
                f"  p99 {r['p99_ms']:.2f} ms  from capture p99 {r['from_capture_p99_ms']:.2f} ms"
                f"  allocated {r['peak_allocated_mb']:.0f} MB  process {r['process_mb']} MB"
            )
        print(
            f"  total GPU memory of the three processes: {run['total_process_mb']} MB (nvidia-smi),"
            f" reserved by PyTorch {run['total_reserved_mb']:.0f} MB"
        )
    print(f"\nthe fair peer and the engine, same detector ({report['fair_peer_detector']}), same frames:")
    for name, r in peer.items():
        ratio = f"  {r['over_graphs_median']:.2f}x graphs" if "over_graphs_median" in r else ""
        timing = f"median {r['median_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  warm-up {r['warmup_s']:.1f} s"
        print(f"  {name:<22}{timing}{ratio}")
    if agreement:
        print(f"\nmodes vs naive on the real checkpoint (bus, zidane): {json.dumps(agreement)}")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
