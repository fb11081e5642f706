"""The worker processes of a run: one per client and task, their progress relayed.

Each worker (:mod:`.worker`) runs one task for one client in a fresh process, writes
its result as JSON and prints one progress line per measured step on stderr. Those
lines (they start with ``[``) are relayed to the runner's stderr as they come, so a
long figure shows where it is and what load the machine had; the rest of stderr is
kept, and its tail is reported if the worker fails.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["TAIL_LINES", "Spawner"]

TAIL_LINES = 15
"""Lines of a failed worker's stderr kept in its result."""


class Spawner:
    """Starts workers from ``root`` with results in ``work`` and every log record in ``log``."""

    def __init__(self, root: Path, work: Path, log: Path) -> None:
        self.root = root
        self.work = work
        self.log = log

    def command(self, task: str, kind: str, out: Path, **options: Any) -> list[str]:
        cmd = [sys.executable, "-m", "benchmarks.worker", task, "--plugin", kind]
        cmd += ["--out", str(out), "--log", str(self.log)]
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
        paths = (str(self.root), env.get("PYTHONPATH", ""))
        env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
        return env

    async def worker(self, task: str, kind: str, **options: Any) -> dict[str, Any]:
        """Run one worker to its end; its result, or an ``error`` with its stderr's tail."""
        out = self.work / f"{task}-{kind}.json"
        out.unlink(missing_ok=True)
        proc = await asyncio.create_subprocess_exec(
            *self.command(task, kind, out, **options),
            cwd=str(self.root),
            env=self._env(),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        assert proc.stderr is not None
        tail: list[str] = []
        async for raw in proc.stderr:
            line = raw.decode(errors="replace").rstrip()
            if line.startswith("["):
                print(line, file=sys.stderr, flush=True)
            tail = [*tail[-(TAIL_LINES - 1) :], line]
        await proc.wait()
        result = _read_json(out)
        if proc.returncode != 0 or result is None:
            return {"error": f"worker {task}/{kind} failed ({proc.returncode})", "stderr": tail}
        return result

    async def each(
        self, task: str, kinds: Sequence[str], parallel: bool, **options: Any
    ) -> dict[str, Any]:
        """One worker per client: one after the other (timings never overlap) or side by side."""
        if parallel:
            results = await asyncio.gather(*(self.worker(task, k, **options) for k in kinds))
            return dict(zip(kinds, results, strict=True))
        return {kind: await self.worker(task, kind, **options) for kind in kinds}


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return dict(json.loads(path.read_text()))
    except FileNotFoundError:
        return None
