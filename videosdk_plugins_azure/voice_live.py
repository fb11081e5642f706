"""``AzureVoiceLive``: the VideoSDK realtime-model hooks, wired to the call core.

This module decides nothing. It maps the framework's hooks onto
:class:`~videosdk_plugins_azure.core.CallCore` and carries out the effects the
core returns: client events onto the :class:`~videosdk_plugins_azure.transport.Transport`'s
outbox, framework events onto this emitter, audio onto the framework's track,
tool runs and approval questions into tasks. See ``ARCHITECTURE.md``.

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
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from azure.ai.voicelive import models as m
from videosdk.agents import audio_format
from videosdk.agents.event_bus import global_event_emitter
from videosdk.agents.realtime_base_model import RealtimeBaseModel

from . import _redact
from ._framework import pipeline_mode, report_metric
from ._speaker import TrackSpeaker
from .config import AzureVoiceLiveConfig, output_format_for_rate
from .connection import (
    DEFAULT_HANDSHAKE_TIMEOUT,
    DEFAULT_MODEL,
    MODEL_ENV,
    ConnectTarget,
    ReconnectPolicy,
    agent_target,
    resolve_endpoint,
)
from .core import CallCore, Effect, McpApprovalRequest, SessionSpec
from .core import effects as fx
from .core.base import DEFAULT_RESPONSE_TIMEOUT
from .core.effects import ModelEvent
from .core.link import LinkState
from .credentials import default_credential, normalize_credential
from .errors import VoiceLiveError
from .tools import ToolRunner, decide_approval, hand_off
from .transport import Transport

__all__ = ["DEFAULT_MAX_SESSION_DURATION", "AzureVoiceLive", "McpApproval", "McpApprovalRequest"]

log = logging.getLogger("videosdk_plugins_azure")

AzureVoiceLiveEvents = ModelEvent

DEFAULT_MAX_SESSION_DURATION = 25 * 60.0
"""Rotate well before the service's 30-minute session cap."""

AGENT_POLL_S = 0.5
"""How often the agent is read for changed instructions or tools between turns."""

McpApproval = Callable[[McpApprovalRequest], Awaitable[bool]]


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
        response_timeout: float | None = DEFAULT_RESPONSE_TIMEOUT,
        mcp_approval: McpApproval | None = None,
        agent_name: str | None = None,
        project_name: str | None = None,
        agent_version: str | None = None,
        conversation_id: str | None = None,
        agent_identity_client_id: str | None = None,
        foundry_resource_override: str | None = None,
    ) -> None:
        super().__init__()
        agent = agent_target(
            model,
            agent_name,
            project_name,
            agent_version=agent_version,
            conversation_id=conversation_id,
            authentication_identity_client_id=agent_identity_client_id,
            foundry_resource_override=foundry_resource_override,
        )
        self.model = (
            f"agent:{agent.agent_name}"
            if agent is not None
            else model or os.environ.get(MODEL_ENV) or DEFAULT_MODEL
        )
        self.config = config if config is not None else AzureVoiceLiveConfig()
        if not isinstance(self.config, AzureVoiceLiveConfig):
            raise TypeError("config must be an AzureVoiceLiveConfig")
        if handshake_timeout <= 0 or session_timeout <= 0:
            raise ValueError("handshake_timeout and session_timeout must be positive")
        if max_session_duration is not None and max_session_duration <= 0:
            raise ValueError("max_session_duration must be positive (or None to never rotate)")
        target = ConnectTarget(
            endpoint=resolve_endpoint(endpoint, allow_insecure=allow_insecure),
            model=None if agent else self.model,
            api_version=api_version,
            agent=agent,
            handshake_timeout=handshake_timeout,
        )
        self._mcp_approval = mcp_approval
        given, self._owns_credential = normalize_credential(api_key, credential)
        self._credential = given if given is not None else default_credential()
        self._secrets = _redact.protect(_redact.secrets_of(self._credential, self.config))
        spec = SessionSpec(self.config, model=target.model, agent_mode=agent is not None)
        spec.validate()
        self._tools = ToolRunner(timeout=self.config.tool_timeout)
        self._agent: Any = None
        self._speaker = TrackSpeaker(self)
        self._core = CallCore(
            spec,
            self._speaker,
            context=self.instructions_with_context,
            policy=reconnect,
            response_timeout=response_timeout,
        )
        self._transport = Transport(
            self._core,
            self,
            target,
            self._credential,
            session_timeout=session_timeout,
            max_session_duration=max_session_duration,
        )
        self._connect_task: asyncio.Task[None] | None = None
        self._performers = _performers(self)
        self.on("agent_speech_ended", self._on_playout_finished)

    def __repr__(self) -> str:
        return f"AzureVoiceLive(model={self.model!r}, endpoint={self._transport.target.endpoint!r})"

    # -- properties ----------------------------------------------------------------------

    @property
    def ready(self) -> bool:
        return self._core.ready

    @property
    def reconnects(self) -> int:
        """Successful reconnects (drops survived and proactive rotations)."""
        return self._core.reconnects

    @property
    def input_sampling_rate(self) -> int:
        """The rate declared to Voice Live (the wire rate when it is 8/16/24 kHz)."""
        return self._core.spec.input_rate

    @property
    def output_sampling_rate(self) -> int:
        return self._core.spec.output_rate

    @property
    def first_audio_latencies(self) -> list[float]:
        """Seconds from the server's ``speech_stopped`` to each answer's first audio delta."""
        return self._core.turn.latencies

    @property
    def first_audio_latency(self) -> float | None:
        return self.first_audio_latencies[-1] if self.first_audio_latencies else None

    @property
    def dropped_input_audio_bytes(self) -> int:
        """Caller audio dropped: beyond 5 s while not connected, or behind a slow socket."""
        return self._core.input.pending.dropped_bytes + self._transport.outbox.dropped_audio_bytes

    @property
    def dropped_output_audio_bytes(self) -> int:
        """Agent audio dropped because it arrived minutes ahead of what had played."""
        return self._speaker.dropped_bytes

    @property
    def _closed(self) -> bool:
        return self._core.link.state is LinkState.CLOSED

    # -- framework hooks ---------------------------------------------------------------------

    def set_agent(self, agent: Any) -> None:
        """Called twice before ``connect()`` (idempotent), and again on a handoff."""
        self._agent = agent
        self._tools = ToolRunner.for_agent(agent, timeout=self.config.tool_timeout)
        self._sync_agent(force=True)

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
        await self._transport.establish()
        self._transport.spawn(self._watch())
        self._transport.spawn(self._speaker.feed())

    def _prepare_audio(self) -> None:
        """Fix the input declaration and the output format for the whole call."""
        spec = self._core.spec
        spec.text_only = pipeline_mode(self._agent) == "hybrid_tts"
        self._follow_wire()
        wire = self._core.input.wire
        spec.input_rate = self._core.input.input_rate
        spec.output_format = self.config.output_audio_format or output_format_for_rate(
            wire[0] if wire else 24000
        )
        self._core.calls.bytes_per_ms = spec.output_rate * 2 / 1000
        self._speaker.rate = spec.output_rate
        if spec.audio_out and self.audio_track is not None:
            self.reframe_audio_track(spec.output_rate)
            # one anchor for the whole call: snapshot_playback() then counts every
            # sample the speaker plays, the timeline of the core places answers on
            self.audio_track.mark_synthesis_start()

    def _follow_wire(self) -> Any:
        rate, channels = audio_format.get()
        wire = (rate, channels) if rate and channels else None
        return self._core.input.follow_wire(wire, audio_format.generation())

    async def handle_audio_input(self, audio_data: bytes) -> None:
        """Caller audio from the meeting: convert, batch, queue. Never blocks."""
        if not isinstance(audio_data, bytes | bytearray | memoryview):
            raise TypeError(
                f"handle_audio_input expects raw int16 PCM bytes, got {type(audio_data).__name__}"
            )
        if self._core.link.ended or not audio_data or self._withholding_input():
            return
        pcm = self._follow_wire().convert(audio_data)
        self.perform(self._core.caller_audio(pcm))
        self._core.input.note_drops(self.dropped_input_audio_bytes)

    def _withholding_input(self) -> bool:
        """While a non-interruptible utterance plays, the caller's audio is not sent.

        The server's VAD would otherwise cancel it; the framework asks plugins to
        honour ``is_interruptible`` (the OpenAI plugin gates audio the same way).
        """
        return not self._interruptible() and self._core.calls.speaking

    def _interruptible(self) -> bool:
        return bool(getattr(self.current_utterance, "is_interruptible", True))

    async def send_message(self, message: str) -> None:
        """``session.say()``: speak ``message`` verbatim (no "repeat after me" prompt)."""
        self.perform(self._core.say(self._check_text(message, "send_message")))

    async def send_text_message(self, message: str) -> None:
        """``session.reply()``: a user turn in text, then a response."""
        self.perform(self._core.user_text(self._check_text(message, "send_text_message")))

    def _check_text(self, message: Any, hook: str) -> str:
        if self._closed:
            raise RuntimeError(f"AzureVoiceLive is closed; {hook}() was called after aclose()")
        if not isinstance(message, str):
            raise TypeError(f"{hook}() expects a str, got {type(message).__name__}")
        if not message.strip():
            raise ValueError(f"{hook}() needs non-empty text")
        if self._transport.outbox.control_full:
            raise VoiceLiveError(
                "backlog_full",
                f"{hook}() refused: {self._transport.outbox.max_control} events already wait "
                "for the Voice Live connection; try again once it is back",
            )
        return message

    async def interrupt(self) -> None:
        """``session.interrupt()``: stop the agent now, as a barge-in would."""
        if self._closed:
            return
        if not self._interruptible():
            log.debug("interrupt ignored: the current utterance is not interruptible")
            return
        self.perform(self._core.interrupt())

    async def aclose(self) -> None:
        """Idempotent: cancels every task, closes the connection and owned credentials."""
        if self._closed:
            return
        final = self._core.close()
        if self._connect_task is not None and not self._connect_task.done():
            self._connect_task.cancel()
            with contextlib.suppress(BaseException):
                await self._connect_task
        await self._transport.aclose()
        if self._owns_credential:
            close = getattr(self._credential, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()
        _redact.release(self._secrets)
        with contextlib.suppress(Exception):
            self.perform(final)
        await super().aclose()

    def _on_playout_finished(self, data: Any = None) -> None:
        self.perform(self._core.playout_finished())

    # -- carrying out the core's effects ---------------------------------------------------

    async def deliver(self, event: m.ServerEvent) -> None:
        """One server event: the core decides, then its effects run (audio is awaited)."""
        for effect in self._core.receive(event):
            if isinstance(effect, fx.Play):
                await self._speaker.write(effect.pcm)
            else:
                self._performers[type(effect)](effect)

    def perform(self, effects: list[Effect]) -> None:
        for effect in effects:
            self._performers[type(effect)](effect)

    def _sync_agent(self, *, force: bool = False) -> None:
        """``agent.instructions = ...`` and ``agent.update_tools()`` tell no one, so the
        agent is read at turn boundaries and every :data:`AGENT_POLL_S`."""
        agent = self._agent
        if agent is None:
            return
        tools = list(getattr(agent, "tools", None) or [])
        if force or tuple(id(t) for t in tools) != self._tools.fingerprint:
            self._tools = ToolRunner(tools, timeout=self.config.tool_timeout)
            self.perform(self._core.set_tools(self._tools.declarations()))
        self.perform(self._core.set_instructions(getattr(agent, "instructions", None)))

    async def _watch(self) -> None:
        """The call's clock: the agent is read for changes, the core's watchdog ticks."""
        while True:
            await asyncio.sleep(AGENT_POLL_S)
            self._sync_agent()
            self.perform(self._core.tick())

    async def _run_tool(self, call: fx.StartTool) -> None:
        result = await self._tools.run(call.call_id, call.name, call.arguments)
        if result.handoff is not None:
            hand_off(self._agent, result.handoff)
        self.perform(self._core.tool_finished(result))

    async def _approve(self, request: McpApprovalRequest) -> None:
        approved = await decide_approval(self._mcp_approval, request, self.config.tool_timeout)
        self.perform(self._core.approval_decided(request, approved))


def _performers(model: AzureVoiceLive) -> dict[type, Callable[[Any], None]]:
    """Effect type → how the adapter carries it out (a table, not an if-chain)."""
    transport = model._transport
    outbox = transport.outbox
    return {
        fx.Send: lambda e: outbox.put(e.event, urgent=e.urgent),
        fx.SendAudio: lambda e: outbox.put_audio(e.pcm),
        fx.Emit: lambda e: model.emit(e.name, e.payload),
        fx.BusEmit: lambda e: global_event_emitter.emit(e.name, e.payload),
        fx.Metric: lambda e: report_metric(e.method, e.kwargs),
        fx.FinishPlayback: lambda e: model._speaker.finish(),
        fx.ResumeSpeaker: lambda e: model._speaker.resume(),
        fx.StartTool: lambda e: transport.spawn(model._run_tool(e)),
        fx.AskApproval: lambda e: transport.spawn(model._approve(e.request)),
        fx.SyncAgent: lambda e: model._sync_agent(),
        fx.Settled: lambda e: transport.settle(),
        fx.Boundary: lambda e: transport.boundary(),
        fx.Reconnect: lambda e: transport.recover(e.cause, error=e.error),
        fx.CloseSocket: lambda e: transport.close_socket(),
    }
