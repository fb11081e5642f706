"""Mid-call changes reach the service whole, through the real Pipeline (§9: updates replace).

Each test reads the emulator's *effective* session, so it holds on a service that
replaces the session on every update as well as on one that merges.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from typing import Any

import pytest
from videosdk.agents import Agent, function_tool

from videosdk_plugins_azure.emulator import FunctionCall, Turn, VoiceLiveEmulator

from .conftest import KEY, Assistant, make_model, room_with


@pytest.fixture(params=["replace", "merge"])
async def emu(request: pytest.FixtureRequest) -> AsyncIterator[VoiceLiveEmulator]:
    """The same call against a service that replaces the session on every update (the
    real one, §9) and one that merges (OpenAI-style): the outcome must not differ."""
    async with VoiceLiveEmulator(
        api_key=KEY,
        speed=math.inf,
        tts="synthetic",
        model_latency=0,
        session_semantics=request.param,
    ) as emulator:
        yield emulator


CONFIG: dict[str, Any] = {"voice": "en-US-Ava:DragonHDLatestNeural"}


@function_tool
async def book_table(people: int) -> str:
    """Book a table."""
    return "booked"


class Desk(Agent):
    """The agent a handoff moves the call to."""

    def __init__(self) -> None:
        super().__init__(instructions="You are the booking desk.", tools=[book_table])

    async def on_enter(self) -> None:
        return None

    async def on_exit(self) -> None:
        return None


class Front(Agent):
    def __init__(self) -> None:
        super().__init__(instructions="You are the front desk.")

    async def on_enter(self) -> None:
        return None

    async def on_exit(self) -> None:
        return None

    @function_tool
    async def transfer_to_booking(self) -> Agent:
        """Hand the caller to the booking desk."""
        return Desk()


def kept(session: dict[str, Any], first: dict[str, Any]) -> None:
    """The configured parts of the session survived the change."""
    for key in ("voice", "input_audio_transcription", "input_audio_sampling_rate", "modalities"):
        assert session.get(key) == first.get(key), key
    assert session["turn_detection"]["type"] == first["turn_detection"]["type"]


def tool_names(session: dict[str, Any]) -> set[str]:
    return {t.get("name") for t in session.get("tools") or []}


async def settled(emu: VoiceLiveEmulator, check: Any) -> dict[str, Any]:
    connection = emu.last_connection
    await connection.wait_until(lambda: bool(check(connection.session)), timeout=10)
    return connection.session


async def test_tools_instructions_and_a_handoff_reach_the_service(emu: VoiceLiveEmulator) -> None:
    agent = Front()
    handoff = Turn(calls=[FunctionCall("transfer_to_booking")], reply="Transferring you.")
    async with room_with(
        emu, Turn(reply="Hello."), handoff, agent=agent, model=make_model(emu, **CONFIG)
    ) as room:
        await asyncio.wait_for(room.session.reply(instructions="hi"), timeout=20)
        first = dict(emu.last_connection.session)
        assert first["instructions"].startswith("You are the front desk.")

        agent.update_tools([*agent.tools, book_table])
        session = await settled(emu, lambda s: "book_table" in tool_names(s))
        kept(session, first)

        agent.instructions = "You are the front desk. Be terse."
        session = await settled(emu, lambda s: s.get("instructions", "").endswith("Be terse."))
        kept(session, first)
        assert "book_table" in tool_names(session), "a later update keeps the tools"

        await asyncio.wait_for(room.session.reply(instructions="book please"), timeout=20)
        session = await settled(emu, lambda s: s.get("instructions") == "You are the booking desk.")
        kept(session, first)
        assert tool_names(session) == {"book_table"}
        assert room.session.agent is not agent


async def test_a_reconnect_after_a_change_sends_the_current_instructions(
    emu: VoiceLiveEmulator,
) -> None:
    agent = Front()
    model = make_model(emu, **CONFIG)
    reconnected = asyncio.Event()
    model.on("session_reconnected", lambda _payload: reconnected.set())
    async with room_with(emu, Turn(reply="Hello."), agent=agent, model=model) as room:
        await asyncio.wait_for(room.session.reply(instructions="hi"), timeout=20)
        agent.instructions = "Only speak French."
        await settled(emu, lambda s: s.get("instructions") == "Only speak French.")
        dropped = emu.last_connection
        await dropped.drop()
        await asyncio.wait_for(reconnected.wait(), timeout=20)
        assert emu.last_connection is not dropped
        first_update = emu.last_connection.events("session.update")[0]
        assert first_update["session"]["instructions"] == "Only speak French."


async def test_a_text_only_agent_starts_answers_and_sees_no_error(emu: VoiceLiveEmulator) -> None:
    model = make_model(emu, modalities=("text",))
    errors: list[Any] = []
    model.on("error", errors.append)
    async with room_with(emu, Turn(reply="Text only."), agent=Assistant(), model=model) as room:
        await asyncio.wait_for(room.session.reply(instructions="hi"), timeout=20)
        await room.wait_for(lambda: ("assistant", "Text only.") in room.chat_items(), timeout=20)
    session = emu.last_connection.session
    assert session["modalities"] == ["text"]
    assert not session.get("input_audio_echo_cancellation")
    assert errors == []
    server_errors = emu.last_connection.events("error", source="server")
    assert server_errors == []


async def test_a_text_only_agent_speaks_as_far_as_the_framework_can_tell(
    emu: VoiceLiveEmulator,
) -> None:
    """No audio, yet the agent's state goes to "speaking" and back, and its hooks run."""
    model = make_model(emu, modalities=("text",))
    turns = (Turn(reply="One."), Turn(reply="Two."))
    async with room_with(emu, *turns, agent=Assistant(), model=model) as room:
        for text in ("One.", "Two."):
            await asyncio.wait_for(room.session.reply(instructions="go"), timeout=20)
            await room.wait_for(lambda t=text: ("assistant", t) in room.chat_items(), timeout=20)
        ended = await room.wait_for_event("agent_speech_ended", count=2)
        started = room.events_named("agent_speech_started")
        await room.wait_for(lambda: room.agent_states[-1][1] == "idle", timeout=10)
        states = [state for _, state in room.agent_states]
    assert len(started) == 2
    assert len(ended) == 2
    assert states.count("speaking") == 2, states
    assert states[-1] == "idle"
