"""A short load and soak with faults (the full ones are in RELIABILITY.md).

Each runs ``python -m benchmarks.reliability --part ...`` in a fresh process, as the
full runs do, but small: 3 calls for 10 s, each faulted once; 4 simulated minutes of
one call at x20 with a fault in them. They prove the harness still works (the calls
are faulted, their turns are counted, nothing is lost, nothing is left open), and
the last test proves it can fail: a call made unable to reconnect must be reported
dead, and the run must exit non-zero.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> tuple[int, dict[str, Any], str]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.reliability", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    assert lines, out.stderr[-3000:]
    return out.returncode, json.loads(lines[-1]), out.stderr[-3000:]


def assert_healthy(result: dict[str, Any], stderr: str) -> None:
    # a string, not the dict: pytest would cut a dict's repr short of the ledger
    why = json.dumps({k: v for k, v in result.items() if k != "series"}, indent=1) + "\n" + stderr
    assert result["dead_calls"] == 0, why
    assert result["fatal_errors"] == 0, why
    assert result["calls_without_a_fault"] == 0, why
    assert result["turns_detected"] > 0, why
    assert result["lost_turns"] == 0, why
    assert result["utterances_spoken"] > 0
    assert result["tasks_after_close"] == result["tasks_before"]
    assert result["open_fds_after_close"] == result["open_fds_before"]
    assert result["passed"]


@pytest.mark.timeout(180)
def test_short_load_with_a_fault_per_call() -> None:
    code, result, stderr = run(
        "--part", "load", "--sessions", "3", "--seconds", "10", "--settle", "4"
    )
    assert_healthy(result, stderr)
    assert code == 0
    assert sum(result["faults"].values()) == 3
    assert result["reconnects"] >= 3


@pytest.mark.timeout(180)
def test_short_soak_with_faults() -> None:
    code, result, stderr = run("--part", "soak", "--sim-minutes", "4")
    assert_healthy(result, stderr)
    assert code == 0
    assert result["agent_voiced_minutes"] > 0
    assert result["alive_at_end"]


@pytest.mark.timeout(180)
def test_a_call_that_cannot_come_back_fails_the_run() -> None:
    code, result, _ = run(
        "--part", "load", "--sessions", "1", "--seconds", "6", "--settle", "3", "--kill"
    )
    assert code == 1
    assert not result["passed"]
    assert result["dead_calls"] == 1
    assert result["dead"][0]["fatal"], result["dead"]
