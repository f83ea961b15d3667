"""The graph benchmark's own command, briefly: traces join up, counts add up, the rate limit holds.

No throughput is asserted here: what a run publishes and loses depends on the machine's load, and is
what the benchmark reports.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from locations import ROOT


def test_graph_bench_accounts_for_every_frame(ros_env, sample_bag, tmp_path) -> None:
    out = tmp_path / "graph.json"
    seconds = 8.0
    bench = str(ROOT / "bench" / "graph_bench.py")
    command = [sys.executable, bench, "--bag", str(sample_bag), "--rates", "30", "--seconds", str(seconds),
               "--warmup", "3", "--variants", "navigation_apart", "--out", str(out)]  # fmt: skip
    done = subprocess.run(command, env=ros_env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["command"].startswith("python bench/graph_bench.py")
    assert out.with_suffix(".png").stat().st_size > 10_000
    result = report["results"]["navigation_apart"]["30"]
    rate = report["common_settings"]["detect_rate"]
    for camera, c in result["cameras"].items():
        # Every published frame is accounted for: lost on the way, skipped on purpose, failed or processed.
        accounted = c["lost_in_transport"] + c["skipped_newest_frame"] + c["failed"] + c["processed"]
        assert accounted == c["published"], (camera, c)
        # How many were published and lost is the benchmark's report, not a pass mark (a loaded machine
        # publishes fewer); that the detect rate is never exceeded is a function, and is checked.
        assert 0 < c["processed"] <= rate * seconds * 1.2 + 1, (camera, c["processed"])  # detect_rate holds
        latency = c["latency_ms"]
        for stage in ("transport", "inference", "end_to_end", "overhead"):
            p = latency[stage]
            assert p["count"] == c["processed"] - c["results_lost"], (camera, stage)
            assert 0 <= p["p50"] <= p["p95"] <= p["p99"] <= p["p999"] <= p["max"], (camera, stage, p)
        assert latency["end_to_end"]["p50"] > latency["inference"]["p50"] > 0
        for _, e2e, overhead in c["series"]:
            assert 0 < overhead < e2e
    assert result["imu"]["published"] > 0
    names = set(result["processes"])
    assert {"aria_driver", "rgb_perception", "navigation", "slam_detector_left", "machine"} <= names, names
    assert all(p["cpu_percent"] > 0 for p in result["processes"].values())
    assert "events_executor" not in report["variants"]
    # The per-run row issue 26's targets are read from: the RGB camera's decision latency, the worst camera's share.
    [run] = report["summary"]["runs"]
    assert run["variant"] == "navigation_apart" and run["hz"] == 30.0
    assert run["rgb_p99_ms"] == result["cameras"]["rgb"]["latency_ms"]["end_to_end"]["p99"]
    assert run["rgb_p999_ms"] >= run["rgb_p99_ms"] and 0 < run["processed_fraction"] <= 1
    assert run["lost"] == sum(c["lost_in_transport"] for c in result["cameras"].values())


def test_the_gil_switch_setting_of_the_gpu_variants_is_python_s_own_unless_asked_for(monkeypatch) -> None:
    from aria_nav_ros.ros.spin import GIL_SWITCH_ENV, set_gil_switch

    before = sys.getswitchinterval()
    try:
        monkeypatch.delenv(GIL_SWITCH_ENV, raising=False)
        set_gil_switch()
        assert sys.getswitchinterval() == before
        monkeypatch.setenv(GIL_SWITCH_ENV, "0.5")  # best_gil, rgb_in_driver_gil
        set_gil_switch()
        assert abs(sys.getswitchinterval() - 0.0005) < 1e-9
        for bad in ("0", "abc", "nan", "-1"):
            monkeypatch.setenv(GIL_SWITCH_ENV, bad)
            with pytest.raises(ValueError, match=GIL_SWITCH_ENV):
                set_gil_switch()
    finally:
        sys.setswitchinterval(before)
