"""The emulated model's think time (``voicelive-protocol.md`` §9: hundreds of ms, never 3).

The draws are tested without a socket (seeded, so exact), and the wait itself over
the socket with the real SDK, where a client would see it: between the end of the
caller's turn (or ``response.created``) and the first output item.
"""

from __future__ import annotations

import asyncio
import math

import numpy as np
import pytest
from azure.ai.voicelive import models as m

from videosdk_plugins_azure.emulator import (
    EmulatorSettings,
    Faults,
    FunctionCall,
    Scenario,
    Turn,
    VoiceLiveEmulator,
)
from videosdk_plugins_azure.emulator.__main__ import build_emulator, parser
from videosdk_plugins_azure.emulator._latency import (
    DEFAULT_LATENCY_JITTER,
    DEFAULT_MODEL_LATENCY,
    LatencyDraws,
)

from .conftest import KEY, quiet, recv_until, sdk, stream, tone_burst

RATE = 24000
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def draws(
    seed: int, index: int, n: int = 20, latency: float = 0.3, jitter: float = 0.1
) -> list[float]:
    source = LatencyDraws(seed, index)
    return [source.draw(latency, jitter) for _ in range(n)]


def test_the_default_is_a_few_hundred_ms_with_seeded_jitter() -> None:
    settings = EmulatorSettings(Scenario(), Faults())
    assert (settings.model_latency, settings.latency_jitter, settings.seed) == (0.3, 0.1, 0)
    assert (DEFAULT_MODEL_LATENCY, DEFAULT_LATENCY_JITTER) == (0.3, 0.1)
    first = draws(0, 0)
    assert all(0.2 <= d <= 0.4 for d in first)
    assert len(set(first)) == len(first)  # jittered, not constant
    assert draws(0, 0) == first  # deterministic: same seed, same connection
    assert draws(0, 1) != first  # each connection has its own sequence
    assert draws(7, 0) != first
    assert min(draws(0, 0, latency=0.05, jitter=0.2)) == 0.0  # clamped, never negative


def test_zero_latency_is_instant_and_uses_no_draw() -> None:
    source = LatencyDraws(0, 0)
    assert source.draw(0.0, 0.1) == 0.0
    assert source.draw(0.3, 0.1) == draws(0, 0, n=1)[0]  # the sequence did not move


def test_an_injected_latency_overrides_exactly() -> None:
    faults = Faults()
    settings = EmulatorSettings(Scenario(), faults)
    source = LatencyDraws(0, 0)
    faults.model_latency = 0.75
    assert [settings.response_latency(source) for _ in range(3)] == [0.75] * 3
    faults.model_latency = 0.0
    assert settings.response_latency(source) == 0.0
    faults.clear()
    assert faults.model_latency is None
    assert 0.2 <= settings.response_latency(source) <= 0.4


@pytest.mark.parametrize(
    "kwargs",
    [{"model_latency": -0.1}, {"model_latency": math.nan}, {"latency_jitter": math.inf}],
)
def test_bad_latencies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="finite number of seconds"):
        VoiceLiveEmulator(**kwargs)  # type: ignore[arg-type]


def test_cli_flags_reach_the_emulator() -> None:
    default = build_emulator(parser().parse_args([]))
    assert (default.model_latency, default.latency_jitter, default.session_semantics) == (
        DEFAULT_MODEL_LATENCY,
        DEFAULT_LATENCY_JITTER,
        "replace",
    )
    flags = "--model-latency 0 --latency-jitter 0.02 --seed 5 --speed 0 --session-semantics merge"
    args = parser().parse_args(flags.split())
    emu = build_emulator(args)
    assert (emu.model_latency, emu.latency_jitter, emu.seed) == (0.0, 0.02, 5)
    assert (emu.session_semantics, emu.unpaced) == ("merge", True)
    with pytest.raises(SystemExit):
        parser().parse_args(["--session-semantics", "patch"])


async def test_the_model_thinks_after_the_turn_ends_even_unpaced() -> None:
    """Unpaced audio, yet the answer waits: the latency is wall time, not audio time.

    The first response is a function call (after a VAD turn), the second a spoken
    reply (after ``response.create``): both wait before their first output item.
    """
    turn = Turn(
        user="weather?", calls=[FunctionCall("get_weather", {"city": "Oslo"})], reply="Sun."
    )
    async with (
        VoiceLiveEmulator(
            api_key=KEY,
            speed=math.inf,
            tts="synthetic",
            scenario=Scenario([turn]),
            model_latency=0.25,
            latency_jitter=0.05,
        ) as emu,
        sdk(emu) as conn,
    ):
        loop = asyncio.get_running_loop()
        await conn.session.update(session={"tools": [WEATHER]})
        await recv_until(conn, "session.updated")
        said = np.concatenate([quiet(RATE, 0.3), tone_burst(RATE, 0.5), quiet(RATE, 1.0)])
        await stream(conn, said, RATE)
        await recv_until(conn, "input_audio_buffer.speech_stopped")
        stopped = loop.time()
        await recv_until(conn, "response.created")
        created = loop.time()
        call = (await recv_until(conn, "response.output_item.added"))[-1].item
        first_output = loop.time()
        await recv_until(conn, "response.done")
        output = m.FunctionCallOutputItem(call_id=call.call_id, output="sun")
        await conn.conversation.item.create(item=output)
        await conn.response.create()
        await recv_until(conn, "response.created")
        asked = loop.time()
        message = (await recv_until(conn, "response.output_item.added"))[-1].item
        spoken = loop.time()
    assert call.type == "function_call"
    assert created - stopped < 0.1  # the response starts at once; only its output waits
    assert 0.2 - 0.02 <= first_output - stopped <= 0.3 + 0.15
    assert message.type == "message"
    assert spoken - asked >= 0.2 - 0.02


def test_each_response_draws_its_latency_when_it_starts() -> None:
    """The state decides the wait (no I/O), so a replayed session waits the same."""
    from .test_server_state import drive, make_state, started

    def latencies() -> list[float]:
        state = make_state()
        out = []
        for _ in range(3):
            response = started(drive(state, {"type": "response.create"}))
            out.append(response.latency)
            response.status = "completed"
            list(state.finish_response(response))
        return out

    assert latencies() == latencies() == draws(0, 0, n=3)
