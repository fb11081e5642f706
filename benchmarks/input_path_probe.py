"""Cost of the plugin's audio input path, in µs per 20 ms of meeting audio.

Run: ``python benchmarks/input_path_probe.py [calls]``. Prints p50/p99 over at
least 2000 calls of 48 kHz stereo speech-like noise for each stage, so a change
to the converter or batching can be compared against the framework's own native
converter on the same machine.
"""

from __future__ import annotations

import base64
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from videosdk_plugins_azure.audio import AppendBatcher, InputConverter

WIRE_RATE, WIRE_CHANNELS, TARGET_RATE = 48000, 2, 24000
FRAME_BYTES = WIRE_RATE // 50 * 2 * WIRE_CHANNELS
WARMUP = 100


def signal(frames: int) -> bytes:
    rng = np.random.default_rng(0)
    n = frames * FRAME_BYTES // 4
    t = np.arange(n) / WIRE_RATE
    mono = 6000 * np.sin(2 * np.pi * 220 * t) + rng.normal(0, 3000, n)
    return np.repeat(np.clip(mono, -32768, 32767).astype("<i2"), 2).tobytes()


def measure(
    step: Callable[[bytes], object], pcm: bytes, call_bytes: int, calls: int
) -> tuple[float, float]:
    """p50/p99 µs per 20 ms frame over ``calls`` calls of ``call_bytes`` each."""
    ends = range(call_bytes, min(len(pcm), (calls + WARMUP) * call_bytes) + 1, call_bytes)
    chunks = [pcm[end - call_bytes : end] for end in ends]
    per_frame = FRAME_BYTES / call_bytes
    clock = time.perf_counter_ns
    times = []
    for chunk in chunks:
        start = clock()
        step(chunk)
        times.append(clock() - start)
    us = np.array(times[WARMUP:]) / 1000 * per_frame
    return float(np.percentile(us, 50)), float(np.percentile(us, 99))


def framework_converter() -> Any | None:
    try:
        from videosdk.agents import audio_native

        return audio_native.converter(
            in_rate=WIRE_RATE,
            in_channels=WIRE_CHANNELS,
            out_rate=TARGET_RATE,
            out_channels=1,
            out_dtype="i16",
        )
    except Exception as exc:  # any failure just means there is nothing to compare with
        print(f"(framework converter unavailable: {exc})")
        return None


def main() -> None:
    calls = max(int(sys.argv[1]) if len(sys.argv) > 1 else 3000, 2000)
    pcm = signal(2 * (calls + WARMUP))
    rows: list[tuple[str, tuple[float, float]]] = []

    rows.append(
        (
            "InputConverter, 20 ms calls",
            measure(InputConverter(48000, 2, 24000).convert, pcm, FRAME_BYTES, calls),
        )
    )
    rows.append(
        (
            "InputConverter, 40 ms calls",
            measure(InputConverter(48000, 2, 24000).convert, pcm, 2 * FRAME_BYTES, calls),
        )
    )

    converted = InputConverter(48000, 2, 24000).convert(pcm)
    out_frame = len(converted) * FRAME_BYTES // len(pcm)
    rows.append(
        ("base64 of output, per 20 ms", measure(base64.b64encode, converted, out_frame, calls))
    )
    rows.append(
        (
            "base64 of output, 40 ms batches",
            measure(base64.b64encode, converted, 2 * out_frame, calls),
        )
    )

    conv = InputConverter(48000, 2, 24000)
    batcher = AppendBatcher.for_duration(TARGET_RATE)

    def whole_path(two_frames: bytes) -> None:
        # One timed call = one batch cycle (two 20 ms pipeline calls), so the
        # percentiles are not a mix of calls that encode and calls that do not.
        for frame in (two_frames[:FRAME_BYTES], two_frames[FRAME_BYTES:]):
            batcher.add(conv.convert(frame))
            batch = batcher.take()
            if batch is not None:
                base64.b64encode(batch)

    rows.append(
        ("2x convert + batch 40 ms + base64", measure(whole_path, pcm, 2 * FRAME_BYTES, calls))
    )

    native = framework_converter()
    if native is not None:
        rows.append(
            ("framework converter, 20 ms calls", measure(native.process, pcm, FRAME_BYTES, calls))
        )
        native.reset()
        rows.append(
            (
                "framework converter, 40 ms calls",
                measure(native.process, pcm, 2 * FRAME_BYTES, calls),
            )
        )

    print(f"48 kHz stereo -> 24 kHz mono, {calls} timed calls per row, µs per 20 ms frame")
    print(f"{'stage':36s} {'p50':>8s} {'p99':>8s}")
    for name, (p50, p99) in rows:
        print(f"{name:36s} {p50:8.2f} {p99:8.2f}")


if __name__ == "__main__":
    main()
