"""``record`` and ``replay`` as separate processes on loopback, driven by the real SDK.

The emulator runs as its own process too, standing in for the service: the
recording proxy forwards to it, then the emulator is gone and the replay alone
answers the same client.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from azure.ai.voicelive.aio import connect
from azure.core.credentials import AzureKeyCredential

from tests._cli import run_cli, start_cli, stop_cli
from videosdk_plugins_azure.emulator import Cassette

from .conftest import recv_until

KEY = "cli-cassette-key-9b8a7c6d"


async def ask(endpoint: str) -> str:
    """A text question; the answer's text."""
    async with connect(
        endpoint=endpoint, credential=AzureKeyCredential(KEY), model="gpt-realtime"
    ) as conn:
        await conn.send({"type": "session.update", "session": {"modalities": ["text"]}})
        await recv_until(conn, "session.updated")
        item: dict[str, Any] = {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "hello"}],
        }
        await conn.send({"type": "conversation.item.create", "item": item})
        await conn.response.create()
        events = await recv_until(conn, "response.done", timeout=20)
    return str(next(e.text for e in events if e.type == "response.text.done"))


async def test_record_then_replay_from_the_command_line(tmp_path: Path) -> None:
    script = tmp_path / "scenario.json"
    script.write_text(json.dumps({"turns": [{"reply": "Recorded answer."}]}))
    cassette = tmp_path / "call.jsonl"
    emulator, line = await start_cli(
        "--api-key", KEY, "--speed", "0", "--model-latency", "0", "--scenario", str(script)
    )
    try:
        upstream = line.split()[1]
        recorder, line = await start_cli("record", "--upstream", upstream, "--out", str(cassette))
        try:
            assert line.startswith("ready ws://127.0.0.1:")
            assert await ask(line.split()[1]) == "Recorded answer."
        finally:
            code, out, err = await stop_cli(recorder)
        assert (code, out) == (0, "")
        assert "recorded 1 session(s)" in err
    finally:
        await stop_cli(emulator)
    assert KEY not in cassette.read_text()
    assert len(Cassette.load(cassette).sessions) == 1

    replay, line = await start_cli("replay", str(cassette), "--speed", "0")
    try:
        assert await ask(line.split()[1]) == "Recorded answer."
    finally:
        code, out, err = await stop_cli(replay)
    assert (code, out, err) == (0, "", "")

    replay, line = await start_cli("replay", str(cassette))
    try:
        async with connect(
            endpoint=line.split()[1], credential=AzureKeyCredential("x"), model="gpt-realtime"
        ) as conn:
            await conn.send({"type": "session.update", "session": {"modalities": ["text"]}})
            await recv_until(conn, "session.updated")
            await conn.response.create()  # the recording created an item first
            error = (await recv_until(conn, "error"))[-1]
    finally:
        code, out, err = await stop_cli(replay)
    assert error.error.code == "cassette_mismatch"
    assert code == 1
    assert "replay mismatch at cassette session 0, client event #1" in err
    assert "Traceback" not in err


async def test_a_bad_cassette_or_a_missing_flag_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"kind":"header","format":1}\n{oops\n')
    for args, expected in (
        (["replay", str(tmp_path / "missing.jsonl")], "No such file"),
        (["replay", str(bad)], "bad.jsonl:2: not valid JSON"),
        (["record", "--out", str(bad)], "--upstream"),
        (["record", "--upstream", "ws://127.0.0.1:9", "--out", str(bad)], "--overwrite"),
    ):
        code, out, err = await run_cli(*args)
        assert code == 2, err
        assert out == ""
        assert expected in err
        assert "Traceback" not in err
    assert bad.read_text() == '{"kind":"header","format":1}\n{oops\n'  # not recorded over
