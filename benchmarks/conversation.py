"""Figures 3, 4 and 5: a call through the real framework, seen from the caller's side.

Each runs one plugin inside :class:`~videosdk_plugins_azure.testing.LocalRoom`
(the real ``Pipeline``, ``AgentSession``, meeting listener and output track)
against the in-process emulator, with :class:`~.probes.ServerClock` and
:class:`~.probes.TrackProbe` giving both ends one clock:

* **Figure 3, plugin-added output latency**: from the emulator writing a
  ``response.audio.delta`` to that audio sitting in the output track's frame
  buffer, ready for the next ``recv()``. 20 ms deltas, so each delta is exactly
  one output frame and no time is spent waiting for a frame to fill.
* **Figure 4, time to first audio**: from the emulator's ``speech_stopped`` to
  the first voiced frame the track hands to the (simulated) WebRTC sender,
  with the emulated model answering at once (``faults.model_latency = 0``).
* **Figure 5, barge-in**: the caller talks over the agent N times in one
  session. The emulator streams unpaced, as the service streams faster than
  real time, so seconds of answer sit in the speaker's buffer at every barge-in.
  Per barge-in: time from the server's ``speech_started`` to the flush of that
  buffer, whether it was flushed at all, whether the speaker was silent
  0.5-1.0 s later, and whether the plugin truncated the answer on the server at
  the position the caller actually heard (within 40 ms). This module records
  the session; :mod:`.interruptions` reads those answers off the recording.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import math
from typing import Any

import numpy as np

from .common import (
    BARGE,
    KEY,
    LONG_REPLY,
    OUTPUT_RATE,
    QUESTION,
    bench_agent,
    dist,
    frame_samples,
    make_model,
    speech,
    voiced,
)
from .interruptions import analyse, first_delta
from .probes import ServerClock, TrackProbe

__all__ = ["barge_in", "first_audio", "output_latency", "reply_of_length"]

TTFA_REPLY = "Sure, one moment."


def _emulator(
    speed: float, chunk_ms: int, reply: str, keep_audio: bool = False, numbered: bool = False
) -> Any:
    """The in-process emulator answering every turn with ``reply``.

    ``numbered`` starts each answer with its own number, so every answer sounds
    different and can be told apart in the speaker's output.
    """
    from videosdk_plugins_azure.emulator import Scenario, VoiceLiveEmulator

    answers = itertools.count(1)

    def answer(ctx: Any) -> str:
        return f"Answer {next(answers)}. {reply}" if numbered else reply

    emu = VoiceLiveEmulator(
        api_key=KEY,
        speed=speed,
        chunk_ms=chunk_ms,
        tts="synthetic",
        scenario=Scenario(default_reply=answer),
        record_audio=keep_audio,
    )
    emu.faults.model_latency = 0.0
    return emu


def _room(model: Any) -> Any:
    from videosdk.agents import Pipeline

    from videosdk_plugins_azure.testing import LocalRoom

    return LocalRoom(bench_agent(), Pipeline(llm=model))


def reply_of_length(seconds: float) -> str:
    """A reply the synthetic voice speaks for at least ``seconds`` (about 65 ms a character)."""
    words = (LONG_REPLY + " ") * (1 + math.ceil(seconds / 0.065 / len(LONG_REPLY)))
    text = ""
    for word in words.split():
        text = f"{text} {word}" if text else word
        if len(text) * 0.065 >= seconds:
            break
    return text


def _errors(room: Any) -> int:
    return len(room.events_named("error"))


def _voiced_frames_since(room: Any, t: float) -> int:
    return sum(1 for ts, f in room.output_frames if ts >= t and voiced(frame_samples(f)))


def _silent_tail(room: Any, frames: int) -> bool:
    tail = room.output_frames[-frames:]
    return len(tail) == frames and not any(np.any(frame_samples(f)) for _, f in tail)


# -- figure 3 ----------------------------------------------------------------------------


async def output_latency(kind: str, deltas: int, speed: float = 2.0) -> dict[str, Any]:
    """Figure 3 for one plugin: per-delta latency into the output track, in ms."""
    text = reply_of_length(deltas * 0.02 + 0.5)
    clock, probe = ServerClock(), TrackProbe()
    with probe.installed():
        async with _emulator(speed, 20, text) as emu:
            clock.watch(emu)
            model = make_model(kind, emu.endpoint)
            async with _room(model) as room:
                await room.play(speech(QUESTION, OUTPUT_RATE), rate=OUTPUT_RATE)
                await room.play_silence(0.8)

                def delivered() -> bool:
                    if not clock.count("response.done"):
                        return False
                    sent = sum(s.audio_bytes for s in clock.of("response.audio.delta"))
                    return bool(probe.adds) and probe.adds[-1][1] >= sent

                timeout = 30 + deltas * 0.02 / speed * 2
                await room.wait_for(delivered, timeout=timeout, what="the whole answer")
                errors = _errors(room)
    sent = clock.of("response.audio.delta")
    add_t = [t for t, _ in probe.adds]
    add_cum = [c for _, c in probe.adds]
    latencies, cum = [], 0
    for stamp in sent:
        cum += stamp.audio_bytes
        i = bisect.bisect_left(add_cum, cum)
        if i < len(add_t):
            latencies.append((add_t[i] - stamp.t) * 1000)
    return {
        "deltas_sent": len(sent),
        "deltas_measured": len(latencies),
        "delta_ms": 20,
        "emulator_speed": speed,
        "latency_ms": dist(latencies, 3),
        "pipeline_errors": errors,
        "_samples": latencies,
    }


# -- figure 4 ----------------------------------------------------------------------------


async def first_audio(kind: str, turns: int) -> dict[str, Any]:
    """Figure 4 for one plugin: speech_stopped → first voiced frame out of the track, in ms.

    The track hands out a frame every 20 ms on its own clock, so an answer waits
    0-20 ms for the next tick. In this harness the caller's clock and the
    speaker's clock would keep one fixed phase for the whole call, turning that
    wait into a constant; each turn therefore shifts the caller's clock by a
    seeded random 0-20 ms, as network jitter does in a meeting. The time until
    the answer's first audio is *in* the track's buffer (``to_buffer_ms``) has no
    such wait and isolates the plugin's share.
    """
    from videosdk_plugins_azure.emulator import synthesize

    await synthesize(TTFA_REPLY, OUTPUT_RATE, engine="synthetic")  # warm the TTS cache
    question = speech(QUESTION, OUTPUT_RATE)
    rng = np.random.default_rng(7)
    clock, probe = ServerClock(), TrackProbe()
    with probe.installed():
        async with _emulator(1.0, 100, TTFA_REPLY) as emu:
            clock.watch(emu)
            model = make_model(kind, emu.endpoint)
            async with _room(model) as room:
                for turn in range(turns):
                    room.mic.delay(float(rng.uniform(0.0, 0.02)))
                    await room.play(question, rate=OUTPUT_RATE)
                    await room.play_silence(0.9)
                    await room.wait_for(
                        lambda n=turn + 1: (
                            clock.count("response.done") >= n and _silent_tail(room, 15)
                        ),
                        timeout=30,
                        what=f"answer {turn + 1}",
                    )
                stops = [s.t for s in clock.of("input_audio_buffer.speech_stopped")]
                frames = list(room.output_frames)
                adds = [t for t, _ in probe.adds]
                errors = _errors(room)
    voiced_ms: list[float] = []
    buffer_ms: list[float] = []
    for stop in stops:
        first_voiced = next((t for t, f in frames if t > stop and voiced(frame_samples(f))), None)
        if first_voiced is not None:
            voiced_ms.append((first_voiced - stop) * 1000)
        i = bisect.bisect_right(adds, stop)
        if i < len(adds):
            buffer_ms.append((adds[i] - stop) * 1000)
    return {
        "turns": turns,
        "turns_measured": len(voiced_ms),
        "ttfa_ms": dist(voiced_ms, 1),
        "to_buffer_ms": dist(buffer_ms, 2),
        "pipeline_errors": errors,
        "_samples": voiced_ms,
    }


# -- figure 5 ----------------------------------------------------------------------------


async def barge_in(kind: str, count: int) -> dict[str, Any]:
    """Figure 5 for one plugin: ``count`` consecutive barge-ins in one session."""
    question, barge = speech(QUESTION, OUTPUT_RATE), speech(BARGE, OUTPUT_RATE)
    clock, probe = ServerClock(keep_audio=True), TrackProbe()
    with probe.installed():
        async with _emulator(math.inf, 100, LONG_REPLY, numbered=True) as emu:
            clock.watch(emu)
            model = make_model(kind, emu.endpoint)
            async with _room(model) as room:
                await room.play(question, rate=OUTPUT_RATE)
                await room.play_silence(0.8)
                for i in range(count):
                    # let the caller hear 0.6 s of the answer, then talk over it
                    await room.wait_for(
                        lambda n=i + 1: (
                            len(clock.of("response.audio.delta")) > 0
                            and clock.count("response.created") >= n
                            and _voiced_frames_since(room, first_delta(clock, n - 1)) >= 30
                        ),
                        timeout=30,
                        what=f"answer {i + 1} playing",
                    )
                    await room.play(barge, rate=OUTPUT_RATE)
                    await room.play_silence(0.7)
                    await room.wait_for(
                        lambda n=i + 2: clock.count("response.created") >= n,
                        timeout=30,
                        what=f"answer {i + 2}",
                    )
                await asyncio.sleep(1.2)
                frames = list(room.output_frames)
                truncates = emu.last_connection.events("conversation.item.truncate")
                deletes = emu.last_connection.events("conversation.item.delete")
                errors = _errors(room)
    return analyse(count, clock, probe, frames, truncates, deletes, errors)
