"""Smoke test of ``python -m benchmarks --quick``: every figure still runs and reports.

It never asserts on a timing (those belong to the full run and only make sense as
ratios within one run); it checks that each figure produced numbers of the right
shape and that the result files were written. The vendor plugin, scipy, orjson
(the floor client) and matplotlib are optional here (the ``bench`` extra): without
them their rows are skipped with a note, and that is checked too.

Below the smoke test, the parts are tested directly: the rules the load figures
step by (:mod:`benchmarks.schedule`), the foreign-load reading, the ratio targets,
the server clock, and the floor client completing a turn and a barge-in against
the emulator.
"""

from __future__ import annotations

import asyncio
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


QUICK_TIMEOUT = 420


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
        timeout=QUICK_TIMEOUT - 20,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out, json.loads((out / "latest.json").read_text()), done.stdout


@pytest.mark.timeout(QUICK_TIMEOUT)
def test_files_are_written(quick_run: tuple[Path, dict[str, Any], str]) -> None:
    out, results, stdout = quick_run
    assert (out / "latest.md").read_text().startswith("# Benchmarks")
    assert "| fig | metric |" in (out / "latest.md").read_text()
    assert "input path" in stdout
    assert "ours" in stdout
    assert "total " in stdout.splitlines()[-1]
    assert results["meta"]["mode"] == "quick"
    if _has("matplotlib"):
        pngs = sorted(p.name for p in out.glob("*.png"))
        assert len(pngs) == 8, pngs
        assert all((out / p).stat().st_size > 1000 for p in pngs)
    else:
        assert "matplotlib" in results["meta"]["notes"]["plots"]


@pytest.mark.timeout(QUICK_TIMEOUT)
def test_every_figure_produced_numbers(quick_run: tuple[Path, dict[str, Any], str]) -> None:
    _, results, _ = quick_run
    f = results["figures"]
    kinds = ["ours", "vendor"] if _vendor_installed() else ["ours"]
    assert results["meta"]["plugins"] == kinds

    clients = kinds + (["floor"] if results["meta"]["floor"] else [])
    cost = f["input_cost"]
    for kind in clients:
        assert _distribution(cost["rows"][kind])
        assert cost["rows"][kind]["audio_bytes_per_frame"] == pytest.approx(960, abs=2)
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
        for step in steps:
            assert len(step["repeats"]) == 3
            assert all(_distribution(w["loop_lag_ms"]) for w in step["repeats"])
            assert step["lag_p99_ms"]["min"] <= step["lag_p99_ms"]["median"]
            assert _number(step["cpu_ms_per_call_s"]["median"])
            assert _number(step["foreign_cpu_share"]["median"])
        memory = f["memory"][kind]
        assert _number(memory["growth_mb"])
        assert len(memory["series"]) >= 3

    for kind in clients:
        cpu = f["cpu"][kind]
        assert "error" not in cpu, cpu
        assert sorted(cpu["by_delta"]) == ["100", "20", "40"]
        for step in cpu["by_delta"].values():
            assert _number(step["cpu_ms_per_call_s"]["median"])
            assert step["sessions"] == cpu["calls"]

    assert results["meta"]["seconds"]["total"] > 0
    assert results["targets"], "no target was evaluated"
    assert all(t["met"] in (True, False, None) for t in results["targets"])


@pytest.mark.timeout(QUICK_TIMEOUT)
def test_missing_optional_parts_are_noted(quick_run: tuple[Path, dict[str, Any], str]) -> None:
    _, results, _ = quick_run
    notes = results["meta"]["notes"]
    assert ("vendor" in notes) != _vendor_installed()
    assert ("floor" in notes) == (not _has("orjson"))
    if not _has("scipy"):
        assert any("scipy" in n for n in results["figures"]["input_cost"]["notes"])


# -- the schedule of the load figures (pure) -------------------------------------------------


def _bisect(limit: int, start: int = 10, ceiling: int = 640) -> tuple[list[int], Any]:
    from benchmarks.schedule import Bisection

    schedule, order = Bisection(start, ceiling), []
    while (n := schedule.next()) is not None:
        order.append(n)
        schedule.record(n, n <= limit)
    return order, schedule


@pytest.mark.parametrize("limit", [0, 1, 9, 10, 95, 210, 333, 639])
def test_bisection_finds_the_limit_to_one_call(limit: int) -> None:
    order, schedule = _bisect(limit)
    assert schedule.passed == limit
    assert schedule.failed == limit + 1
    assert schedule.limit_reached
    assert len(order) == len(set(order)), order  # no count is measured twice


def test_bisection_is_one_schedule_for_every_client() -> None:
    order, _ = _bisect(95)
    assert order[:5] == [10, 20, 40, 80, 160]  # doubling, never capped by a client's CPU
    assert order[5:] == [120, 100, 90, 95, 97, 96]
    assert _bisect(95)[0] == order


def test_bisection_stops_at_the_ceiling() -> None:
    order, schedule = _bisect(10_000, start=4, ceiling=4)
    assert order == [4]
    assert schedule.passed == 4
    assert not schedule.limit_reached


def test_bisection_refuses_a_start_above_the_ceiling() -> None:
    from benchmarks.schedule import Bisection

    with pytest.raises(ValueError, match="start"):
        Bisection(10, 5)


def _window(lag: float, foreign: float = 0.0, alive: int = 4) -> dict[str, Any]:
    return {"sessions": 4, "alive": alive, "lag_p99_ms": lag, "foreign_cpu_share": foreign}


async def _collect(windows: list[dict[str, Any]], repeats: int, retries: int) -> Any:
    from benchmarks.schedule import collect

    pending = iter(windows)

    async def measure() -> dict[str, Any]:
        return dict(next(pending))

    return await collect(measure, repeats, retries)


async def test_a_window_under_foreign_load_is_measured_again() -> None:
    windows = [_window(3, 0.9), _window(3), _window(4, 0.5), _window(5), _window(6)]
    kept, discarded = await _collect(windows, repeats=3, retries=3)
    assert [w["lag_p99_ms"] for w in kept] == [3, 5, 6]
    assert [w["foreign_cpu_share"] for w in discarded] == [0.9, 0.5]
    assert all(w["quiet"] for w in kept)


async def test_a_window_that_never_got_a_quiet_machine_is_kept_and_marked() -> None:
    from benchmarks.schedule import summarize

    windows = [_window(3, 0.9), _window(3, 0.8), _window(4, 0.7), _window(5)]
    kept, discarded = await _collect(windows, repeats=3, retries=1)
    assert len(discarded) == 1
    assert [w["quiet"] for w in kept] == [False, False, True]
    assert summarize(4, kept, discarded)["quiet"] is False


def test_a_step_passes_on_the_median_of_its_repeats() -> None:
    from benchmarks.schedule import summarize

    one_bad = summarize(4, [_window(35.0), _window(5.0), _window(6.0)])
    assert one_bad["passed"]
    assert one_bad["lag_p99_ms"] == {"n": 3, "median": 6.0, "min": 5.0, "max": 35.0}
    assert not summarize(4, [_window(5.0), _window(30.0), _window(31.0)])["passed"]
    assert not summarize(4, [_window(1.0), _window(1.0), _window(1.0, alive=3)])["passed"]
    assert not summarize(4, [])["passed"]


def test_foreign_load_leaves_out_the_benchmark_and_the_kernel() -> None:
    from benchmarks.machine_load import Process, Snapshot, foreign_load

    me, parent = os.getpid(), os.getppid()
    child, stranger, newcomer, kthread = 10**7 + 1, 10**7 + 2, 10**7 + 3, 10**7 + 4

    def snap(t: float, cpu: float, extra: dict[int, Process]) -> Snapshot:
        processes = {
            me: Process("bench", parent, 5 * cpu),
            parent: Process("runner", 1, cpu),
            child: Process("emulator", me, 3 * cpu),
            stranger: Process("pytest", 1, cpu),
            kthread: Process("ksoftirqd/0", 2, cpu),
            **extra,
        }
        return Snapshot(t, processes, machine_busy_s=10 * cpu, available=True)

    before = snap(100.0, 1.0, {})
    after = snap(102.0, 2.0, {newcomer: Process("make", 1, 0.5)})
    load = foreign_load(before, after)
    assert load["foreign_cpu_share"] == pytest.approx((1.0 + 0.5) / 2)
    assert load["foreign_top"] == [["pytest", 0.5], ["make", 0.25]]
    assert load["kernel_cpu_share"] == pytest.approx(0.5)


# -- ratio targets ------------------------------------------------------------------------------


def test_ratio_targets_read_ours_over_the_other_client() -> None:
    from benchmarks.report.targets import check_all

    def cpu(ms: float) -> dict[str, Any]:
        return {"by_delta": {str(d): {"cpu_ms_per_call_s": {"median": ms}} for d in (20, 40, 100)}}

    figures = {
        "density": {"ours": {"sustained_sessions": 300}, "vendor": {"sustained_sessions": 95}},
        "cpu": {"ours": cpu(3.0), "vendor": cpu(7.0), "floor": cpu(2.5)},
    }
    checked = check_all({"figures": figures})
    assert checked["density.ratio"].met is True
    assert checked["density.ratio"].value == "3.16×"
    assert checked["cpu.vendor"].met is True
    assert checked["cpu.floor"].met is False  # 1.2× the floor
    figures["cpu"].pop("floor")
    assert check_all({"figures": figures})["cpu.floor"].met is None  # no floor: not applicable


# -- the server clock and the floor client, against the emulator ----------------------------------


def test_cpu_rounds_rotate_the_clients_and_merge_every_window() -> None:
    from benchmarks.call_cpu import merge_rounds, rounds_order

    assert [rounds_order(["a", "b", "c"], i) for i in range(4)] == [
        ["a", "b", "c"],
        ["b", "c", "a"],
        ["c", "a", "b"],
        ["a", "b", "c"],
    ]

    def one_window(cost: float, quiet: bool = True) -> dict[str, Any]:
        window = {"sessions": 4, "alive": 4, "lag_p99_ms": 3.0, "quiet": quiet}
        return {**window, "cpu_ms_per_call_s": cost}

    def result(cost: float, kept: bool = True) -> dict[str, Any]:
        step = {"repeats": [one_window(cost)] if kept else [], "discarded": [one_window(99, False)]}
        plan = {"settle_s": 1.0, "repeats": 1}
        return {"calls": 4, "deltas_ms": [20], "plan": plan, "by_delta": {"20": step}}

    rounds = [
        {"ours": result(10.0), "vendor": result(20.0)},
        {"vendor": result(26.0), "ours": result(12.0)},
        {"ours": result(11.0), "vendor": {"error": "worker died"}},
    ]
    merged = merge_rounds(rounds)
    ours, vendor = merged["ours"]["by_delta"]["20"], merged["vendor"]["by_delta"]["20"]
    assert ours["cpu_ms_per_call_s"] == {"n": 3, "median": 11.0, "min": 10.0, "max": 12.0}
    assert len(ours["discarded"]) == 3
    assert vendor["cpu_ms_per_call_s"] == {"n": 2, "median": 23.0, "min": 20.0, "max": 26.0}
    assert merged["ours"]["plan"]["rounds"] == 3
    assert merged["vendor"]["plan"]["rounds"] == 2
    assert merge_rounds([{"floor": {"error": "no orjson"}}]) == {"floor": {"error": "no orjson"}}


async def _floor_call(emu: Any, track: Any) -> Any:
    from benchmarks.common import bench_agent, make_model

    model = make_model("floor", emu.endpoint)
    model.set_agent(bench_agent())
    model.loop = asyncio.get_running_loop()
    model.audio_track = track
    await model.connect()
    return model


async def _say(model: Any, seconds: float, seed: int = 0) -> None:
    from benchmarks.common import FRAME_BYTES, caller_audio

    pcm = caller_audio(seconds, seed)
    for i in range(0, len(pcm), FRAME_BYTES):
        await model.handle_audio_input(pcm[i : i + FRAME_BYTES])


async def test_the_floor_client_completes_a_turn_and_a_barge_in() -> None:
    pytest.importorskip("orjson")
    from videosdk.agents.room.output_stream import TeeCustomAudioStreamTrack

    from benchmarks.probes import ServerClock
    from videosdk_plugins_azure.emulator import VoiceLiveEmulator

    class Track(TeeCustomAudioStreamTrack):  # type: ignore[misc]
        """The framework's track, telling the test when the floor finished or flushed."""

        def __init__(self) -> None:
            super().__init__(loop=asyncio.get_running_loop(), sinks=[], pipeline=None)
            self.bytes_in = 0
            self.finished, self.flushed = asyncio.Event(), asyncio.Event()

        async def add_new_bytes(self, audio_data: bytes) -> None:
            self.bytes_in += len(audio_data)
            await super().add_new_bytes(audio_data)

        def mark_synthesis_complete(self) -> None:
            super().mark_synthesis_complete()
            self.finished.set()

        def interrupt(self) -> None:
            super().interrupt()
            self.flushed.set()

    clock = ServerClock()
    track = Track()
    emu = VoiceLiveEmulator(speed=math.inf, tts="synthetic", model_latency=0.0)
    clock.watch(emu)
    async with emu:
        model = await _floor_call(emu, track)
        try:
            await _say(model, 3.0)
            await asyncio.wait_for(track.finished.wait(), 20)
            conn = emu.last_connection
            assert track.bytes_in == conn.output_audio_bytes > 0
            assert conn.events("session.update")[0]["session"]["input_audio_sampling_rate"]
            await _say(model, 1.5, seed=3)  # talks over the queued answer
            await asyncio.wait_for(track.flushed.wait(), 20)
        finally:
            await model.aclose()
            await track.cleanup()
    assert clock.count("session.updated") == 1
    assert clock.count("response.audio.delta") > 0
