"""``python -m benchmarks``: run every figure, both plugins, in one run; write the results.

Figures 1-2 run in this process (pure CPU work, interleaved rows). Figures 3-8
run in fresh worker processes, one per client (see :mod:`.worker`, :mod:`.spawn`);
timing figures run one worker at a time, the memory soaks of the two plugins run
side by side (memory does not care about a busy neighbour). The emulator runs in
its own process for figures 6-8. The floor client (:mod:`.floor`) joins figures 1
and 8, which every CPU figure is read against.

Figures 6 and 8 print a line per measured step (loop lag, CPU, the machine's
foreign load) as they go; the run's total time is printed at the end and kept in
``latest.json`` (``meta.seconds``).

Output: a table on stdout, and in ``--out`` (default ``benchmarks/results``):
``latest.json``, ``latest.md``, PNG plots, ``run.log`` (every log record of the
run) and, for a target ours missed, a profile of where the time (or memory) goes.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from . import call_cpu, input_cost, quality, report
from .common import FLOOR, OURS, available_plugins, floor_missing, machine, quiet_logging
from .spawn import Spawner

__all__ = ["DEFAULT_OUT", "FIGURES", "FULL", "QUICK", "ROOT", "Runner", "main", "parser"]

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = Path(__file__).resolve().parent / "results"

FULL: dict[str, Any] = {
    "input_pairs": 3000,
    "response_points": 64,
    "deltas": 600,
    "turns": 8,
    "barge_ins": 20,
    "density_start": 10,
    "density_ceiling": 640,
    "density_delta_ms": 100,
    "cpu_calls": 40,
    "cpu_deltas_ms": "20,40,100",
    "settle": 2.0,
    "window": 3.0,
    "repeats": 3,
    "retries": 3,
    "scaleout_processes": 4,
    "scaleout_seconds": 6.0,
    "memory_sim_minutes": 60.0,
    "memory_speed": 20.0,
    "memory_warmup": 2.0,
}
QUICK: dict[str, Any] = {
    "input_pairs": 300,
    "response_points": 16,
    "deltas": 50,
    "turns": 2,
    "barge_ins": 2,
    "density_start": 4,
    "density_ceiling": 4,
    "density_delta_ms": 100,
    "cpu_calls": 4,
    "cpu_deltas_ms": "20,40,100",
    "settle": 1.0,
    "window": 1.0,
    "repeats": 3,
    "retries": 0,
    "scaleout_processes": 2,
    "scaleout_seconds": 2.0,
    "memory_sim_minutes": 1.5,
    "memory_speed": 20.0,
    "memory_warmup": 0.5,
}
FIGURES = ("input_cost", "quality", "conversation", "density", "cpu", "scaleout", "memory")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Benchmark this plugin against the vendor's AzureVoiceLive, side by side.",
    )
    p.add_argument("--quick", action="store_true", help="a tiny configuration (smoke test)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where results are written")
    p.add_argument(
        "--only", default=",".join(FIGURES), help=f"comma-separated subset of {','.join(FIGURES)}"
    )
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument(
        "--no-profile", action="store_true", help="do not profile figures whose target was missed"
    )
    p.add_argument(
        "--plugins", default=None, help="comma-separated subset of ours,vendor (default: both)"
    )
    p.add_argument(
        "--no-floor", action="store_true", help="leave the floor client out of figures 1, 6 and 8"
    )
    return p


class Runner:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.cfg = dict(QUICK if args.quick else FULL)
        self.out: Path = args.out
        self.out.mkdir(parents=True, exist_ok=True)
        self.log = self.out / "run.log"
        self.work = self.out / ".work"
        self.work.mkdir(exist_ok=True)
        kinds, notes = available_plugins()
        if args.plugins:
            wanted = args.plugins.split(",")
            kinds = [k for k in kinds if k in wanted]
        self.kinds = kinds
        self.notes: dict[str, str] = notes
        missing = floor_missing()
        if missing is not None:
            self.notes[FLOOR] = missing
        self.floor = [] if args.no_floor or missing is not None else [FLOOR]
        """The floor client, when it takes part (figures 1, 6 and 8)."""
        self.only = {f.strip() for f in args.only.split(",") if f.strip()}
        self.timings: dict[str, float] = {}
        self.spawner = Spawner(ROOT, self.work, self.log)

    # -- workers ---------------------------------------------------------------------------

    async def worker(self, task: str, kind: str, **options: Any) -> dict[str, Any]:
        return await self.spawner.worker(task, kind, **options)

    async def per_plugin(
        self,
        task: str,
        parallel: bool | None = None,
        kinds: list[str] | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """One worker per client: one after the other, so timings never overlap.

        ``--quick`` runs them side by side to stay well under a minute; its numbers
        only show that every figure still runs.
        """
        if parallel is None:
            parallel = bool(self.args.quick)
        return await self.spawner.each(task, kinds or self.kinds, parallel, **options)

    def _plan(self) -> dict[str, Any]:
        """The step plan figures 6 and 8 share (the same windows for every client)."""
        cfg = self.cfg
        return {key: cfg[key] for key in ("settle", "window", "repeats", "retries")}

    # -- figures -----------------------------------------------------------------------------

    async def _cpu_rounds(self) -> dict[str, Any]:
        """Figure 8's repeats as rounds of one window per client (see :mod:`.call_cpu`)."""
        cfg, plan = self.cfg, self._plan()
        kinds = self.kinds + self.floor
        rounds = []
        for i in range(plan["repeats"]):
            rounds.append(
                await self.per_plugin(
                    "cpu",
                    kinds=call_cpu.rounds_order(kinds, i),
                    calls=cfg["cpu_calls"],
                    deltas_ms=cfg["cpu_deltas_ms"],
                    **{**plan, "repeats": 1},
                )
            )
        return call_cpu.merge_rounds(rounds)

    async def _in_process(self, figures: dict[str, Any]) -> None:
        cfg = self.cfg
        if "input_cost" in self.only:
            self._say("figure 1: input path cost")
            with self._timed("input_cost"):
                kinds = self.kinds + self.floor
                figures["input_cost"] = await input_cost.run(kinds, cfg["input_pairs"])
        if "quality" in self.only:
            self._say("figure 2: input audio quality")
            with self._timed("quality"):
                figures["quality"] = quality.run(cfg["response_points"])

    async def _conversation(self, figures: dict[str, Any]) -> None:
        cfg = self.cfg
        with self._timed("conversation"):
            self._say("figures 3-5: output latency, first audio, barge-in")
            conv = await self.per_plugin(
                "conversation",
                deltas=cfg["deltas"],
                turns=cfg["turns"],
                barge_ins=cfg["barge_ins"],
            )
            for name in ("output_latency", "first_audio", "barge_in"):
                figures[name] = {k: v.get(name, v) for k, v in conv.items()}

    async def _load(self, figures: dict[str, Any]) -> None:
        cfg = self.cfg
        if "density" in self.only:
            with self._timed("density"):
                self._say("figure 6: density (the same bisection for every plugin)")
                figures["density"] = await self.per_plugin(
                    "density",
                    kinds=self.kinds + self.floor,
                    start=cfg["density_start"],
                    ceiling=cfg["density_ceiling"],
                    delta_ms=cfg["density_delta_ms"],
                    **self._plan(),
                )
        if "cpu" in self.only:
            with self._timed("cpu"):
                self._say("figure 8: CPU per call-second, per delta size (in rounds)")
                figures["cpu"] = await self._cpu_rounds()
        if "scaleout" in self.only:
            with self._timed("scaleout"):
                self._say("figure 9: calls across processes on the framework's Worker")
                figures["scaleout"] = await self.per_plugin(
                    "scaleout",
                    processes=cfg["scaleout_processes"],
                    seconds=cfg["scaleout_seconds"],
                )

    async def _memory(self, figures: dict[str, Any]) -> None:
        cfg = self.cfg
        self._say("figure 7: memory over a simulated call (plugins side by side)")
        with self._timed("memory"):
            figures["memory"] = await self.per_plugin(
                "memory",
                parallel=True,
                sim_minutes=cfg["memory_sim_minutes"],
                speed=cfg["memory_speed"],
                warmup=cfg["memory_warmup"],
            )

    async def run(self) -> dict[str, Any]:
        figures: dict[str, Any] = {}
        started = time.monotonic()
        await self._in_process(figures)
        if "conversation" in self.only:
            await self._conversation(figures)
        await self._load(figures)
        if "memory" in self.only:
            await self._memory(figures)
        total = time.monotonic() - started
        return {
            "meta": {
                "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "mode": "quick" if self.args.quick else "full",
                "config": self.cfg,
                "plugins": self.kinds,
                "floor": bool(self.floor),
                "notes": self.notes,
                "machine": machine(),
                "load_average_at_start": _loadavg(),
                "seconds": {**self.timings, "total": round(total, 1)},
            },
            "figures": figures,
        }

    async def profile_misses(self, results: dict[str, Any]) -> dict[str, str]:
        """Profile ours on each figure whose target it missed; returns figure → profile text."""
        profiles: dict[str, str] = {}
        missed = {t["figure"] for t in results["targets"] if t["met"] is False}
        cfg = QUICK
        for figure in sorted(missed):
            path = self.out / f"profile_{figure}.txt"
            self._say(f"profiling ours for {figure} (target missed)")
            if figure == "input_cost":
                profiles[figure] = await _profile_input_cost(path, cfg["input_pairs"] * 5)
                continue
            if figure in ("output_latency", "barge_in", "first_audio"):
                options = {
                    "deltas": FULL["deltas"] if figure == "output_latency" else 0,
                    "barge_ins": FULL["barge_ins"] if figure == "barge_in" else 0,
                    "turns": FULL["turns"] if figure == "first_audio" else 0,
                }
                await self.worker("conversation", OURS, profile=path, **options)
            elif figure == "cpu":
                plan = {**self._plan(), "repeats": 1, "retries": 0}
                await self.worker(
                    "cpu", OURS, profile=path, calls=self.cfg["cpu_calls"], deltas_ms="20", **plan
                )
            elif figure == "memory":
                await self.worker(
                    "memory",
                    OURS,
                    profile=path,
                    sim_minutes=self.cfg["memory_sim_minutes"],
                    speed=self.cfg["memory_speed"],
                    warmup=self.cfg["memory_warmup"],
                )
            else:
                continue
            text = _read_text(path)
            if text is not None:
                profiles[figure] = text
        return profiles

    # -- helpers -------------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        print(f"[bench] {text}", file=sys.stderr, flush=True)

    def _timed(self, name: str) -> Any:
        runner = self

        class _Timer:
            def __enter__(self) -> None:
                self.t = time.monotonic()

            def __exit__(self, *exc: object) -> None:
                runner.timings[name] = round(time.monotonic() - self.t, 1)

        return _Timer()


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


def _write_text(path: Path, text: str) -> str:
    path.write_text(text)
    return text


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


async def _profile_input_cost(path: Path, pairs: int) -> str:
    try:
        from pyinstrument import Profiler
    except ImportError:
        return _write_text(path, "pyinstrument is not installed (pip install -e '.[bench]')\n")
    profiler = Profiler(async_mode="disabled", interval=0.0001)
    profiler.start()
    try:
        await input_cost.run([OURS], pairs)
    finally:
        profiler.stop()
    return _write_text(path, profiler.output_text(unicode=True, color=False))


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    runner = Runner(args)
    runner.log.unlink(missing_ok=True)
    quiet_logging(runner.log)
    results = asyncio.run(runner.run())
    results["targets"] = report.targets(results)
    if not args.no_profile and not args.quick:
        results["profiles"] = asyncio.run(runner.profile_misses(results))
    plots: list[str] = []
    plot_note: str | None = "plots skipped (--no-plots)"
    if not args.no_plots:
        plots, plot_note = report.plots(results, runner.out)
    results["meta"]["plots"] = plots
    if plot_note:
        results["meta"]["notes"]["plots"] = plot_note
    shutil.rmtree(runner.work, ignore_errors=True)
    (runner.out / "latest.json").write_text(json.dumps(report.public(results), indent=1))
    (runner.out / "latest.md").write_text(report.markdown(results))
    print(report.table(results))
    print(f"\nwritten: {runner.out / 'latest.json'}, {runner.out / 'latest.md'}", end="")
    print(f", {len(plots)} plot(s)" if plots else f" ({plot_note})")
    seconds = results["meta"]["seconds"]
    parts = ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items() if k != "total")
    print(f"total {seconds['total']:.0f} s ({parts})")
    return 0
