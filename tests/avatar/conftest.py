"""Helpers for the avatar tests: an emulator, SDK sessions with an avatar, decoding and sync."""

from __future__ import annotations

import asyncio
import base64
import math
import threading
from collections.abc import AsyncIterator, Sequence
from typing import Any

import numpy as np
import pytest
from azure.ai.voicelive import models as m
from azure.ai.voicelive.aio import VoiceLiveConnection

# emu: the emulator tests' own (unpaced, instant model, synthetic voice), shared here
from tests.emulator.conftest import KEY, emu, recv_until, sdk  # noqa: F401
from videosdk_plugins_azure.avatar import DecodedFrame, StreamDecoder
from videosdk_plugins_azure.emulator import VoiceLiveEmulator, mouth_opening

__all__ = [
    "AVATAR",
    "KEY",
    "SIZE",
    "audio_envelope",
    "best_lag",
    "decode",
    "openings",
    "recv_until",
    "sdk",
    "session_with",
    "spoken",
]

SIZE = (320, 240)
"""Small frames keep H.264 cheap on a shared machine."""
AVATAR: dict[str, Any] = {
    "character": "lisa",
    "style": "casual-sitting",
    "customized": False,
    "output_protocol": "websocket",
    "video": {"resolution": {"width": SIZE[0], "height": SIZE[1]}},
}


@pytest.fixture
async def paced_emu() -> AsyncIterator[VoiceLiveEmulator]:
    """Paced at twice real time, so a response can be cancelled while it streams."""
    async with VoiceLiveEmulator(
        api_key=KEY, speed=2.0, tts="synthetic", model_latency=0
    ) as emulator:
        yield emulator


async def session_with(conn: VoiceLiveConnection, **session: Any) -> Any:
    """``session.created``, one ``session.update`` and what it answered."""
    await recv_until(conn, "session.created")
    await conn.session.update(session=m.RequestSession(session))
    return (await recv_until(conn, "session.updated"))[-1]


def spoken(text: str) -> dict[str, Any]:
    """``response.create`` params that make the assistant say ``text`` verbatim."""
    message = {"type": "message", "role": "assistant", "content": [{"type": "text", "text": text}]}
    return {"pre_generated_assistant_message": message}


def decode(pieces: Sequence[tuple[bytes, Any]], size: tuple[int, int] = SIZE) -> list[DecodedFrame]:
    """Every frame of a stream fed as ``(bytes, tag)`` pieces, through the plugin's decoder."""
    frames: list[DecodedFrame] = []
    lock = threading.Lock()

    def keep(frame: DecodedFrame) -> None:
        with lock:
            frames.append(frame)
        decoder.consumed(1)

    decoder = StreamDecoder(size, keep, max_ahead=4)
    for data, tag in pieces:
        assert decoder.feed(data, tag)
    decoder.end()
    decoder.join(10.0)
    assert not decoder.failed
    return frames


def openings(frames: Sequence[Any]) -> np.ndarray:
    """The mouth's opening in each frame, read from its pixels."""
    return np.array([mouth_opening(frame.to_ndarray()[: frame.height]) for frame in frames])


def audio_envelope(pcm: bytes, rate: int, fps: int, count: int) -> np.ndarray:
    """RMS level (dBFS) of each ``1 / fps`` slice of int16 ``pcm``."""
    samples = np.frombuffer(pcm, np.int16).astype(np.float64)
    step = rate // fps
    levels = []
    for index in range(count):
        window = samples[index * step : (index + 1) * step]
        rms = math.sqrt(float(np.mean(window * window))) if window.size else 0.0
        levels.append(20 * math.log10(max(rms, 1.0) / 32768))
    return np.array(levels)


def best_lag(reference: np.ndarray, signal: np.ndarray, max_lag: int) -> tuple[int, float]:
    """The shift of ``signal`` against ``reference`` (in samples) that correlates best.

    Positive: ``signal`` is late. Normalised correlation over the overlap.
    """
    best = (0, -2.0)
    for lag in range(-max_lag, max_lag + 1):
        a = reference[max(0, -lag) : len(reference) - max(0, lag)]
        b = signal[max(0, lag) : len(signal) - max(0, -lag)]
        n = min(len(a), len(b))
        a, b = a[:n] - a[:n].mean(), b[:n] - b[:n].mean()
        denominator = math.sqrt(float((a * a).sum() * (b * b).sum()))
        score = float((a * b).sum()) / denominator if denominator else -1.0
        if score > best[1]:
            best = (lag, score)
    return best


async def collect(conn: VoiceLiveConnection, until: str = "response.done") -> list[Any]:
    return await recv_until(conn, until, timeout=30.0)


def pcm_of(events: Sequence[Any]) -> bytes:
    return b"".join(
        base64.b64decode(e["delta"]) for e in events if e.type == "response.audio.delta"
    )


def video_of(events: Sequence[Any]) -> list[bytes]:
    return [base64.b64decode(e.delta) for e in events if e.type == "response.video.delta"]


async def settle() -> None:
    await asyncio.sleep(0)
