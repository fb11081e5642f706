"""Faults at the moments the first resilience suite never scripted, over real sockets.

Each test is one probe that left a call dead, hung or flooded before the call core
existed: a close just after a reconnect's ``session.updated``, a drop during replay,
credentials that raise, hang or were revoked, a server that kicks every session,
error and interrupt storms, a response that never ends, audio far faster than
real time.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from azure.core.credentials import AccessToken

from videosdk_plugins_azure import (
    AzureVoiceLive,
    ReconnectPolicy,
    VoiceLiveConnectError,
    VoiceLiveError,
    _speaker,
    credentials,
)
from videosdk_plugins_azure.emulator import Turn, VoiceLiveEmulator

from .conftest import KEY, room_with
from .test_resilience import FAST, answered, listen, resilient, say


async def test_a_close_right_after_a_reconnects_session_updated_is_survived(
    emu: VoiceLiveEmulator,
) -> None:
    model = resilient(emu)
    reconnected = listen(model, "session_reconnected")
    turns = (Turn(user="one", reply="First."), Turn(user="two", reply="Second."))
    async with room_with(emu, *turns, model=model) as room:
        await say(room, "Hello there.")
        await answered(room, "First.")
        emu.faults.drop(after_server="session.updated", times=1)
        await emu.last_connection.drop()
        await room.wait_for(lambda: len(reconnected) == 1, timeout=30, what="a reconnect")
        assert model.ready
        await say(room, "Still there?")
        await answered(room, "Second.")
    assert len(emu.connections) == 3, "the dropped setup was retried on a third connection"


async def test_a_drop_during_replay_is_survived(emu: VoiceLiveEmulator) -> None:
    model = resilient(emu)
    reconnected = listen(model, "session_reconnected")
    turns = (Turn(user="one", reply="First."), Turn(user="two", reply="Second."))
    async with room_with(emu, *turns, model=model) as room:
        await say(room, "Hello there.")
        await answered(room, "First.")
        emu.faults.drop(on_client="conversation.item.create", times=1)
        await emu.last_connection.drop()
        await room.wait_for(lambda: len(reconnected) == 1, timeout=30, what="a reconnect")
        await say(room, "Still there?")
        await answered(room, "Second.")
    assert len(emu.connections) == 3, "the connection that died in replay was replaced"
    replays = [len(c.events("conversation.item.create")) for c in emu.connections]
    assert replays[-1] >= 2, "the last connection got the whole conversation"


async def test_a_credential_that_raises_becomes_a_masked_voicelive_error(
    emu: VoiceLiveEmulator,
) -> None:
    async def broken() -> str:
        raise RuntimeError("token store unreachable; secret=hunter2")

    model = AzureVoiceLive(
        endpoint=emu.endpoint, credential=broken, reconnect=ReconnectPolicy(max_attempts=1)
    )
    try:
        with pytest.raises(VoiceLiveConnectError) as caught:
            await model.connect()
    finally:
        await model.aclose()
    assert caught.value.code == "credential_failed"
    assert "hunter2" not in str(caught.value)
    assert isinstance(caught.value.__cause__, RuntimeError)


async def test_a_hung_sync_credential_times_out_and_strands_no_executor(
    emu: VoiceLiveEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()

    class Hung:
        calls = 0

        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            Hung.calls += 1
            release.wait(30)
            return AccessToken("late", 2**31)

    monkeypatch.setattr(credentials, "TOKEN_TIMEOUT", 0.2)
    model = AzureVoiceLive(
        endpoint=emu.endpoint,
        credential=Hung(),
        reconnect=ReconnectPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.02),
    )
    loop = asyncio.get_running_loop()
    try:
        with pytest.raises(VoiceLiveConnectError) as caught:
            await model.connect()
        assert caught.value.code == "credential_timeout"
        assert "4 attempts" in caught.value.message, "the error says how long it really took"
        assert Hung.calls == 1, "later attempts joined the one hung fetch"
        # the default executor (DNS lookups use it) is still free
        assert await loop.run_in_executor(None, lambda: 42) == 42
    finally:
        release.set()
        await model.aclose()


async def test_a_revoked_token_on_reconnect_is_fetched_again_once() -> None:
    issued: list[str] = []
    script = iter(["good", "revoked", "good", "good"])

    async def provider() -> AccessToken:
        issued.append(next(script))
        return AccessToken(issued[-1], 2**31)

    async with VoiceLiveEmulator(token="good", tts="synthetic", speed=float("inf")) as emu:
        model = AzureVoiceLive(endpoint=emu.endpoint, credential=provider, reconnect=FAST)
        reconnected = listen(model, "session_reconnected")
        errors = listen(model, "error")
        async with room_with(emu, Turn(user="one", reply="Hi."), model=model) as room:
            await emu.last_connection.drop()
            await room.wait_for(lambda: len(reconnected) == 1, timeout=30, what="a reconnect")
    assert issued == ["good", "revoked", "good"]
    assert all(e.recoverable for e in errors)


async def test_a_server_that_kicks_every_session_gets_backoff_then_a_final_error(
    emu: VoiceLiveEmulator,
) -> None:
    policy = ReconnectPolicy(max_attempts=3, initial_backoff=0.05, max_backoff=0.2)
    model = resilient(emu, reconnect=policy)
    errors = listen(model, "error")
    async with room_with(emu, model=model) as room:
        emu.faults.close(1000, after_server="session.updated", times=None)
        await emu.last_connection.close(1000)
        await room.wait_for(
            lambda: any(not e.recoverable for e in errors), timeout=30, what="giving up"
        )
        [final] = [e for e in errors if not e.recoverable]
        # kicked once live: too many young sessions; kicked during setup: retries ran out
        assert final.code in ("connection_unstable", "connection_lost")
        assert len(emu.connections) <= (policy.max_attempts + 1) ** 2 + 1


async def test_an_error_storm_reaches_the_pipeline_once(emu: VoiceLiveEmulator) -> None:
    model = resilient(emu)
    errors = listen(model, "error")
    last = asyncio.Event()
    model.on("error", lambda e: last.set() if e.code == "last" else None)
    async with room_with(emu, model=model):
        connection = emu.last_connection
        for _ in range(1000):
            await connection.send_event(
                {"type": "error", "error": {"type": "server_error", "code": "overloaded"}}
            )
        await connection.send_event({"type": "error", "error": {"code": "last", "type": "x"}})
        await asyncio.wait_for(last.wait(), 10)
    assert [e.code for e in errors] == ["overloaded", "last"]


async def test_a_thousand_interrupts_cancel_once() -> None:
    long_reply = "This answer goes on for a while so that it can be interrupted. " * 4
    # paced in real time, so the response is still live on the server when interrupted
    async with VoiceLiveEmulator(api_key=KEY, speed=1.0, tts="synthetic") as emu:
        model = resilient(emu)
        started = listen(model, "agent_speech_started")
        async with room_with(emu, Turn(reply=long_reply), model=model) as room:
            reply = asyncio.ensure_future(room.session.reply(instructions="talk"))
            await room.wait_for(lambda: bool(started), timeout=20, what="the answer")
            for _ in range(1000):
                await model.interrupt()
            await asyncio.wait_for(reply, 20)
            await emu.last_connection.wait_for("response.done", source="server")
            cancels = emu.last_connection.events("response.cancel")
            cuts = emu.last_connection.events("conversation.item.truncate")
            cuts += emu.last_connection.events("conversation.item.delete")
    assert len(cancels) == 1
    assert len(cuts) <= 1, "the interrupted answer is cut once"


async def test_a_response_that_never_ends_is_ended_and_the_call_goes_on(
    emu: VoiceLiveEmulator,
) -> None:
    model = resilient(emu, response_timeout=1.0)
    errors = listen(model, "error")
    async with room_with(emu, Turn(user="two", reply="Back again."), model=model) as room:
        await emu.last_connection.send_event(
            {"type": "response.created", "response": {"id": "resp_stuck", "status": "in_progress"}}
        )
        await room.wait_for(
            lambda: any(e.code == "response_timeout" for e in errors), timeout=10, what="watchdog"
        )
        await say(room, "Hello?")
        await answered(room, "Back again.")


async def test_audio_far_ahead_of_playout_waits_outside_the_track(
    emu: VoiceLiveEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_speaker, "TRACK_AHEAD_S", 1.0)
    model = resilient(emu)
    reply = "One two three four five six seven eight nine ten eleven twelve."
    most = 0
    async with room_with(emu, Turn(reply=reply), model=model) as room:
        answer = asyncio.ensure_future(room.session.reply(instructions="count"))
        while not answer.done():
            track = model.audio_track
            if track is not None:
                most = max(most, _speaker.queued_samples(track))
            await asyncio.sleep(0)  # sample the queue between every event the loop handles
        await answer
        await room.wait_for(lambda: ("assistant", reply) in room.chat_items(), timeout=30)
    rate = model.output_sampling_rate
    assert most <= rate * 1.0 + rate // 10, f"{most / rate:.2f} s queued in the track"
    assert model.dropped_output_audio_bytes == 0


async def test_app_requests_queued_behind_a_dead_connection_are_bounded() -> None:
    model = AzureVoiceLive(endpoint="wss://127.0.0.1:9", api_key="not-used")  # never connected
    bound = model._transport.outbox.max_control
    try:
        for turn in range(bound - 1):  # one item each; the requests wait in the core
            await model.send_text_message(f"turn {turn}")
        with pytest.raises(VoiceLiveError) as refused:
            await model.send_text_message("one too many")
        assert refused.value.code == "backlog_full"
        assert len(model._transport.outbox) <= bound
    finally:
        await model.aclose()


async def test_mcp_secrets_echoed_by_the_service_are_not_kept(emu: VoiceLiveEmulator) -> None:
    from videosdk_plugins_azure import AzureVoiceLiveConfig, McpServer

    secret = "Bearer mcp-s3cr3t-0123456789"
    server = McpServer(
        "docs",
        "https://docs.example/mcp",
        authorization=secret,
        headers={"X-Key": "hdr-s3cr3t-0123456789"},
        require_approval="never",
    )
    model = resilient(emu, config=AzureVoiceLiveConfig(mcp_servers=[server]))
    try:
        await model.connect()
        await emu.last_connection.wait_for("session.updated", source="server")
        dumped = repr(vars(model)) + "".join(
            repr(vars(v)) for v in vars(model).values() if hasattr(v, "__dict__")
        )
        dumped += repr(vars(model._core))
    finally:
        await model.aclose()
    assert "mcp-s3cr3t" not in dumped
    assert "hdr-s3cr3t" not in dumped
