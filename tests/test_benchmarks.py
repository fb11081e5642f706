"""Smoke test of ``python -m benchmarks --quick``: every figure still runs and reports.

It never asserts on a timing (those belong to the full run and only make sense as
ratios within one run); it checks that each figure produced numbers of the right
shape and that the result files were written. The vendor plugin, scipy and
matplotlib are optional here (the ``bench`` extra): without them their rows are
skipped with a note, and that is checked too.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    not (ROOT / "benchmarks" / "run.py").exists(), reason="the benchmarks are not in this tree"
)


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _vendor_installed() -> bool:
    return _has("videosdk.plugins.azure")


def _number(x: Any) -> bool:
    return x == "inf" or (isinstance(x, int | float) and not math.isnan(x))


def _distribution(d: Any) -> bool:
    return (
        isinstance(d, dict)
        and d.get("n", 0) > 0
        and all(_number(d[k]) for k in ("p50", "p99", "mean"))
    )


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], str]:
    out = tmp_path_factory.mktemp("bench")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out, json.loads((out / "latest.json").read_text()), done.stdout


def test_files_are_written(quick_run: tuple[Path, dict[str, Any], str]) -> None:
    out, results, stdout = quick_run
    assert (out / "latest.md").read_text().startswith("# Benchmarks")
    assert "| fig | metric |" in (out / "latest.md").read_text()
    assert "input path" in stdout
    assert "ours" in stdout
    assert results["meta"]["mode"] == "quick"
    if _has("matplotlib"):
        pngs = sorted(p.name for p in out.glob("*.png"))
        assert len(pngs) == 7, pngs
        assert all((out / p).stat().st_size > 1000 for p in pngs)
    else:
        assert "matplotlib" in results["meta"]["notes"]["plots"]


def test_every_figure_produced_numbers(quick_run: tuple[Path, dict[str, Any], str]) -> None:
    _, results, _ = quick_run
    f = results["figures"]
    kinds = ["ours", "vendor"] if _vendor_installed() else ["ours"]
    assert results["meta"]["plugins"] == kinds

    cost = f["input_cost"]
    for kind in kinds:
        assert _distribution(cost["rows"][kind])
        assert cost["rows"][kind]["audio_bytes_per_frame"] == pytest.approx(960, abs=2)
    assert _distribution(cost["rows"]["ours_sender_task"])
    assert cost["batching"]["batch_ms"] > 0
    assert ("fft_baseline" in cost["rows"]) == _has("scipy")

    for name in ("ours", "vendor", *(["fft_baseline"] if _has("scipy") else [])):
        q = f["quality"]["converters"][name]
        assert _number(q["rejection_worst_db"])
        assert _number(q["passband_flatness_db"])
        assert _number(q["snr_streamed_vs_oneshot_speech_db"])

    for kind in kinds:
        assert "error" not in f["output_latency"][kind], f["output_latency"][kind]
        assert _distribution(f["output_latency"][kind]["latency_ms"])
        assert _distribution(f["first_audio"][kind]["ttfa_ms"])
        barge = f["barge_in"][kind]
        assert barge["barge_ins"] == len(barge["rows"]) > 0
        assert 0 <= barge["flushed"] <= barge["barge_ins"]
        steps = [s for s in f["density"][kind]["steps"] if "error" not in s]
        assert steps, f["density"][kind]
        assert all(_distribution(s["loop_lag_ms"]) for s in steps)
        assert _number(steps[0]["cpu_s_per_session_min"])
        memory = f["memory"][kind]
        assert _number(memory["growth_mb"])
        assert len(memory["series"]) >= 3

    assert results["targets"], "no target was evaluated"
    assert all(t["met"] in (True, False, None) for t in results["targets"])


def test_missing_optional_parts_are_noted(quick_run: tuple[Path, dict[str, Any], str]) -> None:
    _, results, _ = quick_run
    notes = results["meta"]["notes"]
    assert ("vendor" in notes) != _vendor_installed()
    if not _has("scipy"):
        assert any("scipy" in n for n in results["figures"]["input_cost"]["notes"])
