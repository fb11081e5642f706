"""Load and soak for RELIABILITY.md, with faults: many calls at once, and one very long call.

    python -m benchmarks.reliability              # 50 calls x 60 s, then 1 simulated hour at x20
    python -m benchmarks.reliability --quick      # 5 calls x 15 s, then 6 simulated minutes
    python -m benchmarks.reliability --part load  # one part only; prints its JSON line
    ... --no-faults                               # the same runs without faults
    ... --seed N                                  # another fault schedule (default 1)

* **Load:** ``sessions`` concurrent calls of this plugin in one process, against the
  emulator in another process (:mod:`.faults`, which takes fault orders on stdin),
  each streaming real-time 48 kHz stereo caller audio (a question every 6 s). Each
  call suffers a fault (drop, close 1000/1001/1006/1011 or ``session_expired``, the
  six dealt evenly and shuffled) at a seeded moment in the first 10-60 % of the run.
* **Soak:** one call for ``sim_minutes`` simulated minutes at ``scale`` x real time
  (the emulator, its think time, the caller and the framework track's clock all run
  fast), a barge-in every third answer, and a fault of a random kind every 2-5
  simulated minutes.

Both report the turn ledger (:mod:`.turns`: every detected turn answered, cut by the
fault, or lost), dead calls (not ready, or gave up, at the end), errors by code, and
whether asyncio tasks and open file descriptors are back where they started. A part
passes with no lost turn, no dead call, no fatal error, and tasks and fds back; the
process exits 1 when one does not. Each part runs in its own process (the soak
speeds up the track's clock process-wide) and prints one JSON line; the parent
writes ``benchmarks/results/reliability.json``. ``--kill`` is the harness's own
test: one call that is made unable to reconnect, which must be reported dead.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from .faults import Fault, FaultyEmulator, inject_all, load_schedule, soak_schedule
from .load import Caller, loop_lag, rss_bytes, start_sessions
from .memory import MB
from .memory import run as memory_run
from .turns import CallLog, verdict

__all__ = [
    "RESULTS",
    "SETTLE_SECONDS",
    "SOAK_FAULT_GAP",
    "load",
    "main",
    "open_fds",
    "parser",
    "passed",
    "soak",
]

RESULTS = Path(__file__).resolve().parent / "results" / "reliability.json"
SETTLE_SECONDS = 8.0
"""After the caller stops: long enough for the last answer to be generated and played."""
SOAK_FAULT_GAP = (120.0, 300.0)
"""A soak fault every 2 to 5 simulated minutes."""


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _resources() -> dict[str, int]:
    """Tasks other than the one asking, open fds, RSS: taken before and after a part."""
    gc.collect()
    tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    return {"tasks": len(tasks), "fds": open_fds(), "rss": rss_bytes()}


def _warm() -> None:
    """Import what a call uses, so the baseline is not taken before the imports."""
    import videosdk.agents.room.output_stream  # noqa: F401

    from .common import make_model

    make_model("ours", "ws://127.0.0.1:9")


async def load(
    sessions: int,
    seconds: float,
    seed: int,
    faults: bool,
    kill: bool = False,
    settle: float = SETTLE_SECONDS,
) -> dict[str, Any]:
    _warm()
    before = _resources()
    lags: list[float] = []
    loop = asyncio.get_running_loop()
    ticker = loop.create_task(loop_lag(lags))
    peak = [before["rss"]]
    sampler = loop.create_task(_sample_rss(peak))
    started = time.process_time()
    caller = Caller(barge_every=None)
    logs = [CallLog(i, caller.spans, len(caller.frames)) for i in range(sessions)]
    schedule = load_schedule(seed, sessions, seconds) if faults else []
    if kill:
        schedule = [Fault(round(0.3 * seconds, 3), 0, "kill")]
    async with FaultyEmulator(speed=1.0) as emulator:
        calls = await start_sessions("ours", emulator.endpoint, caller, sessions, 0, logs=logs)
        injector = loop.create_task(inject_all(emulator, schedule, logs))
        await asyncio.sleep(seconds)  # the load itself: calls stream for this long
        await injector
        for call in calls:
            call._tasks[0].cancel()  # the caller hangs up; answers still play out
        await asyncio.sleep(settle)
        result = verdict(calls, logs, time.monotonic())
        await asyncio.gather(*(call.close() for call in calls))
        cpu = time.process_time() - started
    for task in (ticker, sampler):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    after = _resources()
    lag_ms = np.array(lags) * 1000
    return {
        "sessions": sessions,
        "seconds": seconds,
        "seed": seed if faults else None,
        **result,
        "loop_lag_ms_p50": round(float(np.percentile(lag_ms, 50)), 2),
        "loop_lag_ms_p99": round(float(np.percentile(lag_ms, 99)), 2),
        "loop_lag_ms_max": round(float(lag_ms.max()), 2),
        "cpu_seconds_per_call_minute": round(cpu / sessions / (seconds / 60), 3),
        "rss_mb_before_peak_after": [
            round(x / MB, 1) for x in (before["rss"], peak[0], after["rss"])
        ],
        **_before_after(before, after),
    }


async def _sample_rss(peak: list[int]) -> None:
    while True:
        await asyncio.sleep(1.0)
        peak[0] = max(peak[0], rss_bytes())


def _before_after(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {
        "tasks_before": before["tasks"],
        "tasks_after_close": after["tasks"],
        "open_fds_before": before["fds"],
        "open_fds_after_close": after["fds"],
    }


async def soak(sim_minutes: float, scale: float, seed: int, faults: bool) -> dict[str, Any]:
    _warm()
    before = _resources()
    schedule = soak_schedule(seed, sim_minutes * 60, SOAK_FAULT_GAP) if faults else []
    result = await memory_run(
        "ours", sim_minutes, scale, warmup_minutes=min(5.0, sim_minutes / 4), faults=schedule
    )
    after = _resources()
    result.pop("series", None)
    result["seed"] = seed if faults else None
    result.update(_before_after(before, after))
    return result


def passed(part: str, result: dict[str, Any], faults: bool) -> bool:
    """The part's pass condition (see the module docstring)."""
    ok = (
        result["lost_turns"] == 0
        and result["dead_calls"] == 0
        and result["fatal_errors"] == 0
        and result["tasks_after_close"] == result["tasks_before"]
        and result["open_fds_after_close"] == result["open_fds_before"]
        and result["turns_detected"] > 0
    )
    if faults:
        ok = ok and result["calls_without_a_fault"] == 0
    if part == "soak":
        ok = ok and result["growth_mb"] < 10.0
    return bool(ok)


def _child(args: argparse.Namespace) -> int:
    faults = not args.no_faults
    load_avg = _load_average()
    if args.part == "load":
        sessions, seconds = (5, 15.0) if args.quick else (args.sessions, args.seconds)
        coro = load(sessions, seconds, args.seed, faults, kill=args.kill, settle=args.settle)
    else:
        minutes = 6.0 if args.quick else args.sim_minutes
        coro = soak(minutes, args.speed, seed=args.seed, faults=faults)
    result = asyncio.run(coro)
    result["load_average_1_5_15"] = {"start": load_avg, "end": _load_average()}
    result["passed"] = passed(args.part, result, faults)
    print(json.dumps(result), flush=True)
    return 0 if result["passed"] else 1


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.reliability",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--quick", action="store_true", help="5 calls x 15 s; 6 simulated minutes")
    p.add_argument("--part", choices=["load", "soak"], help="run one part in this process")
    p.add_argument("--no-faults", action="store_true", help="inject no fault")
    p.add_argument("--seed", type=int, default=1, help="seeds the fault schedule (default 1)")
    p.add_argument("--sessions", type=int, default=50, help="load: concurrent calls")
    p.add_argument("--seconds", type=float, default=60.0, help="load: seconds of streaming")
    p.add_argument("--sim-minutes", type=float, default=60.0, help="soak: simulated minutes")
    p.add_argument("--speed", type=float, default=20.0, help="soak: x real time")
    p.add_argument(
        "--settle", type=float, default=SETTLE_SECONDS, help="load: seconds after the hang-up"
    )
    p.add_argument("--kill", action="store_true", help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.part:
        return _child(args)
    results: dict[str, Any] = {"mode": "quick" if args.quick else "full", "cpus": os.cpu_count()}
    forwarded = [a for a in (argv if argv is not None else sys.argv[1:]) if a != "--part"]
    status = 0
    for part in ("load", "soak"):
        out = subprocess.run(  # noqa: S603 - our own module, our own arguments
            [sys.executable, "-m", "benchmarks.reliability", "--part", part, *forwarded],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
        if not lines:
            print(out.stderr[-3000:], file=sys.stderr)
            return 1
        results[part] = json.loads(lines[-1])
        if out.returncode:
            print(out.stderr[-3000:], file=sys.stderr)
        status |= out.returncode
        print(part, json.dumps(results[part], indent=2))
    results["date"] = time.strftime("%Y-%m-%d %H:%M %Z")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return status


if __name__ == "__main__":
    sys.exit(main())
