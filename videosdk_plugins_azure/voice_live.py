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
from collections.abc import Awaitable, Callable
from typing import Any

from azure.ai.voicelive import models as m
from videosdk.agents import audio_format
from videosdk.agents.event_bus import global_event_emitter
from videosdk.agents.realtime_base_model import RealtimeBaseModel

from ._agent_link import AgentLink, McpApproval
from ._binding import Binding
from ._framework import enable_vision, pipeline_mode, report_metric
from ._speaker import TrackSpeaker
from .avatar import AvatarLink
from .config import AzureVoiceLiveConfig, output_format_for_rate
from .connection import DEFAULT_HANDSHAKE_TIMEOUT, ReconnectPolicy, agent_target, check_timeouts
from .core import CallCore, Effect, McpApprovalRequest, SessionSpec
from .core import effects as fx
from .core.base import DEFAULT_RESPONSE_TIMEOUT
from .core.effects import HotEvent, ModelEvent
from .core.link import LinkState
from .errors import VoiceLiveError
from .transport import Transport
from .vision import encode_frames

__all__ = ["DEFAULT_MAX_SESSION_DURATION", "AzureVoiceLive", "McpApproval", "McpApprovalRequest"]

log = logging.getLogger("videosdk_plugins_azure")

AzureVoiceLiveEvents = ModelEvent

DEFAULT_MAX_SESSION_DURATION = 25 * 60.0
"""Rotate well before the service's 30-minute session cap."""

AGENT_POLL_S = 0.5
"""How often the agent is read for changed instructions or tools between turns."""


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
        self.config = config if config is not None else AzureVoiceLiveConfig()
        if not isinstance(self.config, AzureVoiceLiveConfig):
            raise TypeError("config must be an AzureVoiceLiveConfig")
        check_timeouts(handshake_timeout, session_timeout, max_session_duration)
        agent = agent_target(
            model,
            agent_name,
            project_name,
            agent_version=agent_version,
            conversation_id=conversation_id,
            authentication_identity_client_id=agent_identity_client_id,
            foundry_resource_override=foundry_resource_override,
        )
        self._binding = Binding(
            model=model,
            endpoint=endpoint,
            allow_insecure=allow_insecure,
            api_key=api_key,
            credential=credential,
            api_version=api_version,
            agent=agent,
            handshake_timeout=handshake_timeout,
            config=self.config,
        )
        self.model = self._binding.model
        self._agent: Any = None
        self._wire(
            agent_mode=agent is not None,
            reconnect=reconnect,
            response_timeout=response_timeout,
            mcp_approval=mcp_approval,
            session_timeout=session_timeout,
            max_session_duration=max_session_duration,
        )

    def _wire(
        self,
        *,
        agent_mode: bool,
        reconnect: ReconnectPolicy | None,
        response_timeout: float | None,
        mcp_approval: McpApproval | None,
        session_timeout: float,
        max_session_duration: float | None,
    ) -> None:
        """The call's parts: the core, and what connects it to the framework and the socket."""
        spec = SessionSpec(self.config, model=self._binding.session_model, agent_mode=agent_mode)
        spec.validate()
        self._speaker = TrackSpeaker(self)
        self._core = CallCore(
            spec,
            self._speaker,
            context=self.instructions_with_context,
            policy=reconnect,
            response_timeout=response_timeout,
        )
        self._avatar = AvatarLink.attach(self, self._core.calls, self.config)
        self.video_track = self._avatar.track  # the avatar's, published; None without one
        self._agent_link = AgentLink(
            self._core, tool_timeout=self.config.tool_timeout, approval=mcp_approval
        )
        self._transport = Transport(
            self._core,
            self,
            session_timeout=session_timeout,
            max_session_duration=max_session_duration,
        )
        self._connect_task: asyncio.Task[None] | None = None
        self._performers = _performers(self) | self._avatar.performers()
        self.on("agent_speech_ended", self._on_playout_finished)

    def __repr__(self) -> str:
        return f"AzureVoiceLive(model={self.model!r}, endpoint={self._binding.endpoint!r})"

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
        self._agent = agent  # the base class's instructions_with_context() reads it
        self.perform(self._agent_link.attach(agent))

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

    @property
    def _credential(self) -> Any:
        return self._binding.credential

    async def _connect(self) -> None:
        enable_vision(self._agent)
        target = await self._binding.settle()
        self._transport.bind(target, self._binding.credential)
        self._prepare_audio()
        await self._transport.establish()
        self._transport.spawn(self._watch())
        self._transport.spawn(self._speaker.feed())
        self._transport.spawn(self._avatar.run())

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
        """Caller audio from the meeting: batch, convert, send. Never blocks."""
        if not isinstance(audio_data, bytes | bytearray | memoryview):
            raise TypeError(
                f"handle_audio_input expects raw int16 PCM bytes, got {type(audio_data).__name__}"
            )
        if self._core.link.ended or not audio_data or self._withholding_input():
            return
        self._follow_wire()
        self.perform(self._core.caller_audio(audio_data))
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

    async def send_message_with_frames(self, message: str, frames: list[Any]) -> None:
        """``session.reply(instructions, frames=[...])``: the frames as images on a user
        turn, the instructions as its words, then an answer (never spoken verbatim)."""
        if not isinstance(frames, list | tuple) or not frames:
            raise TypeError("send_message_with_frames() needs a non-empty list of video frames")
        text = self._check_text(message, "send_message_with_frames") if message else None
        self.perform(self._core.user_frames(text, list(frames)))

    async def handle_video_input(self, video_frame: Any) -> None:
        """A meeting video frame; the newest goes to Voice Live with the caller's next turn."""
        self._core.video_frame(video_frame)

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
        await self._binding.aclose()
        with contextlib.suppress(Exception):
            self.perform(final)
        await super().aclose()

    def _on_playout_finished(self, data: Any = None) -> None:
        self.perform(self._core.playout_finished())

    # -- carrying out the core's effects ---------------------------------------------------

    async def deliver(self, event: m.ServerEvent | HotEvent) -> None:
        """One server event: the core decides, then its effects run (audio is awaited)."""
        for effect in self._core.receive(event):
            if isinstance(effect, fx.Play):
                await self._speaker.write(effect.pcm)
            else:
                self._performers[type(effect)](effect)

    def perform(self, effects: list[Effect]) -> None:
        for effect in effects:
            self._performers[type(effect)](effect)

    async def _watch(self) -> None:
        """The call's clock: the agent is read for changes, the core's watchdog ticks."""
        while True:
            await asyncio.sleep(AGENT_POLL_S)
            self.perform(self._agent_link.sync())
            self.perform(self._core.tick())

    async def _then(self, work: Awaitable[list[Effect]]) -> None:
        """Background work (a tool, an approval, an encode) whose result is more effects."""
        self.perform(await work)


def _performers(model: AzureVoiceLive) -> dict[type, Callable[[Any], None]]:
    """Effect type → how the adapter carries it out (a table, not an if-chain)."""
    transport, link = model._transport, model._agent_link
    outbox = transport.outbox
    return {
        fx.Send: lambda e: outbox.put(e.event, urgent=e.urgent),
        fx.SendAudio: lambda e: transport.send_audio(e.pcm),
        fx.Emit: lambda e: model.emit(e.name, e.payload),
        fx.BusEmit: lambda e: global_event_emitter.emit(e.name, e.payload),
        fx.Metric: lambda e: report_metric(e.method, e.kwargs),
        fx.FinishPlayback: lambda e: model._speaker.finish(),
        fx.ResumeSpeaker: lambda e: model._speaker.resume(),
        fx.StartTool: lambda e: transport.spawn(model._then(link.run_tool(e))),
        fx.AskApproval: lambda e: transport.spawn(model._then(link.approve(e.request))),
        fx.SendFrames: lambda e: transport.spawn(model._then(encode_frames(model._core, e))),
        fx.SyncAgent: lambda e: model.perform(link.sync()),
        fx.Settled: lambda e: transport.settle(),
        fx.Boundary: lambda e: transport.boundary(),
        fx.Reconnect: lambda e: transport.recover(e.cause, error=e.error),
        fx.CloseSocket: lambda e: transport.close_socket(),
    }
