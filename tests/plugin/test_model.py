"""AzureVoiceLive on its own: construction, auth, connect errors, lifecycle and bad input.

The real SDK talks to the emulator over loopback; no pipeline is needed for these.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import socket
import threading
from typing import Any

import numpy as np
import pytest
from azure.core.credentials import AccessToken, AzureKeyCredential
from videosdk.agents import Agent, audio_format

from videosdk_plugins_azure import (
    AzureVoiceLive,
    AzureVoiceLiveConfig,
    VoiceLiveAuthError,
    VoiceLiveConnectError,
    VoiceLiveError,
)
from videosdk_plugins_azure.emulator import Turn, VoiceLiveEmulator

from .conftest import KEY, caller

ENV = (
    "AZURE_VOICE_LIVE_ENDPOINT",
    "AZURE_VOICE_LIVE_API_KEY",
    "AZURE_VOICE_LIVE_MODEL",
    "AZURE_COGNITIVE_SERVICES_ENDPOINT",
    "AZURE_COGNITIVE_SERVICES_KEY",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


class Seen:
    """Model events as they are emitted, with an awaitable "wait for N of these"."""

    def __init__(self, model: AzureVoiceLive, *names: str) -> None:
        self.events: list[tuple[str, Any]] = []
        self._changed = asyncio.Event()
        for name in names:

            def handler(data: Any, name: str = name) -> None:
                self.events.append((name, data))
                self._changed.set()

            model.on(name, handler)

    def named(self, name: str) -> list[Any]:
        return [data for n, data in self.events if n == name]

    async def wait(self, name: str, count: int = 1, timeout: float = 10.0) -> list[Any]:
        async with asyncio.timeout(timeout):
            while len(self.named(name)) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.named(name)


# -- construction ------------------------------------------------------------------------------


async def test_missing_endpoint_names_the_env_vars_at_connect() -> None:
    model = AzureVoiceLive(api_key="k")  # .env is loaded by the framework only later
    try:
        with pytest.raises(ValueError, match="AZURE_VOICE_LIVE_ENDPOINT") as info:
            await model.connect()
    finally:
        await model.aclose()
    assert "AZURE_COGNITIVE_SERVICES_ENDPOINT" in str(info.value)


async def test_endpoint_and_key_from_a_late_env_are_found_at_connect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from azure.identity.aio import DefaultAzureCredential

    async with VoiceLiveEmulator(api_key="late-key", tts="synthetic") as emu:
        model = AzureVoiceLive()
        assert isinstance(model._credential, DefaultAzureCredential)
        monkeypatch.setenv("AZURE_VOICE_LIVE_ENDPOINT", emu.endpoint)
        monkeypatch.setenv("AZURE_VOICE_LIVE_API_KEY", "late-key")
        try:
            await model.connect()
            assert model.ready
            assert isinstance(model._credential, AzureKeyCredential)
        finally:
            await model.aclose()


def test_env_fallbacks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_COGNITIVE_SERVICES_ENDPOINT", "https://res.services.ai.azure.com")
    monkeypatch.setenv("AZURE_COGNITIVE_SERVICES_KEY", "env-key")
    monkeypatch.setenv("AZURE_VOICE_LIVE_MODEL", "gpt-4o-realtime")
    model = AzureVoiceLive()
    assert model.model == "gpt-4o-realtime"
    assert isinstance(model._credential, AzureKeyCredential)
    assert model._credential.key == "env-key"
    monkeypatch.setenv("AZURE_VOICE_LIVE_ENDPOINT", "https://preferred.services.ai.azure.com")
    assert "preferred" in repr(AzureVoiceLive())


@pytest.mark.parametrize(
    "endpoint", ["http://example.com", "ws://voicelive.example.com:8080", "ws://10.0.0.5:9000"]
)
def test_plain_text_endpoints_are_refused_unless_loopback(endpoint: str) -> None:
    with pytest.raises(ValueError, match="plain-text"):
        AzureVoiceLive(endpoint=endpoint, api_key="k")
    AzureVoiceLive(endpoint=endpoint, api_key="k", allow_insecure=True)


@pytest.mark.parametrize(
    "endpoint", ["ws://127.0.0.1:1234", "http://localhost:9", "ws://[::1]:80", "https://x.y"]
)
def test_loopback_and_tls_endpoints_are_fine(endpoint: str) -> None:
    AzureVoiceLive(endpoint=endpoint, api_key="k")


@pytest.mark.parametrize("endpoint", ["127.0.0.1:8765", "ftp://x", "not a url"])
def test_malformed_endpoints(endpoint: str) -> None:
    with pytest.raises(ValueError, match="endpoint"):
        AzureVoiceLive(endpoint=endpoint, api_key="k")


def test_bad_credentials_are_rejected_clearly() -> None:
    both = AzureVoiceLive(endpoint="https://x.y", api_key="k1", credential=AzureKeyCredential("k2"))
    assert both._credential.key == "k2", "the credential wins, as in videosdk-plugins-azure"
    with pytest.raises(TypeError, match="api_key"):
        AzureVoiceLive(endpoint="https://x.y", credential="a-key-string")
    with pytest.raises(TypeError, match="unsupported credential"):
        AzureVoiceLive(endpoint="https://x.y", credential=42)


def test_invalid_config_for_the_model_raises_at_construction() -> None:
    with pytest.raises(ValueError, match="temperature"):
        AzureVoiceLive(
            endpoint="https://x.y",
            api_key="k",
            model="gpt-realtime",
            config=AzureVoiceLiveConfig(temperature=0.2),
        )
    AzureVoiceLive(
        endpoint="https://x.y",
        api_key="k",
        model="gpt-4.1",
        config=AzureVoiceLiveConfig(temperature=0.2),
    )


def test_secrets_stay_out_of_repr() -> None:
    model = AzureVoiceLive(endpoint="https://x.y", api_key="super-secret-key")
    assert "super-secret-key" not in repr(model)
    assert "super-secret-key" not in repr(vars(model))


async def test_without_a_key_the_async_default_credential_is_used_and_closed() -> None:
    from azure.identity.aio import DefaultAzureCredential

    model = AzureVoiceLive(endpoint="https://x.y")
    credential = model._credential
    assert isinstance(credential, DefaultAzureCredential)
    closed = []
    real_close = credential.close

    async def spy_close() -> None:
        closed.append(True)
        await real_close()

    credential.close = spy_close  # type: ignore[method-assign]
    await model.aclose()
    await model.aclose()
    assert closed == [True]


# -- auth against the emulator -------------------------------------------------------------------


class AsyncToken:
    """A minimal async TokenCredential (what azure-identity's aio credentials are)."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.calls = 0

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls += 1
        return AccessToken(self.token, 2**31)

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> AsyncToken:
        return self

    async def __aexit__(self, *args: object) -> None:
        return None


class SyncToken:
    """A sync TokenCredential; the plugin must not call it on the event loop."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.threads: list[int] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.threads.append(threading.get_ident())
        return AccessToken(self.token, 2**31)


async def test_every_credential_kind_connects() -> None:
    async with VoiceLiveEmulator(token="tok-1", api_key="key-1", tts="synthetic") as emu:
        sync = SyncToken("tok-1")
        calls: list[int] = []

        async def provider() -> str:
            calls.append(1)
            return "tok-1"

        kinds: list[Any] = [AzureKeyCredential("key-1"), AsyncToken("tok-1"), sync, provider]
        for credential in kinds:
            model = AzureVoiceLive(endpoint=emu.endpoint, credential=credential)
            await model.connect()
            await model.aclose()
        model = AzureVoiceLive(endpoint=emu.endpoint, api_key="key-1")
        await model.connect()
        await model.aclose()
    assert [c.auth for c in emu.connections] == ["api-key", "bearer", "bearer", "bearer", "api-key"]
    assert sync.threads
    assert threading.get_ident() not in sync.threads  # ran in a worker thread
    assert calls == [1]


async def test_401_is_a_clear_auth_error_without_the_key(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with VoiceLiveEmulator(api_key="right", tts="synthetic") as emu:
        model = AzureVoiceLive(endpoint=emu.endpoint, api_key="wrong-secret")
        with pytest.raises(VoiceLiveAuthError, match="AZURE_VOICE_LIVE_API_KEY") as info:
            await model.connect()
        assert info.value.recoverable is False
        await model.aclose()
    assert "wrong-secret" not in str(info.value)
    assert "wrong-secret" not in caplog.text


async def test_a_failing_token_credential_is_an_auth_error() -> None:
    from azure.core.exceptions import ClientAuthenticationError

    async def no_token() -> str:
        raise ClientAuthenticationError("DefaultAzureCredential failed to retrieve a token")

    async with VoiceLiveEmulator(api_key=KEY, tts="synthetic") as emu:
        model = AzureVoiceLive(endpoint=emu.endpoint, credential=no_token)
        with pytest.raises(VoiceLiveAuthError, match="az login"):
            await model.connect()
        await model.aclose()
    assert emu.connections == []


async def test_a_failed_connect_can_be_retried() -> None:
    async with VoiceLiveEmulator(api_key=KEY, tts="synthetic") as emu:
        emu.faults.reject_auth(403, times=1)
        model = AzureVoiceLive(endpoint=emu.endpoint, api_key=KEY)
        with pytest.raises(VoiceLiveAuthError, match="403"):
            await model.connect()
        await model.connect()  # the service lets us in now
        assert model.ready
        await model.aclose()


async def test_unreachable_host_is_a_connect_error() -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))  # bound, never listening: connects are refused
        port = held.getsockname()[1]
        model = AzureVoiceLive(endpoint=f"ws://127.0.0.1:{port}", api_key="k")
        with pytest.raises(VoiceLiveConnectError) as info:
            await model.connect()
        await model.aclose()
    assert info.value.code == "unreachable"
    assert info.value.recoverable


async def test_handshake_timeout_leaks_nothing() -> None:
    """pytest runs with ResourceWarning as an error: an orphaned aiohttp session fails it."""
    async with VoiceLiveEmulator(api_key=KEY, tts="synthetic") as emu:
        emu.faults.handshake_delay = 5.0
        model = AzureVoiceLive(endpoint=emu.endpoint, api_key=KEY, handshake_timeout=0.3)
        with pytest.raises(VoiceLiveConnectError, match="did not answer") as info:
            await model.connect()
        assert info.value.code == "handshake_timeout"
        await model.aclose()
        import gc

        gc.collect()


async def test_a_rejected_session_config_fails_connect_naming_the_param() -> None:
    async with VoiceLiveEmulator(api_key=KEY, tts="synthetic") as emu:
        config = AzureVoiceLiveConfig(extra_session={"voice": {"type": "robot", "name": "x"}})
        model = AzureVoiceLive(endpoint=emu.endpoint, api_key=KEY, config=config)
        with pytest.raises(VoiceLiveError) as info:
            await model.connect()
        assert info.value.param == "session.voice.type"
        assert info.value.recoverable is False
        await model.aclose()


async def test_a_drop_during_session_update_is_retried() -> None:
    async with VoiceLiveEmulator(api_key=KEY, tts="synthetic") as emu:
        emu.faults.drop(on_client="session.update")  # once
        model = AzureVoiceLive(endpoint=emu.endpoint, api_key=KEY)
        await model.connect()
        assert model.ready
        assert len(emu.connections) == 2
        await model.aclose()


async def test_a_service_that_always_drops_fails_connect_after_the_policy() -> None:
    from videosdk_plugins_azure.connection import ReconnectPolicy

    async with VoiceLiveEmulator(api_key=KEY, tts="synthetic") as emu:
        emu.faults.drop(on_client="session.update", times=None)
        policy = ReconnectPolicy(max_attempts=2, initial_backoff=0.01, max_backoff=0.02)
        model = AzureVoiceLive(endpoint=emu.endpoint, api_key=KEY, reconnect=policy)
        with pytest.raises(VoiceLiveConnectError, match="during setup"):
            await model.connect()
        assert len(emu.connections) == 3  # the first try and two retries
        await model.aclose()


# -- lifecycle ------------------------------------------------------------------------


async def test_connect_twice_and_close_twice() -> None:
    async with VoiceLiveEmulator(api_key=KEY, tts="synthetic") as emu:
        model = AzureVoiceLive(endpoint=emu.endpoint, api_key=KEY)
        await asyncio.gather(model.connect(), model.connect())
        await model.connect()
        assert len(emu.connections) == 1
        before = {t for t in asyncio.all_tasks() if not t.done()}
        await model.aclose()
        await model.aclose()
        await emu.connections[0].wait_closed()
        leftover = (
            {t for t in asyncio.all_tasks() if not t.done()} - before - {asyncio.current_task()}
        )
        assert not [t for t in before if t.done() is False and "_loop" in repr(t.get_coro())]
        assert not leftover
        with pytest.raises(RuntimeError, match="closed"):
            await model.connect()


async def test_set_agent_is_idempotent_and_history_rides_along() -> None:
    class Agent1(Agent):
        async def on_enter(self) -> None:
            return None

        async def on_exit(self) -> None:
            return None

    agent = Agent1(instructions="You answer questions about trains.")
    agent.chat_context.add_message(role="user", content="My ticket number is 4471.")
    async with VoiceLiveEmulator(api_key=KEY, tts="synthetic") as emu:
        model = AzureVoiceLive(endpoint=emu.endpoint, api_key=KEY)
        model.set_agent(agent)
        model.set_agent(agent)
        await model.connect()
        instructions = emu.connections[0].events("session.update")[0]["session"]["instructions"]
        await model.aclose()
    assert instructions.startswith("You answer questions about trains.")
    assert "4471" in instructions


async def test_hooks_before_connect_and_after_close() -> None:
    audio_format.reset()
    async with VoiceLiveEmulator(api_key=KEY, tts="synthetic") as emu:
        model = AzureVoiceLive(endpoint=emu.endpoint, api_key=KEY)
        await model.interrupt()  # nothing to interrupt: no error
        frame = np.zeros(1920, dtype="<i2").tobytes()  # 20 ms, 48 kHz stereo
        for _ in range(25):
            await model.handle_audio_input(frame)  # before connect: kept
        await model.send_text_message("queued before connect")
        await model.connect()
        record = emu.connections[0]
        await record.wait_for("conversation.item.create")
        await record.wait_for("input_audio_buffer.append")
        # converted to 24 kHz mono; none lost: only the resampler's 35-sample delay is
        # still inside the filter
        assert model.dropped_input_audio_bytes == 0
        assert 25 * 960 - 2 * 35 <= record.input_audio_bytes <= 25 * 960
        await model.aclose()
        await model.handle_audio_input(frame)  # after close: a cheap no-op
        await model.interrupt()
        with pytest.raises(RuntimeError, match="closed"):
            await model.send_message("too late")
        with pytest.raises(RuntimeError, match="closed"):
            await model.send_text_message("too late")


@pytest.mark.parametrize("bad", ["text", 12, None, [1, 2]])
async def test_non_bytes_audio_is_a_type_error(bad: Any) -> None:
    model = AzureVoiceLive(endpoint="https://x.y", api_key="k")
    with pytest.raises(TypeError, match="PCM bytes"):
        await model.handle_audio_input(bad)
    await model.aclose()


async def test_odd_empty_and_huge_chunks() -> None:
    audio_format.reset()
    audio_format.hint(24000, 1)  # 24 kHz mono: passed through byte for byte
    async with VoiceLiveEmulator(api_key=KEY, tts="synthetic", record_audio=True) as emu:
        model = AzureVoiceLive(endpoint=emu.endpoint, api_key=KEY)
        seen = Seen(model, "error")
        await model.connect()
        pcm = (np.arange(24000 * 12) % 3000).astype("<i2").tobytes()
        small, huge = pcm[: 24000 * 2], pcm[24000 * 2 :]  # 1 s in odd pieces, then 11 s at once
        for chunk in (b"", small[:1001], small[1001:1002], small[1002:], huge):
            await model.handle_audio_input(chunk)
        record = emu.connections[0]
        await record.wait_until(lambda: len(_appended(record)) >= 5 * 48000 - 1920)
        await model.aclose()
    audio_format.reset()
    appended = _appended(record)
    # the queue keeps the newest 5 s, in order and aligned; the rest is counted, not an error
    assert appended == pcm[-len(appended) :]
    assert model.dropped_input_audio_bytes == len(pcm) - len(appended)
    assert seen.events == []


def _appended(record: Any) -> bytes:
    return b"".join(
        base64.b64decode(e["audio"]) for e in record.events("input_audio_buffer.append")
    )


async def test_send_text_and_say_text_are_checked() -> None:
    model = AzureVoiceLive(endpoint="https://x.y", api_key="k")
    with pytest.raises(TypeError):
        await model.send_message(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="non-empty"):
        await model.send_text_message("   ")
    await model.aclose()


# -- events ---------------------------------------------------------------------------


async def test_errors_are_structured_and_benign_ones_stay_quiet() -> None:
    async with VoiceLiveEmulator(api_key=KEY, tts="synthetic") as emu:
        model = AzureVoiceLive(endpoint=emu.endpoint, api_key=KEY)
        seen = Seen(model, "error")
        await model.connect()
        record = emu.connections[0]
        await record.send_event(
            {
                "type": "error",
                "error": {
                    "type": "invalid_request_error",
                    "code": "response_cancel_not_active",
                    "message": "x",
                },
            }
        )
        await record.send_event(
            {
                "type": "error",
                "error": {
                    "type": "invalid_request_error",
                    "code": "rate_limited",
                    "message": "slow down",
                },
            }
        )
        [error] = await seen.wait("error")
        await model.aclose()
    assert seen.named("error") == [error]
    assert isinstance(error, VoiceLiveError)
    assert (error.code, error.message, error.recoverable) == ("rate_limited", "slow down", True)


async def test_word_timestamps_and_visemes_are_events() -> None:
    async with VoiceLiveEmulator(api_key=KEY, tts="synthetic") as emu:
        emu.scenario.add(Turn(reply="Good morning everyone."))
        model = AzureVoiceLive(
            endpoint=emu.endpoint,
            api_key=KEY,
            config=AzureVoiceLiveConfig(word_timestamps=True, visemes=True),
        )
        seen = Seen(model, "word_timestamp", "viseme", "llm_text_output")
        await model.connect()
        await model.send_text_message("hi")
        await seen.wait("llm_text_output")  # the answer is complete
        await model.aclose()
    assert seen.named("viseme")
    words = [d["text"] for d in seen.named("word_timestamp")]
    assert words == ["Good", "morning", "everyone."]


async def test_late_audio_of_a_cancelled_response_and_unknown_ids_are_dropped() -> None:
    audio_format.reset()
    async with VoiceLiveEmulator(api_key=KEY, speed=1.0, tts="synthetic") as emu:
        emu.scenario.add(Turn(reply="A long answer that is going to be interrupted by the app."))
        model = AzureVoiceLive(endpoint=emu.endpoint, api_key=KEY)
        seen = Seen(model, "agent_speech_started", "error")
        await model.connect()
        await model.send_text_message("talk")
        record = emu.connections[0]
        first = await record.wait_for("response.audio.delta", source="server")
        await seen.wait("agent_speech_started")  # the model has played some of it
        await model.interrupt()
        await record.wait_for("response.done", source="server")
        before = model._core.calls.get(first["response_id"]).audio_bytes  # type: ignore[union-attr]
        late = base64.b64encode(b"\x01\x00" * 2400).decode()
        for response_id in (first["response_id"], "resp_unknown"):
            await record.send_event(
                {
                    "type": "response.audio.delta",
                    "response_id": response_id,
                    "item_id": "i",
                    "output_index": 0,
                    "content_index": 0,
                    "delta": late,
                }
            )
        await record.send_event(
            {"type": "response.done", "response": {"id": "resp_unknown", "status": "completed"}}
        )
        await record.send_event({"type": "some.future.event"})
        await record.send_event({"type": "rate_limits.updated", "rate_limits": []})
        # events are handled in order: once this error is out, the deltas were handled
        await record.send_event(
            {"type": "error", "error": {"type": "x", "code": "marker", "message": "m"}}
        )
        await seen.wait("error")
        after = model._core.calls.get(first["response_id"]).audio_bytes  # type: ignore[union-attr]
        await model.aclose()
    assert after == before
    assert len(seen.named("agent_speech_started")) == 1


async def test_first_audio_latency_is_measured_from_speech_stopped(emu: VoiceLiveEmulator) -> None:
    audio_format.reset()
    audio_format.hint(24000, 1)
    emu.scenario.add(Turn(user="hi", reply="Hello."))
    model = AzureVoiceLive(endpoint=emu.endpoint, api_key=KEY)
    seen = Seen(model, "first_audio_latency")
    await model.connect()
    voice = await caller("Hello there.")
    line = (np.random.default_rng(1).standard_normal(24000) * 16).astype(np.int16)
    pcm = np.concatenate([line[:6000], voice, line, line]).astype("<i2").tobytes()
    for i in range(0, len(pcm), 960):
        await model.handle_audio_input(pcm[i : i + 960])
    [data] = await seen.wait("first_audio_latency")
    await model.aclose()
    audio_format.reset()
    assert data["seconds"] == model.first_audio_latency
    assert 0 <= data["seconds"] < 5
