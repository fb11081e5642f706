"""Figure 7: does a long call leak? RSS over one simulated hour of conversation.

One call runs for ``sim_minutes`` simulated minutes at ``scale`` × real time
(60 minutes at ×20 = 3 minutes of wall time): the caller asks a question every
6 s and talks over every third answer; the emulator (in its own process, so its
recordings do not count) answers at the same speed, and the framework's track
is drained on a clock that runs ``scale`` times fast. The process's RSS is
sampled every simulated minute. Growth is measured from the end of the warm-up
(imports, first turns, allocator pools) to the end, plus the least-squares slope
over the same span, in MB per simulated hour.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import numpy as np

from .load import Caller, EmulatorProcess, rss_bytes, scaled_clock, start_sessions

__all__ = ["MB", "run"]

MB = 1024 * 1024


async def run(kind: str, sim_minutes: float, scale: float, warmup_minutes: float) -> dict[str, Any]:
    """Figure 7 for one plugin (run it in a fresh process: it speeds up the track's clock)."""
    from videosdk.agents.room import output_stream

    output_stream.time = scaled_clock(scale)  # type: ignore[attr-defined]
    loop = asyncio.get_running_loop()
    samples: list[tuple[float, int]] = []
    async with EmulatorProcess(speed=scale) as emulator:
        caller = Caller(barge_every=3)
        sessions = await start_sessions(kind, emulator.endpoint, caller, 1, 0, time_scale=scale)
        session = sessions[0]
        try:
            start = loop.time()
            step = 0.5 if sim_minutes <= 5 else 1.0
            minute = 0.0
            while minute <= sim_minutes + 1e-9:
                await asyncio.sleep(max(0.0, start + minute * 60 / scale - loop.time()))
                samples.append((minute, rss_bytes()))
                minute += step
            alive = session.alive
        finally:
            await session.close()
    gc.collect()
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
        "caller_frames": session.frames_in,
        "agent_voiced_minutes": round(session.voiced_frames * 0.02 / 60, 1),
        "plugin_errors": session.errors,
        "alive_at_end": alive,
        "series": [[float(m), round(float(r), 2)] for m, r in zip(minutes, rss, strict=True)],
    }
