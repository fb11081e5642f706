"""Figure 7: does a long call leak? RSS over one simulated hour of conversation.

One call runs for ``sim_minutes`` simulated minutes at ``scale`` × real time
(60 minutes at ×20 = 3 minutes of wall time): the caller asks a question every
6 s and talks over every third answer; the emulator (in its own process, so its
recordings do not count) answers at the same speed, its think time scaled too,
and the framework's track is drained on a clock that runs ``scale`` times fast.
The process's RSS is sampled every simulated minute. Growth is measured from the
end of the warm-up (imports, first turns, allocator pools) to the end, plus the
least-squares slope over the same span, in MB per simulated hour.

With ``faults`` (a schedule from :func:`.faults.soak_schedule`, possibly empty) the
call is also faulted on schedule through :class:`.faults.FaultyEmulator` and kept
in a :class:`.turns.CallLog`; at the end the caller hangs up, the last answer
plays out, and the result adds the turn ledger, dead calls and errors
(:func:`.turns.verdict`).
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from .faults import Fault, FaultyEmulator, inject_all
from .load import Caller, EmulatorProcess, rss_bytes, scaled_clock, start_sessions
from .turns import CallLog, verdict

__all__ = ["MB", "SETTLE_SIM_SECONDS", "run"]

MB = 1024 * 1024
SETTLE_SIM_SECONDS = 20.0
"""With faults: simulated seconds between the hang-up and the verdict (the last answer)."""


async def _sample(sim_minutes: float, scale: float) -> list[tuple[float, int]]:
    """RSS once per simulated minute (every 30 s for short runs) until ``sim_minutes``."""
    loop = asyncio.get_running_loop()
    samples: list[tuple[float, int]] = []
    start = loop.time()
    step = 0.5 if sim_minutes <= 5 else 1.0
    minute = 0.0
    while minute <= sim_minutes + 1e-9:
        await asyncio.sleep(max(0.0, start + minute * 60 / scale - loop.time()))
        samples.append((minute, rss_bytes()))
        minute += step
    return samples


async def run(
    kind: str,
    sim_minutes: float,
    scale: float,
    warmup_minutes: float,
    faults: Sequence[Fault] | None = None,
) -> dict[str, Any]:
    """Figure 7 for one plugin (run it in a fresh process: it speeds up the track's clock)."""
    from videosdk.agents.room import output_stream

    output_stream.time = scaled_clock(scale)  # type: ignore[attr-defined]
    caller = Caller(barge_every=3)
    if faults is not None:
        logs = [CallLog(0, caller.spans, len(caller.frames))]
        faulty = FaultyEmulator(speed=scale)
        async with faulty:
            sessions = await start_sessions(
                kind, faulty.endpoint, caller, 1, 0, time_scale=scale, logs=logs
            )
            injector = asyncio.ensure_future(inject_all(faulty, faults, logs, scale))
            samples, alive, extra = await _soak(sessions, sim_minutes, scale, injector, logs)
    else:
        async with EmulatorProcess(speed=scale) as emulator:
            sessions = await start_sessions(kind, emulator.endpoint, caller, 1, 0, time_scale=scale)
            samples, alive, extra = await _soak(sessions, sim_minutes, scale, None, [])
    gc.collect()
    figure = _figure(samples, warmup_minutes, sim_minutes, scale)
    return {**figure, **_totals(sessions[0], alive), **extra}


async def _soak(
    sessions: list[Any],
    sim_minutes: float,
    scale: float,
    injector: asyncio.Future[None] | None,
    logs: list[CallLog],
) -> tuple[list[tuple[float, int]], bool, dict[str, Any]]:
    """Sample RSS for the whole call; with faults, hang up, let it settle, judge it."""
    session = sessions[0]
    extra: dict[str, Any] = {}
    try:
        samples = await _sample(sim_minutes, scale)
        alive = session.alive  # at the end of the call, before the caller hangs up
        if injector is not None:
            await injector
            session._tasks[0].cancel()  # the caller hangs up; the last answer plays out
            await asyncio.sleep(SETTLE_SIM_SECONDS / scale)
            extra = verdict(sessions, logs, time.monotonic())
        return samples, alive, extra
    finally:
        if injector is not None:
            injector.cancel()
            await asyncio.gather(injector, return_exceptions=True)
        await session.close()


def _totals(session: Any, alive: bool) -> dict[str, Any]:
    return {
        "caller_frames": session.frames_in,
        "agent_voiced_minutes": round(session.voiced_frames * 0.02 / 60, 1),
        "plugin_errors": session.errors,
        "alive_at_end": alive,
    }


def _figure(
    samples: list[tuple[float, int]], warmup_minutes: float, sim_minutes: float, scale: float
) -> dict[str, Any]:
    after_gc = rss_bytes()
    minutes = np.array([m for m, _ in samples])
    rss = np.array([r for _, r in samples], dtype=float) / MB
    warm = minutes >= warmup_minutes
    base = float(rss[warm][0])
    slope = float(np.polyfit(minutes[warm], rss[warm], 1)[0]) * 60 if warm.sum() > 2 else None
    return {
        "sim_minutes": sim_minutes,
        "speed": scale,
        "warmup_minutes": warmup_minutes,
        "rss_start_mb": round(float(rss[0]), 1),
        "rss_after_warmup_mb": round(base, 1),
        "rss_end_mb": round(float(rss[-1]), 1),
        "rss_peak_mb": round(float(rss.max()), 1),
        "growth_mb": round(float(rss[-1]) - base, 2),
        "slope_mb_per_hour": round(slope, 2) if slope is not None else None,
        "rss_after_close_and_gc_mb": round(after_gc / MB, 1),
        "series": [[float(m), round(float(r), 2)] for m, r in zip(minutes, rss, strict=True)],
    }
