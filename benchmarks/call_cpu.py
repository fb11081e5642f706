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

The runner takes the repeats in rounds (:func:`rounds_order`, :func:`merge_rounds`):
one window per client and delta size per round, the clients in a rotating order. A
shared machine's speed drifts over minutes (another guest on the host, which no
process list inside this one shows); measured client after client, that drift
lands on one client's numbers and not the other's. Taken in rounds, every client
sees each stretch of the run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from .density import resize, step_line
from .load import Caller, DrivenSession, EmulatorProcess
from .schedule import Plan, collect, summarize
from .window import measure_window, say

__all__ = ["DELTAS_MS", "merge_rounds", "rounds_order", "run"]

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


def rounds_order(kinds: Sequence[str], round_index: int) -> list[str]:
    """The clients of one round, rotated by the round's index so none is always first."""
    shift = round_index % len(kinds) if kinds else 0
    return list(kinds[shift:]) + list(kinds[:shift])


def merge_rounds(rounds: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One figure from rounds of one window each: every step's windows, re-summarized.

    ``rounds`` are the runner's per-round results (client → :func:`run`'s result). A
    client whose worker failed in some round keeps the windows of the others.
    """
    merged: dict[str, Any] = {}
    kinds = {kind for one in rounds for kind in one}
    for kind in sorted(kinds):
        results = [one[kind] for one in rounds if "by_delta" in one.get(kind, {})]
        if not results:
            merged[kind] = next(one[kind] for one in rounds if kind in one)
            continue
        first = results[0]
        by_delta: dict[str, Any] = {}
        for delta in map(str, first["deltas_ms"]):
            steps = [r["by_delta"].get(delta) or {} for r in results]
            kept = [w for step in steps for w in step.get("repeats", [])]
            if not kept:
                by_delta[delta] = next(iter(steps), {})
                continue
            dropped = [w for step in steps for w in step.get("discarded", [])]
            by_delta[delta] = summarize(first["calls"], kept, dropped)
        plan = dict(first["plan"], repeats=len(results), rounds=len(results))
        merged[kind] = {**first, "by_delta": by_delta, "plan": plan}
    return merged
