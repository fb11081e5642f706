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
never needs one, and a context would try to join the cloud.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, ClassVar

import numpy as np
from videosdk import Stream
from videosdk.agents import AgentSession, audio_format
from videosdk.agents.event_bus import get_current_event_bus
from videosdk.agents.job import _enter_session_scope, _exit_session_scope
from videosdk.agents.metrics import get_current_metrics_collector
from videosdk.agents.room._input_stream import InputStreamManager
from videosdk.agents.room.output_stream import MediaStreamError as OutputTrackEnded
from videosdk.agents.room.output_stream import TeeCustomAudioStreamTrack

from ._mic import FakeMicTrack
from ._wire import FRAME_SECONDS, frame_mono, rms_dbfs, samples_per_frame, to_wire

logger = logging.getLogger(__name__)

Event = tuple[float, str, Any]
"""``(time.monotonic(), name, payload)`` as recorded by :class:`LocalRoom`."""

MODEL_EVENTS: tuple[str, ...] = (
    "user_speech_started",
    "user_speech_ended",
    "agent_speech_started",
    "agent_speech_ended",
    "realtime_model_transcription",
    "realtime_model_function_executed",
    "llm_text_output",
)
"""Recorded from the realtime model itself.

The model is the one emitter that carries all of them: the pipeline emits
``agent_speech_ended`` *on the model* from the track's last-byte callback, and it
only re-emits transcriptions/function calls on itself after ``start()``, so
listening on the pipeline would miss whatever ``on_enter`` triggers.
"""

PIPELINE_EVENTS: tuple[str, ...] = ("error",)
"""Recorded from the pipeline: its ``error`` is the model's (or any component's)
error already wrapped as ``{"source": ..., "error": str}``."""

SESSION_EVENTS: tuple[str, ...] = ("agent_state_changed", "user_state_changed")
"""``AgentSession``'s own state events (payload ``{"state": <value>}``)."""

BUS_EVENTS: tuple[str, ...] = (
    "AGENT_STARTED",
    "TURN_METRICS_ADDED",
    "USER_TRANSCRIPT_ADDED",
    "AGENT_TRANSCRIPT_ADDED",
    "text_response",
)
"""Recorded from the per-session event bus (metrics and captions land here)."""

_PIPELINE_BUS_HANDLERS: tuple[tuple[str, str], ...] = (
    ("COMPONENT_METRIC", "_on_component_metric"),
    ("PIPELINE_ERROR", "_on_pipeline_error"),
    ("RECORDING_STATUS", "_on_recording_status"),
)
"""What ``Pipeline._setup_global_listeners`` binds (pipeline.py:287-319)."""

_WAKE_INTERVAL = 0.05
"""Upper bound between predicate checks in :meth:`LocalRoom.wait_for`.

Recorded events and output frames wake waiters at once; this bound only matters
for predicates over state the room does not observe (e.g. a plugin attribute).
"""


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
        config = getattr(pipeline, "config", None)
        if not getattr(config, "is_realtime", False):
            raise ValueError(
                "LocalRoom drives realtime pipelines: build it as Pipeline(llm=<RealtimeBaseModel>)"
            )
        samples_per_frame(wire_rate)  # validates the rate
        self.agent = agent
        self.pipeline = pipeline
        self.model: Any = getattr(pipeline, "_realtime_model", None)
        self.wire_rate = wire_rate
        self.wire_channels = wire_channels
        self.mic = FakeMicTrack(
            rate=wire_rate,
            channels=wire_channels,
            noise_dbfs=noise_dbfs,
            seed=seed,
            speed=speed,
        )
        self.mic_before_start = mic_before_start
        self.start_timeout = start_timeout
        self.close_timeout = close_timeout

        self.session: Any = None
        self.track: Any = None
        self.event_bus: Any = None
        self.metrics_collector: Any = None
        self.output_frames: list[tuple[float, Any]] = []
        self.output_errors = 0
        self.events: list[Event] = []
        self.agent_states: list[tuple[float, str]] = []
        self.user_states: list[tuple[float, str]] = []

        self._entered = False
        self._closing = False
        self._closed = False
        self._scope_token: Any = None
        self._chat_context: Any = getattr(agent, "chat_context", None)
        self._subscriptions: list[tuple[Any, str, Callable[..., None]]] = []
        self._drain_task: asyncio.Task[None] | None = None
        self._listener_task: asyncio.Task[Any] | None = None
        self._broken: BaseException | None = None
        self._waiters: set[asyncio.Future[None]] = set()

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
            self._scope_token = _enter_session_scope()
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
        loop = asyncio.get_running_loop()
        audio_format.reset()
        audio_format.hint(
            self.wire_rate, self.wire_channels, why=f"LocalRoom leg {self.describe_leg()}"
        )
        self.event_bus = get_current_event_bus()
        self.metrics_collector = get_current_metrics_collector()
        self._bind_pipeline_to_session_bus()
        for name in BUS_EVENTS:
            self._subscribe(self.event_bus, name)

        # The order JobContext follows: session first, then the room's track is
        # wired in (job.py:727-732), then start.
        self.session = AgentSession(agent=self.agent, pipeline=self.pipeline)
        for name in SESSION_EVENTS:
            self._subscribe(self.session, name)
        self.track = TeeCustomAudioStreamTrack(loop=loop, sinks=[], pipeline=self.pipeline)
        self.pipeline._set_loop_and_audio_track(loop, self.track)
        if self.model is not None:
            for name in MODEL_EVENTS:
                self._subscribe(self.model, name)
        for name in PIPELINE_EVENTS:
            self._subscribe(self.pipeline, name)

        # Drain before start: on_enter may speak and even wait for playback.
        self._drain_task = asyncio.create_task(self._drain(self.track), name="LocalRoom.drain")
        self._drain_task.add_done_callback(self._on_drain_done)
        if self.mic_before_start:
            self._start_listener()
        deadline = asyncio.timeout(self.start_timeout)
        try:
            async with deadline:
                await self.session.start()
        except TimeoutError as e:
            if not deadline.expired():
                raise  # the model's own timeout: its message is the useful one
            raise TimeoutError(
                f"session.start() did not finish within {self.start_timeout}s "
                "(the model's connect() or the agent's on_enter() is stuck)"
            ) from e
        if not self.mic_before_start:
            self._start_listener()

    def _start_listener(self) -> None:
        """Start the framework's own listener on the caller's stream, as the room does
        when a participant's audio stream is enabled (room.py:702-716)."""
        manager = InputStreamManager(self.pipeline)
        stream = Stream(self.mic)
        self._listener_task = asyncio.create_task(
            manager.add_audio_listener(stream), name="LocalRoom.listener"
        )
        self._listener_task.add_done_callback(self._on_listener_done)

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
            if self.session is not None:
                deadline = asyncio.timeout(self.close_timeout)
                try:
                    async with deadline:
                        await self.session.close()
                except Exception as e:
                    if isinstance(e, TimeoutError) and deadline.expired():
                        e = TimeoutError(
                            f"session.close() did not finish within {self.close_timeout}s "
                            "(on_exit() or the model's aclose() is stuck)"
                        )
                    errors.append(e)
            elif self.event_bus is not None:
                # Start failed before a session existed, after the pipeline was
                # bound to this room's bus: nothing else will release it.
                try:
                    await self.pipeline.cleanup()
                except Exception as e:
                    errors.append(e)
        finally:
            # Even if closing the session was cancelled, the room's own tasks go.
            try:
                closed = RuntimeError("the LocalRoom closed before this audio was consumed")
                self.mic.fail_pending(closed)
                self.mic.stop()
                for task in (self._listener_task, self._drain_task):
                    err = await _cancel_and_wait(task)
                    if err is not None:
                        errors.append(err)
                if self.track is not None:
                    try:
                        await self.track.cleanup()  # interrupt + stop, as Room.cleanup does
                    except Exception as e:
                        errors.append(e)
            finally:
                for emitter, name, handler in self._subscriptions:
                    emitter.off(name, handler)
                self._subscriptions.clear()
                self._notify()
                self._exit_scope()
                audio_format.reset()
                self._closed = True
                if LocalRoom._active is self:
                    LocalRoom._active = None
        if errors:
            for err in errors[1:]:
                logger.error("LocalRoom: further error while closing: %r", err)
            if raise_errors:
                raise errors[0]
            logger.error("LocalRoom: error while closing: %r", errors[0])

    def _exit_scope(self) -> None:
        token, self._scope_token = self._scope_token, None
        if token is None:
            return
        try:
            _exit_session_scope(token)
        except ValueError:
            # Entered in another Context (a runner that sets up and tears down in
            # different tasks without sharing the Context): the binding was made
            # in that Context and never reached this one, so there is nothing
            # left to undo here.
            logger.debug("LocalRoom: session scope was entered in another context")

    def _bind_pipeline_to_session_bus(self) -> None:
        """Move the pipeline's bus listeners onto this room's session bus.

        ``Pipeline.__init__`` binds COMPONENT_METRIC / PIPELINE_ERROR /
        RECORDING_STATUS to whatever bus was current when the *caller* built it,
        i.e. outside the room's scope, so metrics hooks and pipeline errors
        published on the session bus would never reach it. ``cleanup()`` unbinds
        from ``pipeline._event_bus``, so re-binding through the pipeline's own
        method keeps teardown symmetric.
        """
        old = getattr(self.pipeline, "_event_bus", None)
        if old is self.event_bus:
            return
        if old is not None:
            for event, attr in _PIPELINE_BUS_HANDLERS:
                handler = getattr(self.pipeline, attr, None)
                if handler is not None:
                    old.off(event, handler)
        setup = getattr(self.pipeline, "_setup_global_listeners", None)
        if callable(setup):
            setup()

    # -- background tasks ------------------------------------------------------------

    async def _drain(self, track: Any) -> None:
        """Pull the agent's track like the WebRTC sender: ``recv()`` paces itself."""
        while True:
            try:
                frame = await track.recv()
            except OutputTrackEnded:
                return
            if frame is None:
                # recv() logged an internal error and returned nothing; keep the
                # clock going rather than spinning.
                self.output_errors += 1
                await asyncio.sleep(FRAME_SECONDS)
                continue
            self.output_frames.append((time.monotonic(), frame))
            self._notify()

    def _on_drain_done(self, task: asyncio.Task[None]) -> None:
        if self._closing or task.cancelled():
            return
        err = task.exception()
        self._mark_broken(
            RuntimeError(f"the output drain stopped unexpectedly: {err!r}")
            if err is not None
            else RuntimeError("the agent's output track ended while the room was open")
        )

    def _on_listener_done(self, task: asyncio.Task[Any]) -> None:
        if self._closing:
            return
        # add_audio_listener swallows its own errors and returns: it ends on the
        # first exception from on_audio_delta (i.e. the model's handle_audio_input).
        self._mark_broken(
            RuntimeError(
                "the framework's audio listener stopped: on_audio_delta/handle_audio_input "
                "raised (the exception is in the log, from videosdk.agents.room._input_stream)"
            )
        )

    def _mark_broken(self, reason: BaseException) -> None:
        if self._broken is None:
            self._broken = reason
        self.mic.fail_pending(reason)
        self._notify()

    # -- recording -------------------------------------------------------------------

    def _subscribe(self, emitter: Any, name: str) -> None:
        # EventEmitter._invoke calls handlers through __code__ (no partials) and
        # passes {} when an event has no payload; *args takes both.
        def handler(*args: Any) -> None:
            self._record(name, args[0] if args else None)

        emitter.on(name, handler)
        self._subscriptions.append((emitter, name, handler))

    def _record(self, name: str, payload: Any) -> None:
        now = time.monotonic()
        self.events.append((now, name, payload))
        if name in SESSION_EVENTS and isinstance(payload, dict):
            state = str(payload.get("state"))
            target = self.agent_states if name == "agent_state_changed" else self.user_states
            target.append((now, state))
        self._notify()

    def _notify(self) -> None:
        waiters, self._waiters = self._waiters, set()
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

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
        pcm = to_wire(
            audio,
            rate=rate,
            channels=channels,
            wire_rate=self.wire_rate,
            wire_channels=self.wire_channels,
        )
        await self.mic.enqueue(self.mic.split(pcm))

    async def play_silence(self, seconds: float) -> None:
        """The caller stays quiet for ``seconds`` of line noise (queued like speech)."""
        self._require_open()
        n = max(0, math.ceil(seconds / FRAME_SECONDS - 1e-9))
        await self.mic.enqueue(self.mic.noise_frames(n))

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
            fut: asyncio.Future[None] = loop.create_future()
            self._waiters.add(fut)
            try:
                await asyncio.wait({fut}, timeout=min(remaining, _WAKE_INTERVAL))
            finally:
                self._waiters.discard(fut)
                if not fut.done():
                    fut.cancel()

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
        return [e for e in self.events if e[1] == name]

    def payloads(self, name: str) -> list[Any]:
        """Payloads of the recorded events called ``name``, oldest first."""
        return [e[2] for e in self.events if e[1] == name]

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
    def output_rate(self) -> int:
        """The agent track's current sample rate (24000 unless the model reframed it)."""
        return int(self.track.sample_rate) if self.track is not None else 24000

    def _frames_since(self, since: float | None) -> Iterable[Any]:
        return (f for t, f in self.output_frames if since is None or t >= since)

    def agent_audio(self, since: float | None = None) -> bytes:
        """Everything the agent's track sent (including its silence), as mono int16
        PCM at the track rate; ``since`` is a ``time.monotonic()`` bound."""
        chunks = [frame_mono(f) for f in self._frames_since(since)]
        if not chunks:
            return b""
        return np.concatenate(chunks).astype("<i2").tobytes()

    def voiced_ms(self, threshold_dbfs: float = -50.0, since: float | None = None) -> float:
        """Milliseconds of output frames whose RMS level exceeds ``threshold_dbfs``."""
        total = 0.0
        for frame in self._frames_since(since):
            pcm = frame_mono(frame)
            if rms_dbfs(pcm) > threshold_dbfs:
                total += 1000.0 * pcm.shape[0] / int(frame.sample_rate or self.output_rate)
        return total

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
        return [_summarise(item) for item in ctx.items]

    def describe_leg(self) -> str:
        """``"48000 Hz x 2"``: how the caller's leg is described in logs."""
        return f"{self.wire_rate} Hz x {self.wire_channels}"


def _summarise(item: Any) -> tuple[str, str]:
    kind = str(getattr(item, "type", type(item).__name__))
    if kind == "message":
        role = getattr(item, "role", "")
        content = getattr(item, "content", "")
        if isinstance(content, str):
            text = content
        else:
            text = " ".join(c for c in content if isinstance(c, str))
        return (str(getattr(role, "value", role)), text)
    if kind == "function_call":
        return (kind, f"{getattr(item, 'name', '')}({getattr(item, 'arguments', '')})")
    if kind == "function_call_output":
        return (kind, str(getattr(item, "output", "")))
    return (kind, "")


async def _cancel_and_wait(task: asyncio.Task[Any] | None) -> BaseException | None:
    """Cancel ``task`` and wait for it to finish; return its error, if it had one.

    ``asyncio.wait`` is used rather than ``await task`` so that the task's own
    cancellation is not mistaken for the caller's (which still propagates).
    """
    if task is None:
        return None
    if not task.done():
        task.cancel()
        await asyncio.wait({task})
    if task.cancelled():
        return None
    return task.exception()
