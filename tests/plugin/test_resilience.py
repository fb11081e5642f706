"""Drops, expiry, rotation and giving up, in the real pipeline, against the emulator's faults."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import numpy as np
import pytest
from azure.core.credentials import AccessToken
from videosdk.agents import Agent, function_tool

from videosdk_plugins_azure import AzureVoiceLive, AzureVoiceLiveConfig, VoiceLiveError
from videosdk_plugins_azure.connection import ReconnectPolicy
from videosdk_plugins_azure.emulator import FunctionCall, Turn, VoiceLiveEmulator

from .conftest import KEY, Assistant, caller, room_with

FAST = ReconnectPolicy(max_attempts=4, initial_backoff=0.05, max_backoff=0.2)


class LookupAgent(Assistant):
    @function_tool
    async def lookup(self, what: str) -> str:
        """Look something up."""
        return f"{what}: found"


def resilient(emu: VoiceLiveEmulator, **kwargs: Any) -> AzureVoiceLive:
    kwargs.setdefault("reconnect", FAST)
    return AzureVoiceLive(model="gpt-realtime", endpoint=emu.endpoint, api_key=KEY, **kwargs)


def listen(model: AzureVoiceLive, name: str) -> list[Any]:
    seen: list[Any] = []
    model.on(name, lambda data: seen.append(data))
    return seen


async def say(room: Any, text: str) -> None:
    await room.play(await caller(text), rate=24000)
    await room.play_silence(0.8)


async def answered(room: Any, text: str) -> None:
    await room.wait_for(
        lambda: ("assistant", text) in room.chat_items(), timeout=30, what=repr(text)
    )


PHASES = ["session_update", "user_speech", "response_audio", "tool_call", "between_turns"]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("phase", PHASES)
async def test_the_call_survives_three_drops_in_each_phase(
    emu: VoiceLiveEmulator, phase: str
) -> None:
    # in the tool phase every later turn calls a tool, so that phase comes round 3 times
    tool_turns = range(1, 4) if phase == "tool_call" else range(1, 2)
    lookup = [FunctionCall("lookup", {"what": "trains"})]
    script = [
        ("first", "First answer."),
        ("second", "Second answer."),
        ("third", "Third answer."),
        ("fourth", "Fourth answer."),
    ]
    turns = [
        Turn(user=user, calls=lookup if i in tool_turns else (), reply=reply)
        for i, (user, reply) in enumerate(script)
    ]
    emu.faults.drop(during=phase, times=3)  # type: ignore[arg-type]
    model = resilient(emu)
    reconnected = listen(model, "session_reconnected")
    async with room_with(emu, *turns, agent=LookupAgent(), model=model) as room:
        for words, answer in (
            ("First question.", "First answer."),
            ("Second question.", "Second answer."),
            ("Third question.", "Third answer."),
            ("Fourth question.", "Fourth answer."),
        ):
            drops = len(reconnected)
            await say(room, words)
            # an answer cut off by a drop is not asked again: the next turn is answered
            await room.wait_for(
                lambda a=answer, d=drops: (
                    ("assistant", a) in room.chat_items()
                    or (phase == "response_audio" and len(reconnected) > d)
                ),
                timeout=30,
                what=repr(answer),
            )
        await answered(room, "Fourth answer.")
        items = room.chat_items()
        # the earlier turns stay in the history, in order
        users = [text for role, text in items if role == "user"]
        assert users[-1] == "fourth"
        assert users.index("first") < users.index("second") < users.index("fourth")
        if phase != "response_audio":
            answers = [text for role, text in items if role == "assistant"]
            assert (
                answers.index("First answer.")
                < answers.index("Second answer.")
                < answers.index("Fourth answer.")
            )
            assert ("function_call_output", "trains: found") in items
    fired = next(r for r in emu.faults.rules).fired
    assert fired == 3
    # connect retries don't count as reconnects: only drops of a live session do
    assert model.reconnects == (0 if phase == "session_update" else 3)
    assert len(reconnected) == model.reconnects


async def test_a_reconnect_replays_the_conversation_and_fetches_a_fresh_token() -> None:
    tokens: list[int] = []

    async def provider() -> AccessToken:
        tokens.append(1)
        return AccessToken(f"token-{len(tokens)}", 2**31)

    async with VoiceLiveEmulator(tts="synthetic", speed=float("inf")) as emu:
        model = AzureVoiceLive(endpoint=emu.endpoint, credential=provider, reconnect=FAST)
        errors = listen(model, "error")
        async with room_with(
            emu,
            Turn(user="one", reply="Noted."),
            Turn(user="two", reply="Still here."),
            model=model,
        ) as room:
            await say(room, "Remember the number seven.")
            await answered(room, "Noted.")
            await emu.connections[0].drop()
            await emu.wait_for_connection(2)
            await say(room, "Are you there?")
            await answered(room, "Still here.")
        second = emu.connections[1]
        replayed = [
            e
            for e in second.events("conversation.item.create")
            if str(e.get("event_id", "")).startswith("replay_")
        ]
        texts = [
            e["item"]["content"][0].get("text") for e in replayed if e["item"]["type"] == "message"
        ]
        assert texts == ["one", "Noted."]
        assert second.auth == "bearer"
    assert len(tokens) == 2  # one per connect
    lost = [e for e in errors if isinstance(e, VoiceLiveError) and e.code == "connection_lost"]
    assert len(lost) == 1
    assert lost[0].recoverable


async def test_session_expired_then_1001_is_a_reconnect(emu: VoiceLiveEmulator) -> None:
    emu.faults.expire(1.5)
    model = resilient(emu)
    reconnected = listen(model, "session_reconnected")
    async with room_with(emu, Turn(user="hi", reply="Hello again."), model=model) as room:
        await emu.connections[0].wait_closed(timeout=10)
        await emu.wait_for_connection(2)
        await say(room, "Hi.")
        await answered(room, "Hello again.")
    assert reconnected
    assert "1001" in reconnected[0]["cause"]


async def test_giving_up_tells_the_pipeline_once_and_input_goes_quiet(
    emu: VoiceLiveEmulator,
) -> None:
    model = resilient(
        emu, reconnect=ReconnectPolicy(max_attempts=2, initial_backoff=0.01, max_backoff=0.02)
    )
    errors = listen(model, "error")
    async with room_with(emu, Turn(reply="Hi."), model=model) as room:
        await asyncio.wait_for(room.session.reply(instructions="hi"), timeout=20)
        emu.faults.reject_auth(503)  # every new handshake fails from now on
        await emu.connections[0].drop()
        await room.wait_for(
            lambda: any(not e.recoverable for e in errors), timeout=20, what="giving up"
        )
        fatal = [e for e in errors if not e.recoverable]
        assert len(fatal) == 1
        assert "could not reconnect" in fatal[0].message
        frame = np.zeros(1920, dtype="<i2").tobytes()
        for _ in range(200):  # 4 s of meeting audio after giving up
            await model.handle_audio_input(frame)
        assert len([e for e in errors if not e.recoverable]) == 1  # no error per frame
        assert not model.ready


async def test_a_fatal_error_code_stops_without_retrying(emu: VoiceLiveEmulator) -> None:
    model = resilient(emu)
    errors = listen(model, "error")
    async with room_with(emu, Turn(reply="Hi."), model=model):
        record = emu.connections[0]
        await record.send_event(
            {
                "type": "error",
                "error": {
                    "type": "insufficient_quota",
                    "code": "insufficient_quota",
                    "message": "quota",
                },
            }
        )
        await record.wait_closed()
        assert len(emu.connections) == 1
    [fatal] = [e for e in errors if not e.recoverable]
    assert fatal.code == "insufficient_quota"


async def test_sessions_rotate_at_a_quiet_moment(emu: VoiceLiveEmulator) -> None:
    model = resilient(emu, max_session_duration=1.0)
    reconnected = listen(model, "session_reconnected")
    errors = listen(model, "error")
    async with room_with(
        emu, Turn(user="a", reply="Before."), Turn(user="b", reply="After."), model=model
    ) as room:
        await say(room, "Before the rotation.")
        await answered(room, "Before.")
        await emu.wait_for_connection(2, timeout=20)
        await say(room, "After the rotation.")
        await answered(room, "After.")
    assert reconnected[0]["cause"] == "session rotation"
    assert errors == []  # a planned rotation is not an error
    assert emu.connections[0].close_code == 1000


def test_reconnect_policy_backoff() -> None:
    policy = ReconnectPolicy(max_attempts=5, initial_backoff=0.5, max_backoff=4.0, jitter=0.2)
    assert policy.delay(1, 0.5) == 0.0
    assert [round(policy.delay(n, 0.5), 3) for n in range(2, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert policy.delay(3, 0.0) == pytest.approx(0.8)
    assert policy.delay(3, 0.999) == pytest.approx(1.2, abs=1e-3)
    with pytest.raises(ValueError, match="jitter"):
        ReconnectPolicy(jitter=1.0)
    with pytest.raises(ValueError, match="max_session_duration"):
        AzureVoiceLive(endpoint="https://x.y", api_key="k", max_session_duration=0)


def test_agent_class_is_used() -> None:
    assert issubclass(LookupAgent, Agent)
    assert AzureVoiceLiveConfig().tool_timeout == 30.0


# -- a hostile server --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "reconnects"),
    [
        ("{not json", 0),  # the SDK raises a parse error; the loop carries on
        ("[1, 2, 3]", 0),  # JSON that is not an object
        ('{"no_type": true}', 0),
        ('{"type": "totally.new.event", "x": 1}', 0),
        ("", 1),  # the SDK treats an empty frame as a close: reconnect
        (
            '{"type": "x", "pad": "' + "a" * (5 * 1024 * 1024) + '"}',
            1,
        ),  # over the SDK's 4 MiB limit
    ],
)
async def test_malformed_server_frames_neither_crash_nor_storm(
    emu: VoiceLiveEmulator, frame: str, reconnects: int
) -> None:
    model = resilient(emu)
    errors = listen(model, "error")
    async with room_with(emu, Turn(reply="Before."), Turn(reply="After."), model=model) as room:
        await asyncio.wait_for(room.session.reply(instructions="one"), timeout=20)
        with contextlib.suppress(ConnectionError):  # the client may close mid-frame (too big)
            await emu.connections[0].send_raw(frame)
        if reconnects:
            await emu.wait_for_connection(2)
        await asyncio.wait_for(room.session.reply(instructions="two"), timeout=20)
        assert ("assistant", "After.") in room.chat_items()
    assert model.reconnects == reconnects
    assert len(errors) <= 1  # at most the one "reconnecting" notice, never a storm


async def test_no_secret_reaches_logs_reprs_errors_or_events(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A whole session at DEBUG: a rejected key, a tool error, a drop and a reconnect."""
    import logging

    caplog.set_level(logging.DEBUG)
    key, token = "KEY-s3cr3t-0123456789", "TOKEN-s3cr3t-9876543210"

    async def provider() -> str:
        return token

    seen: list[Any] = []
    async with VoiceLiveEmulator(
        api_key=key, token=token, tts="synthetic", speed=float("inf")
    ) as emu:
        wrong = AzureVoiceLive(endpoint=emu.endpoint, api_key=key[:-1] + "X")
        with pytest.raises(VoiceLiveError) as refused:
            await wrong.connect()
        await wrong.aclose()
        emu.scenario.add(
            Turn(calls=[FunctionCall("lookup", {})], reply="Sorry."), Turn(reply="Back.")
        )
        for model in (
            AzureVoiceLive(endpoint=emu.endpoint, api_key=key, reconnect=FAST),
            AzureVoiceLive(endpoint=emu.endpoint, credential=provider, reconnect=FAST),
        ):
            for name in ("error", "session_reconnected", "realtime_model_function_executed"):
                model.on(name, lambda data: seen.append(data))
            async with room_with(emu, model=model, agent=LookupAgent()) as room:
                if not emu.scenario.remaining:
                    emu.scenario.add(Turn(reply="Again."))
                await asyncio.wait_for(room.session.reply(instructions="go"), timeout=20)
                await emu.last_connection.drop()
                await room.wait_for(
                    lambda m=model: bool(m.reconnects), timeout=20, what="reconnect"
                )
            texts = [
                repr(model),
                repr(vars(model)),
                str(refused.value),
                repr(refused.value),
                caplog.text,
            ]
            texts += [repr(e) + str(e) for e in seen]
            for text in texts:
                assert key not in text
                assert token not in text
        assert [c.auth for c in emu.connections].count("bearer") >= 2  # the token really was used
