"""One measured window over a set of running calls (figures 6 and 8).

While the calls run, a 10 ms ticker measures the event loop's lag, garbage
collections are timed, and CPU is read for this process, the emulator's and (from
:mod:`.machine_load`) every other process on the machine. The machine snapshots
are taken before the ticker starts and after it stops, so reading ``/proc`` never
shows up as loop lag.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from .common import dist
from .load import DrivenSession, EmulatorProcess, cpu_seconds, loop_lag
from .machine_load import foreign_load, snapshot

__all__ = ["measure_window", "say"]


def say(text: str) -> None:
    """A progress line on stderr; the runner relays lines that start with ``[``."""
    print(text, file=sys.stderr, flush=True)


class _GcTimer:
    """Durations of the garbage collections that run while it is installed."""

    def __init__(self) -> None:
        self.pauses: list[tuple[int, float]] = []
        self._started: list[float] = []

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started.append(time.perf_counter())
        elif self._started:
            took = time.perf_counter() - self._started.pop()
            self.pauses.append((int(info.get("generation", -1)), took))


def _counters(sessions: Sequence[DrivenSession]) -> dict[int, tuple[int, int, int, int]]:
    return {id(s): (s.frames_in, s.voiced_frames, s.frames_out, s.frames_late) for s in sessions}


def _since(
    sessions: Sequence[DrivenSession], before: dict[int, tuple[int, int, int, int]]
) -> list[int]:
    """Frames in, voiced frames out, frames out, frames dropped late since ``before``."""
    now = _counters(sessions)
    return [sum(now[k][i] - before[k][i] for k in now) for i in range(4)]


async def measure_window(
    sessions: Sequence[DrivenSession], emulator: EmulatorProcess, window: float
) -> dict[str, Any]:
    """One window of ``window`` seconds over ``sessions``; every number of a step's repeat."""
    before = _counters(sessions)
    for s in sessions:
        s.backlog_max = 0
    lags: list[float] = []
    timer = _GcTimer()
    machine0 = snapshot()
    gc.callbacks.append(timer)
    ticker = asyncio.create_task(loop_lag(lags))
    cpu0, emu0, t0 = cpu_seconds(), cpu_seconds(emulator.pid), time.monotonic()
    try:
        await asyncio.sleep(window)
    finally:
        cpu1, emu1, t1 = cpu_seconds(), cpu_seconds(emulator.pid), time.monotonic()
        ticker.cancel()
        gc.callbacks.remove(timer)
    machine = foreign_load(machine0, snapshot())
    elapsed = t1 - t0
    n = max(1, len(sessions))
    frames_in, voiced, frames_out, late = _since(sessions, before)
    lag_ms = [x * 1000 for x in lags]
    return {
        "sessions": len(sessions),
        "alive": sum(1 for s in sessions if s.alive),
        "window_s": round(elapsed, 2),
        "loop_lag_ms": dist(lag_ms, 2),
        "lag_p99_ms": round(float(np.percentile(lag_ms, 99)), 3) if lag_ms else None,
        "cpu_share": round((cpu1 - cpu0) / elapsed, 3),
        "cpu_ms_per_call_s": round((cpu1 - cpu0) * 1000 / (n * elapsed), 4),
        "emulator_cpu_share": round((emu1 - emu0) / elapsed, 3),
        **machine,
        "input_realtime_ratio": round(frames_in / (n * elapsed / 0.02), 3),
        "output_realtime_ratio": round(frames_out / (n * elapsed / 0.02), 3),
        "agent_voiced_s_per_call_min": round(voiced * 0.02 / (n * elapsed / 60), 1),
        "max_input_backlog_frames": max((s.backlog_max for s in sessions), default=0),
        "input_frames_dropped_late": late,
        "errors": sum(s.errors for s in sessions),
        "gc_pause_ms": dist([d * 1000 for _, d in timer.pauses], 2),
        "gc_full_collections": sum(1 for g, _ in timer.pauses if g == 2),
    }
