"""Fixtures that drive the emulator with the real ``azure-ai-voicelive`` SDK."""

from __future__ import annotations

import asyncio
import base64
import json
import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import numpy as np
import pytest
from azure.ai.voicelive.aio import VoiceLiveConnection, connect
from azure.ai.voicelive.models import ServerEvent
from azure.core.credentials import AzureKeyCredential

from videosdk_plugins_azure.emulator import Scenario, VoiceLiveEmulator, synthesize
from videosdk_plugins_azure.emulator._errors import ProtocolError

KEY = "test-key-0123456789"
MODEL = "gpt-realtime"


@pytest.fixture
async def emu() -> AsyncIterator[VoiceLiveEmulator]:
    """Unpaced and with an instant model: tests that measure latency set it themselves."""
    async with VoiceLiveEmulator(
        api_key=KEY, speed=math.inf, tts="synthetic", model_latency=0
    ) as emulator:
        yield emulator


@asynccontextmanager
async def sdk(emulator: VoiceLiveEmulator, **kwargs: Any) -> AsyncIterator[VoiceLiveConnection]:
    """An SDK connection to the emulator (the same call the plugin makes)."""
    kwargs.setdefault("model", MODEL)
    async with connect(
        endpoint=emulator.endpoint,
        credential=kwargs.pop("credential", AzureKeyCredential(KEY)),
        **kwargs,
    ) as conn:
        yield conn


async def recv_until(
    conn: VoiceLiveConnection,
    event_type: str,
    *,
    timeout: float = 10.0,
    where: Callable[[Any], bool] | None = None,
) -> list[Any]:
    """Receive events up to and including the first ``event_type`` (matching ``where``)."""
    events = []
    async with asyncio.timeout(timeout):
        while True:
            event = await conn.recv()
            events.append(event)
            if event.type == event_type and (where is None or where(event)):
                return events


def types(events: list[Any]) -> list[str]:
    return [str(e.type) for e in events]


def tone_burst(rate: int, seconds: float, freq: float = 220.0, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (level * 32767 * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def quiet(rate: int, seconds: float, seed: int = 1) -> np.ndarray:
    """A low noise floor (about −66 dBFS) rather than digital zeros, like a real line."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(rate * seconds)) * 16).astype(np.int16)


async def speech(text: str, rate: int) -> np.ndarray:
    """Real speech when espeak-ng is installed, else the speech-like fallback."""
    return await synthesize(text, rate, engine="auto")


async def stream(
    conn: VoiceLiveConnection, samples: np.ndarray, rate: int, chunk_ms: int = 20
) -> None:
    """Send audio the way a client does: small appends, in order."""
    step = rate * chunk_ms // 1000
    for start in range(0, len(samples), step):
        chunk = samples[start : start + step].astype("<i2").tobytes()
        await conn.input_audio_buffer.append(audio=base64.b64encode(chunk).decode("ascii"))


def scenario(*turns: Any) -> Scenario:
    return Scenario(turns)


def deserialize(payload: dict[str, Any]) -> Any:
    """What the SDK's ``recv()`` does with a frame (untyped in the SDK)."""
    return ServerEvent._deserialize(payload, [])  # type: ignore[no-untyped-call]


def assert_rejected(call: Any, code: str, param: str) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        call()
    assert (info.value.code, info.value.param) == (code, param), info.value.message
    return info.value


# -- raw sockets: frames the SDK would never send -----------------------------------------


@asynccontextmanager
async def raw_ws(
    emulator: VoiceLiveEmulator, *, configure: bool = True
) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    """A plain aiohttp WebSocket to the emulator, past ``session.created`` (and, with
    ``configure``, a first ``session.update``)."""
    url = f"{emulator.endpoint}/voice-live/realtime?model={MODEL}"
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(url, headers={"api-key": KEY}, max_msg_size=0) as ws,
    ):
        await ws_event(ws, "session.created")
        if configure:
            await ws.send_json({"type": "session.update", "session": {}})
            await ws_event(ws, "session.updated")
        yield ws


async def ws_event(
    ws: aiohttp.ClientWebSocketResponse, event_type: str, *, timeout: float = 10.0
) -> dict[str, Any]:
    """Read server events until one of ``event_type``; fail if the socket closes first."""
    async with asyncio.timeout(timeout):
        while True:
            message = await ws.receive()
            if message.type is not aiohttp.WSMsgType.TEXT:
                raise ConnectionError(f"socket ended ({message.type!r}) before {event_type!r}")
            event: dict[str, Any] = json.loads(message.data)
            if event["type"] == event_type:
                return event


async def round_trip(ws: aiohttp.ClientWebSocketResponse, *, timeout: float = 10.0) -> None:
    """A ``session.update`` answered by ``session.updated``: the connection serves."""
    await ws.send_json({"type": "session.update", "session": {}})
    await ws_event(ws, "session.updated", timeout=timeout)
