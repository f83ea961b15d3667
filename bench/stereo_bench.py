"""Cost per frame of the front pair's stereo depth (core/sources/stereo.py) on the CPU, without ROS.

The driver matches every pair of Aria Gen 2 front frames in a thread of its own: two fisheye624 remaps into one
rectified pinhole view and OpenCV's semi-global matcher. This times exactly that code on the real recording's
nine pairs, stage by stage, beside two variants in the same run: OpenCV held to one thread (a machine whose cores
are taken by the detectors) and OpenCV's block matcher (the cheap matcher one would try first), each as a ratio
to the package's path. Prints a table, writes JSON and a plot (drawn with OpenCV: no matplotlib needed).

It needs Python with numpy and OpenCV only: no ROS, no projectaria-tools. The frames, lens models and mounts come
from an .npz that `--prepare` writes where projectaria-tools is installed (this repo's venv):

    source scripts/env.sh && python bench/stereo_bench.py --prepare          # writes outputs/stereo_frames.npz
    python bench/stereo_bench.py --repeats 20                                # anywhere: numpy + OpenCV
    python bench/stereo_bench.py --frames outputs/stereo_frames.npz --label h100 \
        --out bench/results/stereo_h100.json                                 # on the lent GPU machine (its CPU)
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python bench/stereo_bench.py` from a plain checkout: the core is ROS-free
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))  # report, beside this file (PYTHONSAFEPATH=1)
from report import command, machine, write  # noqa: E402

from aria_nav_ros.core.camera_model import CameraModel  # noqa: E402
from aria_nav_ros.core.mounting import Mount  # noqa: E402
from aria_nav_ros.core.sources.stereo import MAX_DISPARITY_PX, StereoDepth, _matcher, stereo_depth  # noqa: E402

RECORDING = ROOT.parent / "shared" / "data" / "aria" / "gen2_unit_test.vrs"
FRAMES = ROOT / "outputs" / "stereo_frames.npz"  # outputs/ is git-ignored: 2.3 MB of frames stay out of the repo


def prepare(recording: Path, out: Path) -> None:
    """The recording's front pairs (taken together), both lens models and mounts, into an .npz."""
    from aria_nav_ros.core.cameras import FRONT_CAMERAS, optical_frame
    from aria_nav_ros.core.sources.base import Frame
    from aria_nav_ros.core.sources.factory import SourceSettings, open_source

    source = open_source(SourceSettings(kind="vrs", path=str(recording)))
    models, mounts = source.calibration(), source.mounts()
    frames: dict[str, list[Frame]] = {camera: [] for camera in FRONT_CAMERAS}
    for item in source.items():
        if isinstance(item, Frame) and item.camera in frames:
            frames[item.camera].append(item)
    left, right = FRONT_CAMERAS
    if not frames[left] or len(frames[left]) != len(frames[right]):
        raise SystemExit(f"{recording}: no front pairs ({ {c: len(f) for c, f in frames.items()} })")
    arrays: dict[str, np.ndarray] = {"recording": np.array(recording.name)}
    for side, camera in (("left", left), ("right", right)):
        model, mount = models[camera], mounts[optical_frame(camera)]
        arrays[f"{side}_pixels"] = np.stack([f.pixels for f in frames[camera]])
        arrays[f"{side}_time_ns"] = np.array([f.device_time_ns for f in frames[camera]], dtype=np.int64)
        arrays[f"{side}_lens"] = np.array(
            [model.width, model.height, model.fx, model.fy, model.cx, model.cy, *model.distortion], dtype=np.float64
        )
        arrays[f"{side}_rotation"] = np.asarray(mount.rotation, dtype=np.float64)
        arrays[f"{side}_translation"] = np.asarray(mount.translation, dtype=np.float64)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, **arrays)
    print(f"wrote {out}: {len(frames[left])} pairs of {frames[left][0].pixels.shape} from {recording}")


def load(path: Path) -> tuple[list[tuple[np.ndarray, np.ndarray]], Callable[[], StereoDepth], str]:
    """The pairs, a builder of the pair's rectification (as the driver builds it) and the recording's name."""
    if not path.is_file():
        raise SystemExit(f"{path} does not exist: write it with --prepare where projectaria-tools is installed")
    data = np.load(path)

    def side(name: str) -> tuple[CameraModel, Mount]:
        lens = data[f"{name}_lens"]
        model = CameraModel(int(lens[0]), int(lens[1]), *map(float, lens[2:6]), tuple(float(v) for v in lens[6:]))
        mount = Mount(data[f"{name}_rotation"], tuple(float(v) for v in data[f"{name}_translation"]))
        return model, mount

    (left_model, left_mount), (right_model, right_mount) = side("left"), side("right")
    pairs = list(zip(data["left_pixels"], data["right_pixels"], strict=True))
    return pairs, lambda: stereo_depth(left_model, left_mount, right_model, right_mount), str(data["recording"])


def timed(call: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    out = call()
    return (time.perf_counter() - start) * 1e3, out


def block_matcher() -> cv2.StereoBM:
    return cv2.StereoBM_create(numDisparities=MAX_DISPARITY_PX, blockSize=15)


def run_variant(
    name: str, view: StereoDepth, pairs: list, repeats: int, threads: int, block: bool
) -> dict[str, object]:
    """Every pair `repeats` times: rectify, match and the whole depth call, in ms; the share of pixels matched."""
    cv2.setNumThreads(threads)
    stages: dict[str, list[float]] = {"rectify_ms": [], "match_ms": [], "depth_ms": []}
    matched: list[float] = []
    for _ in range(repeats):
        for left, right in pairs:
            ms, (rect_left, rect_right) = timed(lambda left=left, right=right: view.rectify(left, right))
            stages["rectify_ms"].append(ms)
            if block:
                ms, disparity = timed(lambda a=rect_left, b=rect_right: block_matcher().compute(a, b))
                stages["match_ms"].append(ms)

                def whole(left: np.ndarray = left, right: np.ndarray = right) -> np.ndarray:
                    a, b = view.rectify(left, right)
                    d = block_matcher().compute(a, b).astype(np.float32) / 16.0
                    return np.where(d >= 1.0, view.model.fx * view.baseline_m / np.maximum(d, 1.0), np.nan)

                ms, depth = timed(whole)
            else:
                ms, disparity = timed(lambda a=rect_left, b=rect_right: _matcher().compute(a, b))
                stages["match_ms"].append(ms)
                ms, depth = timed(lambda left=left, right=right: view.depth(left, right))
            stages["depth_ms"].append(ms)
            matched.append(float(np.isfinite(depth).mean()))
    summary = {
        stage: {"median": round(float(np.median(v)), 2), "p90": round(float(np.percentile(v, 90)), 2)}
        for stage, v in stages.items()
    }
    return {"name": name, "opencv_threads": cv2.getNumThreads(), "stages": summary, "matched_share": matched,
            "samples_ms": {k: [round(x, 3) for x in v] for k, v in stages.items()}}  # fmt: skip


def plot(result: dict, path: Path) -> None:
    """Median and p90 ms of each stage per variant, as bars (OpenCV drawing: runs where matplotlib is absent)."""
    variants = result["variants"]
    stages = ("rectify_ms", "match_ms", "depth_ms")
    top = max(v["stages"][s]["p90"] for v in variants for s in stages) * 1.15
    width, height, left, bottom = 900, 420, 70, 60
    image = np.full((height, width, 3), 255, np.uint8)
    plot_h = height - bottom - 40
    colours = ((200, 120, 40), (60, 160, 60), (40, 40, 200))
    group = (width - left - 20) // len(variants)
    for tick in np.linspace(0, top, 6):
        y = int(height - bottom - tick / top * plot_h)
        cv2.line(image, (left, y), (width - 10, y), (225, 225, 225), 1)
        cv2.putText(image, f"{tick:.0f}", (10, y + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    for i, variant in enumerate(variants):
        x0 = left + i * group + 15
        for j, stage in enumerate(stages):
            med, p90 = variant["stages"][stage]["median"], variant["stages"][stage]["p90"]
            x = x0 + j * (group - 30) // 3
            bar_w = (group - 30) // 3 - 8
            y_med = int(height - bottom - med / top * plot_h)
            y_p90 = int(height - bottom - p90 / top * plot_h)
            cv2.rectangle(image, (x, y_med), (x + bar_w, height - bottom), colours[j], -1)
            cv2.line(image, (x, y_p90), (x + bar_w, y_p90), (0, 0, 0), 2)  # p90 as a tick
            cv2.putText(image, f"{med:.1f}", (x, y_med - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.putText(image, variant["name"], (x0, height - bottom + 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1,
                    cv2.LINE_AA)  # fmt: skip
    names = ("rectify", "match", "depth (whole call)")
    for j, name in enumerate(names):
        cv2.rectangle(image, (left + j * 200, 12), (left + j * 200 + 14, 26), colours[j], -1)
        cv2.putText(image, name, (left + j * 200 + 20, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(image, "ms per pair: bar median, line p90", (left + 600, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.42,
                (0, 0, 0), 1, cv2.LINE_AA)  # fmt: skip
    title = f"front-pair stereo depth per pair, {result['label']}: {result['machine']['processor']}"[:110]
    cv2.putText(image, title, (left, height - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.imwrite(str(path), image)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prepare", action="store_true", help="write the frames .npz from the recording and stop")
    parser.add_argument("--recording", type=Path, default=RECORDING)
    parser.add_argument("--frames", type=Path, default=FRAMES)
    parser.add_argument("--repeats", type=int, default=10, help="passes over the pairs per variant")
    parser.add_argument("--label", default="cpu", help="names the machine in the results (cpu, h100, ...)")
    parser.add_argument("--out", type=Path, default=None, help="JSON (default bench/results/stereo_<label>.json)")
    args = parser.parse_args()
    if args.prepare:
        prepare(args.recording, args.frames)
        return
    pairs, build, recording = load(args.frames)
    setup_ms, view = timed(build)
    default_threads = cv2.getNumThreads()
    for left, right in pairs[:2]:  # warm: OpenCV's first calls allocate
        view.depth(left, right)
    variants = [
        run_variant("package", view, pairs, args.repeats, default_threads, block=False),
        run_variant("one_thread", view, pairs, args.repeats, 1, block=False),
        run_variant("block_matcher", view, pairs, args.repeats, default_threads, block=True),
    ]
    cv2.setNumThreads(default_threads)
    base = variants[0]["stages"]["depth_ms"]["median"]
    for variant in variants:
        variant["depth_ratio_to_package"] = round(variant["stages"]["depth_ms"]["median"] / base, 3)
    result = {
        "command": command(__file__),
        "label": args.label,
        "recording": recording,
        "pairs": len(pairs),
        "repeats": args.repeats,
        "rectified_view": {
            "width": view.model.width,
            "height": view.model.height,
            "f_px": view.model.fx,
            "baseline_m": round(view.baseline_m, 4),
            "max_disparity_px": MAX_DISPARITY_PX,
        },  # fmt: skip
        "machine": {**machine(), "opencv": cv2.__version__, "opencv_threads_default": default_threads},
        "setup_ms": round(setup_ms, 1),
        "variants": variants,
        "summary": {
            "depth_ms_median": base,
            "depth_ms_p90": variants[0]["stages"]["depth_ms"]["p90"],
            "pairs_per_second": round(1e3 / base, 1),
            "one_thread_ratio": variants[1]["depth_ratio_to_package"],
            "block_matcher_ratio": variants[2]["depth_ratio_to_package"],
        },
    }
    size = f"{view.model.width}x{view.model.height}"
    print(f"{recording}: {len(pairs)} front pairs x {args.repeats}, rectified {size}, {result['machine']['cpus']}"
          f" cores, OpenCV {cv2.__version__}; maps built once in {setup_ms:.0f} ms")  # fmt: skip
    print(f"{'variant':<15}{'threads':>8}{'rectify ms':>12}{'match ms':>10}{'depth ms':>10}{'p90':>8}"
          f"{'ratio':>7}{'matched':>9}")  # fmt: skip
    for v in variants:
        s = v["stages"]
        print(f"{v['name']:<15}{v['opencv_threads']:>8}{s['rectify_ms']['median']:>12.2f}{s['match_ms']['median']:>10.2f}"
              f"{s['depth_ms']['median']:>10.2f}{s['depth_ms']['p90']:>8.2f}{v['depth_ratio_to_package']:>7.2f}"
              f"{np.mean(v['matched_share']):>9.2f}")  # fmt: skip
    out = args.out or ROOT / "bench" / "results" / f"stereo_{args.label}.json"
    write(out, result)
    plot(result, out.with_suffix(".png"))
    print(f"wrote {out} and {out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
