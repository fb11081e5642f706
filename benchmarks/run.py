"""``python -m benchmarks``: run every figure, both plugins, in one run; write the results.

Figures 1-2 run in this process (pure CPU work, interleaved rows). Figures 3-7
run in fresh worker processes, one per plugin (see :mod:`.worker`); timing
figures run one worker at a time, the memory soaks of the two plugins run side
by side (memory does not care about a busy neighbour). The emulator runs in its
own process for figures 6 and 7.

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

from . import input_cost, quality, report
from .common import OURS, available_plugins, machine, quiet_logging

__all__ = ["DEFAULT_OUT", "FIGURES", "FULL", "QUICK", "ROOT", "Runner", "main", "parser"]

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = Path(__file__).resolve().parent / "results"

FULL: dict[str, Any] = {
    "input_pairs": 3000,
    "response_points": 64,
    "deltas": 600,
    "turns": 8,
    "barge_ins": 20,
    "density_steps": "10,20,40,80,160,320",
    "density_settle": 2.0,
    "density_window": 8.0,
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
    "density_steps": "4",
    "density_settle": 1.0,
    "density_window": 2.0,
    "memory_sim_minutes": 1.5,
    "memory_speed": 20.0,
    "memory_warmup": 0.5,
}
FIGURES = ("input_cost", "quality", "conversation", "density", "memory")


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
        self.only = {f.strip() for f in args.only.split(",") if f.strip()}
        self.timings: dict[str, float] = {}

    # -- workers ---------------------------------------------------------------------------

    def _worker_cmd(self, task: str, kind: str, out: Path, **options: Any) -> list[str]:
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.worker",
            task,
            "--plugin",
            kind,
            "--out",
            str(out),
            "--log",
            str(self.log),
        ]
        for key, value in options.items():
            if value is None:
                continue
            flag = "--" + key.replace("_", "-")
            if isinstance(value, bool):
                cmd.append(flag if value else "--no-" + key.replace("_", "-"))
            else:
                cmd += [flag, str(value)]
        return cmd

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
        return env

    async def worker(self, task: str, kind: str, **options: Any) -> dict[str, Any]:
        out = self.work / f"{task}-{kind}.json"
        _remove(out)
        proc = await asyncio.create_subprocess_exec(
            *self._worker_cmd(task, kind, out, **options),
            cwd=str(ROOT),
            env=self._env(),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await proc.communicate()
        result = _read_json(out)
        if proc.returncode != 0 or result is None:
            tail = err.decode(errors="replace").strip().splitlines()[-15:]
            return {"error": f"worker {task}/{kind} failed ({proc.returncode})", "stderr": tail}
        return result

    async def per_plugin(
        self, task: str, parallel: bool | None = None, **options: Any
    ) -> dict[str, Any]:
        """One worker per plugin: one after the other, so timings never overlap.

        ``--quick`` runs them side by side to stay well under a minute; its numbers
        only show that every figure still runs.
        """
        if parallel is None:
            parallel = bool(self.args.quick)
        if parallel:
            results = await asyncio.gather(
                *(self.worker(task, kind, **options) for kind in self.kinds)
            )
            return dict(zip(self.kinds, results, strict=True))
        return {kind: await self.worker(task, kind, **options) for kind in self.kinds}

    # -- figures -----------------------------------------------------------------------------

    async def run(self) -> dict[str, Any]:
        cfg = self.cfg
        figures: dict[str, Any] = {}
        started = time.monotonic()
        if "input_cost" in self.only:
            self._say("figure 1: input path cost")
            with self._timed("input_cost"):
                figures["input_cost"] = await input_cost.run(self.kinds, cfg["input_pairs"])
        if "quality" in self.only:
            self._say("figure 2: input audio quality")
            with self._timed("quality"):
                figures["quality"] = quality.run(cfg["response_points"])
        if "conversation" in self.only:
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
        if "density" in self.only:
            with self._timed("density"):
                self._say("figure 6: density")
                figures["density"] = await self.per_plugin(
                    "density",
                    steps=cfg["density_steps"],
                    settle=cfg["density_settle"],
                    window=cfg["density_window"],
                    bisect=not self.args.quick,
                )
        if "memory" in self.only:
            self._say("figure 7: memory over a simulated call (plugins side by side)")
            with self._timed("memory"):
                figures["memory"] = await self.per_plugin(
                    "memory",
                    parallel=True,
                    sim_minutes=cfg["memory_sim_minutes"],
                    speed=cfg["memory_speed"],
                    warmup=cfg["memory_warmup"],
                )
        total = time.monotonic() - started
        return {
            "meta": {
                "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "mode": "quick" if self.args.quick else "full",
                "config": cfg,
                "plugins": self.kinds,
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


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


def _read_json(path: Path) -> dict[str, Any] | None:
    text = _read_text(path)
    return None if text is None else dict(json.loads(text))


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
    plots, plot_note = ([], "plots skipped (--no-plots)")
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
    return 0
