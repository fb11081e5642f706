"""``LocalRoom``: the real VideoSDK ``Pipeline`` and ``AgentSession`` in a room of one caller.

What is real and what is stood in for (see the contract notes, §6.2):

* **Real:** ``AgentSession``, ``Pipeline`` (and through it the realtime model
  adapter), the agent's output track ``TeeCustomAudioStreamTrack``, the meeting's
  per-participant audio listener ``InputStreamManager.add_audio_listener``, the
  per-session metrics collector and event bus, and the process-wide
  ``audio_format`` detector seeded from the leg's codec.
* **Stood in for:** the VideoSDK cloud. The remote participant is a
  :class:`~._mic.FakeMicTrack` wrapped in a real ``videosdk.Stream``; the WebRTC
  sender is a task that calls ``track.recv()`` forever, which is exactly what the
  sender does and which the framework needs: ``agent_speech_ended``, utterance
  handles and ``reply(wait_for_playback=True)`` all complete only when someone
  drains the track.

No ``JobContext`` is created: ``session.start()`` without ``run_until_shutdown``
never needs one, and a context would try to join the cloud. What the job and the
room would have done for the session is done through :mod:`._framework`, the one
module that touches the framework's internals. The caller's side is
:mod:`._caller`, the agent's :mod:`._speaker`, and :mod:`._events` keeps the record.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from types import TracebackType
from typing import Any, ClassVar

from videosdk.agents import AgentSession

from . import _framework as fw
from ._aio import bounded
from ._caller import CallerLeg
from ._chat import chat_pairs
from ._events import BUS_EVENTS, MODEL_EVENTS, PIPELINE_EVENTS, SESSION_EVENTS, Event, EventLog
from ._mic import FakeMicTrack
from ._speaker import Speaker
from ._wire import samples_per_frame

__all__ = ["LocalRoom"]

logger = logging.getLogger(__name__)

_WAKE_INTERVAL = 0.05
"""Upper bound between predicate checks in :meth:`LocalRoom.wait_for`, for state
the room does not observe (events and output frames wake waiters at once)."""


class LocalRoom:
    """Run an agent with any realtime model through the real framework, offline.

    ::

        async with LocalRoom(agent, pipeline) as room:
            await room.play(pcm, rate=24000)          # the caller speaks
            await room.wait_for_event("agent_speech_ended", timeout=10)
            assert room.voiced_ms() > 300

    ``wire_rate``/``wire_channels`` describe the meeting leg the caller is on:
    48000/2 for an opus meeting (default), 8000/1 for a PCMU/PCMA phone leg,
    16000/1 for G.722. The leg is declared to ``audio_format`` before the session
    starts, the way the room does for a negotiated codec, so a model that
    declares its input rate in ``connect()`` sees the right one.

    The room builds the ``AgentSession`` itself (``room.session``), because the
    session must be created inside the room's metrics/event-bus scope to report
    into it. ``speed`` paces the caller's microphone faster than real time (see
    :class:`~._mic.FakeMicTrack`); the agent's output is always paced by the
    framework's track, so speech still takes as long as it lasts.

    Between the caller's utterances the line carries noise at ``noise_dbfs``
    (seeded by ``seed``), never digital zeros, because VADs only end a turn on
    trailing non-speech. ``noise_dbfs=None`` gives digital silence instead.

    With ``mic_before_start=True`` the caller's audio starts flowing before
    ``session.start()``, as it does when the participant is already in the
    meeting: plugins must tolerate ``handle_audio_input`` before ``connect``.

    One room at a time per process: ``audio_format`` is process-global.
    A room can be entered once, and so can its agent and pipeline:
    ``session.close()`` tears both down (it even sets ``agent.chat_context`` to
    ``None``; :meth:`chat_items` keeps working from a reference taken earlier).
    """

    _active: ClassVar[LocalRoom | None] = None

    def __init__(
        self,
        agent: Any,
        pipeline: Any,
        *,
        wire_rate: int = 48000,
        wire_channels: int = 2,
        speed: float = 1.0,
        noise_dbfs: float | None = -66.0,
        seed: int = 0,
        mic_before_start: bool = False,
        start_timeout: float = 30.0,
        close_timeout: float = 30.0,
    ) -> None:
        if not fw.is_realtime(pipeline):
            raise ValueError(
                "LocalRoom drives realtime pipelines: build it as Pipeline(llm=<RealtimeBaseModel>)"
            )
        samples_per_frame(wire_rate)  # validates the rate
        self.agent = agent
        self.pipeline = pipeline
        self.model: Any = fw.realtime_model(pipeline)
        self.wire_rate = wire_rate
        self.wire_channels = wire_channels
        self.mic = FakeMicTrack(
            rate=wire_rate,
            channels=wire_channels,
            noise_dbfs=noise_dbfs,
            seed=seed,
            speed=speed,
        )
        self._caller = CallerLeg(self.mic, self._on_side_stopped)
        self.mic_before_start = mic_before_start
        self.start_timeout = start_timeout
        self.close_timeout = close_timeout

        self.session: Any = None
        self.event_bus: Any = None
        self.metrics_collector: Any = None
        self._log = EventLog()
        self._speaker = Speaker(self._log.notify, self._on_side_stopped)
        self.output_frames: list[tuple[float, Any]] = self._speaker.frames
        self.events: list[Event] = self._log.events
        self.agent_states: list[tuple[float, str]] = self._log.agent_states
        self.user_states: list[tuple[float, str]] = self._log.user_states

        self._entered = False
        self._closing = False
        self._closed = False
        self._scope_token: Any = None
        self._chat_context: Any = getattr(agent, "chat_context", None)
        self._broken: BaseException | None = None

    # -- lifecycle -------------------------------------------------------------------

    async def __aenter__(self) -> LocalRoom:
        if self._entered:
            raise RuntimeError("a LocalRoom can only be entered once")
        if LocalRoom._active is not None:
            raise RuntimeError(
                "another LocalRoom is open: audio_format is process-global, so rooms cannot overlap"
            )
        self._entered = True
        LocalRoom._active = self
        try:
            self._scope_token = fw.enter_session_scope()
            await self._start()
        except BaseException:
            await self._shutdown(raise_errors=False)
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._shutdown(raise_errors=exc is None)

    async def aclose(self) -> None:
        """Close the room (what ``async with`` does on exit); idempotent."""
        await self._shutdown(raise_errors=True)

    async def _start(self) -> None:
        fw.declare_leg(self.wire_rate, self.wire_channels, f"LocalRoom leg {self.describe_leg()}")
        self.event_bus = fw.session_bus()
        self.metrics_collector = fw.session_metrics()
        fw.bind_pipeline_to_bus(self.pipeline, self.event_bus)
        self._log.follow(self.event_bus, BUS_EVENTS)

        # The order JobContext follows: session first, then the room's track is
        # wired in, then start.
        self.session = AgentSession(agent=self.agent, pipeline=self.pipeline)
        self._log.follow(self.session, SESSION_EVENTS)
        self._speaker.start(self.pipeline)
        if self.model is not None:
            self._log.follow(self.model, MODEL_EVENTS)
        self._log.follow(self.pipeline, PIPELINE_EVENTS)

        if self.mic_before_start:
            self._caller.connect(self.pipeline)
        await bounded(
            self.session.start(),
            self.start_timeout,
            f"session.start() did not finish within {self.start_timeout}s "
            "(the model's connect() or the agent's on_enter() is stuck)",
        )
        if not self.mic_before_start:
            self._caller.connect(self.pipeline)

    async def _shutdown(self, *, raise_errors: bool) -> None:
        """Tear down whatever was set up, in the order the framework does it.

        The session is closed first, while the track is still drained and the
        caller still connected, because that is how a real call ends and because
        ``on_exit`` may still speak. Safe after a half-finished start and on a
        second call.
        """
        if self._closed or not self._entered:
            return
        self._closing = True
        self._chat_context = getattr(self.agent, "chat_context", None) or self._chat_context
        errors: list[BaseException] = []
        try:
            await self._close_session(errors)
        finally:
            # Even if closing the session was cancelled, the room's own tasks go.
            try:
                errors += await self._caller.hang_up()
                errors += await self._speaker.close()
            finally:
                self._release()
        if errors:
            for err in errors[1:]:
                logger.error("LocalRoom: further error while closing: %r", err)
            if raise_errors:
                raise errors[0]
            logger.error("LocalRoom: error while closing: %r", errors[0])

    async def _close_session(self, errors: list[BaseException]) -> None:
        if self.session is not None:
            try:
                await bounded(
                    self.session.close(),
                    self.close_timeout,
                    f"session.close() did not finish within {self.close_timeout}s "
                    "(on_exit() or the model's aclose() is stuck)",
                )
            except Exception as e:
                errors.append(e)
        elif self.event_bus is not None:
            # Start failed before a session existed, after the pipeline was
            # bound to this room's bus: nothing else will release it.
            try:
                await self.pipeline.cleanup()
            except Exception as e:
                errors.append(e)

    def _release(self) -> None:
        """Give back what is process-wide: listeners, the session scope, the audio format."""
        self._log.close()
        token, self._scope_token = self._scope_token, None
        if token is not None:
            fw.exit_session_scope(token)
        fw.reset_audio_format()
        self._closed = True
        if LocalRoom._active is self:
            LocalRoom._active = None

    # -- when the call breaks ------------------------------------------------------------

    def _on_side_stopped(self, reason: BaseException) -> None:
        """The drain or the listener ended by itself: fail every waiter, unless closing."""
        if not self._closing:
            self._mark_broken(reason)

    def _mark_broken(self, reason: BaseException) -> None:
        if self._broken is None:
            self._broken = reason
        self.mic.fail_pending(reason)
        self._log.notify()

    # -- the caller ------------------------------------------------------------------

    async def play(self, audio: Any, *, rate: int, channels: int = 1) -> None:
        """The caller says ``audio``; returns once the model has received all of it.

        ``audio`` is int16 PCM as bytes (interleaved when ``channels`` is 2), an
        int16 array (1-D interleaved or ``(samples, channels)``), or a float array
        in [-1, 1]. It is resampled to the leg's rate, mono is duplicated onto a
        stereo leg (stereo averaged onto a mono one), and it is cut into 20 ms
        frames queued behind anything already playing. "Received" means the
        framework's listener has pushed the last frame through
        ``Pipeline.on_audio_delta`` into the model's ``handle_audio_input``.
        """
        self._require_open()
        await self._caller.say(audio, rate=rate, channels=channels)

    async def play_silence(self, seconds: float) -> None:
        """The caller stays quiet for ``seconds`` of line noise (queued like speech)."""
        self._require_open()
        await self._caller.pause(seconds)

    def _require_open(self) -> None:
        if not self._entered or self._closed:
            raise RuntimeError("the LocalRoom is not open (use `async with LocalRoom(...)`)")
        if self._broken is not None:
            raise self._broken

    # -- waiting -----------------------------------------------------------------------

    async def wait_for(
        self, predicate: Callable[[], object], timeout: float = 10.0, *, what: str | None = None
    ) -> None:
        """Wait until ``predicate()`` is truthy; ``TimeoutError`` says what was seen.

        The predicate is re-checked whenever the room records an event or an
        output frame (every 20 ms while the room is open), and at least every
        50 ms. Fails early if the listener or the drain stopped.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if predicate():
                return
            if self._broken is not None:
                raise self._broken
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(self._timeout_message(what or "condition", timeout))
            await self._log.changed(min(remaining, _WAKE_INTERVAL))

    async def wait_for_event(self, name: str, timeout: float = 10.0, count: int = 1) -> list[Event]:
        """Wait until ``count`` events called ``name`` were recorded since the room
        opened; returns all of them (oldest first)."""
        await self.wait_for(
            lambda: len(self.events_named(name)) >= count,
            timeout,
            what=f"{count} x {name!r}",
        )
        return self.events_named(name)

    def events_named(self, name: str) -> list[Event]:
        """Recorded events called ``name``, oldest first."""
        return self._log.named(name)

    def payloads(self, name: str) -> list[Any]:
        """Payloads of the recorded events called ``name``, oldest first."""
        return self._log.payloads(name)

    def _timeout_message(self, what: str, timeout: float) -> str:
        names = [name for _, name, _ in self.events[-15:]]
        states = [s for _, s in self.agent_states[-8:]]
        return (
            f"timed out after {timeout}s waiting for {what}; last events: {names}; "
            f"agent states: {states}; mic: {self.mic.describe()}; "
            f"output frames: {len(self.output_frames)} ({self.voiced_ms():.0f} ms voiced)"
        )

    # -- observing the agent -------------------------------------------------------------

    @property
    def track(self) -> Any:
        """The agent's output track (a ``TeeCustomAudioStreamTrack``), once the room is open."""
        return self._speaker.track

    @property
    def video_track(self) -> Any:
        """The agent's video track (the avatar's), or None when the model publishes none."""
        return getattr(self.model, "video_track", None)

    @property
    def output_errors(self) -> int:
        """Times the track's ``recv()`` failed internally and handed out no frame."""
        return self._speaker.errors

    @property
    def output_rate(self) -> int:
        """The agent track's current sample rate (24000 unless the model reframed it)."""
        return self._speaker.rate

    def agent_audio(self, since: float | None = None) -> bytes:
        """Everything the agent's track sent (including its silence), as mono int16
        PCM at the track rate; ``since`` is a ``time.monotonic()`` bound."""
        return self._speaker.audio(since)

    def voiced_ms(self, threshold_dbfs: float = -50.0, since: float | None = None) -> float:
        """Milliseconds of output frames whose RMS level exceeds ``threshold_dbfs``."""
        return self._speaker.voiced_ms(threshold_dbfs, since)

    def chat_items(self) -> list[tuple[str, str]]:
        """The agent's chat context as ``(role or item type, text)`` pairs.

        Messages give ``("system"|"user"|"assistant", text)``; tool calls give
        ``("function_call", "name(arguments)")`` and
        ``("function_call_output", output)``.
        """
        ctx = getattr(self.agent, "chat_context", None)
        if ctx is not None:
            self._chat_context = ctx
        ctx = self._chat_context
        if ctx is None:
            return []
        return chat_pairs(ctx)

    def describe_leg(self) -> str:
        """``"48000 Hz x 2"``: how the caller's leg is described in logs."""
        return f"{self.wire_rate} Hz x {self.wire_channels}"
