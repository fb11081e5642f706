"""Figure 1: what one 20 ms frame of meeting audio costs on its way to the socket.

The path timed is the one the framework drives 50 times a second per call:
``handle_audio_input(3840 B of 48 kHz stereo)`` up to the moment the audio is
handed to the SDK's ``connection.send``, base64 included. ``send`` itself (JSON
encoding and the WebSocket write) is replaced by a recorder for every row, as in
the calibration, so the rows compare the plugins' own work:

* **ours**: ``handle_audio_input`` converts and batches into the outbox; the
  timing loop then drains the outbox inline (``Outbox.get`` base64-encodes), so
  everything our sender task does per event up to ``send`` is counted. A second
  row lets the real sender task do it instead, which adds one event-loop
  iteration per batch.
* **vendor**: its ``handle_audio_input`` resamples, base64-encodes and calls the
  SDK's ``input_audio_buffer.append`` (which builds the SDK event) inline.
* **per-chunk FFT baseline**: downmix + ``scipy.signal.resample`` per 20 ms
  chunk, then base64, the way a naive plugin would do it.

Each timed sample covers two consecutive frames (one 40 ms batch of ours) and
is reported per 20 ms frame, so no row's percentiles mix calls that send with
calls that do not. Rows are interleaved in rounds so drift hits all of them alike;
each round starts with a few untimed samples, so the cache misses of switching
from another row are not charged to this one.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np

from .common import (
    FRAME_BYTES,
    FRAME_MS,
    OURS,
    OUTPUT_RATE,
    VENDOR,
    WIRE_RATE,
    caller_audio,
    dist,
    make_model,
)

__all__ = ["SendRecorder", "Step", "frames", "run"]

Step = Callable[[bytes, bytes], Awaitable[None]]


class SendRecorder:
    """Stands in for ``connection.send``: counts events and the audio they carry."""

    def __init__(self) -> None:
        self.events = 0
        self.audio_bytes = 0
        self.append_sizes: Counter[int] = Counter()

    async def __call__(self, event: Any) -> None:
        self.events += 1
        audio = event.get("audio") if hasattr(event, "get") else None
        if isinstance(audio, str):
            size = len(audio) * 3 // 4 - audio[-2:].count("=")
            self.audio_bytes += size
            self.append_sizes[size] += 1


def frames(count: int) -> list[bytes]:
    """``count`` distinct 20 ms frames of meeting audio (speech, then line noise)."""
    pcm = caller_audio(max(1.0, count * FRAME_MS / 1000), seed=1)
    return [pcm[i * FRAME_BYTES : (i + 1) * FRAME_BYTES] for i in range(count)]


async def _ours(endpoint: str, inline: bool) -> tuple[Step, SendRecorder, Any]:
    model = make_model(OURS, endpoint)
    await model.connect()
    recorder = SendRecorder()
    model._transport.session.connection.send = recorder  # the SDK call ends here
    outbox = model._transport.outbox

    if inline:

        async def step(a: bytes, b: bytes) -> None:
            await model.handle_audio_input(a)
            while len(outbox):
                await recorder(await outbox.get())
            await model.handle_audio_input(b)
            while len(outbox):
                await recorder(await outbox.get())

    else:

        async def step(a: bytes, b: bytes) -> None:
            await model.handle_audio_input(a)
            await asyncio.sleep(0)  # the sender task runs here when a batch is due
            await model.handle_audio_input(b)
            await asyncio.sleep(0)

    return step, recorder, model


async def _vendor(endpoint: str) -> tuple[Step, SendRecorder, Any]:
    model = make_model(VENDOR, endpoint)
    await model.connect()
    recorder = SendRecorder()
    model._session.connection.send = recorder  # input_audio_buffer.append() ends here

    async def step(a: bytes, b: bytes) -> None:
        await model.handle_audio_input(a)
        await model.handle_audio_input(b)

    return step, recorder, model


def _fft_baseline() -> tuple[Step, SendRecorder] | None:
    try:
        from scipy.signal import resample
    except ImportError:
        return None
    recorder = SendRecorder()
    half = FRAME_BYTES // 4 // 2

    async def one(frame: bytes) -> None:
        x = np.frombuffer(frame, dtype="<i2").reshape(-1, 2).mean(axis=1)
        y = resample(x, half)
        pcm = np.clip(np.rint(y), -32768, 32767).astype("<i2").tobytes()
        audio = base64.b64encode(pcm).decode("ascii")
        await recorder({"type": "input_audio_buffer.append", "audio": audio})

    async def step(a: bytes, b: bytes) -> None:
        await one(a)
        await one(b)

    return step, recorder


def _stage_steps() -> dict[str, Callable[[bytes, bytes], object]]:
    """The pieces of the two paths, timed alone (same two-frame samples)."""
    from videosdk.agents import audio_format
    from videosdk.agents.audio_input import AudioCapability, ProviderAudioInput

    from videosdk_plugins_azure.audio import InputConverter

    conv = InputConverter(WIRE_RATE, 2, OUTPUT_RATE)
    batch = bytes(OUTPUT_RATE * 2 * 40 // 1000)
    audio_format.reset()
    vendor_audio = ProviderAudioInput(
        AudioCapability(rates=frozenset({8000, 16000, 24000}), preferred_rate=OUTPUT_RATE),
        want_channels=1,
    )
    steps: dict[str, Callable[[bytes, bytes], object]] = {
        "ours: InputConverter.convert": lambda a, b: (conv.convert(a), conv.convert(b)),
        "ours: base64 of one 40 ms batch": lambda a, b: base64.b64encode(batch),
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
    rows: dict[str, Step], data: list[bytes], pairs: int, rounds: int, fed: Counter[str]
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
        for k in range(100):
            await step(data[2 * (k % n)], data[2 * (k % n) + 1])
        fed[name] += 200
    for _ in range(rounds):
        for name, step in rows.items():
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


async def run(kinds: list[str], pairs: int) -> dict[str, Any]:
    """Figure 1. ``pairs`` timed two-frame samples per row."""
    from videosdk.agents import audio_format

    from videosdk_plugins_azure.emulator import VoiceLiveEmulator

    data = frames(2 * min(pairs, 1500) + 2)
    rows: dict[str, Step] = {}
    recorders: dict[str, SendRecorder] = {}
    models: list[Any] = []
    notes: list[str] = []
    audio_format.reset()  # the meeting default: 48 kHz stereo
    async with VoiceLiveEmulator(speed=math.inf, tts="synthetic") as emu:
        try:
            step, rec, model = await _ours(emu.endpoint, inline=True)
            rows[OURS], recorders[OURS] = step, rec
            models.append(model)
            step, rec, model = await _ours(emu.endpoint, inline=False)
            rows["ours_sender_task"], recorders["ours_sender_task"] = step, rec
            models.append(model)
            if VENDOR in kinds:
                step, rec, model = await _vendor(emu.endpoint)
                rows[VENDOR], recorders[VENDOR] = step, rec
                models.append(model)
            baseline = _fft_baseline()
            if baseline is None:
                notes.append("scipy is not installed: the per-chunk FFT baseline row is skipped")
            else:
                rows["fft_baseline"], recorders["fft_baseline"] = baseline
            fed: Counter[str] = Counter()
            timed = await _time_rows(rows, data, pairs, rounds=10, fed=fed)
            stages = await _time_sync(_stage_steps(), data, max(200, pairs // 2))
        finally:
            for model in models:
                await model.aclose()
            audio_format.reset()

    return _result(timed, stages, recorders, fed, notes)


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


def _result(
    timed: dict[str, list[float]],
    stages: dict[str, list[float]],
    recorders: dict[str, SendRecorder],
    fed: Counter[str],
    notes: list[str],
) -> dict[str, Any]:
    """Figure 1's result: a distribution per row and per stage, batching, ours/vendor ratios."""
    result: dict[str, Any] = {"unit": "µs per 20 ms frame", "rows": {}, "stages": {}}
    for name, samples in timed.items():
        rec = recorders[name]
        if not rec.events:
            notes.append(f"{name}: the send stub was never reached; its row is not comparable")
        result["rows"][name] = {
            **dist(samples, 2),
            "send_calls": rec.events,
            # 960 B expected: 20 ms of 24 kHz mono reached send for every frame fed
            "audio_bytes_per_frame": round(rec.audio_bytes / fed[name], 1),
            "append_bytes_most_common": rec.append_sizes.most_common(1)[0][0]
            if rec.append_sizes
            else None,
        }
        result["_samples_" + name] = samples
    for name, samples in stages.items():
        result["stages"][name] = dist(samples, 2)
    result["batching"] = _batching(recorders[OURS].append_sizes)
    if VENDOR in timed:
        ours, vendor = result["rows"][OURS], result["rows"][VENDOR]
        result["ratio_p50"] = round(ours["p50"] / vendor["p50"], 3)
        result["ratio_p99"] = round(ours["p99"] / vendor["p99"], 3)
        result["ratio_mean"] = round(ours["mean"] / vendor["mean"], 3)
    result["notes"] = notes
    return result
