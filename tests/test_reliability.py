"""A short load and soak (the full ones are in RELIABILITY.md): nothing lost, nothing leaked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("part", ["load", "soak"])
def test_short_load_and_soak(part: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.reliability", "--part", part, "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads([line for line in out.stdout.splitlines() if line.startswith("{")][-1])
    if part == "load":
        assert result["user_turns"] > 0
        assert result["lost_turns"] == 0
        assert result["errors"] == 0
        assert result["calls_alive_at_end"] == result["sessions"]
    else:
        assert result["plugin_errors"] == 0
        assert result["alive_at_end"]
        assert result["tasks_after_close"] == result["tasks_before"]
        assert result["open_fds_after_close"] == result["open_fds_before"]
        assert result["agent_voiced_minutes"] > 0
