"""One plugin, one task, one fresh process: ``python -m benchmarks.worker TASK ...``.

The runner starts a worker per plugin so neither plugin inherits the other's
warm caches, garbage or process-wide framework state (``audio_format``,
``gc.freeze()`` after the first pipeline start), and so the memory soak can
speed up the output track's clock without touching anything else. The result
is written as JSON to ``--out``.

Tasks: ``conversation`` (figures 3-5), ``density`` (figure 6), ``memory`` (figure 7),
``cpu`` (figure 8), ``scaleout`` (figure 9). ``density`` and ``cpu`` also drive the floor
client (``--plugin floor``).
Progress lines (one per measured step) go to stderr; the runner relays them.
With ``--profile FILE`` the task runs under pyinstrument (``memory``: under
tracemalloc) and the profile is written to FILE.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from .common import CLIENTS, quiet_logging

__all__ = ["TASKS", "main", "parser"]


async def _conversation(args: argparse.Namespace) -> dict[str, Any]:
    from . import conversation

    out: dict[str, Any] = {}
    for name, count, figure in (
        ("output_latency", args.deltas, conversation.output_latency),
        ("first_audio", args.turns, conversation.first_audio),
        ("barge_in", args.barge_ins, conversation.barge_in),
    ):
        if count:
            started = time.monotonic()
            out[name] = await figure(args.plugin, count)
            out[name]["seconds"] = round(time.monotonic() - started, 1)
    return out


def _plan(args: argparse.Namespace) -> Any:
    from .schedule import Plan

    return Plan(args.settle, args.window, args.repeats, args.retries)


async def _density(args: argparse.Namespace) -> dict[str, Any]:
    from . import density

    return await density.run(args.plugin, args.start, args.ceiling, _plan(args), args.delta_ms)


async def _cpu(args: argparse.Namespace) -> dict[str, Any]:
    from . import call_cpu

    deltas = [int(x) for x in args.deltas_ms.split(",")]
    return await call_cpu.run(args.plugin, args.calls, deltas, _plan(args))


async def _memory(args: argparse.Namespace) -> dict[str, Any]:
    from . import memory

    return await memory.run(args.plugin, args.sim_minutes, args.speed, args.warmup)


async def _scaleout(args: argparse.Namespace) -> dict[str, Any]:
    from . import scaleout

    return await scaleout.run(args.plugin, args.processes, args.seconds)


TASKS: dict[str, Callable[[argparse.Namespace], Coroutine[Any, Any, dict[str, Any]]]] = {
    "conversation": _conversation,
    "density": _density,
    "memory": _memory,
    "cpu": _cpu,
    "scaleout": _scaleout,
}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.worker")
    p.add_argument("task", choices=sorted(TASKS))
    p.add_argument("--plugin", choices=CLIENTS, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--log", type=Path, default=None)
    p.add_argument("--profile", type=Path, default=None)
    p.add_argument("--deltas", type=int, default=0)
    p.add_argument("--turns", type=int, default=0)
    p.add_argument("--barge-ins", type=int, default=0)
    p.add_argument("--start", type=int, default=10, help="density: the first call count")
    p.add_argument("--ceiling", type=int, default=640, help="density: the largest call count")
    p.add_argument("--delta-ms", type=int, default=100, help="density: the emulator's delta size")
    p.add_argument("--calls", type=int, default=40, help="cpu: the fixed call count")
    p.add_argument("--deltas-ms", default="20,40,100", help="cpu: the delta sizes")
    p.add_argument("--processes", type=int, default=4, help="scaleout: the worker's pool")
    p.add_argument("--seconds", type=float, default=6.0, help="scaleout: each call's length")
    p.add_argument("--settle", type=float, default=2.0)
    p.add_argument("--window", type=float, default=4.0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--retries", type=int, default=3)
    p.add_argument("--sim-minutes", type=float, default=60.0)
    p.add_argument("--speed", type=float, default=20.0)
    p.add_argument("--warmup", type=float, default=2.0)
    return p


def _run_profiled(args: argparse.Namespace) -> dict[str, Any]:
    task = TASKS[args.task]
    if args.profile is None:
        return asyncio.run(task(args))
    if args.task == "memory":
        import tracemalloc

        tracemalloc.start(12)
        return asyncio.run(_traced_memory(args))
    try:
        from pyinstrument import Profiler
    except ImportError:
        args.profile.write_text("pyinstrument is not installed (pip install -e '.[bench]')\n")
        return asyncio.run(task(args))
    _preload(args.plugin)  # keep import time out of the profile
    profiler = Profiler(async_mode="disabled", interval=0.0005)
    profiler.start()
    try:
        result: dict[str, Any] = asyncio.run(task(args))
    finally:
        profiler.stop()
    args.profile.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
    return result


def _preload(kind: str) -> None:
    import videosdk.agents  # noqa: F401

    import videosdk_plugins_azure
    import videosdk_plugins_azure.emulator
    import videosdk_plugins_azure.testing  # noqa: F401

    from . import call_cpu, conversation, density, memory  # noqa: F401
    from .common import make_model

    make_model(kind, "ws://127.0.0.1:9")  # imports the plugin; never connects


async def _traced_memory(args: argparse.Namespace) -> dict[str, Any]:
    """The soak, with the allocations that grew between warm-up and the end written out."""
    import tracemalloc

    from . import memory

    snapshots: list[Any] = []

    async def snap_after(delay: float) -> None:
        await asyncio.sleep(delay)
        snapshots.append(tracemalloc.take_snapshot())

    warm_wall = args.warmup * 60 / args.speed + 5.0
    end_wall = args.sim_minutes * 60 / args.speed + 4.0
    tasks = [asyncio.create_task(snap_after(warm_wall)), asyncio.create_task(snap_after(end_wall))]
    result = await memory.run(args.plugin, args.sim_minutes, args.speed, args.warmup)
    for t in tasks:
        t.cancel()
    lines = [f"tracemalloc: growth between t={warm_wall:.0f}s and t={end_wall:.0f}s (wall)"]
    if len(snapshots) == 2:
        stats = snapshots[1].compare_to(snapshots[0], "traceback")
        for stat in stats[:15]:
            lines.append(f"{stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks")
            lines.extend("    " + line for line in stat.traceback.format()[-8:])
    args.profile.write_text("\n".join(lines) + "\n")
    return result


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    quiet_logging(args.log)
    try:
        result = _run_profiled(args)
    finally:
        from .load import kill_leftover_emulators

        kill_leftover_emulators()
    args.out.write_text(json.dumps(result, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
