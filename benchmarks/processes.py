"""The processes of a load run: the emulator's, and what this one costs.

The emulator runs in a process of its own so that its CPU and memory are not counted
against the plugin; :class:`EmulatorProcess` starts it on loopback, reads the port it
picked, keeps the tail of its log, and stops it. The rest measures processes: CPU
seconds, RSS, machine-wide busy time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from pathlib import Path

__all__ = [
    "EmulatorProcess",
    "cpu_seconds",
    "kill_leftover_emulators",
    "rss_bytes",
    "system_busy",
]


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds of a process (this one by default, at ns resolution)."""
    if pid is None:
        return time.process_time()
    try:
        import psutil

        c = psutil.Process(pid).cpu_times()
        return float(c.user + c.system)
    except ImportError:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks


def rss_bytes() -> int:
    """This process's resident set size."""
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except ImportError:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")


def system_busy() -> tuple[float, float]:
    """Machine-wide (busy, total) CPU seconds summed over all cores, from /proc/stat."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    total = sum(fields[:8])
    return (total - idle) / ticks, total / ticks


_RUNNING: set[asyncio.subprocess.Process] = set()


def kill_leftover_emulators() -> None:
    """Kill any emulator this process started and did not stop (e.g. after a crash)."""
    for proc in list(_RUNNING):
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        _RUNNING.discard(proc)


class EmulatorProcess:
    """``python -m videosdk_plugins_azure.emulator`` in its own process, on loopback.

    At ``speed`` x real time the model's think time is scaled too (the emulator's
    default latency divided by ``speed``): a soak at x20 is then a call at x20, not
    one whose model takes a whole question cycle to start answering.
    """

    module = "videosdk_plugins_azure.emulator"

    def __init__(self, speed: float, chunk_ms: int = 100) -> None:
        self.speed = speed
        self.chunk_ms = chunk_ms
        self.endpoint = ""
        self.proc: asyncio.subprocess.Process | None = None
        self.log_tail: list[str] = []
        """The emulator's last 50 log lines (stderr)."""
        self._stderr: asyncio.Task[None] | None = None

    def command(self) -> list[str]:
        from videosdk_plugins_azure.emulator._latency import (
            DEFAULT_LATENCY_JITTER,
            DEFAULT_MODEL_LATENCY,
        )

        scale = self.speed if self.speed > 0 else 1.0
        return [
            *(sys.executable, "-m", self.module, "--port", "0", "--speed", f"{self.speed:g}"),
            *("--chunk-ms", str(self.chunk_ms), "--tts", "synthetic", "--log-level", "ERROR"),
            *("--model-latency", f"{DEFAULT_MODEL_LATENCY / scale:g}"),
            *("--latency-jitter", f"{DEFAULT_LATENCY_JITTER / scale:g}"),
        ]

    async def __aenter__(self) -> EmulatorProcess:
        self.proc = await asyncio.create_subprocess_exec(
            *self.command(),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _RUNNING.add(self.proc)
        assert self.proc.stdout is not None
        assert self.proc.stderr is not None
        try:
            line = (await asyncio.wait_for(self.proc.stdout.readline(), 60)).decode()
        except TimeoutError:
            line = ""
        if not line.startswith("ready "):
            with contextlib.suppress(TimeoutError):
                line += (await asyncio.wait_for(self.proc.stderr.read(), 5)).decode()[-2000:]
            await self.stop()
            raise RuntimeError(f"the emulator did not start: {line!r}")
        self.endpoint = line.split()[1]
        self._stderr = asyncio.get_running_loop().create_task(self._keep_stderr())
        return self

    async def _keep_stderr(self) -> None:
        """Keep the tail of the emulator's log (read, so its pipe never fills)."""
        assert self.proc is not None
        assert self.proc.stderr is not None
        async for raw in self.proc.stderr:
            self.log_tail = [*self.log_tail[-49:], raw.decode(errors="replace").rstrip()]

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            if proc.returncode is None:
                proc.terminate()
                await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        finally:
            _RUNNING.discard(proc)
            stderr, self._stderr = self._stderr, None
            if stderr is not None:
                with contextlib.suppress(BaseException):
                    await asyncio.wait_for(stderr, 5)

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
