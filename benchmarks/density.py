"""Figure 6: how many real-time calls one process carries with a responsive event loop.

The call count is stepped in one process, with the emulator in another
(``chunk_ms`` = the delta size, a parameter). Every call streams real-time 48 kHz
stereo caller audio (a question every 6 s) and gets spoken answers, which its drain
plays out in real time. Every client gets the same schedule and the same windows
(:mod:`.schedule`): counts double from ``start`` until a step fails, then the
bracket is bisected until the limit is known to ±1 call. Each step settles, then
takes ``repeats`` windows (a 10 ms ticker measures the loop's lag in each); a window
under foreign load is measured again. A step passes when the median of its windows'
lag p99 is under 20 ms and every call stayed up.

The figure is the largest passing count, plus the CPU one call costs there
(process CPU ms per call-second, median and spread). The emulator's own CPU share
is reported too: if it saturated its core, the step measured the emulator, not the
client.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .load import Caller, DrivenSession, EmulatorProcess, caller_offset
from .schedule import LAG_LIMIT_MS, Bisection, Plan, collect, summarize
from .window import measure_window, say

__all__ = ["BATCH", "EMULATOR_SATURATED", "LAG_LIMIT_MS", "resize", "run", "step_line"]

BATCH = 10
"""Calls connected at once while a step grows."""
EMULATOR_SATURATED = 0.9
"""An emulator using this much of its core may be the bottleneck of the step."""


async def _grow(
    kind: str, endpoint: str, caller: Caller, sessions: list[DrivenSession], n: int
) -> str | None:
    """Connect calls up to ``n``, ``BATCH`` at a time; the error, if some could not.

    A batch that did not fully connect is closed and left out, so ``sessions``
    only ever holds calls that started.
    """
    limit = 60 + n / 2
    error: str | None = None
    batch: list[DrivenSession] = []
    try:
        async with asyncio.timeout(limit):
            while error is None and len(sessions) < n:
                first = len(sessions)
                batch = [
                    DrivenSession(kind, endpoint, caller, caller_offset(caller, i))
                    for i in range(first, min(n, first + BATCH))
                ]
                outcomes = await asyncio.gather(*(s.start() for s in batch), return_exceptions=True)
                failed = [o for o in outcomes if isinstance(o, BaseException)]
                if failed:
                    error = f"{len(failed)} call(s) did not connect: {failed[0]!r}"
                else:
                    sessions += batch
                    batch = []
    except TimeoutError:
        error = f"connecting {n} calls took longer than {limit:.0f} s"
    await asyncio.gather(*(s.close() for s in batch))
    return error


async def resize(
    kind: str, endpoint: str, caller: Caller, sessions: list[DrivenSession], n: int
) -> str | None:
    """Close or connect calls until there are ``n``; the error, if they could not connect."""
    while len(sessions) > n:
        await sessions.pop().close()
    return await _grow(kind, endpoint, caller, sessions, n)


def step_line(figure: str, kind: str, step: dict[str, Any]) -> str:
    """The progress line of one step: lag, CPU, the machine's load and the verdict."""
    if "error" in step:
        return f"[{figure} {kind}] {step['sessions']} calls: {step['error']}"
    lag, foreign = step["lag_p99_ms"], step["foreign_cpu_share"]
    busiest = {name for w in step["repeats"] for name, _ in w.get("foreign_top", [])[:1]}
    verdict = "pass" if step["passed"] else "FAIL"
    return (
        f"[{figure} {kind}] {step['sessions']} calls: lag p99 {lag.get('median')} ms "
        f"({lag.get('min')}–{lag.get('max')}) · CPU {step['cpu_share'].get('median')} core · "
        f"emulator {step['emulator_cpu_share'].get('median')} · foreign load "
        f"{foreign.get('median')} core (max {foreign.get('max')}"
        f"{', ' + ', '.join(sorted(busiest)) if busiest else ''}) · "
        f"{len(step['discarded'])} window(s) re-measured · {verdict}"
        f"{'' if step['quiet'] else ' · NOISY: never got a quiet window'}"
    )


async def _measure_step(
    kind: str,
    emulator: EmulatorProcess,
    caller: Caller,
    sessions: list[DrivenSession],
    n: int,
    plan: Plan,
) -> dict[str, Any]:
    error = await resize(kind, emulator.endpoint, caller, sessions, n)
    if error is not None:
        return {"sessions": n, "passed": False, "quiet": True, "error": error}
    await asyncio.sleep(plan.settle)
    kept, discarded = await collect(
        lambda: measure_window(sessions, emulator, plan.window), plan.repeats, plan.retries
    )
    step = summarize(n, kept, discarded)
    step["emulator_saturated"] = step["emulator_cpu_share"].get("max", 0) >= EMULATOR_SATURATED
    return step


async def run(
    kind: str, start: int, ceiling: int, plan: Plan, delta_ms: int = 100
) -> dict[str, Any]:
    """Figure 6 for one client."""
    caller = Caller(barge_every=None)
    sessions: list[DrivenSession] = []
    schedule = Bisection(start, ceiling)
    steps: list[dict[str, Any]] = []
    async with EmulatorProcess(speed=1.0, chunk_ms=delta_ms) as emulator:
        try:
            while (n := schedule.next()) is not None:
                step = await _measure_step(kind, emulator, caller, sessions, n, plan)
                schedule.record(n, step["passed"])
                steps.append(step)
                say(step_line("density", kind, step))
        finally:
            await asyncio.gather(*(s.close() for s in sessions))
    by_count = {s["sessions"]: s for s in steps}
    best = by_count.get(schedule.passed)
    return {
        "lag_limit_ms": LAG_LIMIT_MS,
        "schedule": {"start": start, "ceiling": ceiling, "delta_ms": delta_ms, **plan.describe()},
        "order": [s["sessions"] for s in steps],
        "steps": sorted(steps, key=lambda s: s["sessions"]),
        "sustained_sessions": schedule.passed,
        "first_failing": schedule.failed,
        "limit_reached": schedule.limit_reached,
        "cpu_ms_per_call_s_at_sustained": best["cpu_ms_per_call_s"] if best else None,
        "noisy_steps": [s["sessions"] for s in steps if not s.get("quiet", True)],
    }
