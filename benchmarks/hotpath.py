"""What each hot path of the plugin costs per event, the SDK's way and ours, in one run.

Issue 14, item 4. Every row pair runs the same input through both paths, rounds
interleaved so drift hits both alike, CPU time of this process only; the figures
are ratios and per-event microseconds on this machine in this run.

* **receive**: frames recorded from the emulator (a whole answer, at several delta
  sizes) replayed from memory into a real ``VoiceLiveConnection``: its ``recv()``
  and the ``.delta`` the core read (the SDK's way), the public ``recv_bytes()`` plus
  our parse, and :class:`~videosdk_plugins_azure._fast_events.EventReader`, with
  stdlib ``json`` and, when installed, ``orjson``.
* **send**: one 40 ms append (24 kHz mono): the event dict and the SDK's ``send()``,
  against :class:`~videosdk_plugins_azure._fast_events.EventWriter`; and the sender
  task's wake-up (the outbox) against :meth:`Transport.send_audio` sending at once.
* **convert**: 20 ms of 48 kHz stereo: :class:`InputConverter` per frame plus the
  append batcher, against :class:`BlockConverter` (40 ms per conversion), checked
  bit-identical.
* **call-second**: the rows above weighted by what one second of a call carries
  (50 caller frames, the answer's deltas), and what orjson would save of it.

``python -m benchmarks.hotpath [--quick]``; :func:`run` returns the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import aiohttp
from azure.ai.voicelive.aio import VoiceLiveConnection
from azure.core.credentials import AzureKeyCredential

from videosdk_plugins_azure import AzureVoiceLiveConfig
from videosdk_plugins_azure import _fast_events as fast
from videosdk_plugins_azure.audio import AppendBatcher, BlockConverter, InputConverter
from videosdk_plugins_azure.connection import ConnectTarget, open_session
from videosdk_plugins_azure.core import CallCore, SessionSpec
from videosdk_plugins_azure.core.effects import HOT_EVENTS
from videosdk_plugins_azure.emulator import Scenario, Turn, VoiceLiveEmulator
from videosdk_plugins_azure.protocol.events import ClientEvent, ServerEvent, wire_type
from videosdk_plugins_azure.transport import Transport

from .common import FRAME_BYTES, FRAME_MS, LONG_REPLY, caller_audio

__all__ = ["ReplaySocket", "main", "record_frames", "run"]

KEY = "hotpath-key"
AUDIO = wire_type(ServerEvent.RESPONSE_AUDIO_DELTA)
TRANSCRIPT = wire_type(ServerEvent.RESPONSE_AUDIO_TRANSCRIPT_DELTA)
APPEND = wire_type(ClientEvent.INPUT_AUDIO_BUFFER_APPEND)
BLOCK_BYTES = 1920
"""One 40 ms append at 24 kHz mono."""

Step = Callable[[], Awaitable[None]]


# -- recorded frames, replayed -------------------------------------------------------


async def record_frames(chunk_ms: int) -> list[str]:
    """Every frame of one spoken answer, as the emulator sent it (``chunk_ms`` deltas)."""
    scenario = Scenario([Turn(reply=LONG_REPLY)])
    async with VoiceLiveEmulator(
        api_key=KEY,
        speed=math.inf,
        tts="synthetic",
        model_latency=0,
        chunk_ms=chunk_ms,
        scenario=scenario,
    ) as emu:
        opened = await open_session(
            ConnectTarget(emu.endpoint, "gpt-realtime"), AzureKeyCredential(KEY)
        )
        async with opened:
            spec = SessionSpec(AzureVoiceLiveConfig(), model="gpt-realtime")
            connection = opened.connection
            await connection.send(spec.update_event(context_instructions="Hi.", replaying=False))
            await connection.send({"type": "response.create"})
            frames: list[str] = []
            while not frames or json.loads(frames[-1]).get("type") != "response.done":
                message = await connection._connection.receive()
                frames.append(message.data)
    return frames


class ReplaySocket(aiohttp.ClientWebSocketResponse):
    """An aiohttp WebSocket with no network: ``receive`` replays frames, ``send_str`` counts.

    Made with ``__new__`` only; nothing but these two methods is ever called.
    """

    frames: list[aiohttp.WSMessage]
    sent: int

    @classmethod
    def of(cls, frames: list[str]) -> ReplaySocket:
        socket = cls.__new__(cls)
        socket.frames = [aiohttp.WSMessage(aiohttp.WSMsgType.TEXT, f, None) for f in frames]
        socket.sent = 0
        socket._cycle = _cycle(socket.frames)  # type: ignore[attr-defined]
        return socket

    async def receive(self, timeout: float | None = None) -> Any:
        return next(self._cycle)  # type: ignore[attr-defined]

    async def send_str(self, data: str, compress: int | None = None) -> None:
        self.sent += len(data)


def _cycle(items: list[aiohttp.WSMessage]) -> Iterator[aiohttp.WSMessage]:
    while True:
        yield from items


def connection_on(socket: ReplaySocket) -> VoiceLiveConnection:
    return VoiceLiveConnection(None, socket)  # type: ignore[arg-type]


# -- timing --------------------------------------------------------------------------


async def compare(rows: dict[str, Step], per_round: int, rounds: int) -> dict[str, float]:
    """Median µs per step of each row; rows interleaved round by round, CPU time."""
    samples: dict[str, list[float]] = {name: [] for name in rows}
    for _ in range(rounds):
        for name, step in rows.items():
            for _ in range(max(1, per_round // 10)):  # warm this row's caches first
                await step()
            started = time.process_time_ns()
            for _ in range(per_round):
                await step()
            samples[name].append((time.process_time_ns() - started) / per_round / 1000)
    return {name: statistics.median(values) for name, values in samples.items()}


# -- receive -------------------------------------------------------------------------


def _orjson_parse() -> Callable[[str | bytes], Any] | None:
    try:
        import orjson
    except ImportError:
        return None
    loads = orjson.loads

    def parse(data: str | bytes) -> Any:
        payload = loads(data)
        read = HOT_EVENTS.get(payload.get("type"))
        return read(payload) if read is not None else fast._TYPED(payload, [])  # type: ignore[misc]

    return parse


def receive_rows(frames: list[str]) -> dict[str, Step]:
    """One step = one frame of ``frames`` through each path."""
    sdk = connection_on(ReplaySocket.of(frames))
    public = connection_on(ReplaySocket.of(frames))
    reader = fast.EventReader(connection_on(ReplaySocket.of(frames)))
    assert reader.fast, "the replay socket must take the fast path"

    async def sdk_recv() -> None:
        event = await sdk.recv()
        if event.get("type") == AUDIO:
            event.delta  # noqa: B018 - the SDK decodes base64 on attribute access

    async def public_recv() -> None:
        fast._parse(await public.recv_bytes())

    async def fast_recv() -> None:
        await reader.recv()

    rows: dict[str, Step] = {"sdk recv()": sdk_recv, "recv_bytes + ours": public_recv}
    rows["ours (json)"] = fast_recv
    parse = _orjson_parse()
    if parse is not None:
        socket = ReplaySocket.of(frames)

        async def orjson_recv() -> None:
            parse((await socket.receive()).data)

        rows["ours (orjson)"] = orjson_recv
    return rows


# -- send ----------------------------------------------------------------------------


def send_rows(pcm: bytes) -> dict[str, Step]:
    """One step = one 40 ms append onto a socket that takes it at once."""
    sdk = connection_on(ReplaySocket.of([]))
    writer = fast.EventWriter(connection_on(ReplaySocket.of([])))
    assert writer.fast

    async def sdk_send() -> None:  # what the outbox and the sender did before
        await sdk.send({"type": APPEND, "audio": base64.b64encode(pcm).decode("ascii")})

    async def fast_send() -> None:
        await writer.send(pcm)

    return {"sdk send(dict)": sdk_send, "ours (text)": fast_send}


def _transport(socket: ReplaySocket) -> Transport:
    spec = SessionSpec(AzureVoiceLiveConfig(), model="gpt-realtime")
    core = CallCore(spec, _NoSpeaker(), context=lambda base: base or "")
    transport = Transport(core, _NoHost(), session_timeout=1.0, max_session_duration=None)
    transport._writer = fast.EventWriter(connection_on(socket))
    return transport


async def hop_rows(pcm: bytes) -> tuple[dict[str, Step], list[Transport]]:
    """One step = one append and one turn of the loop (the meeting's next frame)."""
    queued, inline = _transport(ReplaySocket.of([])), _transport(ReplaySocket.of([]))
    assert queued._writer is not None
    queued.spawn(queued._send_loop(queued._writer))
    await asyncio.sleep(0)

    async def via_task() -> None:
        queued.outbox.put_audio(pcm)
        await asyncio.sleep(0)

    async def at_once() -> None:
        inline.send_audio(pcm)
        await asyncio.sleep(0)

    return {"outbox + sender task": via_task, "send_audio at once": at_once}, [queued, inline]


class _NoSpeaker:
    def present(self) -> bool:
        return False

    def position(self) -> int:
        return 0

    def flush(self) -> int:
        return 0


class _NoHost:
    async def deliver(self, event: Any) -> None:
        return None

    def perform(self, effects: list[Any]) -> None:
        return None


# -- convert -------------------------------------------------------------------------


def convert_rows(frames: list[bytes]) -> tuple[dict[str, Step], bool]:
    """One step = one 20 ms meeting frame; also whether both outputs are bit-identical."""
    old = InputConverter(48000, 2, 24000)
    batcher = AppendBatcher.for_duration(24000)
    blocks = BlockConverter(InputConverter(48000, 2, 24000))
    old_out, new_out = bytearray(), bytearray()
    for frame in frames:
        batcher.add(old.convert(frame))
        old_out += batcher.take() or b""
        new_out += blocks.feed(frame) or b""
    old_out += batcher.flush() + old.flush()
    new_out += blocks.drain() + blocks.converter.flush()
    identical = old_out == new_out
    feed = _cycle_bytes(frames)

    async def per_frame() -> None:
        batcher.add(old.convert(next(feed)))
        batcher.take()

    async def per_block() -> None:
        blocks.feed(next(feed))

    return {"20 ms convert + batch": per_frame, "40 ms blocks": per_block}, identical


def _cycle_bytes(frames: list[bytes]) -> Iterator[bytes]:
    while True:
        yield from frames


# -- the run -------------------------------------------------------------------------


def _by_type(frames: list[str], kind: str) -> list[str]:
    return [f for f in frames if json.loads(f).get("type") == kind]


async def run(quick: bool = False, chunks_ms: tuple[int, ...] = (20, 100)) -> dict[str, Any]:
    """Every row pair, per event, with the ratio ours / the SDK's way."""
    rounds, per_round = (5, 300) if quick else (15, 1500)
    result: dict[str, Any] = {"receive": {}, "rounds": rounds, "per_round": per_round}
    streams: dict[int, list[str]] = {}
    for chunk_ms in chunks_ms:
        frames = await record_frames(chunk_ms)
        streams[chunk_ms] = frames
        for label, subset in (
            ("all frames", frames),
            ("audio deltas", _by_type(frames, AUDIO)),
            ("transcript deltas", _by_type(frames, TRANSCRIPT)),
        ):
            figures = await compare(receive_rows(subset), per_round, rounds)
            result["receive"][f"{chunk_ms} ms deltas, {label}"] = figures
    pcm = caller_audio(1.0)[:BLOCK_BYTES]  # any bytes: only their size matters here
    result["send"] = await compare(send_rows(pcm), per_round, rounds)
    hops, transports = await hop_rows(pcm)
    result["hop"] = await compare(hops, per_round, rounds)
    for transport in transports:
        await transport.aclose()
    meeting = caller_audio(2.0, seed=3)
    frames = [meeting[i : i + FRAME_BYTES] for i in range(0, len(meeting), FRAME_BYTES)]
    converts, identical = convert_rows(frames)
    result["convert"] = await compare(converts, per_round, rounds)
    result["convert_bit_identical"] = identical
    result["call_second"] = call_second(result, streams)
    return result


def call_second(result: dict[str, Any], streams: dict[int, list[str]]) -> dict[str, Any]:
    """One second of a call with the caller talking and the agent answering, per path.

    50 caller frames (25 appends), and the answer's audio and transcript deltas per
    second of its audio at each delta size. The once-per-answer events cost the
    same typed parse on both paths and are left out. Also: the part of it orjson
    would save on top of ours.
    """
    out: dict[str, Any] = {}
    appends = 1000 / FRAME_MS / 2
    conv, send, hop = result["convert"], result["send"], result["hop"]
    for chunk_ms, frames in streams.items():
        audio = result["receive"][f"{chunk_ms} ms deltas, audio deltas"]
        words = result["receive"][f"{chunk_ms} ms deltas, transcript deltas"]
        seconds = len(_by_type(frames, AUDIO)) * chunk_ms / 1000
        rates = (1000 / chunk_ms, len(_by_type(frames, TRANSCRIPT)) / seconds)
        received = {row: rates[0] * audio[row] + rates[1] * words[row] for row in audio}
        before = received["sdk recv()"] + 50 * conv["20 ms convert + batch"]
        before += appends * (send["sdk send(dict)"] + hop["outbox + sender task"])
        after = received["ours (json)"] + 50 * conv["40 ms blocks"]
        after += appends * (send["ours (text)"] + hop["send_audio at once"])
        row = {"deltas_per_s": sum(rates), "before_us": before, "after_us": after}
        if "ours (orjson)" in audio:
            saved = received["ours (json)"] - received["ours (orjson)"]
            row["orjson_saves_us"] = saved
            row["orjson_share_of_after"] = saved / after
        out[f"{chunk_ms} ms deltas"] = row
    return out


def _table(result: dict[str, Any]) -> str:
    lines = [f"rounds={result['rounds']} x {result['per_round']} steps, median, CPU µs per step"]
    sections = [(f"receive: {k}", v) for k, v in result["receive"].items()]
    sections += [("send one append", result["send"]), ("hand-off per append", result["hop"])]
    sections += [("convert per 20 ms frame", result["convert"])]
    for title, figures in sections:
        base = next(iter(figures.values()))
        lines.append(title)
        lines += [f"  {n:24s} {us:8.2f} µs  {us / base:5.2f}x" for n, us in figures.items()]
    lines.append(f"convert output bit-identical: {result['convert_bit_identical']}")
    for label, row in result["call_second"].items():
        text = (
            f"call-second, {label}: {row['deltas_per_s']:.0f} deltas/s in; plugin hot paths "
            f"{row['before_us']:.0f} → {row['after_us']:.0f} µs "
            f"({row['after_us'] / row['before_us']:.2f}x)"
        )
        if "orjson_saves_us" in row:
            text += (
                f"; orjson would save {row['orjson_saves_us']:.0f} µs "
                f"({100 * row['orjson_share_of_after']:.1f} % of ours)"
            )
        lines.append(text)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.hotpath", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    result = asyncio.run(run(quick=args.quick))
    print(json.dumps(result, indent=2) if args.json else _table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
