"""The emulator's server state with no socket: client events in, actions out.

These drive :class:`ServiceState` (and the pure pieces under it) directly, the way
the socket layer does, and play the socket layer's part by hand: a started
response is "streamed" by setting its output and calling ``finish_response``.
"""

from __future__ import annotations

import base64
import itertools
import json
import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pytest
from azure.ai.voicelive import models as m
from azure.ai.voicelive.models import ClientEventType, ServerEventType

from videosdk_plugins_azure.emulator import (
    ConnectionStats,
    EmulatorConnection,
    EmulatorSettings,
    Faults,
    FunctionCall,
    PendingTurn,
    Scenario,
    ToolTurnRegistry,
    Turn,
    VoiceLiveEmulator,
)
from videosdk_plugins_azure.emulator._actions import (
    Action,
    CancelResponse,
    Send,
    StartFillerTimer,
    StartResponse,
    StopFillerTimer,
)
from videosdk_plugins_azure.emulator._context import ConnectionContext
from videosdk_plugins_azure.emulator._errors import ProtocolError
from videosdk_plugins_azure.emulator._input_audio import InputAudio
from videosdk_plugins_azure.emulator._latency import DEFAULT_MODEL_LATENCY
from videosdk_plugins_azure.emulator._plan import ActiveResponse
from videosdk_plugins_azure.emulator._state import ServiceState
from videosdk_plugins_azure.emulator._wire import parse_client_frame
from videosdk_plugins_azure.protocol.events import (
    AUDIO_PAYLOAD_FIELDS,
    CLIENT_EVENT_TYPES,
    RATE_LIMITS_UPDATED,
    SERVER_EVENT_TYPES,
    ClientEvent,
    ServerEvent,
    event,
    wire_type,
)

from .conftest import KEY, quiet, recv_until, sdk, stream, tone_burst

RATE = 24000
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


class Clock:
    """A hand-moved clock for the state's playback arithmetic."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make_state(
    *turns: Turn,
    speed: float = math.inf,
    registry: ToolTurnRegistry | None = None,
    clock: Clock | None = None,
    configured: bool = True,
) -> ServiceState:
    """A session's state; ``configured`` applies a first (empty) ``session.update``, as
    the service wants before anything else (§9), and drops its events."""
    counter = itertools.count(1)
    record = EmulatorConnection(
        0, path="/voice-live/realtime", query={"model": "gpt-realtime"}, headers={}, auth="api-key"
    )
    ctx = ConnectionContext(
        new_id=lambda prefix: f"{prefix}_{next(counter)}",
        settings=EmulatorSettings(Scenario(turns), Faults(), speed=speed),
        tool_turns=registry if registry is not None else ToolTurnRegistry(),
        record=record,
    )
    state = ServiceState(ctx, clock=clock or Clock())
    if configured:
        list(state.receive({"type": "session.update", "session": {}}))
    return state


def sent(actions: Iterable[Action]) -> list[dict[str, Any]]:
    return [a.event for a in actions if isinstance(a, Send)]


def kinds(actions: Iterable[Action]) -> list[str]:
    return [a.event["type"] if isinstance(a, Send) else type(a).__name__ for a in actions]


def drive(state: ServiceState, client_event: dict[str, Any]) -> list[Action]:
    """Run one client event; a cancelled response finishes as the generator would."""
    actions = []
    for action in state.receive(client_event):
        actions.append(action)
        if isinstance(action, CancelResponse):
            action.response.status = "cancelled"
            actions.extend(state.finish_response(action.response))
    return actions


def append(samples: np.ndarray) -> dict[str, Any]:
    audio = base64.b64encode(samples.astype("<i2").tobytes()).decode("ascii")
    return {"type": "input_audio_buffer.append", "audio": audio}


def user_text(text: str) -> dict[str, Any]:
    return {
        "type": "conversation.item.create",
        "item": {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": text}],
        },
    }


def started(actions: Iterable[Action]) -> ActiveResponse:
    return next(a.response for a in actions if isinstance(a, StartResponse))


# -- protocol.events ---------------------------------------------------------------------------


def test_event_names_come_from_the_sdk_and_serialise_as_plain_strings() -> None:
    assert ServerEvent is ServerEventType
    assert ClientEvent is ClientEventType
    built = event(ServerEvent.RESPONSE_AUDIO_DELTA, delta="AAA=")
    assert type(built["type"]) is str
    assert json.dumps(built) == '{"type": "response.audio.delta", "delta": "AAA="}'
    assert wire_type(ClientEvent.SESSION_UPDATE) == "session.update"
    assert wire_type(RATE_LIMITS_UPDATED) == "rate_limits.updated"
    assert RATE_LIMITS_UPDATED not in {m.value for m in ServerEventType}  # why it is defined
    assert RATE_LIMITS_UPDATED in SERVER_EVENT_TYPES
    assert len(SERVER_EVENT_TYPES) == len(ServerEventType) + 1
    assert "input_audio_buffer.append" in CLIENT_EVENT_TYPES
    assert dict(AUDIO_PAYLOAD_FIELDS) == {
        "input_audio_buffer.append": "audio",
        "response.audio.delta": "delta",
    }


async def test_every_event_the_emulator_sends_is_a_known_server_event_type() -> None:
    scenario = Scenario([Turn(calls=[FunctionCall("get_weather", {"city": "Oslo"})], reply="Sun.")])
    async with (
        VoiceLiveEmulator(
            api_key=KEY, speed=math.inf, tts="synthetic", scenario=scenario, model_latency=0
        ) as emu,
        sdk(emu) as conn,
    ):
        await recv_until(conn, "session.created")
        transcription = {"model": "whisper-1"}
        await conn.session.update(
            session={"tools": [WEATHER], "input_audio_transcription": transcription}
        )
        await recv_until(conn, "session.updated")
        await stream(conn, np.concatenate([quiet(RATE, 0.3), tone_burst(RATE, 0.5)]), RATE)
        await stream(conn, quiet(RATE, 1.0), RATE)
        done = await recv_until(conn, "response.done")
        call_id = done[-1].response.output[0].call_id
        await conn.conversation.item.create(
            item=m.FunctionCallOutputItem(call_id=call_id, output="sun")
        )
        await conn.response.create()
        await recv_until(conn, "response.done")
        await conn.response.cancel()
        await recv_until(conn, "error")
    sent_types = set(emu.connections[0].types())
    assert sent_types <= SERVER_EVENT_TYPES
    assert {"response.audio.delta", "rate_limits.updated", "error"} <= sent_types
    assert all(type(t) is str for e in emu.connections[0].server_events for t in [e["type"]])


# -- the state as a whole ------------------------------------------------------------------------


def test_session_created_first_then_updates_reach_the_record() -> None:
    state = make_state(configured=False)
    (opened,) = sent(state.opened())
    assert opened["type"] == "session.created"
    assert opened["session"]["id"] == state.session["id"]
    (updated,) = sent(drive(state, {"type": "session.update", "session": {"instructions": "Hi"}}))
    assert updated["type"] == "session.updated"
    assert updated["session"]["instructions"] == "Hi"
    assert state._ctx.record.session is state.session  # the record reads the state's stats


def test_bad_client_events_become_error_events_with_the_client_event_id() -> None:
    state = make_state()
    (unknown,) = sent(drive(state, {"type": "no.such.event", "event_id": "c1"}))
    assert unknown["error"]["code"] == "invalid_value"
    assert unknown["error"]["event_id"] == "c1"
    (untyped,) = sent(drive(state, {"event_id": 7}))
    assert (untyped["error"]["code"], untyped["error"]["event_id"]) == (
        "missing_required_parameter",
        None,
    )
    with pytest.raises(ProtocolError, match="JSON object"):
        parse_client_frame("[1, 2]")
    with pytest.raises(ProtocolError, match="not valid JSON"):
        parse_client_frame(b"{oops")


def test_an_error_after_a_cancel_still_comes_after_the_cancel() -> None:
    state = make_state(Turn(reply="First."), Turn(reply="Second."))
    first = started(drive(state, {"type": "response.create"}))
    actions = drive(
        state,
        {
            "type": "response.create",
            "response": {"cancel_previous": True},
            "additional_instructions": 5,
        },
    )
    assert kinds(actions) == ["CancelResponse", "error"]
    assert first.cancel_reason == "client_cancelled"
    assert state.active is None


def test_a_second_response_create_is_rejected_while_one_is_active() -> None:
    state = make_state()
    response = started(drive(state, {"type": "response.create"}))
    assert state.active is response
    (error,) = sent(drive(state, {"type": "response.create"}))
    assert error["error"]["code"] == "conversation_already_has_active_response"
    response.status = "completed"
    assert list(state.finish_response(response)) == []
    assert state.active is None
    assert response.done
    assert not response.cancel("client_cancelled")  # a finished response stays finished


def test_server_vad_turn_on_the_sample_timeline() -> None:
    state = make_state(Turn(user="what is the weather", reply="Sunny."))
    audio = np.concatenate([quiet(RATE, 0.5), tone_burst(RATE, 1.0), quiet(RATE, 1.0)])
    actions: list[Action] = []
    for start in range(0, len(audio), 480 * 7):  # odd-sized appends: the timeline is exact
        actions += drive(state, append(audio[start : start + 480 * 7]))
    assert kinds(actions) == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.created",
        "StopFillerTimer",
        "StartResponse",
    ]
    events = sent(actions)
    padding = state.session["turn_detection"]["prefix_padding_ms"]
    assert events[0]["audio_start_ms"] == 500 - padding
    assert events[1]["audio_end_ms"] >= 1500 + 500  # trailing silence
    assert events[0]["item_id"] == events[1]["item_id"] == events[2]["item_id"]
    assert state.conversation.get(events[2]["item_id"])["role"] == "user"
    assert started(actions).plan.text == "Sunny."
    assert state._ctx.record.input_audio_bytes == len(audio) * 2


def test_speech_cancels_the_live_response_then_truncates_at_the_playback_position() -> None:
    clock = Clock()
    state = make_state(Turn(reply="A long answer."), speed=1.0, clock=clock)
    session = {"turn_detection": {"type": "server_vad", "auto_truncate": True}}
    drive(state, {"type": "session.update", "session": session})
    response = started(drive(state, {"type": "response.create"}))
    item, _ = state.conversation.add(
        {"type": "message", "role": "assistant", "content": [{"type": "audio", "transcript": "x"}]}
    )
    state.conversation.set_audio_ms(item["id"], 2000.0)
    response.audio_item_id, response.generated_ms = item["id"], 2000.0
    response.first_delta_at = clock.now - 0.25
    actions = drive(state, append(np.concatenate([quiet(RATE, 0.2), tone_burst(RATE, 0.3)])))
    assert kinds(actions) == [
        "input_audio_buffer.speech_started",
        "CancelResponse",
        "conversation.item.truncated",
    ]
    assert response.cancel_reason == "turn_detected"
    assert sent(actions)[-1]["audio_end_ms"] == 250  # 0.25 s of wall clock at speed 1


def test_a_turn_that_ends_while_a_response_runs_is_answered_after_it() -> None:
    state = make_state(Turn(user="next", reply="Second."))
    first = started(drive(state, {"type": "response.create"}))  # answers no user turn
    session = {"turn_detection": {"type": "server_vad", "interrupt_response": False}}
    drive(state, {"type": "session.update", "session": session})
    audio = np.concatenate([quiet(RATE, 0.2), tone_burst(RATE, 0.5), quiet(RATE, 1.0)])
    assert "StartResponse" not in kinds(drive(state, append(audio)))
    first.status = "completed"
    follow_ups = list(state.finish_response(first))
    assert started(follow_ups).plan.text == "Second."


def test_an_answer_landing_after_a_later_turn_does_not_answer_that_turn() -> None:
    """A re-asked earlier question is still streaming when the caller asks again:
    its answer item lands after the caller's new item, and must not count as
    the answer to it (the queued response answers the new question)."""
    state = make_state(Turn(reply="Earlier answer."), Turn(user="final", reply="Final answer."))
    session = {"turn_detection": {"type": "server_vad", "interrupt_response": False}}
    drive(state, {"type": "session.update", "session": session})
    drive(state, user_text("an earlier question, replayed"))
    reask = started(drive(state, {"type": "response.create"}))
    assert reask.plan.text == "Earlier answer."
    drive(
        state, append(np.concatenate([quiet(RATE, 0.2), tone_burst(RATE, 0.5), quiet(RATE, 1.0)]))
    )
    item, _ = state.conversation.add(
        {
            "type": "message",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "audio", "transcript": "Earlier answer."}],
        }
    )
    reask.output = [item]
    reask.status = "completed"
    assert started(state.finish_response(reask)).plan.text == "Final answer."


def test_a_closed_state_starts_nothing_new() -> None:
    state = make_state(Turn(user="next", reply="Second."))
    session = {"turn_detection": {"type": "server_vad", "interrupt_response": False}}
    drive(state, {"type": "session.update", "session": session})
    first = started(drive(state, {"type": "response.create"}))
    drive(
        state, append(np.concatenate([quiet(RATE, 0.2), tone_burst(RATE, 0.5), quiet(RATE, 1.0)]))
    )
    state.close()
    first.status = "completed"
    assert list(state.finish_response(first)) == []


# -- tool turns across connections --------------------------------------------------------------


def call_turn() -> Turn:
    return Turn(calls=[FunctionCall("get_weather", {"city": "Oslo"})], reply="It snows.")


def complete_calls(state: ServiceState, response: ActiveResponse, call_id: str = "call_9") -> None:
    """What the generator leaves behind after streaming a function call."""
    item, _ = state.conversation.add(
        {"type": "function_call", "call_id": call_id, "name": "get_weather", "arguments": "{}"}
    )
    response.output = [item]
    response.status = "completed"


def test_function_calls_wait_in_the_shared_registry_and_answer_on_another_connection() -> None:
    registry = ToolTurnRegistry()
    first = make_state(call_turn(), registry=registry)
    drive(first, {"type": "session.update", "session": {"tools": [WEATHER]}})
    drive(first, user_text("weather?"))
    response = started(drive(first, {"type": "response.create"}))
    assert [c.name for c in response.plan.calls] == ["get_weather"]
    complete_calls(first, response)
    list(first.finish_response(response))
    assert "call_9" in registry
    assert isinstance(registry.get("call_9"), PendingTurn)

    second = make_state(registry=registry)  # the client reconnected and replays
    drive(second, {"type": "session.update", "session": {"tools": [WEATHER]}})
    drive(second, user_text("weather?"))
    call = {"type": "function_call", "name": "get_weather", "call_id": "call_9", "arguments": "{}"}
    drive(second, {"type": "conversation.item.create", "item": call})
    output = {"type": "function_call_output", "call_id": "call_9", "output": "snow"}
    assert kinds(drive(second, {"type": "conversation.item.create", "item": output})) == [
        "StopFillerTimer",
        "conversation.item.created",
    ]
    answer = started(drive(second, {"type": "response.create"}))
    assert answer.plan.text == "It snows."
    assert len(registry) == 0  # answered: a replayed output is history


def test_a_slow_tool_gets_one_filler_while_it_is_awaited() -> None:
    state = make_state(call_turn())
    interim = {
        "type": "static_interim_response",
        "triggers": ["tool"],
        "latency_threshold_ms": 250,
        "texts": ["One moment."],
    }
    drive(
        state,
        {"type": "session.update", "session": {"tools": [WEATHER], "interim_response": interim}},
    )
    drive(state, user_text("weather?"))
    response = started(drive(state, {"type": "response.create"}))
    complete_calls(state, response)
    (timer,) = state.finish_response(response)
    assert isinstance(timer, StartFillerTimer)
    assert timer.delay == 0.25  # unpaced: the threshold as configured
    filler = started(state.filler_due(timer.turn, timer.texts))
    assert (filler.plan.text, filler.plan.metadata) == ("One moment.", {"interim": "true"})
    assert list(state.filler_due(timer.turn, timer.texts)) == []  # a response is live
    filler.status = "completed"
    assert list(state.finish_response(filler)) == []
    output = {"type": "function_call_output", "call_id": "call_9", "output": "snow"}
    actions = drive(state, {"type": "conversation.item.create", "item": output})
    assert isinstance(actions[0], StopFillerTimer)
    assert list(state.filler_due(timer.turn, timer.texts)) == []  # nothing is awaited now


def test_the_registry_files_a_turn_under_each_open_call() -> None:
    registry = ToolTurnRegistry()
    turn = PendingTurn(0, call_turn(), "weather?", open_calls={"a": None, "b": "done"})
    registry.register(turn)
    assert sorted(registry) == ["a", "b"]
    assert registry.get("a") is turn
    assert turn.waiting_for_outputs
    assert turn.has_outputs
    assert turn.outputs == {"b": "done"}
    registry.release(turn)
    assert len(registry) == 0
    assert registry.get("a") is None


# -- input audio ----------------------------------------------------------------------------------


def test_input_audio_keeps_an_odd_byte_for_the_next_append() -> None:
    session = {"input_audio_format": "pcm16", "turn_detection": None}
    audio = InputAudio()
    pcm = np.arange(2400, dtype="<i2").tobytes()  # 100 ms at 24 kHz
    assert audio.append(pcm[:1001], session) == []
    assert audio.buffered_ms(session) == pytest.approx(500 / 24)
    audio.append(pcm[1001:], session)
    assert audio.buffered_ms(session) == pytest.approx(100.0)
    assert audio.take_commit(session) == pytest.approx(100.0)
    audio.committed()
    with pytest.raises(ProtocolError, match="buffer too small"):
        audio.take_commit(session)


# -- settings, stats and controls ---------------------------------------------------------------


async def test_emulator_attributes_are_the_shared_live_settings() -> None:
    emu = VoiceLiveEmulator(speed=2.0)
    emu.speed = 1.0
    emu.scenario = Scenario([Turn(reply="x")])
    assert emu.settings.speed == 1.0
    assert emu.settings.scenario is emu.scenario
    assert emu.settings.model_latency == DEFAULT_MODEL_LATENCY
    emu.model_latency = 0.0
    assert emu.settings.model_latency == 0.0
    emu.session_semantics = "merge"
    assert emu.settings.session_semantics == "merge"
    assert isinstance(emu.tool_turns, ToolTurnRegistry)


def test_a_record_reads_its_numbers_from_its_stats() -> None:
    record = EmulatorConnection(3, path="/", query={}, headers={}, auth="bearer")
    assert isinstance(record.stats, ConnectionStats)
    record.stats.input_audio_bytes = 10
    record.output_audio_bytes = 4
    assert (record.input_audio_bytes, record.stats.output_audio_bytes) == (10, 4)


class FakeControls:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    async def send_event(self, event: dict[str, Any]) -> None:
        self.calls.append(("send_event", event))

    async def send_raw(self, data: str | bytes) -> None:
        self.calls.append(("send_raw", data))

    async def drop(self) -> None:
        self.calls.append(("drop", None))

    async def close(self, code: int) -> None:
        self.calls.append(("close", code))

    async def expire(self) -> None:
        self.calls.append(("expire", None))


async def test_any_controls_can_be_attached_to_a_record() -> None:
    record = EmulatorConnection(0, path="/", query={}, headers={}, auth="api-key")
    with pytest.raises(ConnectionError, match="not open"):
        _ = record.controls
    controls = FakeControls()
    record.attach(controls)
    await record.send_event({"type": "x"})
    await record.send_raw(b"{")
    await record.close()
    await record.expire()
    await record.drop()
    assert [name for name, _ in controls.calls] == [
        "send_event",
        "send_raw",
        "close",
        "expire",
        "drop",
    ]
    await record._mark_closed(1000)
    with pytest.raises(ConnectionError, match="not open"):
        await record.drop()


async def test_expire_ends_the_session_like_the_duration_cap() -> None:
    from azure.ai.voicelive.aio import ConnectionClosed

    async with VoiceLiveEmulator(
        api_key=KEY, speed=math.inf, tts="synthetic", model_latency=0
    ) as emu:
        async with sdk(emu) as conn:
            await recv_until(conn, "session.created")
            record = await emu.wait_for_connection()
            await record.expire()
            (error,) = await recv_until(conn, "error")
            assert error.error.code == "session_expired"
            with pytest.raises(ConnectionClosed) as closed:
                await conn.recv()
            assert closed.value.code == 1001
        await record.wait_closed()
        with pytest.raises(ConnectionError):
            await record.expire()


@pytest.mark.parametrize(
    "module",
    [
        "_actions",
        "_context",
        "_conversation",
        "_input_audio",
        "_items",
        "_plan",
        "_planner",
        "_response_events",
        "_state",
        "_turns",
        "_wire",
    ],
)
def test_the_server_state_modules_import_no_socket_or_event_loop(module: str) -> None:
    """The pure half must stay pure: a test builds it with no event loop."""
    import ast
    import importlib
    from pathlib import Path

    source = importlib.import_module(f"videosdk_plugins_azure.emulator.{module}").__file__
    assert source is not None
    tree = ast.parse(Path(source).read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {name for name in imported if name.split(".")[0] in {"asyncio", "aiohttp"}}
