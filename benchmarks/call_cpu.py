"""Figure 8: what one call costs in CPU, at a fixed load, for each audio delta size.

The same calls as figure 6 (real-time caller audio, spoken answers played out in
real time, the emulator in its own process), at one fixed count that no client
saturates, for each size of ``response.audio.delta`` the emulator sends (its
``chunk_ms``: 20, 40 and 100 ms by default). The service's delta size is not the
client's choice, and each delta costs a client a parse, a decode and a write into
the track, so the smaller the deltas the more a client's per-event overhead shows.

Each delta size is one step of :mod:`.schedule` (settle, then ``repeats`` windows,
noisy ones measured again) with a fresh emulator. The figure is process CPU ms per
call-second, median and spread; the report reads it as ratios to the vendor's and
to the floor client's, measured the same way in the same run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from .density import resize, step_line
from .load import Caller, DrivenSession, EmulatorProcess
from .schedule import Plan, collect, summarize
from .window import measure_window, say

__all__ = ["DELTAS_MS", "run"]

DELTAS_MS = (20, 40, 100)
"""The delta sizes measured by default (ms of 24 kHz audio per ``response.audio.delta``)."""


async def _at_delta(
    kind: str, caller: Caller, calls: int, delta_ms: int, plan: Plan
) -> dict[str, Any]:
    sessions: list[DrivenSession] = []
    async with EmulatorProcess(speed=1.0, chunk_ms=delta_ms) as emulator:
        try:
            error = await resize(kind, emulator.endpoint, caller, sessions, calls)
            if error is not None:
                return {"sessions": calls, "error": error}
            await asyncio.sleep(plan.settle)
            kept, discarded = await collect(
                lambda: measure_window(sessions, emulator, plan.window),
                plan.repeats,
                plan.retries,
            )
        finally:
            await asyncio.gather(*(s.close() for s in sessions))
    step = summarize(calls, kept, discarded)
    say(step_line(f"cpu {delta_ms} ms deltas", kind, step))
    return step


async def run(kind: str, calls: int, deltas_ms: Sequence[int], plan: Plan) -> dict[str, Any]:
    """Figure 8 for one client: a step per delta size."""
    caller = Caller(barge_every=None)
    by_delta = {str(d): await _at_delta(kind, caller, calls, d, plan) for d in deltas_ms}
    return {
        "calls": calls,
        "deltas_ms": list(deltas_ms),
        "plan": plan.describe(),
        "by_delta": by_delta,
    }
