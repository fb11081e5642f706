"""The live suite runs: ``pytest -m live tests/live`` against the emulator's command line.

Maintainers run ``tests/live`` against Azure; CI has no Azure, so here the same
suite runs, unchanged, in a child pytest pointed at ``python -m
videosdk_plugins_azure.emulator`` (a separate process, as a real endpoint is).
Every live test must pass, none may skip: a suite that only ever skips in CI
would rot unseen. ``--record`` is on, so the cassettes it writes are checked too.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests._cli import ROOT, communicate, start_cli, stop_cli
from tests.live._target import ENTRA_ENV, read_target
from tests.live.emulator_script import write_script
from videosdk_plugins_azure.connection import ENDPOINT_ENV
from videosdk_plugins_azure.credentials import API_KEY_ENV
from videosdk_plugins_azure.emulator.cassette import Cassette

KEY = "live-suite-key"
"""The emulator's key: a placeholder, not a secret."""


@pytest.fixture
async def emulator_endpoint(tmp_path: Path) -> AsyncIterator[str]:
    """The emulator CLI with the suite's script; yields its endpoint from the ready line."""
    script = write_script(tmp_path / "live_script.json")
    # --model-latency 0 answers at once: this proves the suite runs; latency is the
    # emulator's own tests' job
    proc, ready = await start_cli(
        "--port", "0", "--api-key", KEY, "--scenario", str(script), "--model-latency", "0"
    )
    try:
        assert ready.startswith("ready "), ready
        yield ready.split()[1]
    finally:
        code, _, err = await stop_cli(proc)
    assert code == 0, err[-2000:]


@pytest.mark.timeout(150)
async def test_the_live_suite_passes_against_the_emulator(
    emulator_endpoint: str, tmp_path: Path
) -> None:
    drop = {*ENDPOINT_ENV, *API_KEY_ENV, ENTRA_ENV}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update({ENDPOINT_ENV[0]: emulator_endpoint, API_KEY_ENV[0]: KEY})
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "pytest",
        "-m",
        "live",
        "tests/live",
        "-q",
        "-p",
        "no:cacheprovider",
        "--record",
        str(tmp_path / "cassettes"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
        env=env,
    )
    out, err = await communicate(proc, 140)
    summary = out.strip().splitlines()[-1] if out.strip() else err[-2000:]
    assert proc.returncode == 0, out[-6000:] + err[-2000:]
    passed = re.search(r"(\d+) passed", summary)
    assert passed, summary
    assert int(passed.group(1)) >= 6, summary
    for outcome in ("skipped", "failed", "error", "deselected"):
        assert outcome not in summary, summary
    _check_cassettes(tmp_path / "cassettes", int(passed.group(1)))


def _check_cassettes(folder: Path, tests: int) -> None:
    """``--record``: one readable cassette per test, the reconnect's with both sessions."""
    cassettes = {path.stem: Cassette.load(path) for path in folder.glob("*.jsonl")}
    assert len(cassettes) == tests, sorted(cassettes)
    assert all(c.sessions for c in cassettes.values())
    reconnect = next(c for name, c in cassettes.items() if "reconnect" in name)
    assert len(reconnect.sessions) == 2
    for path in folder.glob("*.jsonl"):
        assert KEY not in path.read_text(encoding="utf-8"), f"{path.name} holds the key"


SECRET = "sk-not-a-real-key-9431"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"AZURE_VOICE_LIVE_API_KEY": SECRET}, None),  # no endpoint
        ({"AZURE_VOICE_LIVE_ENDPOINT": "https://r"}, None),  # no way to sign in
        ({"AZURE_VOICE_LIVE_ENDPOINT": "https://r", ENTRA_ENV: "0"}, None),
        (
            {"AZURE_VOICE_LIVE_ENDPOINT": "https://r", "AZURE_VOICE_LIVE_API_KEY": SECRET},
            (SECRET, False),
        ),
        ({"AZURE_VOICE_LIVE_ENDPOINT": "https://r", ENTRA_ENV: "1"}, (None, True)),
        # the explicit opt-in wins over a key that happens to be set
        (
            {
                "AZURE_VOICE_LIVE_ENDPOINT": "https://r",
                "AZURE_VOICE_LIVE_API_KEY": SECRET,
                ENTRA_ENV: "yes",
            },
            (None, True),
        ),
    ],
)
def test_the_live_suite_runs_only_when_told_where_and_how(
    env: dict[str, str], expected: tuple[str | None, bool] | None
) -> None:
    target = read_target(env)
    if expected is None:
        assert target is None
        return
    assert target is not None
    assert (target.api_key, target.use_entra) == expected
    assert target.endpoint == "https://r"
    assert target.model == "gpt-realtime"
    assert SECRET not in repr(target)
