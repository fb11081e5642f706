"""``AzureVoiceLive``: the VideoSDK realtime-model hooks, wired to Azure Voice Live.

This module is the thin I/O layer. It owns the SDK connection, the framework's audio
track and the event emitter; every decision about responses, playback and
transcripts is made by :class:`._state.CallState`, and every conversion by
:mod:`.audio`, :mod:`.config` and :mod:`.connection`.

Server events go through one dispatch table (``_HANDLERS``). Client events go
through one :class:`._outbox.Outbox` sent by one task, so the framework's hooks
never wait on the network.

Framework facts this relies on (videosdk-agents 1.0.30, see the contract notes):
``Pipeline.start`` registers its listeners only after ``connect()`` returns; the
pipeline flushes the track itself on ``user_speech_started`` but not on
``interrupt()``; after one faded interrupt the track ignores further interrupts
until ``enable_audio_input()``; ``agent_speech_ended`` is emitted *on this model*
by the track's last-audio callback, which fires only after
``mark_synthesis_complete()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from azure.ai.voicelive import models as m
from azure.ai.voicelive.aio import ConnectionClosed
from azure.ai.voicelive.aio import ConnectionError as SdkConnectionError
from videosdk.agents import audio_format
from videosdk.agents.event_bus import global_event_emitter
from videosdk.agents.metrics import metrics_collector
from videosdk.agents.realtime_base_model import RealtimeBaseModel

from . import _redact
from ._outbox import Outbox
from ._state import CallState, Cut, Response, ToolBatch
from .audio import AppendBatcher, InputConverter, OutputFramer, PendingAudio, choose_input_rate
from .config import (
    OUTPUT_RATES,
    AzureVoiceLiveConfig,
    build_session,
    build_tools_update,
    output_format_for_rate,
)
from .connection import (
    DEFAULT_HANDSHAKE_TIMEOUT,
    DEFAULT_MODEL,
    FATAL_ERROR_CODES,
    MODEL_ENV,
    AgentTarget,
    ConnectTarget,
    OpenSession,
    ReconnectPolicy,
    default_credential,
    normalize_credential,
    open_session,
    resolve_endpoint,
)
from .errors import VoiceLiveAuthError, VoiceLiveConnectError, VoiceLiveError
from .tools import ToolResult, ToolRunner

log = logging.getLogger("videosdk_plugins_azure")

AzureVoiceLiveEvents = Literal[
    "user_speech_started",
    "user_speech_ended",
    "agent_speech_started",
    "agent_speech_ended",
    "realtime_model_transcription",
    "realtime_model_function_executed",
    "llm_text_output",
    "first_audio_latency",
    "word_timestamp",
    "viseme",
    "mcp_list_tools",
    "mcp_call",
    "mcp_approval",
    "session_reconnected",
]

BENIGN_ERROR_CODES = frozenset({"response_cancel_not_active", "item_already_truncated"})
"""Races every realtime client hits; logged at debug, never surfaced."""

_SESSION_UPDATE_ID = "session_update_initial"
_WIRE_DEFAULT = (48000, 2)
_PENDING_MS = 5000
_HISTORY_ITEMS = 64
DEFAULT_MAX_SESSION_DURATION = 25 * 60.0
_OUTBOX_AUDIO_MS = 5000
_APPEND_MS = 40

Handler = Callable[["AzureVoiceLive", Any], Awaitable[None] | None]


@dataclass(frozen=True)
class McpApprovalRequest:
    """A server-side MCP call waiting for the app's yes or no."""

    id: str
    server_label: str
    name: str
    arguments: str


McpApproval = Callable[[McpApprovalRequest], Awaitable[bool]]


def _flatten_usage(usage: Any) -> dict[str, Any]:
    """Voice Live's nested usage, in the flat keys ``metrics_collector`` reads."""
    if not usage:
        return {}
    get = usage.get if hasattr(usage, "get") else (lambda k, d=None: getattr(usage, k, d))
    inp = get("input_token_details") or {}
    out = get("output_token_details") or {}
    cached = inp.get("cached_tokens_details") or {}
    flat = {
        "input_tokens": get("input_tokens"),
        "output_tokens": get("output_tokens"),
        "total_tokens": get("total_tokens"),
        "input_text_tokens": inp.get("text_tokens"),
        "input_audio_tokens": inp.get("audio_tokens"),
        "input_image_tokens": inp.get("image_tokens"),
        "input_cached_tokens": inp.get("cached_tokens"),
        "cached_text_tokens": cached.get("text_tokens"),
        "cached_audio_tokens": cached.get("audio_tokens"),
        "cached_image_tokens": cached.get("image_tokens"),
        "output_text_tokens": out.get("text_tokens"),
        "output_audio_tokens": out.get("audio_tokens"),
        "thoughts_tokens": out.get("reasoning_tokens"),
    }
    return {k: v for k, v in flat.items() if v is not None}


class AzureVoiceLive(RealtimeBaseModel[AzureVoiceLiveEvents]):  # type: ignore[misc]
    """Azure Voice Live as a VideoSDK realtime (speech-to-speech) model.

    ``Pipeline(llm=AzureVoiceLive(model="gpt-realtime", config=AzureVoiceLiveConfig(...)))``.
    The endpoint, key and model fall back to ``AZURE_VOICE_LIVE_ENDPOINT``,
    ``AZURE_VOICE_LIVE_API_KEY`` and ``AZURE_VOICE_LIVE_MODEL`` (or the
    ``AZURE_COGNITIVE_SERVICES_*`` names); with no key, Entra ID is used through the
    async ``DefaultAzureCredential``.
    """

    def __init__(
        self,
        *,
        model: str | None = None,
        endpoint: str | None = None,
        api_key: str | None = None,
        credential: Any = None,
        api_version: str | None = None,
        config: AzureVoiceLiveConfig | None = None,
        allow_insecure: bool = False,
        handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT,
        session_timeout: float = 10.0,
        reconnect: ReconnectPolicy | None = None,
        max_session_duration: float | None = DEFAULT_MAX_SESSION_DURATION,
        mcp_approval: McpApproval | None = None,
        agent_name: str | None = None,
        project_name: str | None = None,
        agent_version: str | None = None,
        conversation_id: str | None = None,
        agent_identity_client_id: str | None = None,
        foundry_resource_override: str | None = None,
    ) -> None:
        super().__init__()
        self._foundry_agent = _agent_target(
            model,
            agent_name,
            project_name,
            agent_version=agent_version,
            conversation_id=conversation_id,
            authentication_identity_client_id=agent_identity_client_id,
            foundry_resource_override=foundry_resource_override,
        )
        if self._foundry_agent is not None:
            self.model = f"agent:{self._foundry_agent.agent_name}"
        else:
            self.model = model or os.environ.get(MODEL_ENV) or DEFAULT_MODEL
        self.config = config if config is not None else AzureVoiceLiveConfig()
        if not isinstance(self.config, AzureVoiceLiveConfig):
            raise TypeError("config must be an AzureVoiceLiveConfig")
        if handshake_timeout <= 0 or session_timeout <= 0:
            raise ValueError("handshake_timeout and session_timeout must be positive")
        self._target = ConnectTarget(
            endpoint=resolve_endpoint(endpoint, allow_insecure=allow_insecure),
            model=None if self._foundry_agent else self.model,
            api_version=api_version,
            agent=self._foundry_agent,
            handshake_timeout=handshake_timeout,
        )
        self._mcp_approval = mcp_approval
        self._reconnect = reconnect if reconnect is not None else ReconnectPolicy()
        if max_session_duration is not None and max_session_duration <= 0:
            raise ValueError("max_session_duration must be positive (or None to never rotate)")
        self._max_session_duration = max_session_duration
        given, self._owns_credential = normalize_credential(api_key, credential)
        self._credential = given if given is not None else default_credential()
        self._secrets = _redact.protect(
            [
                getattr(self._credential, "key", None),
                *(server.authorization for server in self.config.mcp_servers),
                *(v for server in self.config.mcp_servers for v in (server.headers or {}).values()),
            ]
        )
        self._session_timeout = session_timeout
        # validates everything that depends on the model (e.g. temperature range)
        build_session(self.config, model=self._session_model, instructions=None, input_rate=24000)
        self._tools = ToolRunner(timeout=self.config.tool_timeout)
        self._mcp_started: dict[str, float] = {}
        self._approvals_pending = 0

        self._agent: Any = None
        self._instructions: str | None = None
        self._state = CallState()
        self._outbox = Outbox(max_audio_bytes=48 * _OUTBOX_AUDIO_MS)
        self._pending = PendingAudio(max_bytes=48 * _PENDING_MS)
        self._framer = OutputFramer()
        self._converter: InputConverter | None = None
        self._batcher: AppendBatcher | None = None
        self._wire: tuple[int, int] | None = None
        self._wire_generation = -1
        self._input_rate = 24000
        self._output_rate = 24000
        self._session: OpenSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._connect_task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._lost = False
        self._recovering = False
        self._sender: asyncio.Task[None] | None = None
        self._history: deque[dict[str, Any]] = deque(maxlen=_HISTORY_ITEMS)
        self._replay_failed = False
        self._user_speaking = False
        self._boundary = asyncio.Event()
        self._rotation: asyncio.Task[None] | None = None
        self._output_format = "pcm16"
        self._drops_logged = False
        self.reconnects = 0
        """Successful reconnects (drops survived and proactive rotations)."""
        self._connect_error: VoiceLiveError | None = None
        self._closed = False
        self._effective_session: Any = None
        self._speech_stopped_at: float | None = None
        self._user_transcripts: dict[str, str] = {}
        self._unknown_events: set[str] = set()
        self.first_audio_latencies: list[float] = []
        """Seconds from the server's ``speech_stopped`` to each answer's first audio delta."""
        self.on("agent_speech_ended", self._on_playout_finished)

    def __repr__(self) -> str:
        return f"AzureVoiceLive(model={self.model!r}, endpoint={self._target.endpoint!r})"

    @property
    def _session_model(self) -> str | None:
        """The model the session runs (unknown in agent mode: the agent picks it)."""
        return None if self._foundry_agent else self.model

    # -- properties ----------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        return (
            self._ready.is_set()
            and self._connect_error is None
            and not self._lost
            and not self._recovering
        )

    @property
    def input_sampling_rate(self) -> int:
        """The rate declared to Voice Live (the wire rate when it is 8/16/24 kHz)."""
        return self._input_rate

    @property
    def output_sampling_rate(self) -> int:
        return self._output_rate

    @property
    def first_audio_latency(self) -> float | None:
        return self.first_audio_latencies[-1] if self.first_audio_latencies else None

    @property
    def dropped_input_audio_bytes(self) -> int:
        """Caller audio dropped: beyond 5 s while not connected, or behind a slow socket."""
        return self._pending.dropped_bytes + self._outbox.dropped_audio_bytes

    # -- framework hooks ---------------------------------------------------------------------

    def set_agent(self, agent: Any) -> None:
        """Called twice by the framework before ``connect()``; idempotent."""
        self._agent = agent
        self._instructions = getattr(agent, "instructions", None)
        self._tools = ToolRunner.for_agent(agent, timeout=self.config.tool_timeout)
        if self.ready:
            self._send_tools()

    async def connect(self) -> None:
        if self._closed:
            raise RuntimeError("AzureVoiceLive is closed")
        if self._connect_task is None:
            self._connect_task = asyncio.ensure_future(self._connect())
        task = self._connect_task
        try:
            await asyncio.shield(task)
        except BaseException:
            if task.done() and self._connect_task is task:
                self._connect_task = None  # a failed connect can be retried
            raise

    async def _connect(self) -> None:
        self._prepare_audio()
        await self._establish(replay=False)

    def _prepare_audio(self) -> None:
        """Fix the input declaration and the output format for the whole call."""
        self._ensure_converter()
        self._output_format = self.config.output_audio_format or output_format_for_rate(
            self._wire[0] if self._wire else 24000
        )
        self._output_rate = OUTPUT_RATES[self._output_format]
        self._state.bytes_per_ms = self._output_rate * 2 / 1000
        if "audio" in self.config.modalities and self.audio_track is not None:
            self.reframe_audio_track(self._output_rate)
            # one anchor for the whole call: snapshot_playback() then counts every
            # sample the speaker plays, the timeline _state places answers on
            self.audio_track.mark_synthesis_start()

    async def _establish(self, *, replay: bool) -> None:
        """Open and configure a session, retrying what a retry can fix."""
        policy = self._reconnect
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._open_once(replay=replay)
                return
            except VoiceLiveAuthError:
                raise
            except VoiceLiveError as exc:
                if not exc.recoverable or attempt > policy.max_attempts:
                    raise
                delay = policy.delay(attempt + 1, random.random())  # noqa: S311 - jitter
                log.warning(
                    "Voice Live %s (attempt %d/%d); retrying in %.1fs",
                    exc.code,
                    attempt,
                    policy.max_attempts + 1,
                    delay,
                )
                await asyncio.sleep(delay)

    async def _open_once(self, *, replay: bool) -> None:
        self._ready.clear()
        self._connect_error = None
        instructions = self._instructions if replay and not self._replay_failed else None
        session = build_session(
            self.config,
            model=self._session_model,
            instructions=instructions or self.instructions_with_context(self._instructions),
            tools=self._tools.declarations(),
            input_rate=self._input_rate,
            output_format=self._output_format,
            agent_mode=self._foundry_agent is not None,
        )
        opened = await open_session(self._target, self._credential)
        receiver = self._spawn(self._receive_loop(opened))
        try:
            await opened.connection.send(
                {
                    "type": "session.update",
                    "event_id": _SESSION_UPDATE_ID,
                    "session": session.as_dict(),
                }
            )
            async with asyncio.timeout(self._session_timeout):
                await self._ready.wait()
            if self._connect_error is not None:
                raise self._connect_error
            if replay and not self._replay_failed:
                await self._replay(opened)
        except BaseException as exc:
            receiver.cancel()
            await opened.close()
            if isinstance(exc, TimeoutError):
                raise VoiceLiveConnectError(
                    "session_timeout",
                    f"Voice Live did not confirm the session within {self._session_timeout:g}s",
                    recoverable=True,
                ) from None
            raise
        self._session = opened
        self._sender = self._spawn(self._send_loop(opened))
        backlog = self._pending.drain()
        if backlog:
            self._queue_audio(backlog)
        request = self._state.next_request()
        if request is not None:
            self._send_create(request.request_id, request.params)
        self._arm_rotation()
        log.info(
            "Voice Live session ready: model=%s input=%d Hz output=%s",
            self.model,
            self._input_rate,
            self._output_format,
        )

    def _remember(self, item: dict[str, Any]) -> None:
        """Keep what a new session needs to carry the conversation on (bounded)."""
        if item.get("type") in ("message", "function_call", "function_call_output"):
            self._history.append(item)

    def _on_replay_rejected(self, code: str, message: str) -> None:
        """The new session refused a replayed item: fold the history into the instructions."""
        if self._replay_failed:
            return
        self._replay_failed = True
        log.warning(
            "conversation replay rejected (%s: %s); using instructions instead", code, message
        )
        if self._foundry_agent is None:
            instructions = self.instructions_with_context(self._instructions)
            self._outbox.put({"type": "session.update", "session": {"instructions": instructions}})

    def _idle(self) -> bool:
        """Nobody is talking and nothing is pending: a safe moment to switch sessions."""
        return not (
            self._state.speaking
            or self._user_speaking
            or self._state.tools_pending
            or self._approvals_pending
            or self._state.pending_requests
        )

    def _arm_rotation(self) -> None:
        if self._rotation is not None and not self._rotation.done():
            self._rotation.cancel()
        if self._max_session_duration is not None:
            self._rotation = self._spawn(self._rotate_later(self._max_session_duration))

    async def _rotate_later(self, after: float) -> None:
        """Move to a fresh session before the service's cap, at a turn boundary.

        This is also how calls outlive their Entra token: each connect fetches a new one.
        """
        await asyncio.sleep(after)
        while not self._idle():
            self._boundary.clear()
            await self._boundary.wait()
        self._start_recovery("session rotation", error=False)

    def _at_boundary(self) -> None:
        self._boundary.set()

    def _note_drops(self) -> None:
        if not self._drops_logged and self.dropped_input_audio_bytes:
            self._drops_logged = True
            log.warning(
                "dropping caller audio: the connection is down or too slow (counted in "
                "dropped_input_audio_bytes; logged once)"
            )

    async def _replay(self, opened: OpenSession) -> None:
        """Give the new session the conversation so far, as items it accepts."""
        for index, item in enumerate(list(self._history)):
            await opened.connection.send(
                {"type": "conversation.item.create", "event_id": f"replay_{index}", "item": item}
            )
        if self._history:
            log.info("replayed %d conversation item(s)", len(self._history))

    async def handle_audio_input(self, audio_data: bytes) -> None:
        """Caller audio from the meeting: convert, batch, queue. Never blocks."""
        if not isinstance(audio_data, bytes | bytearray | memoryview):
            raise TypeError(
                f"handle_audio_input expects raw int16 PCM bytes, got {type(audio_data).__name__}"
            )
        if self._closed or self._lost or not audio_data:
            return
        if self._withholding_input():
            return
        converter = self._ensure_converter()
        pcm = converter.convert(audio_data)
        if not pcm:
            return
        if not self.ready:
            self._pending.append(pcm)
            self._note_drops()
            return
        self._queue_audio(pcm)

    def _queue_audio(self, pcm: bytes) -> None:
        assert self._batcher is not None
        self._batcher.add(pcm)
        while (chunk := self._batcher.take()) is not None:
            self._outbox.put_audio(chunk)
        self._note_drops()

    def _withholding_input(self) -> bool:
        """While a non-interruptible utterance plays, the caller's audio is not sent.

        The server's VAD would otherwise cancel it; the framework asks plugins to
        honour ``is_interruptible`` (the OpenAI plugin gates audio the same way).
        """
        utterance = self.current_utterance
        return bool(
            utterance is not None
            and not getattr(utterance, "is_interruptible", True)
            and self._state.speaking
        )

    def _ensure_converter(self) -> InputConverter:
        generation = audio_format.generation()
        if self._converter is None or generation != self._wire_generation:
            rate, channels = audio_format.get()
            wire = (rate, channels) if rate and channels else _WIRE_DEFAULT
            if self._converter is None:
                self._input_rate = choose_input_rate(wire[0])
                self._batcher = AppendBatcher(self._input_rate * 2 * _APPEND_MS // 1000)
            elif wire != self._wire:
                log.info(
                    "caller audio changed to %d Hz x%d; converting to %d Hz",
                    *wire,
                    self._input_rate,
                )
            if wire != self._wire or self._converter is None:
                self._converter = InputConverter(wire[0], wire[1], self._input_rate)
            self._wire = wire
            self._wire_generation = generation
        return self._converter

    async def send_message(self, message: str) -> None:
        """``session.say()``: speak ``message`` verbatim (no "repeat after me" prompt)."""
        text = self._check_text(message, "send_message")
        item = m.AssistantMessageItem(content=[m.OutputTextContentPart(text=text)])
        self._request_response({"pre_generated_assistant_message": item.as_dict()})

    async def send_text_message(self, message: str) -> None:
        """``session.reply()``: a user turn in text, then a response."""
        text = self._check_text(message, "send_text_message")
        item = m.UserMessageItem(content=[m.InputTextContentPart(text=text)])
        self._outbox.put({"type": "conversation.item.create", "item": item.as_dict()})
        self._request_response({})

    def _check_text(self, message: Any, hook: str) -> str:
        if self._closed:
            raise RuntimeError(f"AzureVoiceLive is closed; {hook}() was called after aclose()")
        if not isinstance(message, str):
            raise TypeError(f"{hook}() expects a str, got {type(message).__name__}")
        if not message.strip():
            raise ValueError(f"{hook}() needs non-empty text")
        return message

    def _request_response(self, params: dict[str, Any]) -> None:
        self._sync_tools()
        request = self._state.request_response(params)
        if request is not None:
            self._send_create(request.request_id, request.params)

    def _send_create(self, request_id: str, params: dict[str, Any]) -> None:
        event: dict[str, Any] = {"type": "response.create", "event_id": request_id}
        if params:
            event["response"] = params
        self._outbox.put(event)

    async def interrupt(self) -> None:
        """``session.interrupt()``: stop the agent now, as a barge-in would."""
        if self._closed:
            return
        utterance = self.current_utterance
        if utterance is not None and not getattr(utterance, "is_interruptible", True):
            log.debug("interrupt ignored: the current utterance is not interruptible")
            return
        self._barge_in(cancel_on_server=True)

    async def aclose(self) -> None:
        """Idempotent: cancels every task, closes the connection and owned credentials."""
        if self._closed:
            return
        self._closed = True
        for _, text in self._state.flush_transcripts():
            self._emit_agent_final(text)
        if self._connect_task is not None and not self._connect_task.done():
            self._connect_task.cancel()
            with contextlib.suppress(BaseException):
                await self._connect_task
        await self._cancel_tasks()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._owns_credential:
            close = getattr(self._credential, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()
        if self._converter is not None:
            self._converter.reset()
        _redact.release(self._secrets)
        track = self.audio_track
        if track is not None and self._state.active is not None:
            with contextlib.suppress(Exception):
                track.mark_synthesis_complete()
        await super().aclose()

    # -- tasks ---------------------------------------------------------------------------------

    def _spawn(self, coro: Awaitable[None]) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _cancel_tasks(self) -> None:
        tasks = [t for t in self._tasks if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _send_loop(self, session: OpenSession) -> None:
        connection = session.connection
        while True:
            event = await self._outbox.get()
            try:
                await connection.send(event)
                if event.get("type") == "conversation.item.create":
                    self._remember(event["item"])
            except SdkConnectionError as exc:
                if event.get("type") != "response.create":  # requests are re-issued by state
                    self._outbox.put_back(event)
                log.warning(
                    "Voice Live send failed (%s); the connection is gone", type(exc).__name__
                )
                return

    async def _receive_loop(self, session: OpenSession) -> None:
        """A ``recv()`` loop: unlike ``async for``, it sees the close code."""
        connection = session.connection
        while True:
            try:
                event = await connection.recv()
            except ConnectionClosed as closed:
                self._connection_lost(closed.code)
                return
            except SdkConnectionError as exc:
                log.warning("ignoring an unreadable server event: %s", exc)
                continue
            except (AttributeError, TypeError, ValueError) as exc:
                log.warning("ignoring a malformed server event (%s)", type(exc).__name__)
                continue
            try:
                await self._dispatch(event)
            except Exception:
                log.exception("error handling Voice Live event %r", event.get("type"))

    def _connection_lost(self, code: int) -> None:
        if self._closed or self._lost:
            return
        if not self._ready.is_set():
            self._connect_error = VoiceLiveConnectError(
                "connection_closed",
                f"Voice Live closed the connection (code {code}) during setup",
                recoverable=True,
            )
            self._ready.set()
            return
        self._start_recovery(f"connection closed (code {code})", error=True)

    def _start_recovery(self, cause: str, *, error: bool) -> None:
        """One recovery at a time: a fresh connection, then the conversation carried over."""
        if self._recovering or self._closed or self._lost:
            return
        self._recovering = True
        self._spawn(self._recover(cause, error=error))

    async def _recover(self, cause: str, *, error: bool) -> None:
        started = time.monotonic()
        if self._sender is not None:
            self._sender.cancel()
        if self._session is not None:
            await self._session.close()  # still reachable by aclose() if this is cancelled
            self._session = None
        self._fail_playback()
        if error:
            log.warning("Voice Live %s; reconnecting", cause)
            self.emit(
                "error", VoiceLiveError("connection_lost", f"Voice Live {cause}; reconnecting")
            )
        try:
            await self._establish(replay=True)
        except VoiceLiveError as exc:
            self._recovering = False
            self._give_up(f"could not reconnect after {cause}: {exc.message}")
            return
        finally:
            self._recovering = False
        self.reconnects += 1
        downtime = time.monotonic() - started
        log.info("Voice Live session restored after %s in %.2fs", cause, downtime)
        self.emit(
            "session_reconnected",
            {"cause": cause, "downtime_s": downtime, "reconnects": self.reconnects},
        )

    def _give_up(self, message: str, code: str = "connection_lost") -> None:
        """Tell the pipeline once; from now on caller audio is dropped without a sound."""
        if self._lost:
            return
        self._lost = True
        self._fail_playback()
        log.error("Voice Live: %s", message)
        self.emit("error", VoiceLiveError(code, message, recoverable=False))

    def _fail_playback(self) -> None:
        """A response cut off by a drop must still end, or the pipeline waits forever."""
        self._outbox.discard("response.create")  # the call state re-issues what is pending
        cut = self._state.connection_reset()
        if cut is None:
            return
        self._mark_synthesis_complete(cut)
        if cut.final_text is None and cut.transcript:
            finals = self._state.transcript_done(
                cut.id, cut.transcript, wait_for_playout=self.audio_track is not None
            )
            for _, text in finals:
                self._emit_agent_final(text)

    async def _dispatch(self, event: Any) -> None:
        kind = event.get("type")
        handler = _HANDLERS.get(kind) if isinstance(kind, str) else None
        if handler is None:
            if kind not in self._unknown_events and len(self._unknown_events) < 100:
                self._unknown_events.add(str(kind))
                log.debug("ignoring Voice Live event type %r", kind)
            return
        result = handler(self, event)
        if result is not None:
            await result

    # -- server events: session and errors ---------------------------------------------------

    def _on_session_updated(self, event: Any) -> None:
        self._effective_session = event.get("session")
        self._ready.set()

    def _on_error(self, event: Any) -> None:
        error = event.get("error") or {}
        code = str(error.get("code") or error.get("type") or "error")
        message = str(error.get("message") or "")
        param = error.get("param")
        origin = error.get("event_id")
        if code in BENIGN_ERROR_CODES:
            log.debug("Voice Live: %s (%s)", code, message)
            return
        if (
            code == "conversation_already_has_active_response"
            and isinstance(origin, str)
            and origin.startswith("req_")
        ):
            log.debug("response.create %s raced a server response; retrying after it", origin)
            retry = self._state.create_rejected(origin)
            if retry is not None:
                self._send_create(retry.request_id, retry.params)
            return
        if isinstance(origin, str) and origin.startswith("cut_"):
            log.debug("truncate/delete rejected: %s %s", code, message)
            return
        if isinstance(origin, str) and origin.startswith("replay_"):
            self._on_replay_rejected(code, message)
            return
        if origin == _SESSION_UPDATE_ID and not self.ready:
            self._connect_error = VoiceLiveError(
                code,
                f"Voice Live rejected the session configuration: {message}",
                recoverable=False,
                param=param,
            )
            self._ready.set()
            return
        if code in FATAL_ERROR_CODES:
            self._give_up(f"Voice Live refused the session: {message}", code=code)
            if self._session is not None:
                self._spawn(self._session.close())
            return
        log.warning("Voice Live error %s: %s", code, message)
        # session_expired: the service closes next (1001) and the plugin reconnects
        self.emit("error", VoiceLiveError(code, message, recoverable=True, param=param))

    def _on_warning(self, event: Any) -> None:
        warning = event.get("warning") or {}
        log.warning("Voice Live warning %s: %s", warning.get("code"), warning.get("message"))

    # -- server events: the caller ----------------------------------------------------------

    def _on_speech_started(self, event: Any) -> None:
        turn = self._turn_detection()
        if turn is None or turn.get("interrupt_response", True):
            self._barge_in(cancel_on_server=False)
        for _, text in self._state.flush_transcripts():
            self._emit_agent_final(text)
        self._state.user_spoke()
        self._user_speaking = True
        self._sync_tools()
        metrics_collector.start_turn()
        self.emit("user_speech_started", {"type": "done"})

    def _on_speech_stopped(self, event: Any) -> None:
        self._speech_stopped_at = time.monotonic()
        self._user_speaking = False
        self._at_boundary()
        self.emit("user_speech_ended", {"type": "done"})

    def _on_transcription_delta(self, event: Any) -> None:
        item_id = str(event.get("item_id"))
        text = self._user_transcripts.get(item_id, "") + str(event.get("delta") or "")
        self._user_transcripts[item_id] = text
        self.emit("realtime_model_transcription", {"role": "user", "text": text, "is_final": False})

    def _on_transcription_completed(self, event: Any) -> None:
        self._user_transcripts.pop(str(event.get("item_id")), None)
        text = str(event.get("transcript") or "").strip()
        if not text:
            return
        metrics_collector.set_user_transcript(text)
        self._remember(m.UserMessageItem(content=[m.InputTextContentPart(text=text)]).as_dict())
        self.emit("realtime_model_transcription", {"role": "user", "text": text, "is_final": True})

    def _on_transcription_failed(self, event: Any) -> None:
        error = event.get("error") or {}
        self._user_transcripts.pop(str(event.get("item_id")), None)
        self.emit(
            "error",
            VoiceLiveError(
                str(error.get("code") or "transcription_failed"),
                f"user transcription failed: {error.get('message') or 'unknown reason'}",
                recoverable=True,
            ),
        )

    # -- server events: responses ----------------------------------------------------------------

    def _on_response_created(self, event: Any) -> None:
        response = event.get("response") or {}
        self._state.response_created(str(response.get("id")))
        self._framer.reset()
        if self.audio_track is not None:
            self.audio_track.enable_audio_input()

    def _on_output_item_added(self, event: Any) -> None:
        item = event.get("item") or {}
        response = self._state.get(event.get("response_id"))
        if response is not None and item.get("type") == "message" and response.item_id is None:
            response.item_id = item.get("id")

    async def _on_audio_delta(self, event: Any) -> None:
        delta = event.delta
        if not isinstance(delta, bytes | bytearray) or not delta:
            return
        track = self.audio_track
        response_id = event.get("response_id")
        response = self._state.get(response_id)
        placing = track is not None and response is not None and not response.has_audio
        decision = self._state.audio(
            response_id,
            event.get("item_id"),
            len(delta),
            speaker_at=_speaker_position(track) if placing else None,
        )
        if decision == "drop":
            return
        if decision == "first":
            if self._speech_stopped_at is not None:
                latency = time.monotonic() - self._speech_stopped_at
                self._speech_stopped_at = None
                self.first_audio_latencies.append(latency)
                self.emit("first_audio_latency", {"seconds": latency})
            self.emit("agent_speech_started", {"type": "done"})
        pcm = self._framer.feed(delta)
        if pcm and track is not None:
            await track.add_new_bytes(pcm)

    def _on_audio_transcript_delta(self, event: Any) -> None:
        text = self._state.transcript_delta(event.get("response_id"), str(event.get("delta") or ""))
        response = self._state.get(event.get("response_id"))
        if text is not None and response is not None and not response.dropped:
            self.emit(
                "realtime_model_transcription", {"role": "agent", "text": text, "is_final": False}
            )

    def _on_audio_transcript_done(self, event: Any) -> None:
        finals = self._state.transcript_done(
            event.get("response_id"),
            str(event.get("transcript") or ""),
            wait_for_playout=self.audio_track is not None,
        )
        for _, text in finals:
            self._emit_agent_final(text)

    def _on_text_done(self, event: Any) -> None:
        for _, text in self._state.transcript_done(
            event.get("response_id"), str(event.get("text") or ""), wait_for_playout=False
        ):
            self._emit_agent_final(text)

    def _on_response_done(self, event: Any) -> None:
        payload = event.get("response") or {}
        status = payload.get("status")
        response, next_request = self._state.response_done(str(payload.get("id")), status)
        usage = _flatten_usage(payload.get("usage"))
        if usage:
            metrics_collector.set_realtime_usage(usage)
        if status == "failed":
            details = payload.get("status_details") or {}
            error = details.get("error") or {}
            self.emit(
                "error",
                VoiceLiveError(
                    str(error.get("code") or "response_failed"),
                    str(error.get("message") or "the response failed"),
                    recoverable=True,
                ),
            )
        if next_request is not None:
            self._send_create(next_request.request_id, next_request.params)
        self._at_boundary()
        if response is None:
            return
        batch = self._state.tools_ready(response)
        if batch is not None:
            self._answer_tools(batch)
        elif not response.awaiting_tools:
            # a response whose calls are still running ends with the answer to them
            self._mark_synthesis_complete(response)

    def _on_audio_timestamp(self, event: Any) -> None:
        self.emit(
            "word_timestamp",
            {
                "text": event.get("text"),
                "offset_ms": event.get("audio_offset_ms"),
                "duration_ms": event.get("audio_duration_ms"),
                "response_id": event.get("response_id"),
            },
        )

    def _on_viseme(self, event: Any) -> None:
        self.emit(
            "viseme",
            {
                "viseme_id": event.get("viseme_id"),
                "offset_ms": event.get("audio_offset_ms"),
                "response_id": event.get("response_id"),
            },
        )

    # -- function tools ------------------------------------------------------------------------

    def _on_function_call_done(self, event: Any) -> None:
        call_id = str(event.get("call_id") or "")
        name = str(event.get("name") or "")
        if not call_id or not self._state.tool_call(event.get("response_id"), call_id):
            return
        arguments = str(event.get("arguments") or "")
        self._remember(
            m.FunctionCallItem(name=name, call_id=call_id, arguments=arguments).as_dict()
        )
        self._spawn(self._run_tool(call_id, name, str(event.get("arguments") or "")))

    async def _run_tool(self, call_id: str, name: str, arguments: str) -> None:
        result = await self._tools.run(call_id, name, arguments)
        self._report_tool(result)
        batch = self._state.tool_output(call_id, result.output)
        if batch is not None:
            self._answer_tools(batch)

    def _report_tool(self, result: ToolResult) -> None:
        self.emit("realtime_model_function_executed", result.event())
        try:
            params = json.loads(result.arguments) if result.arguments else {}
        except ValueError:
            params = {"raw": result.arguments}
        metrics_collector.add_function_tool_call(
            tool_name=result.name,
            tool_params=params if isinstance(params, dict | list) else {"value": params},
            tool_response={"output": result.output, "is_error": result.is_error},
            start_time=result.started,
            end_time=result.ended,
        )

    def _answer_tools(self, batch: ToolBatch) -> None:
        """Every output of the response, then one request for the answer."""
        if self._closed:
            return
        for call_id, output in batch.outputs:
            item = m.FunctionCallOutputItem(call_id=call_id, output=output)
            self._outbox.put({"type": "conversation.item.create", "item": item.as_dict()})
        if batch.follow_up:
            self._request_response({})
        else:
            log.debug("caller spoke while tools ran: outputs delivered, no extra answer")
            self._mark_synthesis_complete(batch.response)

    def _sync_tools(self) -> None:
        """``agent.update_tools()`` tells no one; notice it at turn boundaries."""
        if self._agent is None:
            return
        tools = list(getattr(self._agent, "tools", None) or [])
        if tuple(id(t) for t in tools) == self._tools.fingerprint:
            return
        self._tools = ToolRunner(tools, timeout=self.config.tool_timeout)
        if self.ready:
            self._send_tools()

    def _send_tools(self) -> None:
        update = build_tools_update(self.config, self._tools.declarations())
        self._outbox.put({"type": "session.update", "session": update.as_dict()})
        log.info("tools updated: %d function tool(s)", len(self._tools))

    # -- server-side MCP -------------------------------------------------------------------------

    def _on_mcp_list_tools(self, event: Any) -> None:
        status = str(event.get("type")).rsplit(".", 1)[-1]
        log.info("MCP list tools %s (%s)", status, event.get("item_id"))
        self.emit("mcp_list_tools", {"item_id": event.get("item_id"), "status": status})

    def _on_mcp_call_started(self, event: Any) -> None:
        self._mcp_started.setdefault(str(event.get("item_id")), time.perf_counter())

    def _on_item_created(self, event: Any) -> None:
        item = event.get("item") or {}
        kind = item.get("type")
        if kind == "mcp_list_tools":
            names = [t.get("name") for t in item.get("tools") or []]
            self.emit(
                "mcp_list_tools",
                {
                    "item_id": item.get("id"),
                    "server_label": item.get("server_label"),
                    "tools": names,
                },
            )
        elif kind == "mcp_approval_request":
            request = McpApprovalRequest(
                id=str(item.get("id")),
                server_label=str(item.get("server_label")),
                name=str(item.get("name")),
                arguments=str(item.get("arguments") or ""),
            )
            self._approvals_pending += 1
            self._spawn(self._approve(request))

    async def _approve(self, request: McpApprovalRequest) -> None:
        if self._mcp_approval is None:
            approved = False
            log.info(
                "MCP call %s on %s denied: no approval callback (pass mcp_approval=... to "
                "AzureVoiceLive, or set require_approval='never' for trusted tools)",
                request.name,
                request.server_label,
            )
        else:
            try:
                async with asyncio.timeout(self.config.tool_timeout):
                    approved = bool(await self._mcp_approval(request))
            except Exception as exc:
                approved = False
                log.warning("MCP approval callback failed (%s); denying", type(exc).__name__)
        self.emit("mcp_approval", {"request": request, "approved": approved})
        item = m.MCPApprovalResponseRequestItem(approval_request_id=request.id, approve=approved)
        self._outbox.put({"type": "conversation.item.create", "item": item.as_dict()})
        self._approvals_pending -= 1
        if self._approvals_pending == 0:  # one answer once every request is decided
            self._request_response({})

    def _on_output_item_done(self, event: Any) -> None:
        item = event.get("item") or {}
        if item.get("type") != "mcp_call":
            return
        item_id = str(item.get("id"))
        started = self._mcp_started.pop(item_id, time.perf_counter())
        error = item.get("error")
        payload = {
            "item_id": item_id,
            "server_label": item.get("server_label"),
            "name": item.get("name"),
            "arguments": item.get("arguments"),
            "output": item.get("output"),
            "error": error,
        }
        self.emit("mcp_call", payload)
        try:
            params = json.loads(item.get("arguments") or "{}")
        except ValueError:
            params = {}
        metrics_collector.add_mcp_tool_call(
            tool_type="remote",
            tool_url=next(
                (
                    s.server_url
                    for s in self.config.mcp_servers
                    if s.server_label == item.get("server_label")
                ),
                None,
            ),
            tool_params=params if isinstance(params, dict | list) else {},
            tool_response={"output": item.get("output"), "error": error},
            start_time=started,
            end_time=time.perf_counter(),
        )

    # -- playback and interruption -----------------------------------------------------------

    def _mark_synthesis_complete(self, response: Response) -> None:
        if response.synthesis_marked:
            return
        response.synthesis_marked = True
        if self.audio_track is not None:
            self.audio_track.mark_synthesis_complete()

    def _on_playout_finished(self, data: Any = None) -> None:
        for _, text in self._state.playout_finished():
            self._emit_agent_final(text)
        self._at_boundary()

    def _emit_agent_final(self, text: str) -> None:
        self._remember(
            m.AssistantMessageItem(content=[m.OutputTextContentPart(text=text)]).as_dict()
        )
        metrics_collector.set_agent_response(text)
        self.emit("realtime_model_transcription", {"role": "agent", "text": text, "is_final": True})
        self.emit("llm_text_output", {"text": text})
        global_event_emitter.emit("text_response", {"text": text, "type": "done"})

    def _turn_detection(self) -> dict[str, Any] | None:
        session = self._effective_session or {}
        td = session.get("turn_detection") if hasattr(session, "get") else None
        return dict(td) if td else None

    def _barge_in(self, *, cancel_on_server: bool) -> None:
        """Stop the agent: drop its audio, flush the speaker, cut the history to what was heard."""
        if not self._state.speaking:
            return
        track = self.audio_track
        position = None
        if track is not None:
            played = _speaker_position(track) - _queued_samples(track)
            track.interrupt()
            position = played + _queued_samples(track)  # plus the fade-out still to play
        active = self._state.active
        silenced = self._state.interrupt(position)
        if cancel_on_server and active is not None and active in silenced:
            self._outbox.put({"type": "response.cancel"}, urgent=True)
        server_truncates = bool((self._turn_detection() or {}).get("auto_truncate"))
        for response in silenced:
            self._apply_cut(self._state.cut(response, server_truncates=server_truncates))
            self._mark_synthesis_complete(response)
            if response.final_text is not None:
                for _, text in self._state.transcript_done(
                    response.id, response.final_text, wait_for_playout=False
                ):
                    self._emit_agent_final(text)
        metrics_collector.on_interrupted()

    def _apply_cut(self, cut: Cut) -> None:
        if cut.item_id is None or cut.action == "none":
            return
        event_id = f"cut_{cut.item_id}"
        if cut.action == "delete":
            self._outbox.put(
                {"type": "conversation.item.delete", "event_id": event_id, "item_id": cut.item_id}
            )
        else:
            self._outbox.put(
                {
                    "type": "conversation.item.truncate",
                    "event_id": event_id,
                    "item_id": cut.item_id,
                    "content_index": 0,
                    "audio_end_ms": cut.audio_end_ms,
                }
            )


def _agent_target(
    model: str | None, agent_name: str | None, project_name: str | None, **extra: str | None
) -> AgentTarget | None:
    """Foundry agent mode, when asked for: it replaces the model."""
    if agent_name is None and project_name is None:
        if any(v is not None for v in extra.values()):
            raise ValueError("agent options need agent_name and project_name")
        return None
    if not agent_name or not project_name:
        raise ValueError("Foundry agent mode needs both agent_name and project_name")
    if model is not None:
        raise ValueError("pass model or agent_name, not both: the agent picks its model")
    return AgentTarget(agent_name=agent_name, project_name=project_name, **extra)


def _speaker_position(track: Any) -> int:
    """The speaker timeline's end: samples played since connect plus samples queued."""
    played, _pushed = track.snapshot_playback()
    return int(played) + _queued_samples(track)


def _queued_samples(track: Any) -> int:
    """Samples in the speaker's queue that have not played yet."""
    frames = len(getattr(track, "frame_buffer", ()))
    partial = len(getattr(track, "audio_data_buffer", b"")) // 2
    return frames * int(getattr(track, "samples", 0)) + partial


_TRANSCRIPTION = "conversation.item.input_audio_transcription"
_HANDLERS: dict[str, Handler] = {
    "session.updated": AzureVoiceLive._on_session_updated,
    "error": AzureVoiceLive._on_error,
    "warning": AzureVoiceLive._on_warning,
    "input_audio_buffer.speech_started": AzureVoiceLive._on_speech_started,
    "input_audio_buffer.speech_stopped": AzureVoiceLive._on_speech_stopped,
    f"{_TRANSCRIPTION}.delta": AzureVoiceLive._on_transcription_delta,
    f"{_TRANSCRIPTION}.completed": AzureVoiceLive._on_transcription_completed,
    f"{_TRANSCRIPTION}.failed": AzureVoiceLive._on_transcription_failed,
    "response.created": AzureVoiceLive._on_response_created,
    "response.output_item.added": AzureVoiceLive._on_output_item_added,
    "response.audio.delta": AzureVoiceLive._on_audio_delta,
    "response.audio_transcript.delta": AzureVoiceLive._on_audio_transcript_delta,
    "response.audio_transcript.done": AzureVoiceLive._on_audio_transcript_done,
    "response.text.delta": AzureVoiceLive._on_audio_transcript_delta,
    "response.text.done": AzureVoiceLive._on_text_done,
    "response.done": AzureVoiceLive._on_response_done,
    "response.audio_timestamp.delta": AzureVoiceLive._on_audio_timestamp,
    "response.animation_viseme.delta": AzureVoiceLive._on_viseme,
    "response.function_call_arguments.done": AzureVoiceLive._on_function_call_done,
    "conversation.item.created": AzureVoiceLive._on_item_created,
    "response.output_item.done": AzureVoiceLive._on_output_item_done,
    "mcp_list_tools.in_progress": AzureVoiceLive._on_mcp_list_tools,
    "mcp_list_tools.completed": AzureVoiceLive._on_mcp_list_tools,
    "mcp_list_tools.failed": AzureVoiceLive._on_mcp_list_tools,
    "response.mcp_call.in_progress": AzureVoiceLive._on_mcp_call_started,
}
"""Server event type → handler. Other events are ignored (logged once per type at debug)."""
