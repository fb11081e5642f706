"""The command lines as child processes, for tests: the emulator's and the demo's.

Every server the command line starts (the emulator, ``record``, ``replay``) prints
one ``ready <endpoint>`` line once it listens and serves until SIGTERM, so tests
start it, read that line, and stop it here. A child that hangs is killed when its
time is up, so a failing test never leaves a process behind.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

__all__ = ["DEMO", "ROOT", "communicate", "run_cli", "run_demo", "start_cli", "stop_cli"]

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "offline_demo.py"
_AZURE_ENDPOINTS = ("AZURE_VOICE_LIVE_ENDPOINT", "AZURE_COGNITIVE_SERVICES_ENDPOINT")
"""Unset for the demo: with an endpoint in the environment it would not use the emulator."""

Process = asyncio.subprocess.Process


async def _spawn(program: tuple[str, ...]) -> Process:
    return await asyncio.create_subprocess_exec(
        *program, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT
    )


def _cli(args: tuple[str, ...]) -> tuple[str, ...]:
    return (sys.executable, "-m", "videosdk_plugins_azure.emulator", *args)


async def communicate(proc: Process, timeout: float) -> tuple[str, str]:
    """Everything ``proc`` writes until it exits (killed after ``timeout`` s): stdout, stderr."""
    try:
        async with asyncio.timeout(timeout):
            out, err = await proc.communicate()
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    return out.decode(), err.decode()


async def run_cli(*args: str, timeout: float = 30) -> tuple[int, str, str]:
    """A command line that ends by itself: its exit status, stdout and stderr."""
    proc = await _spawn(_cli(args))
    out, err = await communicate(proc, timeout)
    assert proc.returncode is not None
    return proc.returncode, out, err


async def start_cli(*args: str) -> tuple[Process, str]:
    """A server from the command line, and the first line it printed (its ready line)."""
    proc = await _spawn(_cli(args))
    assert proc.stdout is not None
    try:
        async with asyncio.timeout(30):
            line = (await proc.stdout.readline()).decode()
    except BaseException:
        await stop_cli(proc)
        raise
    return proc, line


async def stop_cli(proc: Process) -> tuple[int, str, str]:
    """SIGTERM; the exit status and what it wrote after its ready line (stdout, stderr)."""
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    out, err = await communicate(proc, 15)
    assert proc.returncode is not None
    return proc.returncode, out, err


async def run_demo(*args: str, cwd: Path, timeout: float = 100) -> tuple[int, str, str]:
    """``offline_demo.py`` run to its end in ``cwd``: its exit status, stdout and stderr."""
    env = {k: v for k, v in os.environ.items() if k not in _AZURE_ENDPOINTS}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(DEMO),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=cwd,
        env=env,
    )
    out, err = await communicate(proc, timeout)
    assert proc.returncode is not None
    return proc.returncode, out, err
