"""Figure 1: what one 20 ms frame of meeting audio costs on its way to the socket.

The path timed is the one the framework drives 50 times a second per call, through
each client's public hook: ``handle_audio_input(3840 B of 48 kHz stereo)``, and
whatever the client does until the ``input_audio_buffer.append`` frame is handed to
the WebSocket. That includes a client's own sender task when it has one: after
each two-frame sample the loop is given a turn until the frame is written (at most
:data:`MAX_YIELDS`), so a client pays for the hop it really takes and one that sends
inline pays nothing extra. The WebSocket write itself (aiohttp's ``send_str`` /
``send_frame``, the one layer every client shares) is replaced by a
:class:`WireSink` for every row alike, so the rows compare the clients' own work,
JSON encoding and base64 included:

* **ours**: the plugin's production path (convert, batch, whatever sends it).
* **vendor**: its ``handle_audio_input`` resamples, base64-encodes and awaits the
  SDK's ``input_audio_buffer.append`` inline.
* **floor**: :class:`~.floor.FloorClient`: ours' converter, 40 ms batches, orjson,
  inline ``send_frame``; the least a client can do.
* **per-chunk FFT baseline**: downmix + ``scipy.signal.resample`` per 20 ms chunk,
  then base64, the way a naive plugin would do it (no JSON, no socket).

Each timed sample covers two consecutive frames (one 40 ms batch of ours) and is
reported per 20 ms frame, so no row's percentiles mix calls that send with calls
that do not. Rows are interleaved in rounds so drift hits all of them alike; each
round starts with a few untimed samples, so the cache misses of switching from
another row are not charged to this one.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import json
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import numpy as np

from .common import (
    FLOOR,
    FRAME_BYTES,
    FRAME_MS,
    OURS,
    OUTPUT_RATE,
    VENDOR,
    WIRE_RATE,
    b64_size,
    bench_agent,
    caller_audio,
    dist,
    make_model,
)

__all__ = ["MAX_YIELDS", "Step", "WireSink", "frames", "run"]

Step = Callable[[bytes, bytes], Awaitable[None]]

MAX_YIELDS = 3
"""Loop turns a sample may take for its frame to reach the socket (a sender task's hop)."""


class WireSink:
    """Stands in for the WebSocket write of every client: keeps each frame, per row.

    Installed on aiohttp's ``ClientWebSocketResponse`` itself, so it catches the
    SDK's ``send_str`` and the floor's ``send_frame`` alike without reaching into
    any client. Frames are only kept while timing; they are read afterwards.
    """

    def __init__(self) -> None:
        self.row = ""
        self.count = 0
        self.frames: dict[str, list[str | bytes]] = {}

    def _keep(self, data: str | bytes) -> None:
        self.count += 1
        self.frames.setdefault(self.row, []).append(data)

    @contextlib.contextmanager
    def installed(self) -> Iterator[WireSink]:
        from aiohttp import ClientWebSocketResponse

        sink = self
        original = (ClientWebSocketResponse.send_str, ClientWebSocketResponse.send_frame)

        async def send_str(ws: Any, data: str, compress: int | None = None) -> None:
            sink._keep(data)

        async def send_frame(ws: Any, message: bytes, opcode: Any, compress: Any = None) -> None:
            sink._keep(message)

        ClientWebSocketResponse.send_str = send_str  # type: ignore[method-assign,assignment]
        ClientWebSocketResponse.send_frame = send_frame  # type: ignore[method-assign,assignment]
        try:
            yield self
        finally:
            ClientWebSocketResponse.send_str, ClientWebSocketResponse.send_frame = original  # type: ignore[method-assign]

    def appends(self, row: str) -> Counter[int]:
        """Decoded audio bytes of each append the row sent → how many appends had that size."""
        sizes: Counter[int] = Counter()
        for data in self.frames.get(row, []):
            event = json.loads(data)
            audio = event.get("audio") if event.get("type") == "input_audio_buffer.append" else None
            if isinstance(audio, str):
                sizes[b64_size(audio)] += 1
        return sizes


def frames(count: int) -> list[bytes]:
    """``count`` distinct 20 ms frames of meeting audio (speech, then line noise)."""
    pcm = caller_audio(max(1.0, count * FRAME_MS / 1000), seed=1)
    return [pcm[i * FRAME_BYTES : (i + 1) * FRAME_BYTES] for i in range(count)]


def _through_send_path(model: Any, sink: WireSink) -> Step:
    """A sample: two frames into the public hook, then loop turns until a frame is written."""

    async def step(a: bytes, b: bytes) -> None:
        before = sink.count
        await model.handle_audio_input(a)
        await model.handle_audio_input(b)
        for _ in range(MAX_YIELDS):
            if sink.count != before:
                return
            await asyncio.sleep(0)

    return step


async def _until_sending(name: str, step: Step, sink: WireSink, data: list[bytes]) -> bool:
    """Feed the row until its frames reach the socket (a client may hold audio until live)."""
    sink.row = name
    for k in range(200):
        before = sink.count
        await step(data[2 * k % len(data)], data[(2 * k + 1) % len(data)])
        if sink.count != before:
            return True
        await asyncio.sleep(0.01)  # let its receive loop see session.updated
    return False


def _fft_baseline(sink: WireSink) -> Step | None:
    try:
        from scipy.signal import resample
    except ImportError:
        return None
    half = FRAME_BYTES // 4 // 2

    async def one(frame: bytes) -> None:
        x = np.frombuffer(frame, dtype="<i2").reshape(-1, 2).mean(axis=1)
        y = resample(x, half)
        pcm = np.clip(np.rint(y), -32768, 32767).astype("<i2").tobytes()
        audio = base64.b64encode(pcm).decode("ascii")
        sink._keep(json.dumps({"type": "input_audio_buffer.append", "audio": audio}))

    async def step(a: bytes, b: bytes) -> None:
        await one(a)
        await one(b)

    return step


def _stage_steps() -> dict[str, Callable[[bytes, bytes], object]]:
    """The pieces of the two paths, timed alone (same two-frame samples)."""
    from videosdk.agents import audio_format
    from videosdk.agents.audio_input import AudioCapability, ProviderAudioInput

    from videosdk_plugins_azure._fast_events import append_text
    from videosdk_plugins_azure.audio import BlockConverter, InputConverter

    blocks = BlockConverter(InputConverter(WIRE_RATE, 2, OUTPUT_RATE))
    batch = bytes(OUTPUT_RATE * 2 * 40 // 1000)
    audio_format.reset()
    vendor_audio = ProviderAudioInput(
        AudioCapability(rates=frozenset({8000, 16000, 24000}), preferred_rate=OUTPUT_RATE),
        want_channels=1,
    )
    steps: dict[str, Callable[[bytes, bytes], object]] = {
        "ours: BlockConverter.feed (one 40 ms block)": lambda a, b: (
            blocks.feed(a),
            blocks.feed(b),
        ),
        "ours: append text of one 40 ms batch": lambda a, b: append_text(batch),
        "vendor: framework resampler (ProviderAudioInput)": lambda a, b: (
            vendor_audio.process(a),
            vendor_audio.process(b),
        ),
    }
    try:
        from azure.ai.voicelive.models import ClientEventInputAudioBufferAppend

        small = base64.b64encode(bytes(960)).decode("ascii")
        steps["vendor: SDK append event, 2 per 40 ms"] = lambda a, b: (
            ClientEventInputAudioBufferAppend(audio=small),
            ClientEventInputAudioBufferAppend(audio=small),
        )
    except ImportError:
        pass
    return steps


async def _time_rows(
    rows: dict[str, Step],
    data: list[bytes],
    pairs: int,
    rounds: int,
    sink: WireSink,
    fed: Counter[str],
) -> dict[str, list[float]]:
    """Interleave the rows in rounds; return µs per 20 ms frame for each timed pair.

    ``fed`` counts the frames each row was given, timed or not.
    """
    clock = time.perf_counter_ns
    out: dict[str, list[float]] = {name: [] for name in rows}
    per_round = max(1, pairs // rounds)
    n = len(data) // 2
    cursor = 0
    for name, step in rows.items():  # warm-up: caches, first-call paths, lazily built tables
        sink.row = name
        for k in range(100):
            await step(data[2 * (k % n)], data[2 * (k % n) + 1])
        fed[name] += 200
    for _ in range(rounds):
        for name, step in rows.items():
            sink.row = name
            gc.collect()
            for k in range(5):  # the switch from another row leaves the caches cold
                await step(data[2 * k], data[2 * k + 1])
            samples = out[name]
            for k in range(per_round):
                j = (cursor + k) % n
                a, b = data[2 * j], data[2 * j + 1]
                start = clock()
                await step(a, b)
                samples.append((clock() - start) / 2000.0)
            fed[name] += 2 * (5 + per_round)
        cursor += per_round
    return out


async def _time_sync(
    steps: dict[str, Callable[[bytes, bytes], object]], data: list[bytes], pairs: int
) -> dict[str, list[float]]:
    clock = time.perf_counter_ns
    out: dict[str, list[float]] = {}
    n = len(data) // 2
    for name, fn in steps.items():
        for k in range(100):
            fn(data[2 * (k % n)], data[2 * (k % n) + 1])
        gc.collect()
        samples = []
        for k in range(pairs):
            a, b = data[2 * (k % n)], data[2 * (k % n) + 1]
            start = clock()
            fn(a, b)
            samples.append((clock() - start) / 2000.0)
        out[name] = samples
    return out


async def _rows(
    kinds: list[str], endpoint: str, sink: WireSink, models: list[Any]
) -> dict[str, Step]:
    """A step per kind (ours, vendor, floor, in that order); each client goes into ``models``."""
    rows: dict[str, Step] = {}
    for kind in (k for k in (OURS, VENDOR, FLOOR) if k in kinds):
        model = make_model(kind, endpoint)
        models.append(model)
        model.set_agent(bench_agent())
        await model.connect()
        rows[kind] = _through_send_path(model, sink)
    return rows


async def run(kinds: list[str], pairs: int) -> dict[str, Any]:
    """Figure 1. ``pairs`` timed two-frame samples per row; ``kinds`` may include the floor."""
    from videosdk.agents import audio_format

    from videosdk_plugins_azure.emulator import VoiceLiveEmulator

    data = frames(2 * min(pairs, 1500) + 2)
    notes: list[str] = []
    sink = WireSink()
    models: list[Any] = []
    audio_format.reset()  # the meeting default: 48 kHz stereo
    async with VoiceLiveEmulator(speed=math.inf, tts="synthetic") as emu:
        try:
            rows = await _rows(kinds, emu.endpoint, sink, models)
            baseline = _fft_baseline(sink)
            if baseline is None:
                notes.append("scipy is not installed: the per-chunk FFT baseline row is skipped")
            else:
                rows["fft_baseline"] = baseline
            fed: Counter[str] = Counter()
            with sink.installed():
                for name, step in rows.items():
                    if not await _until_sending(name, step, sink, data):
                        notes.append(f"{name}: no frame reached the socket while warming up")
                sink.frames.clear()  # only what the timed rows send is counted
                timed = await _time_rows(rows, data, pairs, 10, sink, fed)
            stages = await _time_sync(_stage_steps(), data, max(200, pairs // 2))
        finally:
            for model in models:
                await model.aclose()
            audio_format.reset()
    return _result(timed, stages, sink, fed, notes)


def _batching(sizes: Counter[int]) -> dict[str, Any]:
    """What the batching adds, from the append sizes ours actually sent."""
    batch_bytes = sizes.most_common(1)[0][0] if sizes else 0
    batch_ms = batch_bytes / (OUTPUT_RATE * 2) * 1000
    return {
        "append_bytes": batch_bytes,
        "batch_ms": round(batch_ms, 1),
        "frames_per_batch": round(batch_ms / FRAME_MS, 2),
        "per_sample_mean_ms": round(batch_ms / 2, 1),
        "per_sample_worst_ms": round(batch_ms, 1),
        "over_20ms_frames_mean_ms": round((batch_ms - FRAME_MS) / 2, 1),
        "over_20ms_frames_worst_ms": round(batch_ms - FRAME_MS, 1),
    }


def _ratios(rows: dict[str, Any], over: str, prefix: str) -> dict[str, float]:
    ours, other = rows[OURS], rows[over]
    return {f"{prefix}_{k}": round(ours[k] / other[k], 3) for k in ("p50", "p99", "mean")}


def _result(
    timed: dict[str, list[float]],
    stages: dict[str, list[float]],
    sink: WireSink,
    fed: Counter[str],
    notes: list[str],
) -> dict[str, Any]:
    """Figure 1's result: a distribution per row and per stage, batching, ours' ratios."""
    result: dict[str, Any] = {"unit": "µs per 20 ms frame", "rows": {}, "stages": {}}
    sizes = {name: sink.appends(name) for name in timed}
    for name, samples in timed.items():
        sent = sizes[name]
        if not sent:
            notes.append(f"{name}: no append reached the socket; its row is not comparable")
        result["rows"][name] = {
            **dist(samples, 2),
            "appends_sent": sum(sent.values()),
            # 960 B expected: 20 ms of 24 kHz mono reached the socket for every frame fed
            "audio_bytes_per_frame": round(sum(k * v for k, v in sent.items()) / fed[name], 1),
            "append_bytes_most_common": sent.most_common(1)[0][0] if sent else None,
        }
        result["_samples_" + name] = samples
    for name, samples in stages.items():
        result["stages"][name] = dist(samples, 2)
    result["batching"] = _batching(sizes[OURS])
    if VENDOR in timed:
        result |= _ratios(result["rows"], VENDOR, "ratio")
    if FLOOR in timed:
        result |= _ratios(result["rows"], FLOOR, "floor_ratio")
    result["max_yields"] = MAX_YIELDS
    result["notes"] = notes
    return result
