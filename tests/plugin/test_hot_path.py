"""The hot paths against the real SDK over a real socket: fast where it may be, else typed.

* receive: the same frames read the fast way and through the SDK's ``recv()``
  give the same events and the same errors, malformed frames included;
* fallback: an untested SDK version, a connection without the internal socket, a
  replaced ``recv``/``send`` (a wire tap) each get the SDK's own paths;
* send: caller audio goes out at once while nothing is queued, and behind
  whatever is; a send that has to wait is finished by a task;
* a whole call (a spoken answer and a barge-in) comes out the same either way;
* the 40 ms block conversion is bit-identical to converting in any chunks.
"""

from __future__ import annotations

import asyncio
import base64
import json
import math
import random
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest
from azure.ai.voicelive.aio import ConnectionClosed, VoiceLiveConnection
from azure.ai.voicelive.aio import ConnectionError as SdkConnectionError
from azure.core.credentials import AzureKeyCredential
from videosdk.agents import audio_format

from videosdk_plugins_azure import AzureVoiceLive
from videosdk_plugins_azure import _fast_events as fast
from videosdk_plugins_azure._outbox import Outbox
from videosdk_plugins_azure.audio import BlockConverter, InputConverter
from videosdk_plugins_azure.connection import ConnectTarget, OpenSession, open_session
from videosdk_plugins_azure.core.effects import HOT_EVENTS, AudioDelta, TextDelta
from videosdk_plugins_azure.core.input import InputPath
from videosdk_plugins_azure.emulator import Turn, VoiceLiveEmulator

from .conftest import KEY, caller, heard_samples, room_with, sent_audio

PCM = b"\x01\x00\x02\x00" * 300
AUDIO_DELTA = {"type": "response.audio.delta", "response_id": "r1", "item_id": "a1"}
FRAMES: list[str | bytes] = [
    json.dumps({**AUDIO_DELTA, "delta": base64.b64encode(PCM).decode()}),
    json.dumps({"type": "response.audio.delta", "response_id": "r1", "delta": "AAE"}),
    json.dumps({"type": "response.audio.delta", "response_id": ["r1"], "delta": "not base64!"}),
    json.dumps({"type": "response.audio.delta", "delta": 12}),
    json.dumps({"type": "response.audio_transcript.delta", "response_id": "r1", "delta": "It"}),
    json.dumps({"type": "response.text.delta", "response_id": 3, "delta": None}),
    json.dumps({"type": "response.done", "response": {"id": "r1", "status": "completed"}}),
    json.dumps({"type": "rate_limits.updated", "rate_limits": []}),
    json.dumps({"type": "no.such.event", "delta": "x"}),
    json.dumps({"type": ["response.audio.delta"]}),
    json.dumps({"type": "response.audio.delta", "delta": "\ud800"}),
    json.dumps([1, 2]),
    '"just a string"',
    "{not json",
    json.dumps({"type": "response.audio_transcript.delta", "delta": "bytes"}).encode(),
    "",
]


async def _open(emu: VoiceLiveEmulator) -> OpenSession:
    return await open_session(ConnectTarget(emu.endpoint, "gpt-realtime"), AzureKeyCredential(KEY))


class Wrapped:
    """A connection object without the SDK's internal socket: it only forwards."""

    def __init__(self, connection: VoiceLiveConnection) -> None:
        self.inner = connection

    async def recv(self) -> Any:
        return await self.inner.recv()

    async def send(self, event: Any) -> None:
        await self.inner.send(event)


def _outcome(event: Any) -> tuple[Any, ...]:
    """What a reader gave, with typed hot events read into their light form to compare."""
    if isinstance(event, AudioDelta | TextDelta):
        return ("hot", event)
    read = HOT_EVENTS.get(event.get("type")) if isinstance(event.get("type"), str) else None
    if read is not None:
        return ("hot", read(event))
    return ("typed", type(event).__name__, dict(event))


async def _read_all(reader: fast.EventReader, count: int) -> list[tuple[Any, ...]]:
    outcomes = []
    for _ in range(count):
        try:
            outcomes.append(_outcome(await reader.recv()))
        except ConnectionClosed as closed:
            outcomes.append(("closed", closed.code))
        except (SdkConnectionError, AttributeError, TypeError, ValueError) as exc:
            outcomes.append(("error", type(exc).__name__))
    return outcomes


async def _replayed(emu: VoiceLiveEmulator, *, wrap: bool) -> list[tuple[Any, ...]]:
    async with await _open(emu) as opened:
        connection: Any = Wrapped(opened.connection) if wrap else opened.connection
        reader = fast.EventReader(connection)
        assert reader.fast is not wrap
        [created] = await _read_all(reader, 1)
        assert created[0] == "typed"
        assert created[2]["type"] == "session.created"
        record = emu.last_connection
        for frame in FRAMES:
            await record.send_raw(frame)
        await record.close(4002)
        return await _read_all(reader, len(FRAMES) + 2)


async def test_fast_and_typed_receive_give_the_same_events_and_errors(
    emu: VoiceLiveEmulator,
) -> None:
    quick = await _replayed(emu, wrap=False)
    typed = await _replayed(emu, wrap=True)
    assert quick == typed
    assert quick[0] == ("hot", AudioDelta("r1", "a1", PCM))
    assert ("hot", TextDelta("response.audio_transcript.delta", None, "bytes")) in quick
    assert quick[-2:] == [("closed", 4002), ("closed", 1000)]
    assert ("error", "ConnectionError") in quick  # "{not json"


async def test_a_real_sdk_connection_takes_the_fast_paths(emu: VoiceLiveEmulator) -> None:
    """Pins the SDK internals the fast paths read: this fails if a tested version moves them."""
    async with await _open(emu) as opened:
        assert fast.EventReader(opened.connection).fast
        assert fast.EventWriter(opened.connection).fast


@pytest.mark.parametrize("version", ["1.4.0", "2.0.1", "1.2.9", "1.4.0b1", "", "main"])
async def test_an_untested_sdk_version_gets_the_sdk_paths(
    emu: VoiceLiveEmulator, monkeypatch: pytest.MonkeyPatch, version: str
) -> None:
    monkeypatch.setattr(fast, "SDK_VERSION", version)
    async with await _open(emu) as opened:
        assert not fast.EventReader(opened.connection).fast
        assert not fast.EventWriter(opened.connection).fast
        [event] = [await fast.EventReader(opened.connection).recv()]
        assert event.get("type") == "session.created"


async def test_a_socket_that_is_not_aiohttp_gets_the_sdk_paths(emu: VoiceLiveEmulator) -> None:
    async with await _open(emu) as opened:
        connection = opened.connection
        socket = connection._connection
        connection._connection = Wrapped(connection)  # type: ignore[assignment]
        try:
            assert fast.fast_path_allowed(connection, "recv") is None
            assert fast.fast_path_allowed(connection, "send") is None
        finally:
            connection._connection = socket


async def test_a_tapped_recv_and_send_are_used_not_bypassed(
    emu: VoiceLiveEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wire tap (as the live suite installs) sees the hot events too, even one put on
    a connection whose reader and writer already exist."""
    async with await _open(emu) as opened:
        connection = opened.connection
        reader, writer = fast.EventReader(connection), fast.EventWriter(connection)
        assert reader.fast
        assert writer.fast
        seen: list[str] = []
        real_recv = VoiceLiveConnection.recv

        async def tapped(self: VoiceLiveConnection) -> Any:
            event = await real_recv(self)
            seen.append(event.get("type"))
            return event

        monkeypatch.setattr(VoiceLiveConnection, "recv", tapped)
        sent: list[Any] = []
        real_send = connection.send

        async def recording(event: Any) -> None:
            sent.append(event)
            await real_send(event)

        connection.send = recording  # type: ignore[method-assign]
        assert not reader.fast
        assert not writer.fast
        await reader.recv()
        await emu.last_connection.send_raw(FRAMES[0])
        assert _outcome(await reader.recv()) == ("hot", AudioDelta("r1", "a1", PCM))
        await writer.send(PCM)
    assert seen == ["session.created", "response.audio.delta"]
    assert sent == [{"type": "input_audio_buffer.append", "audio": base64.b64encode(PCM).decode()}]


# -- sending --------------------------------------------------------------------------


@pytest.fixture
async def synth_emu() -> AsyncIterator[VoiceLiveEmulator]:
    """Answers in the synthetic voice: no speech subprocess left running at teardown."""
    async with VoiceLiveEmulator(
        api_key=KEY, speed=math.inf, tts="synthetic", model_latency=0, record_audio=True
    ) as emulator:
        yield emulator


@pytest.fixture
async def live_model(synth_emu: VoiceLiveEmulator) -> AsyncIterator[AzureVoiceLive]:
    audio_format.reset()
    audio_format.hint(24000, 1)  # passed through: what is sent is what went in
    model = AzureVoiceLive(endpoint=synth_emu.endpoint, api_key=KEY)
    await model.connect()
    await synth_emu.last_connection.wait_for("session.update")
    yield model
    await model.aclose()
    audio_format.reset()


def _appended(emu: VoiceLiveEmulator) -> bytes:
    events = emu.last_connection.events("input_audio_buffer.append")
    return b"".join(base64.b64decode(e["audio"]) for e in events)


async def test_caller_audio_goes_out_at_once_while_nothing_is_queued(
    synth_emu: VoiceLiveEmulator, live_model: AzureVoiceLive
) -> None:
    emu = synth_emu
    block = bytes(range(256)) * 15  # 1920 B: one 40 ms append at 24 kHz
    outbox = live_model._transport.outbox
    for _ in range(3):
        await live_model.handle_audio_input(block)
        # nothing awaited in between: a queued append would still be in the outbox
        assert len(outbox) == 0
    await emu.last_connection.wait_until(lambda: len(_appended(emu)) >= 3 * len(block))
    assert _appended(emu) == block * 3


async def test_caller_audio_queues_behind_waiting_events(
    synth_emu: VoiceLiveEmulator, live_model: AzureVoiceLive
) -> None:
    emu = synth_emu
    block = b"\x05\x00" * 960
    await live_model.send_text_message("first this")  # two control events, not yet sent
    await live_model.handle_audio_input(block)
    assert len(live_model._transport.outbox) == 3
    record = emu.last_connection
    await record.wait_for("input_audio_buffer.append")
    client = [t for t in record.types(source="client") if t != "session.update"]
    assert client[:3] == [
        "conversation.item.create",
        "response.create",
        "input_audio_buffer.append",
    ]
    assert _appended(emu) == block


async def test_a_send_that_waits_is_finished_in_order_by_a_task() -> None:
    gate = asyncio.Event()
    steps: list[str] = []

    async def send() -> None:
        steps.append("written")
        await gate.wait()
        steps.append("drained")

    rest = fast.run_eagerly(send())
    assert steps == ["written"]
    assert rest is not None
    task = asyncio.ensure_future(rest)
    await asyncio.sleep(0)
    assert not task.done()
    gate.set()
    await task
    assert steps == ["written", "drained"]


async def test_a_waiting_send_is_cancelled_inside_and_failures_surface() -> None:
    cleaned = asyncio.Event()

    async def stuck() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cleaned.set()

    rest = fast.run_eagerly(stuck())
    assert rest is not None
    task = asyncio.ensure_future(rest)
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned.is_set()

    async def fails_now() -> None:
        raise SdkConnectionError("gone")

    with pytest.raises(SdkConnectionError):
        fast.run_eagerly(fails_now())

    async def fails_later() -> None:
        await asyncio.sleep(0)
        raise SdkConnectionError("gone later")

    later = fast.run_eagerly(fails_later())
    assert later is not None
    with pytest.raises(SdkConnectionError, match="later"):
        await later


def test_audio_put_back_stays_bounded_and_first() -> None:
    outbox = Outbox(max_audio_bytes=100)
    outbox.put_audio(b"b" * 60)
    outbox.put_back(b"a" * 30)
    assert outbox.audio_bytes == 90
    outbox.put_audio(b"c" * 40)  # over the bound: the oldest audio (the put-back) goes first
    assert outbox.audio_bytes == 100
    assert outbox.dropped_audio_bytes == 30
    outbox.put_back({"type": "response.cancel"})
    assert len(outbox) == 3


# -- a whole call, either way -----------------------------------------------------------

LONG = (
    "Once upon a time there was a lighthouse keeper who counted every ship that passed, "
    "and every evening he wrote their names into a small blue notebook by the window."
)


@pytest.mark.parametrize("path", ["fast", "typed"])
async def test_a_call_with_a_barge_in_is_the_same_either_way(
    emu: VoiceLiveEmulator, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    if path == "typed":
        monkeypatch.setattr(fast, "SDK_VERSION", "0.0")
    turns = (Turn(user="tell me a story", reply=LONG), Turn(user="stop", reply="Okay."))
    async with room_with(emu, *turns) as room:
        session = room.model._transport.session
        assert session is not None
        assert fast.EventReader(session.connection).fast is (path == "fast")
        await room.play(await caller("Tell me a story."), rate=24000)
        await room.wait_for(lambda: room.voiced_ms() > 1000, timeout=20, what="agent audio")
        await room.play(await caller("Stop please."), rate=24000)
        truncate = await emu.last_connection.wait_for("conversation.item.truncate", timeout=10)
        await room.play_silence(1.0)
        await room.wait_for(
            lambda: ("assistant", "Okay.") in room.chat_items(), timeout=20, what="final answer"
        )
        story = emu.last_connection.events("response.done", source="server")[0]["response"]["id"]
        heard_ms = heard_samples(room.agent_audio(), sent_audio(emu, story)) / 24
        assert abs(truncate["audio_end_ms"] - heard_ms) <= 40, (truncate, heard_ms)
        agent = [p for p in room.payloads("realtime_model_transcription") if p["role"] == "agent"]
        assert agent[-1] == {"role": "agent", "text": "Okay.", "is_final": True}
        texts = [text for role, text in room.chat_items() if role == "assistant"]
        assert any(LONG.startswith(t) and len(t) < len(LONG) for t in texts)
        assert emu.last_connection.input_audio_bytes > 24000 * 2  # the caller's audio arrived


# -- converting in blocks ---------------------------------------------------------------


def _noise(rate: int, seconds: float, channels: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    return rng.normal(0, 4000, int(rate * seconds) * channels).astype("<i2").tobytes()


def _chunks(data: bytes, rng: random.Random, max_size: int) -> list[bytes]:
    out, i = [], 0
    while i < len(data):
        size = rng.randint(0, max_size)
        out.append(data[i : i + size])
        i += size
    return out


@pytest.mark.parametrize(
    ("rate", "channels"), [(48000, 2), (44100, 2), (48000, 1), (16000, 1), (24000, 1)]
)
@pytest.mark.parametrize("max_size", [3, 3840, 20000])
def test_blocks_are_bit_identical_to_any_chunking(rate: int, channels: int, max_size: int) -> None:
    pcm = _noise(rate, 0.5, channels, seed=rate + channels)
    reference = InputConverter(rate, channels, 24000)
    expected = reference.convert(pcm) + reference.flush()
    blocks = BlockConverter(InputConverter(rate, channels, 24000))
    rng = random.Random(max_size)
    out = b"".join(blocks.feed(c) or b"" for c in _chunks(pcm, rng, max_size))
    out += blocks.drain() + blocks.converter.flush()
    assert out == expected


def test_blocks_hold_a_copy_and_count_bytes_not_items() -> None:
    pcm = _noise(48000, 0.16, 2, seed=5)  # 8 frames of 20 ms
    expected = InputConverter(48000, 2, 24000).convert(pcm)
    blocks = BlockConverter(InputConverter(48000, 2, 24000))
    buffer = bytearray(3840)
    out = b""
    for i in range(0, len(pcm) // 2, 3840):
        buffer[:] = pcm[i : i + 3840]
        out += blocks.feed(buffer) or b""
        buffer[:] = b"\xff" * 3840  # the caller reuses its buffer
    assert blocks.held_bytes == 0
    half = memoryview(pcm[len(pcm) // 2 :]).cast("h")  # items of 2 bytes
    assert blocks.feed(half[: len(half) // 4]) is None
    assert blocks.held_bytes == 3840
    out += blocks.feed(half[len(half) // 4 :]) or b""
    assert out == expected
    with pytest.raises(TypeError):
        blocks.feed(np.zeros(4, dtype="<i2"))  # type: ignore[arg-type]


def test_a_wire_change_mid_block_converts_the_old_audio_first() -> None:
    path = InputPath()
    path.follow_wire((48000, 2), 0)
    old = _noise(48000, 0.03, 2, seed=1)  # 30 ms: held, short of a block
    assert path.accept(old, live=True) == []
    path.follow_wire((16000, 1), 1)  # the phone leg takes over (the rate stays 24 kHz)
    new = _noise(16000, 0.04, 1, seed=2)
    [block] = path.accept(new, live=True)
    assert block.startswith(InputConverter(48000, 2, 24000).convert(old))
    assert block.endswith(InputConverter(16000, 1, 24000).convert(new))


def test_going_live_sends_the_part_block_too() -> None:
    path = InputPath()
    path.follow_wire((24000, 1), 0)
    early = b"\x07\x00" * 700  # less than 40 ms at 24 kHz
    assert path.accept(early, live=False) == []
    assert path.drain() == [early]
    assert path.drain() == []
