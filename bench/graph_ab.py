"""One table of graph benchmark runs of two code versions, in the order they ran on one machine.

python bench/graph_ab.py --out bench/results/graph_gpu_navigation_ab_h100.json \
    base=/tmp/out/graph_gpu_base.json new=/tmp/out/graph_gpu_repeat.json ...

Each argument is LABEL=FILE: a result file of bench/graph_bench.py (one variant, one rate, any --repeat),
labelled by the code it ran (run them alternately on one warm machine: the run-to-run spread of the tail is as
large as most changes). Keeps, per run, the RGB camera's end-to-end p50/p99/p99.9 and each stage's p50/p99, the
SLAM cameras' p99, frames processed and lost, GPU memory; each label's median over its runs; the source files'
commands. The per-frame samples stay in the source files (too large for the lent GPU's 64 MiB tree), so the
compact file is what is committed. Prints the table, writes JSON and a plot.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "bench") not in sys.path:  # report, beside this file (PYTHONSAFEPATH=1)
    sys.path.insert(0, str(ROOT / "bench"))
from report import command, write  # noqa: E402

STAGES = ("transport", "queue", "inference", "perception", "result_transport", "navigation")
TARGETS = {"rgb_p99_ms": 15.0, "slam_p99_ms": 10.0}  # issue 26's, drawn as dashed lines
COMPARED = ("rgb_p50_ms", "rgb_p99_ms", "rgb_p999_ms", "navigation_p50_ms", "inference_p99_ms", "slam_p99_ms")


def runs_of(label: str, path: Path) -> tuple[list[dict], dict]:
    result = json.loads(path.read_text())
    runs = []
    for variant, by_rate in result["results"].items():
        for hz, point in by_rate.items():
            cameras = point["cameras"]
            rgb = cameras["rgb"]["latency_ms"]
            slam = [cameras[c]["latency_ms"]["end_to_end"]["p99"] for c in ("slam_left", "slam_right") if c in cameras]
            summary = result["summary"][variant][hz]
            runs.append({
                "label": label, "file": path.name, "variant": variant, "hz": float(hz),
                "rgb_p50_ms": rgb["end_to_end"]["p50"], "rgb_p99_ms": rgb["end_to_end"]["p99"],
                "rgb_p999_ms": rgb["end_to_end"]["p999"],
                "stages_p50_ms": {s: rgb[s]["p50"] for s in STAGES},
                "stages_p99_ms": {s: rgb[s]["p99"] for s in STAGES},
                "navigation_p50_ms": rgb["navigation"]["p50"], "inference_p99_ms": rgb["inference"]["p99"],
                "slam_p99_ms": max(slam) if slam else None, "processed_percent_min": summary["processed_percent_min"],
                "lost": summary["lost_in_transport"], "gpu_mb": summary.get("gpu_total_mb"),
                "machine_cpu_percent": summary["machine_cpu_percent"],
            })  # fmt: skip
    source = {"file": path.name, "command": result.get("wrapper_command") or result["command"],
              "machine": result.get("machine")}  # fmt: skip
    return runs, source


def median_of(values: list) -> float | None:
    known = [v for v in values if v is not None]  # a result without SLAM cameras has no SLAM p99
    return statistics.median(known) if known else None


def number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def plot(runs: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = sorted({r["label"] for r in runs})
    colours = {label: f"C{i % 10}" for i, label in enumerate(labels)}
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, key, title in zip(axes, ("rgb_p99_ms", "navigation_p50_ms", "slam_p99_ms"),
                              ("RGB end to end p99 (ms)", "navigation stage p50 (ms)", "worst SLAM camera p99 (ms)"),
                              strict=True):  # fmt: skip
        for i, run in enumerate(runs):
            ax.bar(i, run[key] or 0.0, color=colours[run["label"]], label=run["label"])  # no SLAM camera: 0
        if key in TARGETS:
            ax.axhline(TARGETS[key], color="black", linewidth=0.8, linestyle="--")
        ax.set_xticks(range(len(runs)), [f"{i + 1}" for i in range(len(runs))])
        ax.set_xlabel("run, in the order run")
        ax.set_title(title, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    handles, names = axes[0].get_legend_handles_labels()
    unique = dict(zip(names, handles, strict=True))
    axes[0].legend(unique.values(), unique.keys(), loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", help="LABEL=FILE, in the order they ran")
    parser.add_argument("--out", required=True)
    parser.add_argument("--note", default="", help="what the labels are (the commits)")
    args = parser.parse_args(argv)
    runs, sources = [], []
    for item in args.runs:
        label, given, file = item.partition("=")
        if not given:
            parser.error(f"{item!r}: LABEL=FILE")
        more, source = runs_of(label, Path(file))
        runs += more
        sources.append(source)
    medians = {label: {key: median_of([r[key] for r in runs if r["label"] == label]) for key in COMPARED}
               for label in dict.fromkeys(r["label"] for r in runs)}  # fmt: skip
    report = {"command": command(__file__, argv), "note": args.note, "sources": sources, "runs": runs,
              "medians": medians}  # fmt: skip
    write(args.out, report)
    plot(runs, Path(args.out).with_suffix(".png"))
    print(
        f"{'#':>2} {'label':<6} {'RGB p50':>8} {'p99':>6} {'p99.9':>6} {'nav p50':>8} {'infer p99':>9} {'SLAM p99':>9}"
    )
    for i, r in enumerate(runs, 1):
        cells = (r["rgb_p50_ms"], r["rgb_p99_ms"], r["rgb_p999_ms"], r["navigation_p50_ms"], r["inference_p99_ms"],
                 r["slam_p99_ms"])  # fmt: skip
        print(f"{i:>2} {r['label']:<6} " + " ".join(f"{number(v):>8}" for v in cells))
    for label, m in medians.items():
        print(f"median {label:<6} " + "  ".join(f"{k} {number(v)}" for k, v in m.items()))
    print(f"wrote {args.out} and {Path(args.out).with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
