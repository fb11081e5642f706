"""The emulator as a server others run: hostile frames, silent sockets, bounded records.

Each test here failed before the bound it checks existed: deep JSON killed the
handler with ``RecursionError``, a non-UTF-8 ``api-key`` was a 500, a socket that
said nothing was served for an hour, and every event of every connection was kept
for the life of the process.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from videosdk_plugins_azure.emulator import ServerLimits, VoiceLiveEmulator
from videosdk_plugins_azure.emulator._errors import ProtocolError
from videosdk_plugins_azure.emulator._event_log import EventLog, LogBounds
from videosdk_plugins_azure.emulator._wire import parse_client_frame

from .conftest import KEY, MODEL, raw_ws, recv_until, round_trip, sdk, ws_event


def emulator(**limits: Any) -> VoiceLiveEmulator:
    return VoiceLiveEmulator(
        api_key=KEY,
        speed=math.inf,
        tts="synthetic",
        model_latency=0,
        limits=ServerLimits(**limits),
    )


@pytest.fixture
async def small() -> AsyncIterator[VoiceLiveEmulator]:
    """A small frame limit and a short handshake timeout."""
    async with emulator(max_frame_bytes=4096, handshake_timeout=0.3) as emu:
        yield emu


@pytest.fixture
async def forgetful() -> AsyncIterator[VoiceLiveEmulator]:
    """Small record bounds."""
    async with emulator(max_record_events=50, max_record_bytes=20_000, max_closed_records=2) as emu:
        yield emu


# -- JSON depth and frame size -------------------------------------------------------------


async def test_json_nested_100k_levels_is_an_error_event_and_the_socket_serves_on(
    emu: VoiceLiveEmulator,
) -> None:
    async with raw_ws(emu) as ws:
        for frame in ("[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000):
            await ws.send_str(frame)
            error = (await ws_event(ws, "error"))["error"]
            assert (error["type"], error["code"]) == ("invalid_request_error", "invalid_json")
            assert "nested" in error["message"]
            await round_trip(ws)
    assert emu.connections[0].events("session.update")


def test_the_depth_limit_is_exact_and_checked_without_recursion() -> None:
    def nested(levels: int) -> str:
        return '{"type":"x","a":' * levels + "1" + "}" * levels

    assert parse_client_frame(nested(64))["type"] == "x"  # 64 objects: the limit
    with pytest.raises(ProtocolError) as info:
        parse_client_frame(nested(65))
    assert info.value.code == "invalid_json"
    with pytest.raises(ProtocolError):  # deeper than json's own recursion limit
        parse_client_frame(b"[" * 50_000 + b"]" * 50_000)
    wide = '{"type":"x","a":[' + ",".join(["[1]"] * 10_000) + "]}"
    assert len(parse_client_frame(wide)["a"]) == 10_000  # many brackets, shallow


async def test_a_frame_over_the_limit_is_an_error_then_over_twice_it_closes_1009(
    small: VoiceLiveEmulator,
) -> None:
    async with raw_ws(small) as ws:
        await ws.send_str('{"type":"session.update","pad":"' + "x" * 5000 + '"}')
        error = (await ws_event(ws, "error"))["error"]
        assert error["code"] == "message_too_large"
        assert "4096" in error["message"]
        await round_trip(ws)
        await ws.send_str("x" * (2 * 4096 + 1))
        message = await ws.receive(timeout=10)
        assert message.type is aiohttp.WSMsgType.CLOSE
        assert ws.close_code == 1009


# -- the handshake ---------------------------------------------------------------------------


async def _raw_request(emu: VoiceLiveEmulator, request: bytes) -> bytes:
    """Send raw HTTP; return all the server answered before it closed the socket."""
    reader, writer = await asyncio.open_connection(emu.host, emu.port)
    try:
        writer.write(request)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
        await writer.wait_closed()


UPGRADE = (
    b"GET /voice-live/realtime?model=" + MODEL.encode() + b" HTTP/1.1\r\nHost: emulator\r\n"
    b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
)


@pytest.mark.parametrize("key", [b"\xff\xfe\x80", b"test-key-\xc3"])
async def test_a_non_utf8_api_key_is_a_401_not_a_500(emu: VoiceLiveEmulator, key: bytes) -> None:
    request = UPGRADE + b"api-key: " + key + b"\r\nConnection: close\r\n\r\n"
    answer = await _raw_request(emu, request)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:80]
    assert b"invalid_api_key" in answer
    assert emu.connections == []


async def test_a_client_that_never_finishes_its_upgrade_request_is_dropped(
    small: VoiceLiveEmulator,
) -> None:
    """Slowloris: the request line and some headers, never the blank line."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await _raw_request(small, UPGRADE + b"api-key: " + KEY.encode() + b"\r\n") == b""
    assert await _raw_request(small, b"") == b""  # a socket that sends nothing at all
    assert loop.time() - started < 5  # two 0.3 s timeouts, not the hour aiohttp allows
    assert small.connections == []
    async with sdk(small) as conn:  # the server still serves
        await recv_until(conn, "session.created")


# -- silent sockets after the upgrade -------------------------------------------------------


async def test_a_socket_that_never_configures_its_session_is_closed() -> None:
    """However many frames it sends: only a valid ``session.update`` counts as setup."""
    async with emulator(setup_timeout=0.3) as emu, raw_ws(emu, configure=False) as ws:
        loop = asyncio.get_running_loop()
        give_up = loop.time() + 10
        while not ws.closed and loop.time() < give_up:
            await ws.send_str("not an event")
            message = await ws.receive(timeout=10)
            if message.type is aiohttp.WSMsgType.CLOSE:
                assert (ws.close_code, message.extra) == (1008, "setup timeout")
                break
        assert ws.closed
        assert await emu.connections[0].wait_closed() == 1008
        errors = emu.connections[0].events("error", source="server")
        assert len(errors) >= 2  # it talked all along, and still was closed


async def test_an_idle_session_is_closed_and_activity_keeps_it_open() -> None:
    async with emulator(idle_timeout=0.3) as emu, raw_ws(emu) as ws:
        loop = asyncio.get_running_loop()
        until = loop.time() + 1.0  # more than three idle timeouts of talking
        while loop.time() < until:
            await round_trip(ws)
        assert not emu.connections[0].closed
        message = await ws.receive(timeout=10)
        assert message.type is aiohttp.WSMsgType.CLOSE
        assert (ws.close_code, message.extra) == (1008, "idle timeout")


def test_limits_are_checked_when_built() -> None:
    with pytest.raises(ValueError, match="idle_timeout"):
        ServerLimits(idle_timeout=0)
    with pytest.raises(ValueError, match="max_reply_chars"):
        ServerLimits(max_reply_chars=0)
    with pytest.raises(ValueError, match="max_frame_bytes"):
        ServerLimits(max_frame_bytes=0)
    assert ServerLimits(idle_timeout=math.inf).idle_timeout == math.inf
    not_limits: Any = {"idle_timeout": 1}
    with pytest.raises(TypeError, match="ServerLimits"):
        VoiceLiveEmulator(limits=not_limits)


# -- records ---------------------------------------------------------------------------------


async def test_a_record_keeps_the_newest_events_and_counts_the_rest(
    forgetful: VoiceLiveEmulator,
) -> None:
    async with raw_ws(forgetful) as ws:
        for i in range(200):
            await ws.send_json({"type": "session.update", "session": {}, "event_id": f"e{i}"})
            await ws_event(ws, "session.updated")
        await ws.send_json({"type": "session.update", "session": {"instructions": "x" * 30_000}})
        await ws_event(ws, "session.updated")
    record = forgetful.connections[0]
    await record.wait_closed()
    assert 40 <= len(record.client_events) <= 50
    assert record.dropped_events["client"] == 202 - len(record.client_events)
    assert record.client_events[-2]["event_id"] == "e199"
    assert "over the record's limit" in record.client_events[-1]["omitted"]
    assert len(record.server_events) <= 50
    assert record.dropped_events["server"] > 0


async def test_only_the_last_closed_records_are_kept(forgetful: VoiceLiveEmulator) -> None:
    emu = forgetful
    async with raw_ws(emu):
        for _ in range(5):
            async with raw_ws(emu):
                record = emu.last_connection
            await record.wait_closed()
        assert emu.accepted == 6
        assert [r.index for r in emu.connections] == [0, 4, 5]  # the open one, the last 2
        assert (await emu.wait_for_connection(6)).index == 5
        with pytest.raises(LookupError, match="forgotten"):
            await emu.wait_for_connection(2)


async def test_keep_records_keeps_everything() -> None:
    limits = ServerLimits(max_record_events=10, max_closed_records=0)
    async with VoiceLiveEmulator(
        api_key=KEY, model_latency=0, limits=limits, keep_records=True
    ) as emu:
        for _ in range(3):
            async with raw_ws(emu) as ws:
                for _ in range(20):
                    await round_trip(ws)
            await emu.connections[-1].wait_closed()
        assert len(emu.connections) == 3
        assert all(len(r.client_events) == 21 for r in emu.connections)
        assert all(r.dropped_events == {"client": 0, "server": 0} for r in emu.connections)


def test_the_event_log_trims_the_oldest_tenth_at_once() -> None:
    log = EventLog(LogBounds(max_events=100, max_bytes=10_000))
    for i in range(101):
        log.add({"type": "t", "i": i}, 10)
    assert [e["i"] for e in log.events] == list(range(11, 101))  # 90 kept
    assert (log.dropped, log.bytes) == (11, 900)
    log.add({"type": "big", "i": -1}, 9_500)  # past the bytes: the oldest go
    assert log.events[-1]["i"] == -1
    assert log.bytes <= 10_000
    whole = EventLog()
    for i in range(1000):
        whole.add({"i": i}, 10**6)
    assert (len(whole.events), whole.dropped) == (1000, 0)
