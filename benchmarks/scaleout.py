"""Figure 9: calls spread over processes by the framework's own worker engine.

How users outgrow one process is the framework's ``Worker``: in production the
VideoSDK cloud registry assigns it jobs (one job = one call, one room), and the
worker runs each in a process of its pool. The dispatch needs the cloud: with
``register=True`` the worker fetches its registry from ``api.videosdk.live`` and
waits for ``JobAssignment``s; with ``register=False`` ``WorkerJob.start()`` runs a
single entrypoint in the calling process (or, without a job context, idles). The
per-process part is local, though: ``Worker.initialize()`` builds a
``TaskExecutor`` over a pool of forkserver processes (``max_processes``,
``num_idle_processes``, one task per process at a time), and
``Worker.execute_job()`` hands it an entrypoint, exactly as an assignment does.

So this figure runs the real ``Worker`` offline, with no registration, and gives it
jobs through ``execute_job``: each job is one real-time call (the harness of
figure 6: the framework's output track, real-time caller audio, answers played out)
against one emulator process. Two waves of ``processes`` jobs run one after the
other: the first lands on fresh pool processes (which import the plugin when
their first job arrives), the second on the same processes, warm. Measured per
job, the way the worker sees it: time to accept (``execute_job`` called → the
entrypoint running in its process), and the process's CPU per call-second once
the call is up; for the pool, one job more than it has processes (rejected:
the worker does not queue), RSS per process, and calls per core.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

from .common import OURS, PLUGINS, dist, quiet_logging
from .load import Caller, DrivenSession, EmulatorProcess, caller_offset, cpu_seconds, rss_bytes

__all__ = ["WHAT_RUNS_WHERE", "call_job", "main", "run"]

WHAT_RUNS_WHERE = (
    "Dispatch is the cloud's: with `register=True` the Worker fetches its registry URL from "
    "`api.videosdk.live` (`worker.py` `_initialize_backend_connection`, `fetch_agent_init_config`) "
    "and only runs jobs the registry assigns (`_handle_assignment` → "
    "`_launch_job_from_assignment` → `process_manager.execute`).",
    "Offline, `WorkerJob.start()` with `register=False` runs one entrypoint in the calling "
    "process (`job.py`, `asyncio.run(self.entrypoint(job_context))`; `max_processes` unused), "
    "and without a job context the Worker only idles (`worker.py` `run_worker`: "
    "`while not worker._shutdown: await asyncio.sleep(1)`).",
    "The per-process engine is local and is what this figure runs: `Worker.initialize()` "
    "builds a `TaskExecutor` over forkserver processes (`execution/resources.py` "
    "`ProcessResource`), one task per process (`max_concurrent_tasks=1` in "
    "`Worker.initialize`), each task an `asyncio.run(entrypoint)` in its process; jobs go in "
    "through `Worker.execute_job()` as an assignment's do.",
    "A job beyond `max_processes` is refused, not queued (`resource_manager.py` "
    "`_acquire_resource` → `No available resources for task execution`). "
    "`Worker.execute_job` passes `args` after keywords, so any positional `args` collide "
    "with `entrypoint`; jobs here pass `kwargs`.",
)
"""What runs where when the framework's worker scales calls out (read from videosdk-agents)."""


async def call_job(
    kind: str, endpoint: str, seconds: float, index: int, submitted: float
) -> dict[str, Any]:
    """One job: one call for ``seconds``; what its process measured (runs in a pool process)."""
    accepted = time.time()
    quiet_logging(None)
    caller = Caller(barge_every=None)
    session = DrivenSession(kind, endpoint, caller, caller_offset(caller, index))
    try:
        await session.start()
        up, cpu_up = time.time(), cpu_seconds()
        await asyncio.sleep(seconds)
        cpu, wall = cpu_seconds() - cpu_up, time.time() - up
        alive = session.alive
    finally:
        await session.close()
    return {
        "pid": os.getpid(),
        "accept_ms": round((accepted - submitted) * 1000, 1),
        "connect_ms": round((up - accepted) * 1000, 1),
        "cpu_ms_per_call_s": round(cpu * 1000 / wall, 3),
        "frames_in": session.frames_in,
        "voiced_frames_out": session.voiced_frames,
        "alive_at_end": alive,
        "rss_mb": round(rss_bytes() / 2**20, 1),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _worker(processes: int) -> Any:
    """The framework's ``Worker``: a pool of ``processes``, no registration, loopback only."""
    from videosdk.agents.worker import ExecutorType, Worker, WorkerOptions

    options = WorkerOptions(
        entrypoint_fnc=call_job,
        auth_token="offline",  # noqa: S106 - required to construct; never sent (no registration)
        executor_type=ExecutorType.PROCESS,
        num_idle_processes=processes,
        max_processes=processes,
        register=False,
        host="127.0.0.1",
        port=_free_port(),
        log_level="ERROR",
    )
    return Worker(options)


async def _job(worker: Any, kind: str, endpoint: str, index: int, seconds: float) -> Any:
    """Hand one call to the worker as an assignment would (kwargs: its ``args`` path is broken)."""
    kwargs = {"kind": kind, "endpoint": endpoint, "seconds": seconds, "index": index}
    kwargs["submitted"] = time.time()
    job = {"entrypoint": call_job, "kwargs": kwargs, "retry_count": 0, "timeout": seconds + 120}
    return dict(await worker.execute_job(job))


async def _wave(
    worker: Any, kind: str, endpoint: str, jobs: int, seconds: float, extra: int = 0
) -> list[Any]:
    """``jobs`` calls at once, then ``extra`` more once every process is busy.

    The extra jobs' tasks are created last, so each of the others has taken its
    process (marked busy before its first await) when they ask for one.
    """
    count = jobs + extra
    return list(
        await asyncio.gather(*(_job(worker, kind, endpoint, i, seconds) for i in range(count)))
    )


def _summary(waves: list[list[dict[str, Any]]], parent_cpu: float, wall: float) -> dict[str, Any]:
    done = [j["result"] for wave in waves for j in wave if j.get("status") == "completed"]
    cpu = [r["cpu_ms_per_call_s"] for r in done]
    per_call = dist(cpu, 3)
    connect = [j["result"]["connect_ms"] for wave in waves for j in wave if j.get("result")]
    return {
        "connect_ms": dist(connect, 1),
        "jobs_completed": len(done),
        "jobs_failed": [
            j.get("error") for wave in waves for j in wave if j.get("status") != "completed"
        ],
        "accept_ms_first_wave": dist(
            [j["result"]["accept_ms"] for j in waves[0] if j.get("result")], 1
        ),
        "accept_ms_warm_wave": dist(
            [j["result"]["accept_ms"] for j in waves[1] if j.get("result")], 1
        ),
        "cpu_ms_per_call_s": per_call,
        "calls_per_core": round(1000 / per_call["p50"], 1) if per_call.get("p50") else None,
        "worker_parent_cpu_share": round(parent_cpu / wall, 3),
        "rss_mb_per_process": dist([r["rss_mb"] for r in done], 1),
        "processes_used": len({r["pid"] for r in done}),
        "alive_at_end": sum(1 for r in done if r["alive_at_end"]),
    }


async def run(kind: str, processes: int, seconds: float) -> dict[str, Any]:
    """Figure 9 for one plugin: two waves of ``processes`` calls on a pool of ``processes``."""
    worker = _worker(processes)
    async with EmulatorProcess(speed=1.0) as emulator:
        started = time.monotonic()
        await worker.initialize()
        ready_s = time.monotonic() - started
        try:
            cpu0, t0 = cpu_seconds(), time.monotonic()
            first = await _wave(worker, kind, emulator.endpoint, processes, seconds)
            *warm, beyond = await _wave(worker, kind, emulator.endpoint, processes, seconds, 1)
            parent_cpu, wall = cpu_seconds() - cpu0, time.monotonic() - t0
        finally:
            await worker.shutdown()
    out = _summary([first, warm], parent_cpu, wall)
    out |= {
        "plugin": kind,
        "processes": processes,
        "call_seconds": seconds,
        "pool_ready_s": round(ready_s, 2),
        "job_beyond_the_pool": {
            "status": beyond.get("status"),
            "error": beyond.get("error"),
            "pid": (beyond.get("result") or {}).get("pid"),
            "pool_pids": sorted({j["result"]["pid"] for j in [*first, *warm] if j.get("result")}),
        },
    }
    return out


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.scaleout", description=__doc__)
    p.add_argument("--plugin", choices=PLUGINS, default=OURS)
    p.add_argument("--processes", type=int, default=4)
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--out", type=Path, default=None)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    quiet_logging(None)
    os.environ.setdefault("PYTHONPATH", str(Path(__file__).resolve().parent.parent))
    result = asyncio.run(run(args.plugin, args.processes, args.seconds))
    text = json.dumps(result, indent=1)
    if args.out is not None:
        args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
