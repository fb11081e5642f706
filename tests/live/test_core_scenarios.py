"""The core scenarios against a real Voice Live endpoint, through the real Pipeline.

``pytest -m live`` with ``AZURE_VOICE_LIVE_ENDPOINT`` and a key (or
``AZURE_VOICE_LIVE_USE_ENTRA=1``). Each test opens a :class:`LocalRoom` with
``Pipeline(llm=AzureVoiceLive(...))`` and asserts what must hold whatever the
model says: the tool ran with a sensible argument, answers arrived and are not
empty, the truncate fell inside the audio that played, the service sent no error.

The tests run in file order, and against the emulator its script answers the
suite's user turns in that order (``emulator_script.py``): keep the tool turn
first and the long answer second.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from videosdk.agents import Pipeline

from videosdk_plugins_azure.protocol.events import ClientEvent, ServerEvent
from videosdk_plugins_azure.protocol.ids import IdKind, parse
from videosdk_plugins_azure.testing import LocalRoom

from ._call import (
    STEP,
    LiveDesk,
    agent_finals,
    answer_after,
    ask,
    next_answer,
    speak,
    started_after,
)
from ._wire import CLIENT, SERVER, WireTap, drop_from_client
from .conftest import ModelFactory

pytestmark = [pytest.mark.live, pytest.mark.timeout(240)]

GREETING = "Hello, this is the Contoso test desk."
WEATHER_QUESTION = "What is the weather like in Lisbon right now?"
LONG_REQUEST = (
    "Tell me about the history of Lisbon in detail. Talk for at least a minute, "
    "and do not ask me anything back."
)
BARGE_IN = "Sorry, one question."
PIRATE = "You are a pirate. Answer every question in one short sentence."
BARGE_AFTER_MS = 1500.0
"""How much of the long answer plays before the caller talks over it."""


def no_service_errors(wire: WireTap) -> None:
    assert wire.server_errors() == [], "the service reported errors"


async def test_the_greeting_is_spoken(make_model: ModelFactory, wire: WireTap) -> None:
    opened = time.monotonic()
    async with LocalRoom(LiveDesk(GREETING), Pipeline(llm=make_model())) as room:
        _, text = await answer_after(room, opened, "the greeting")
        assert room.voiced_ms(since=opened) > 500
    assert text.strip()
    no_service_errors(wire)


async def test_a_tool_is_called_with_a_sensible_argument(
    make_model: ModelFactory, wire: WireTap
) -> None:
    agent = LiveDesk()
    model = make_model()
    async with LocalRoom(agent, Pipeline(llm=model)) as room:
        asked = time.monotonic()
        await room.session.reply(instructions=WEATHER_QUESTION, wait_for_playback=False)
        await room.wait_for_event("realtime_model_function_executed", timeout=STEP)
        executed: dict[str, Any] = room.payloads("realtime_model_function_executed")[-1]
        ran_at = room.events_named("realtime_model_function_executed")[-1][0]
        _, answer = await next_answer(room, ran_at, "the answer built on the tool's result")
    assert executed["name"] == "get_weather"
    assert not executed["is_error"], executed["output"]
    assert "lisbon" in str(json.loads(executed["arguments"]).get("city", "")).lower()
    assert any("lisbon" in city.lower() for city in agent.weather_cities)
    outputs = wire.timed(ClientEvent.CONVERSATION_ITEM_CREATE.value, CLIENT, asked)
    assert any(e["item"].get("type") == "function_call_output" for _, e in outputs)
    assert answer.strip()
    no_service_errors(wire)


async def test_a_barge_in_truncates_within_the_audio_that_played(
    make_model: ModelFactory, wire: WireTap
) -> None:
    async with LocalRoom(LiveDesk(), Pipeline(llm=make_model())) as room:
        asked = time.monotonic()
        await room.session.reply(instructions=LONG_REQUEST, wait_for_playback=False)
        await room.wait_for(lambda: started_after(room, asked), timeout=STEP, what="the answer")
        started = started_after(room, asked)[0]
        await room.wait_for(
            lambda: room.voiced_ms(since=started) >= BARGE_AFTER_MS or agent_finals(room, started),
            timeout=STEP,
            what="the long answer to play",
        )
        assert not agent_finals(room, started), "the answer ended before the caller spoke"
        heard_before = room.voiced_ms(since=started)
        barged = await speak(room, BARGE_IN)
        truncate_kind = ClientEvent.CONVERSATION_ITEM_TRUNCATE.value
        await room.wait_for(
            lambda: wire.first(truncate_kind, CLIENT, barged), timeout=STEP, what="a truncate"
        )
        sent_at, truncate = wire.first(truncate_kind, CLIENT, barged) or (0.0, {})
        played_ms = 20 * sum(1 for t, _ in room.output_frames if started <= t <= sent_at)
        fade_ms = 1000 * float(room.track.interrupt_fade_duration)
        await next_answer(room, barged, "the answer to the caller who barged in")
    deltas = wire.timed(ServerEvent.RESPONSE_AUDIO_DELTA.value, SERVER, asked)
    assert truncate["item_id"] == deltas[0][1]["item_id"], "the answer being heard is cut"
    # the cut lies where the caller stopped hearing: past what was heard before the
    # barge-in (less one frame), within what the track had played by the truncate plus
    # the framework's fade-out of the cut answer, and never past what the service sent
    assert heard_before - 20 <= truncate["audio_end_ms"] <= played_ms + fade_ms + 20
    assert truncate["audio_end_ms"] <= wire.audio_ms(truncate["item_id"], room.output_rate)
    no_service_errors(wire)


async def test_a_text_only_session_answers_in_text(make_model: ModelFactory, wire: WireTap) -> None:
    model = make_model(modalities=("text",))
    async with LocalRoom(LiveDesk(), Pipeline(llm=model)) as room:
        asked = time.monotonic()
        await room.session.reply(
            instructions="In one sentence, what is a haiku?", wait_for_playback=False
        )
        await room.wait_for_event("llm_text_output", timeout=STEP)
        text = str(room.payloads("llm_text_output")[0].get("text", ""))
        assert room.voiced_ms(since=asked) == 0
    assert text.strip()
    update = wire.connections[0].events(ClientEvent.SESSION_UPDATE.value, CLIENT)[0]
    assert update["session"]["modalities"] == ["text"]
    assert not wire.timed(ServerEvent.RESPONSE_AUDIO_DELTA.value, SERVER)
    no_service_errors(wire)


async def test_an_instruction_change_mid_call_reaches_the_service(
    make_model: ModelFactory, wire: WireTap
) -> None:
    agent = LiveDesk()
    async with LocalRoom(agent, Pipeline(llm=make_model())) as room:
        await ask(room, "Say hello in three words.")
        changed = time.monotonic()
        new = PIRATE
        agent.instructions = new
        await room.wait_for(
            lambda: wire.first(
                ServerEvent.SESSION_UPDATED.value,
                SERVER,
                changed,
                lambda e: e["session"].get("instructions") == new,
            ),
            timeout=STEP,
            what="session.updated with the new instructions",
        )
        _, answer = await ask(room, "What is the capital of France?")
    sent = wire.timed(ClientEvent.SESSION_UPDATE.value, CLIENT, changed)
    assert [e["session"]["instructions"] for _, e in sent] == [new]
    assert answer.strip()
    no_service_errors(wire)


async def test_a_dropped_socket_reconnects_with_the_conversation(
    make_model: ModelFactory, wire: WireTap
) -> None:
    model = make_model()
    reconnected: list[Any] = []
    errors: list[Any] = []
    # the framework's emitter inspects handlers' code: bound builtins will not do
    model.on("session_reconnected", lambda data: reconnected.append(data))
    model.on("error", lambda data: errors.append(data))
    async with LocalRoom(LiveDesk(), Pipeline(llm=model)) as room:
        await ask(room, "Remember the word pineapple, and just say OK.")
        first = wire.latest
        drop_from_client(first)
        await room.wait_for(lambda: reconnected, timeout=STEP, what="session_reconnected")
        assert wire.latest is not first
        _, answer = await ask(room, "Which word did I ask you to remember?")
    assert model.reconnects == 1
    assert answer.strip()
    replayed = [
        e["item"]
        for e in wire.latest.events(ClientEvent.CONVERSATION_ITEM_CREATE.value, CLIENT)
        if (parse(e.get("event_id")) or (None,))[0] is IdKind.REPLAY
    ]
    words = json.dumps(replayed)
    assert "pineapple" in words, "the earlier turn was replayed on the new connection"
    assert all(getattr(e, "recoverable", False) for e in errors), errors
    no_service_errors(wire)
