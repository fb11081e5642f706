"""Sessions under load, for figures 6 (density) and 7 (memory).

A density or soak run needs many calls (or one very long one) in one process,
which ``LocalRoom`` cannot give: it is one room per process, records every
output frame, and runs the emulator in the same event loop. So here each call
is driven the way the framework drives a realtime model, minus the pieces that
cost the same for every plugin:

* the model gets the framework's real ``TeeCustomAudioStreamTrack`` (wired as
  ``Pipeline._set_loop_and_audio_track`` does: loop, fade, ``enable_audio_input``,
  and the last-byte callback that emits ``agent_speech_ended`` on the model);
* a drain task calls ``track.recv()`` forever, as the WebRTC sender does;
* a feeder task hands ``handle_audio_input`` one 20 ms frame of 48 kHz stereo
  caller audio at a time, on the line's clock, as the meeting listener does;
* every call runs in its own session scope (metrics collector and event bus),
  like a multi-session worker;
* the emulator runs in a separate process (``python -m
  videosdk_plugins_azure.emulator``, see :mod:`.processes`; or the fault-taking
  wrapper of :mod:`.faults`), so its CPU and memory are not counted.

``time_scale`` > 1 runs a call faster than real time (the memory soak): the
feeder, the emulator's pacing and think time, and the track's ``recv()`` clock all
speed up. A :class:`~.turns.CallLog` per call, when given, records the caller's
utterances and the model's turn events for the reliability runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .common import (
    FRAME_BYTES,
    WIRE_RATE,
    bench_agent,
    line_noise,
    make_model,
    speech,
    to_meeting,
)
from .processes import (
    EmulatorProcess,
    cpu_seconds,
    kill_leftover_emulators,
    rss_bytes,
    system_busy,
)

__all__ = [
    "BARGE_EVERY",
    "MAX_LAG_FRAMES",
    "QUESTION_CYCLE_SECONDS",
    "Caller",
    "DrivenSession",
    "EmulatorProcess",
    "caller_cycle",
    "caller_offset",
    "cpu_seconds",
    "kill_leftover_emulators",
    "loop_lag",
    "rss_bytes",
    "scaled_clock",
    "start_sessions",
    "system_busy",
]

QUESTION_CYCLE_SECONDS = 6.0
"""Each simulated caller asks a question every 6 s and listens to the answer."""
BARGE_EVERY = 3
"""In the soak, every third turn the caller also talks over the answer."""
MAX_LAG_FRAMES = 5
"""How far (in 20 ms frames) a caller's line may fall behind before frames are dropped."""


# -- the caller -----------------------------------------------------------------------------


def _cycle(barge: bool) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """One question cycle of mono 48 kHz audio, and where each utterance is (samples)."""
    n = round(QUESTION_CYCLE_SECONDS * WIRE_RATE)
    out = line_noise(n, -60.0, seed=11)
    question = speech("what is the weather like in paris", WIRE_RATE)
    out[: question.size] = question
    spans = [(0, question.size)]
    if barge:
        interjection = speech("no wait", WIRE_RATE)
        start = question.size + round(1.6 * WIRE_RATE)
        out[start : start + interjection.size] = interjection
        spans.append((start, start + interjection.size))
    return out, spans


def caller_cycle(barge: bool = False) -> list[bytes]:
    """One question cycle of meeting audio as 20 ms frames.

    The question (about 2 s of speech-like audio), then line noise; with
    ``barge`` the caller also speaks 1.6 s later, over the answer.
    """
    pcm = to_meeting(_cycle(barge)[0])
    return [pcm[i : i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES)]


class Caller:
    """A script of frames, looped: plain cycles, with a barge-in every ``barge_every``.

    ``spans`` are the utterances in it, as (first frame, frame after the last).
    """

    def __init__(self, barge_every: int | None) -> None:
        cycles = [False] * ((barge_every or 1) - 1) + [bool(barge_every)]
        self.frames: list[bytes] = []
        self.spans: list[tuple[int, int]] = []
        per_frame = FRAME_BYTES // 4  # samples of one channel in a frame
        for barge in cycles:
            base = len(self.frames)
            frames = caller_cycle(barge)
            spans = _cycle(barge)[1]
            self.spans += [(base + a // per_frame, base + -(-b // per_frame)) for a, b in spans]
            self.frames += frames


# -- one driven call ----------------------------------------------------------------------------


def scaled_clock(scale: float) -> Callable[[], float]:
    """A ``time.time`` replacement that runs ``scale`` times faster from now on."""
    origin_real = time.time()

    def now() -> float:
        return origin_real + (time.time() - origin_real) * scale

    return now


class DrivenSession:
    """One call: a model, the framework's output track, a feeder and a drain.

    With a :class:`~.turns.CallLog` the agent's instructions carry the log's tag (so
    the emulator can tell calls apart), and the log sees every frame and event.
    """

    def __init__(
        self,
        kind: str,
        endpoint: str,
        caller: Caller,
        offset: int,
        time_scale: float = 1.0,
        log: Any = None,
    ) -> None:
        self.kind = kind
        self.log = log
        self.endpoint = endpoint
        self.caller = caller
        self.offset = offset
        self.scale = time_scale
        self.model: Any = None
        self.track: Any = None
        self.frames_in = 0
        self.frames_late = 0
        self.backlog_max = 0
        self.voiced_frames = 0
        self.frames_out = 0
        self.errors = 0
        self._context = contextvars.copy_context()
        self._tasks: list[asyncio.Task[None]] = []
        self._scope: Any = None

    async def start(self) -> None:
        """Enter a session scope, connect, and start feeding and draining."""
        from videosdk.agents.job import _enter_session_scope

        self._scope = self._context.run(_enter_session_scope)
        loop = asyncio.get_running_loop()
        await loop.create_task(self._connect(), context=self._context)
        self._tasks = [
            loop.create_task(self._feed(), context=self._context),
            loop.create_task(self._drain(), context=self._context),
        ]

    async def _connect(self) -> None:
        from videosdk.agents.room.output_stream import TeeCustomAudioStreamTrack

        loop = asyncio.get_running_loop()
        model = make_model(self.kind, self.endpoint)
        agent = bench_agent()
        if self.log is not None:
            agent.instructions = f"{agent.instructions} [{self.log.tag}]"
            self.log.attach(model)
        model.set_agent(agent)
        track = TeeCustomAudioStreamTrack(loop=loop, sinks=[], pipeline=None)
        model.loop = loop
        model.audio_track = track
        track.interrupt_fade_duration = 0.4  # InterruptConfig's default
        track.enable_audio_input()

        async def on_last_byte() -> None:
            model.emit("agent_speech_ended", {})

        track.on_last_audio_byte(on_last_byte)
        model.on("error", self._count_error)
        self.model, self.track = model, track
        await model.connect()

    def _count_error(self, *args: Any) -> None:
        self.errors += 1

    async def _feed(self) -> None:
        """One frame per 20 ms of line time, handed over like the meeting listener does.

        Frames owed after a stall are sent at once, up to ``MAX_LAG_FRAMES``; beyond
        that the line re-anchors and the rest is counted in ``frames_late``, as a
        jitter buffer drops what is too late to play. Without the bound an
        overloaded process would spiral: the longer a stall, the bigger the next burst.
        """
        loop = asyncio.get_running_loop()
        frames = self.caller.frames
        period = 0.02 / self.scale
        min_sleep = 0.0 if self.scale <= 1 else 0.01
        max_lag = MAX_LAG_FRAMES * max(1.0, self.scale)
        start = loop.time()
        k = self.offset
        sent = 0
        while True:
            due = int((loop.time() - start) / period) + 1
            if due - sent > max_lag:
                late = due - sent - int(max_lag)
                self.frames_late += late
                sent += late
                k += late
            self.backlog_max = max(self.backlog_max, due - sent)
            while sent < due:
                frame = frames[k % len(frames)]
                if self.log is not None:
                    frame = self.log.fed(k, frame, frames[-1])
                await self.model.handle_audio_input(frame)
                k += 1
                sent += 1
                self.frames_in += 1
            await asyncio.sleep(max(min_sleep, start + sent * period - loop.time()))

    async def _drain(self) -> None:
        from videosdk.agents.room.output_stream import MediaStreamError

        track = self.track
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if frame is None:
                await asyncio.sleep(0.02 / self.scale)
                continue
            self.frames_out += 1
            if np.any(frame.to_ndarray()):
                self.voiced_frames += 1

    @property
    def alive(self) -> bool:
        """Connected and serving (``ready`` where the plugin has it), feeder and drain running."""
        return (
            self.model is not None
            and all(not t.done() for t in self._tasks)
            and bool(getattr(self.model, "ready", True))
        )

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task
        if self.model is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.model.aclose(), 10)
        if self.track is not None:
            with contextlib.suppress(Exception):
                await self.track.cleanup()


def caller_offset(caller: Caller, index: int) -> int:
    """Where call ``index`` starts in the caller's script: deterministic, evenly scattered."""
    return (index * 7919) % len(caller.frames)


async def start_sessions(
    kind: str,
    endpoint: str,
    caller: Caller,
    count: int,
    first_index: int,
    time_scale: float = 1.0,
    batch: int = 10,
    logs: list[Any] | None = None,
) -> list[DrivenSession]:
    """``count`` new calls, connected ``batch`` at a time, spread over the caller's cycle.

    ``logs`` (one :class:`~.turns.CallLog` per call) ride along when given.
    """
    sessions = []
    for i in range(count):
        offset = caller_offset(caller, first_index + i)
        log = logs[i] if logs is not None else None
        sessions.append(DrivenSession(kind, endpoint, caller, offset, time_scale, log))
    for i in range(0, count, batch):
        await asyncio.gather(*(s.start() for s in sessions[i : i + batch]))
    return sessions


async def loop_lag(samples: list[float], period: float = 0.01) -> None:
    """A 10 ms ticker: how late each tick wakes up is the event loop's lag (seconds)."""
    loop = asyncio.get_running_loop()
    due = loop.time() + period
    while True:
        await asyncio.sleep(max(0.0, due - loop.time()))
        now = loop.time()
        samples.append(max(0.0, now - due))
        due = now + period
