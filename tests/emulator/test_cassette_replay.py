"""Cassettes with the raw SDK: mismatches, id remapping, reconnects, closes, bad files.

Each test records a short session through ``RecordingProxy`` in front of the
emulator, then replays it with a client that behaves the same, or not.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from azure.ai.voicelive.aio import ConnectionClosed, ConnectionError, VoiceLiveConnection, connect
from azure.core.credentials import AzureKeyCredential

from videosdk_plugins_azure.emulator import (
    Cassette,
    CassetteError,
    CassetteMismatch,
    CassetteReplay,
    RecordingProxy,
    Scenario,
    Turn,
    VoiceLiveEmulator,
)

from .conftest import recv_until

KEY = "replay-key-3e9f1a7c"


@asynccontextmanager
async def session_at(endpoint: str, key: str = KEY) -> AsyncIterator[VoiceLiveConnection]:
    async with connect(
        endpoint=endpoint, credential=AzureKeyCredential(key), model="gpt-realtime"
    ) as conn:
        yield conn


async def configure(conn: VoiceLiveConnection, event_id: str | None = None) -> None:
    update: dict[str, Any] = {
        "type": "session.update",
        "session": {"modalities": ["text"], "turn_detection": None},
    }
    if event_id:
        update["event_id"] = event_id
    await conn.send(update)
    await recv_until(conn, "session.updated")


def user_text(text: str, **ids: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": text}],
    }
    event: dict[str, Any] = {"type": "conversation.item.create", "item": item}
    if "item_id" in ids:
        item["id"] = ids["item_id"]
    if "event_id" in ids:
        event["event_id"] = ids["event_id"]
    if "previous" in ids:
        event["previous_item_id"] = ids["previous"]
    return event


async def ask(conn: VoiceLiveConnection, *, with_item: bool = True) -> list[Any]:
    """A text question and its answer."""
    await configure(conn)
    if with_item:
        await conn.send(user_text("hello"))
    await conn.response.create()
    return await recv_until(conn, "response.done")


def answer(events: list[Any]) -> str:
    return next(e.text for e in events if e.type == "response.text.done")


@asynccontextmanager
async def recording(tmp_path: Path, *turns: Turn) -> AsyncIterator[tuple[RecordingProxy, Any]]:
    async with (
        VoiceLiveEmulator(
            api_key=KEY, speed=math.inf, model_latency=0, scenario=Scenario(turns)
        ) as emu,
        RecordingProxy(emu.endpoint, tmp_path / "tape.jsonl") as proxy,
    ):
        yield proxy, emu


async def test_a_divergent_client_gets_an_error_naming_the_first_divergent_event(
    tmp_path: Path,
) -> None:
    async with (
        recording(tmp_path, Turn(reply="Hello there.")) as (proxy, _),
        session_at(proxy.endpoint) as conn,
    ):
        assert answer(await ask(conn)) == "Hello there."
    tape = tmp_path / "tape.jsonl"
    expected_line = Cassette.load(tape).sessions[0].records[3].line  # the item.create

    seen: dict[str, Any] = {}
    with pytest.raises(CassetteMismatch) as raised:
        await diverge(CassetteReplay(tape, speed=math.inf), seen)
    assert seen["code"] == "cassette_mismatch"
    assert seen["closed_with"] == 1008
    message = seen["message"]
    mismatch = raised.value
    assert mismatch.message == message
    assert (mismatch.session, mismatch.index, mismatch.line) == (0, 1, expected_line)
    assert "client event #1" in message
    assert (
        "expected conversation.item.create(item.type=message, role=user, content=input_text)"
        in message
    )
    assert "got response.create" in message


async def diverge(replay: CassetteReplay, seen: dict[str, Any]) -> None:
    """Skip the user item the recording sent first; note the error and the close."""
    async with asyncio.timeout(10), replay, session_at(replay.endpoint) as conn:
        await configure(conn)
        await conn.response.create()
        error = (await recv_until(conn, "error"))[-1]
        seen.update(code=error.error.code, message=error.error.message)
        try:
            await conn.recv()
        except ConnectionClosed as closed:
            seen["closed_with"] = closed.code


async def test_a_different_session_update_is_the_first_mismatch(tmp_path: Path) -> None:
    async with (
        recording(tmp_path, Turn(reply="Hi.")) as (proxy, _),
        session_at(proxy.endpoint) as conn,
    ):
        await ask(conn)
    replay = CassetteReplay(tmp_path / "tape.jsonl", speed=math.inf, raise_on_mismatch=False)
    async with asyncio.timeout(10), replay, session_at(replay.endpoint) as conn:
        await conn.send({"type": "session.update", "session": {"modalities": ["text", "audio"]}})
        error = (await recv_until(conn, "error"))[-1]
    assert "client event #0" in error.error.message
    assert "modalities=text" in error.error.message
    assert "modalities=audio,text" in error.error.message
    [mismatch] = replay.mismatches
    assert mismatch.index == 0
    assert mismatch.got is not None
    assert mismatch.got["modalities"] == ["audio", "text"]


async def test_ids_the_client_mints_are_remapped_both_ways(tmp_path: Path) -> None:
    async def client(conn: VoiceLiveConnection, tag: str) -> list[Any]:
        await configure(conn, event_id=f"{tag}-su")
        await conn.send(user_text("one", item_id=f"{tag}_item_1", event_id=f"{tag}-1"))
        await recv_until(conn, "conversation.item.created")
        second = user_text("two", item_id=f"{tag}_item_2", previous=f"{tag}_item_1")
        await conn.send(second)
        created = await recv_until(conn, "conversation.item.created")
        await conn.send({"type": "conversation.item.delete", "item_id": f"{tag}_item_1"})
        deleted = await recv_until(conn, "conversation.item.deleted")
        bad = {"type": "conversation.item.retrieve", "item_id": "missing", "event_id": f"{tag}-x"}
        await conn.send(bad)
        errors = await recv_until(conn, "error")
        return [created[-1], deleted[-1], errors[-1]]

    async with recording(tmp_path) as (proxy, _), session_at(proxy.endpoint) as conn:
        recorded = await client(conn, "rec")
    assert recorded[0].item.id == "rec_item_2"
    assert recorded[2].error.event_id == "rec-x"

    async with (
        asyncio.timeout(10),
        CassetteReplay(tmp_path / "tape.jsonl") as replay,
        session_at(replay.endpoint, key="another-key") as conn,
    ):
        created, deleted, error = await client(conn, "live")
    assert created.item.id == "live_item_2"
    assert created.previous_item_id == "live_item_1"
    assert deleted.item_id == "live_item_1"
    assert error.error.event_id == "live-x"
    replay.assert_all_played()


async def test_reconnects_are_separate_sessions_and_a_server_close_replays(
    tmp_path: Path,
) -> None:
    async with recording(tmp_path, Turn(reply="Welcome back.")) as (proxy, emu):
        async with session_at(proxy.endpoint) as first:
            await configure(first)
            await emu.last_connection.expire()  # session_expired, then close 1001
            with pytest.raises(ConnectionClosed) as closed:
                await recv_until(first, "never")
            assert closed.value.code == 1001
        async with session_at(proxy.endpoint) as second:
            assert answer(await ask(second)) == "Welcome back."
        assert proxy.sessions == 2
    tape = Cassette.load(tmp_path / "tape.jsonl")
    assert [s.index for s in tape.sessions] == [0, 1]
    first_close, second_close = (s.close for s in tape.sessions)
    assert first_close is not None
    assert (first_close.by, first_close.code) == ("server", 1001)
    assert second_close is not None
    assert second_close.by == "client"

    replay = CassetteReplay(tape, speed=math.inf, raise_on_mismatch=False)
    async with asyncio.timeout(10), replay:
        async with session_at(replay.endpoint) as first:
            await configure(first)
            with pytest.raises(ConnectionClosed) as closed:
                await recv_until(first, "never")
            assert closed.value.code == 1001
        async with session_at(replay.endpoint) as second:
            assert answer(await ask(second)) == "Welcome back."
        replay.assert_all_played()
        async with session_at(replay.endpoint) as third:
            error = (await recv_until(third, "error"))[-1]
    assert "connection #2 has no recorded session (the cassette holds 2)" in error.error.message
    assert len(replay.mismatches) == 1


async def dropped_with(endpoint: str, drop: Any = None) -> int:
    """The close code the SDK reports when the socket dies after configuring."""
    async with session_at(endpoint) as conn:
        await configure(conn)
        if drop is not None:
            await drop()
        with pytest.raises(ConnectionClosed) as closed:
            await recv_until(conn, "never")
    return closed.value.code


async def test_an_upstream_drop_is_a_drop_for_the_client_and_in_the_cassette(
    tmp_path: Path,
) -> None:
    async with recording(tmp_path) as (proxy, emu):
        direct = await dropped_with(emu.endpoint, lambda: emu.last_connection.drop())
        proxied = await dropped_with(proxy.endpoint, lambda: emu.last_connection.drop())
    assert proxied == direct  # what the client sees, with or without the proxy
    [session] = Cassette.load(tmp_path / "tape.jsonl").sessions
    assert session.close is not None
    assert (session.close.by, session.close.code) == ("server", 1006)

    async with asyncio.timeout(10), CassetteReplay(tmp_path / "tape.jsonl") as replay:
        assert await dropped_with(replay.endpoint) == direct


async def test_a_refused_key_is_the_same_http_error_through_the_proxy(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "wrong-key-c0ffee42"
    caplog.set_level(logging.DEBUG, logger="videosdk_plugins_azure")
    async with recording(tmp_path) as (proxy, _):
        with pytest.raises(ConnectionError, match="401"):
            async with session_at(proxy.endpoint, key=wrong):
                pass
        assert proxy.sessions == 0
    assert wrong not in caplog.text
    tape = Cassette.load(tmp_path / "tape.jsonl")
    assert tape.sessions == []
    assert tape.header.model is None


async def test_the_upstream_base_path_and_query_are_kept(tmp_path: Path) -> None:
    async with VoiceLiveEmulator(api_key=KEY, speed=math.inf, model_latency=0) as emu:
        upstream = f"{emu.endpoint}/base/?deployment=blue"
        async with (
            RecordingProxy(upstream, tmp_path / "t.jsonl") as proxy,
            session_at(proxy.endpoint) as conn,
        ):
            await configure(conn)
    record = emu.last_connection
    assert record.path == "/base/voice-live/realtime"
    assert record.query["deployment"] == "blue"
    assert record.query["model"] == "gpt-realtime"


def test_a_plain_text_upstream_off_loopback_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="plain-text"):
        RecordingProxy("ws://voice.example.com", tmp_path / "t.jsonl")
    with pytest.raises(ValueError, match="input_audio"):
        RecordingProxy("wss://voice.example.com", tmp_path / "t.jsonl", input_audio="keep")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        (['{"kind":"session","session":0}'], ":1: the first line must be the header"),
        (['{"kind":"header","format":99}'], ":1: format 99 is newer than this reader"),
        (['{"kind":"header","format":1}', "{not json"], ":2: not valid JSON"),
        (
            ['{"kind":"header","format":1}', '{"kind":"event","session":0,"dir":"client","t":0}'],
            ":2: session 0 has no 'session' line",
        ),
        (
            [
                '{"kind":"header","format":1}',
                '{"kind":"session","session":0}',
                '{"kind":"event","session":0,"dir":"sideways","t":0,"event":null}',
            ],
            ":3: 'dir' must be 'client' or 'server'",
        ),
        ([], "empty cassette"),
    ],
)
def test_a_bad_cassette_names_its_line(tmp_path: Path, lines: list[str], problem: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines))
    with pytest.raises(CassetteError, match=problem):
        Cassette.load(path)
    with pytest.raises(CassetteError):
        CassetteReplay(path)


async def test_a_key_in_the_query_string_or_echoed_in_an_event_is_scrubbed(
    tmp_path: Path,
) -> None:
    async with recording(tmp_path) as (proxy, emu):
        url = f"{proxy.endpoint}/voice-live/realtime?model=gpt-realtime&api-key={KEY}"
        async with aiohttp.ClientSession() as http, http.ws_connect(url) as ws:
            await ws.send_json({"type": "session.update", "session": {}})
            said = user_text(f"my key is {KEY}, keep it safe")
            await ws.send_json(said)
            while (await ws.receive_json())["type"] != "conversation.item.created":
                pass
    assert emu.last_connection.auth == "query"
    text = (tmp_path / "tape.jsonl").read_text()
    assert KEY not in text
    tape = Cassette.load(tmp_path / "tape.jsonl")
    assert tape.header.query["api-key"] == "<redacted>"
    [created] = tape.sessions[0].events("server", "conversation.item.created")
    assert created["item"]["content"][0]["text"] == "my key is <redacted>, keep it safe"
