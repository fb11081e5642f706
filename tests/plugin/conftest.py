"""An emulator, an agent and a LocalRoom running the real Pipeline with AzureVoiceLive."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
import pytest
from videosdk.agents import Agent, Pipeline

from videosdk_plugins_azure import AzureVoiceLive, AzureVoiceLiveConfig
from videosdk_plugins_azure.emulator import Scenario, Turn, VoiceLiveEmulator, synthesize
from videosdk_plugins_azure.testing import LocalRoom

KEY = "plugin-test-key"


class Assistant(Agent):
    def __init__(self, instructions: str = "You are a helpful assistant.") -> None:
        super().__init__(instructions=instructions)

    async def on_enter(self) -> None:
        return None

    async def on_exit(self) -> None:
        return None


@pytest.fixture
async def emu() -> AsyncIterator[VoiceLiveEmulator]:
    async with VoiceLiveEmulator(
        api_key=KEY, speed=math.inf, tts="auto", record_audio=True, model_latency=0
    ) as emulator:
        yield emulator


def make_model(emulator: VoiceLiveEmulator, **config: Any) -> AzureVoiceLive:
    return AzureVoiceLive(
        model="gpt-realtime",
        endpoint=emulator.endpoint,
        api_key=KEY,
        config=AzureVoiceLiveConfig(**config),
    )


@asynccontextmanager
async def room_with(
    emulator: VoiceLiveEmulator,
    *turns: Turn,
    agent: Agent | None = None,
    model: AzureVoiceLive | None = None,
    **room_kwargs: Any,
) -> AsyncIterator[LocalRoom]:
    emulator.scenario = Scenario(turns)
    model = model or make_model(emulator)
    async with LocalRoom(agent or Assistant(), Pipeline(llm=model), **room_kwargs) as room:
        yield room


async def caller(text: str, rate: int = 24000) -> np.ndarray:
    """What the caller says: real speech when espeak-ng is installed."""
    return await synthesize(text, rate)


def sent_audio(emulator: VoiceLiveEmulator, response_id: str) -> bytes:
    """The exact PCM the emulator sent for one response (recorded with ``record_audio``)."""
    import base64

    return b"".join(
        base64.b64decode(e["delta"])
        for e in emulator.last_connection.events("response.audio.delta", source="server")
        if e["response_id"] == response_id
    )


def heard_samples(output: bytes, sent: bytes, frame: int = 480) -> int:
    """How much of ``sent`` came out of the speaker, measured independently of the plugin.

    The track plays the response's samples unchanged until the flush, then a fade-out
    of the samples that follow (each one the same sample scaled down, possibly to 0),
    then something else (silence or the next answer). Count the exact run, then the
    frames that are still a scaled-down copy of what was sent, minus trailing silence.
    """
    out = np.frombuffer(output, dtype="<i2").astype(np.int32)
    ref = np.frombuffer(sent, dtype="<i2").astype(np.int32)
    probe = ref[: 10 * frame]  # 200 ms: long enough to hold speech, not just a silent onset
    assert np.any(probe), "the response starts with 200 ms of digital silence"
    n = len(probe)
    starts = [i for i in range(0, len(out) - n + 1, frame) if np.array_equal(out[i : i + n], probe)]
    assert starts, "the response's first frames never played"
    start = starts[0]
    k = 0
    while (
        start + (k + 1) * frame <= len(out)
        and (k + 1) * frame <= len(ref)
        and np.array_equal(
            out[start + k * frame : start + (k + 1) * frame], ref[k * frame : (k + 1) * frame]
        )
    ):
        k += 1
    heard = k
    while start + (k + 1) * frame <= len(out) and (k + 1) * frame <= len(ref):
        o = out[start + k * frame : start + (k + 1) * frame]
        r = ref[k * frame : (k + 1) * frame]
        scaled_copy = np.all(np.abs(o) <= np.abs(r) + 1) and np.all(
            (o == 0) | (np.sign(o) == np.sign(r))
        )
        if not scaled_copy:
            break
        k += 1
        if np.any(o):
            heard = k
    return heard * frame


Predicate = Callable[[], bool]
