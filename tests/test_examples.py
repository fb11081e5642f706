"""The examples run: offline against the emulator, and with a clear message without Azure."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


async def run(script: str, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLES / script),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=EXAMPLES.parent,
        env={**os.environ, **(env or {})},
    )
    async with asyncio.timeout(120):
        out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_tools_agent_runs_offline() -> None:
    code, out, err = await run("tools_agent.py")
    assert code == 0, err[-2000:]
    assert "tool get_weather" in out
    assert "tool get_time" in out
    assert "approval asked: microsoft_docs.microsoft_docs_search" in out
    assert (
        "mcp microsoft_docs.microsoft_docs_search -> Set turn_detection to azure_semantic_vad."
        in out
    )
    assert "Traceback" not in err


@pytest.mark.parametrize("script", ["tools_agent.py"])
async def test_azure_mode_without_credentials_explains_itself(script: str) -> None:
    code, _, err = await run(script, "--azure", env={"AZURE_VOICE_LIVE_ENDPOINT": ""})
    assert code == 2
    assert "AZURE_VOICE_LIVE_ENDPOINT" in err
    assert "Traceback" not in err
