"""Load and soak for RELIABILITY.md: many calls at once, and one very long call.

    python -m benchmarks.reliability            # 50 calls x 60 s, then 1 simulated hour at x20
    python -m benchmarks.reliability --quick    # 5 calls x 15 s, then 6 simulated minutes

* **Load:** ``sessions`` concurrent calls of this plugin in one process, against the
  emulator in another process, each streaming real-time 48 kHz stereo caller audio
  (a question every 6 s). Every user turn the service detected must get its answer
  (zero lost turns) with zero errors; the event loop's lag is sampled every 10 ms.
* **Soak:** one call for ``sim_minutes`` simulated minutes at ``scale`` x real time
  (the emulator, the caller and the framework track's clock all run fast). RSS
  growth after warm-up, and whether asyncio tasks and open file descriptors are
  back to where they started once the call is closed.

Each part runs in its own process (the soak speeds up the track's clock process-wide)
and prints one JSON line; the parent writes ``benchmarks/results/reliability.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from .load import Caller, EmulatorProcess, loop_lag, start_sessions
from .memory import run as memory_run

__all__ = ["RESULTS", "SETTLE_SECONDS", "load", "main", "open_fds", "soak"]

RESULTS = Path(__file__).resolve().parent / "results" / "reliability.json"
SETTLE_SECONDS = 8.0
"""After the caller stops: long enough for the last answer to be generated and played."""


def _counter(counts: list[int], index: int) -> Any:
    def count(data: Any) -> None:
        counts[index] += 1

    return count


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def load(sessions: int, seconds: float) -> dict[str, Any]:
    lags: list[float] = []
    loop = asyncio.get_running_loop()
    ticker = loop.create_task(loop_lag(lags))
    started = time.process_time()
    async with EmulatorProcess(speed=1.0) as emulator:
        caller = Caller(barge_every=None)
        calls = await start_sessions("ours", emulator.endpoint, caller, sessions, 0)
        turns = [0] * sessions
        answers = [0] * sessions
        for i, call in enumerate(calls):
            call.model.on("user_speech_ended", _counter(turns, i))
            call.model.on("llm_text_output", _counter(answers, i))
        await asyncio.sleep(seconds)  # the load itself: calls stream for this long
        for call in calls:
            call._tasks[0].cancel()  # the caller hangs up; answers still play out
        await asyncio.sleep(SETTLE_SECONDS)
        alive = sum(call.alive or not call._tasks[1].done() for call in calls)
        errors = sum(call.errors for call in calls)
        dropped = sum(call.model.dropped_input_audio_bytes for call in calls)
        await asyncio.gather(*(call.close() for call in calls))
    ticker.cancel()
    lag_ms = np.array(lags) * 1000
    lost = sum(max(0, t - a) for t, a in zip(turns, answers, strict=True))
    return {
        "sessions": sessions,
        "seconds": seconds,
        "user_turns": sum(turns),
        "answers": sum(answers),
        "lost_turns": lost,
        "errors": errors,
        "dropped_input_audio_bytes": dropped,
        "calls_alive_at_end": alive,
        "loop_lag_ms_p50": round(float(np.percentile(lag_ms, 50)), 2),
        "loop_lag_ms_p99": round(float(np.percentile(lag_ms, 99)), 2),
        "loop_lag_ms_max": round(float(lag_ms.max()), 2),
        "cpu_seconds_per_call_minute": round(
            (time.process_time() - started) / sessions / (seconds / 60), 3
        ),
    }


async def soak(sim_minutes: float, scale: float) -> dict[str, Any]:
    gc.collect()
    tasks_before = len(asyncio.all_tasks())
    fds_before = open_fds()
    result = await memory_run("ours", sim_minutes, scale, warmup_minutes=min(5.0, sim_minutes / 4))
    gc.collect()
    result.pop("series", None)
    result["tasks_before"] = tasks_before
    result["tasks_after_close"] = len(asyncio.all_tasks())
    result["open_fds_before"] = fds_before
    result["open_fds_after_close"] = open_fds()
    return result


def _child(part: str, quick: bool) -> int:
    if part == "load":
        coro = load(5, 15.0) if quick else load(50, 60.0)
    else:
        coro = soak(6.0, 20.0) if quick else soak(60.0, 20.0)
    print(json.dumps(asyncio.run(coro)), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--part", choices=["load", "soak"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.part:
        return _child(args.part, args.quick)
    results: dict[str, Any] = {"mode": "quick" if args.quick else "full", "cpus": os.cpu_count()}
    for part in ("load", "soak"):
        import subprocess

        command = [sys.executable, "-m", "benchmarks.reliability", "--part", part]
        out = subprocess.run(  # noqa: S603 - our own module, fixed arguments
            command + (["--quick"] if args.quick else []),
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
        if out.returncode != 0 or not lines:
            print(out.stderr[-3000:], file=sys.stderr)
            return 1
        results[part] = json.loads(lines[-1])
        print(part, json.dumps(results[part], indent=2))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
