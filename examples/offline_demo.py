"""A whole phone-style call with an Azure Voice Live agent, offline, in about a minute.

What runs is the real thing except the two clouds: the VideoSDK ``AgentSession`` and
``Pipeline`` with ``AzureVoiceLive`` (talking the Voice Live protocol through the
real ``azure-ai-voicelive`` SDK) in a :class:`LocalRoom` meeting leg (48 kHz stereo),
against the embedded Voice Live emulator on loopback. A synthesized caller
(espeak-ng when installed) then:

1. hears the agent's greeting (``on_enter`` → ``session.say``) and says hello;
2. asks for the weather: the model calls the agent's ``get_weather`` tool and
   answers with its result;
3. asks about the city, and talks over the long answer ("Sorry, one more
   thing …"): the plugin flushes the speaker and truncates the answer on the
   server where the caller stopped hearing it; the agent answers the new question.

It prints a live transcript, then a summary, and writes into ``--out``:

* ``conversation.wav``: 24 kHz, 16-bit stereo, the caller on the left channel and
  the agent on the right, on one clock (seconds since the demo started). The
  caller's lines are placed where each began playing into the room; the agent's
  channel is every 20 ms frame the framework's output track sent, placed on the
  track's own schedule (see :func:`placed_frames`). At ``--speed 1`` the file is
  the call as a participant would have heard it.
* ``timeline.png``: who spoke when, the tool call, the barge-in, and the
  first-audio latency of each answer.
* ``summary.json``: turns, latencies, tool calls and the interruption, for scripts.

    python examples/offline_demo.py                  # real-time pacing (~30 s)
    python examples/offline_demo.py --speed 10       # faster: shorter waits
    python examples/offline_demo.py --no-emulator    # real Azure Voice Live (env vars)
    python examples/offline_demo.py --endpoint https://<resource>.services.ai.azure.com

Real mode reads ``AZURE_VOICE_LIVE_ENDPOINT`` (unless ``--endpoint``) and
``AZURE_VOICE_LIVE_API_KEY``; without a key it signs in with Entra ID
(``az login``, a managed identity, …). A ``.env`` file in the current directory
is read too. In real mode nothing is scripted: the real model answers and the
tool is the same Python function.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import shutil
import sys
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from _env import load_dotenv_here
from azure.core.exceptions import ClientAuthenticationError
from videosdk.agents import Agent, Pipeline, function_tool

from videosdk_plugins_azure import AzureVoiceLive, AzureVoiceLiveConfig, VoiceLiveError
from videosdk_plugins_azure.emulator import (
    FunctionCall,
    ReplyContext,
    Scenario,
    Turn,
    VoiceLiveEmulator,
    synthesize,
)
from videosdk_plugins_azure.testing import LocalRoom

RATE = 24000
"""The rate of the caller's synthesized lines and of ``conversation.wav``: the agent's
track runs at 24 kHz on a meeting leg, so the agent channel needs no resampling."""

EMULATOR_KEY = "offline-demo"
"""The loopback emulator's key: a placeholder, not a secret."""

VOICED_DBFS = -50.0
"""A 20 ms frame louder than this counts as speech (line noise sits near -66 dBFS)."""

BARGE_AFTER_MS = 2500.0
"""How much of the long answer the caller hears before talking over it."""

WAIT = 60.0
"""Seconds any one step may take before the demo gives up (the real service included)."""

# -- the script -------------------------------------------------------------------------

INSTRUCTIONS = (
    "You are the Contoso travel desk on a phone line. Use get_weather for any weather "
    "question. Keep answers to one or two short sentences, except when the caller asks "
    "you to tell them about a city: then talk about it for about half a minute."
)
GREETING = "Hi, this is the Contoso travel desk. Ask me about the weather, or about a city."

HELLO = "Hello there!"
WEATHER_QUESTION = "What's the weather like in Lisbon today?"
CITY_QUESTION = "Tell me about the city."
BARGE_IN = "Sorry, one more thing: is it a good city for walking?"

HELLO_REPLY = "Hello! Happy to help. What would you like to know?"
LONG_ANSWER = (
    "Lisbon is the capital of Portugal and one of the oldest cities in western Europe. "
    "It sits on seven hills above the river Tagus, so almost every street ends in a view. "
    "The old quarter of Alfama survived the great earthquake of 1755, and its narrow lanes "
    "still fill with fado music in the evening. Down by the water, Belem has the tower, "
    "the monastery, and the famous custard tarts, and the yellow trams climb the steepest "
    "streets all day long."
)
WALK_REPLY = "Yes, it's lovely on foot, but it's hilly, so bring comfortable shoes."

WEATHER = {"lisbon": ("sunny", 21), "porto": ("cloudy", 17), "madrid": ("clear", 25)}


def weather_reply(ctx: ReplyContext) -> str:
    """The scripted answer reads the tool's real output, as the model would."""
    for output in ctx.tool_outputs.values():
        try:
            data = json.loads(output)
            return (
                f"Right now in {data['city']} it's {data['sky']} and "
                f"{data['temperature_c']} degrees."
            )
        except (ValueError, KeyError, TypeError):
            continue
    return "Sorry, I couldn't get the weather just now."


def scenario() -> Scenario:
    """What the emulated model says to each caller turn (``user`` is the transcript)."""
    return Scenario(
        [
            Turn(user=HELLO, reply=HELLO_REPLY),
            Turn(
                user=WEATHER_QUESTION,
                calls=[FunctionCall("get_weather", {"city": "Lisbon"})],
                reply=weather_reply,
            ),
            Turn(user=CITY_QUESTION, reply=LONG_ANSWER),
            Turn(user=BARGE_IN, reply=WALK_REPLY),
        ]
    )


class TravelDesk(Agent):
    """The agent under test: a greeting, one function tool, and nothing said on exit."""

    def __init__(self) -> None:
        super().__init__(instructions=INSTRUCTIONS)

    async def on_enter(self) -> None:
        await self.session.say(GREETING)

    async def on_exit(self) -> None:
        return None

    @function_tool
    async def get_weather(self, city: str) -> dict[str, Any]:
        """Current weather for a city.

        Args:
            city: the city, e.g. "Lisbon"
        """
        # canned data, so the demo is reproducible; a real agent calls a weather API here
        sky, temperature = WEATHER.get(city.strip().lower(), ("partly cloudy", 18))
        return {"city": city, "sky": sky, "temperature_c": temperature}


# -- what the call did ----------------------------------------------------------------------

Pcm = npt.NDArray[np.int16]


@dataclass
class Played:
    """One caller line as it went onto the line (``at``: monotonic time of its first frame)."""

    at: float
    text: str
    pcm: Pcm

    @property
    def seconds(self) -> float:
        return len(self.pcm) / RATE


@dataclass
class Call:
    """Everything the demo observed, timestamped with ``time.monotonic()``."""

    t0: float
    speed: float
    offline: bool
    transcript: list[dict[str, Any]] = field(default_factory=list)
    plays: list[Played] = field(default_factory=list)
    latencies: list[tuple[float, float]] = field(default_factory=list)
    tools: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    interruption: dict[str, Any] | None = None

    def rel(self, t: float) -> float:
        return t - self.t0

    def show(self, role: str, text: str, at: float | None = None) -> None:
        """One live transcript line: seconds since the start, who, what."""
        t = self.rel(time.monotonic() if at is None else at)
        label = f"{role:>6}:" if role else " " * 7
        print(f"[{t:6.2f}s] {label} {text}", flush=True)

    def attach(self, model: AzureVoiceLive) -> None:
        """Listen on the model: it emits every transcript, tool call and latency itself."""

        def transcription(data: dict[str, Any]) -> None:
            if not data.get("is_final"):
                return
            role = "caller" if data.get("role") == "user" else "agent"
            now = time.monotonic()
            self.transcript.append({"t": now, "role": role, "text": str(data.get("text", ""))})
            self.show(role, str(data.get("text", "")), now)

        def executed(data: dict[str, Any]) -> None:
            now = time.monotonic()
            entry = {
                "t": now,
                "name": data.get("name"),
                "arguments": data.get("arguments"),
                "output": data.get("output"),
                "is_error": bool(data.get("is_error")),
            }
            self.tools.append(entry)
            self.transcript.append(
                {"t": now, "role": "tool", "text": f"{entry['name']}({entry['arguments']})"}
            )
            status = "error" if entry["is_error"] else "ok"
            self.show(
                "tool", f"{entry['name']}({entry['arguments']}) -> {status}: {entry['output']}"
            )

        def latency(data: dict[str, Any]) -> None:
            seconds = float(data.get("seconds", 0.0))
            self.latencies.append((time.monotonic(), seconds))
            self.show("", f"(first agent audio {seconds * 1000:.0f} ms after the caller stopped)")

        def error(data: Any) -> None:
            self.errors.append(str(data))
            self.show("error", str(data))

        model.on("realtime_model_transcription", transcription)
        model.on("realtime_model_function_executed", executed)
        model.on("first_audio_latency", latency)
        model.on("error", error)


class StepFailed(Exception):
    """A step of the call did not happen in time; the message says which and why."""


# -- driving the call ---------------------------------------------------------------------


class Caller:
    """Plays the caller's side and waits, on recorded events only, for the agent's side."""

    def __init__(self, room: LocalRoom, call: Call, emulator: VoiceLiveEmulator | None) -> None:
        self.room = room
        self.call = call
        self.emulator = emulator

    async def say(self, text: str) -> Played:
        """Speak one line; returns once the model has received all of it."""
        pcm = await synthesize(text, RATE)
        played = Played(time.monotonic(), text, pcm)
        self.call.plays.append(played)
        # the mic queue is empty here, so the first frame leaves within one 20 ms tick
        await self.room.play(pcm, rate=RATE)
        return played

    def _events_after(self, name: str, since: float) -> list[tuple[float, Any]]:
        return [(t, p) for t, n, p in self.room.events if n == name and t >= since]

    def _agent_finals_after(self, since: float) -> list[tuple[float, str]]:
        return [
            (t, str(p.get("text", "")))
            for t, p in self._events_after("realtime_model_transcription", since)
            if isinstance(p, dict) and p.get("role") == "agent" and p.get("is_final")
        ]

    async def _wait(self, predicate: Callable[[], object], what: str) -> None:
        try:
            await self.room.wait_for(predicate, timeout=WAIT, what=what)
        except TimeoutError as e:
            raise StepFailed(str(e)) from None

    async def speech_started_after(self, since: float) -> float:
        """When the agent's next answer (its first audio) began arriving."""
        await self._wait(
            lambda: self._events_after("agent_speech_started", since), "the agent's answer"
        )
        return self._events_after("agent_speech_started", since)[0][0]

    async def answer_after(self, since: float) -> str:
        """The next answer after ``since``, once it has fully played out."""
        started = await self.speech_started_after(since)
        await self._wait(lambda: self._agent_finals_after(started), "the end of the agent's answer")
        return self._agent_finals_after(started)[0][1]

    async def greeting(self) -> str:
        await self._wait(lambda: self._agent_finals_after(self.call.t0), "the greeting")
        return self._agent_finals_after(self.call.t0)[0][1]

    async def tool_answer(self, since: float) -> str:
        """Wait for the tool to run, then for the answer built from its result."""
        await self._wait(
            lambda: any(tool["t"] >= since for tool in self.call.tools),
            "the model to call get_weather",
        )
        tool_at = next(tool["t"] for tool in self.call.tools if tool["t"] >= since)
        return await self.answer_after(tool_at)

    async def barge_in(self, question: Played) -> None:
        """Let the long answer play for a while, talk over it, and record what was heard."""
        started = await self.speech_started_after(question.at)
        await self._wait(
            lambda: (
                self.room.voiced_ms(VOICED_DBFS, since=started) >= BARGE_AFTER_MS
                or self._agent_finals_after(started)
            ),
            "the long answer to play",
        )
        finished_first = bool(self._agent_finals_after(started))
        barge = await self.say(BARGE_IN)
        await self._wait(
            lambda: self._events_after("user_speech_started", barge.at),
            "the service to hear the caller",
        )
        heard_at = self._events_after("user_speech_started", barge.at)[0][0]
        interruption: dict[str, Any] = {
            "at": heard_at,
            "interrupted": not finished_first,
            "answer_started": started,
        }
        if self.emulator is not None and not finished_first:
            # the plugin's own truncate, as the (emulated) service received it
            conn = self.emulator.last_connection
            try:
                truncate = await conn.wait_for("conversation.item.truncate", timeout=10)
            except TimeoutError:
                raise StepFailed("the plugin never truncated the interrupted answer") from None
            interruption["truncate_audio_end_ms"] = int(truncate["audio_end_ms"])
            full = await synthesize(LONG_ANSWER, self.room.output_rate)
            interruption["answer_ms"] = round(1000 * len(full) / self.room.output_rate)
        self.call.interruption = interruption
        await self.answer_after(barge.at)
        # the interrupted answer's own final transcript: the plugin cuts it to what was heard
        finals = self._agent_finals_after(started)
        interruption["heard_text"] = finals[0][1] if len(finals) > 1 else None
        interruption["heard_ms_speaker"] = heard_from_speaker(self.room, started, heard_at)

    async def quiet(self) -> None:
        """Wait until the agent's track has played everything it was given."""
        await self._wait(
            lambda: not self.room.output_frames or not voiced(self.room.output_frames[-1][1]),
            "the agent to go quiet",
        )


def voiced(frame: Any) -> bool:
    return loud(frame_pcm(frame)[1])


def loud(pcm: Pcm) -> bool:
    """Louder than :data:`VOICED_DBFS`: speech, not line noise or digital silence."""
    if not pcm.size:
        return False
    rms = float(np.sqrt(np.mean(np.square(pcm.astype(np.float64)))))
    return rms > 0 and 20 * math.log10(rms / 32768) > VOICED_DBFS


def heard_from_speaker(room: LocalRoom, started: float, flushed: float) -> float:
    """Milliseconds from the answer's first voiced frame to its last one before the flush.

    An independent measure of what the caller heard, read off the speaker track
    itself; it works against the real service too, where no truncate record exists.
    ``flushed`` is when the service heard the caller (the plugin flushes right
    then); 200 ms after it covers the flush's short fade-out.
    """
    times = [t for t, f in room.output_frames if started <= t <= flushed + 0.2 and voiced(f)]
    if not times:
        return 0.0
    return round(1000 * (times[-1] - times[0] + 0.02))


async def run_call(
    model: AzureVoiceLive, call: Call, emulator: VoiceLiveEmulator | None
) -> LocalRoom:
    """The three scripted exchanges; returns the (closed) room for the write-up."""
    call.attach(model)
    room = LocalRoom(TravelDesk(), Pipeline(llm=model), speed=call.speed)
    async with room:
        caller = Caller(room, call, emulator)

        print("[1/3] greeting and hello…", flush=True)
        await caller.greeting()
        hello = await caller.say(HELLO)
        await caller.answer_after(hello.at)

        print("[2/3] tool question…", flush=True)
        question = await caller.say(WEATHER_QUESTION)
        await caller.tool_answer(question.at)

        print("[3/3] long answer and barge-in…", flush=True)
        question = await caller.say(CITY_QUESTION)
        await caller.barge_in(question)
        await caller.quiet()
    return room


# -- writing it up --------------------------------------------------------------------------


def frame_pcm(frame: Any) -> tuple[int, Pcm]:
    """A track frame as ``(rate, mono int16)``; the agent's track is mono s16."""
    data = np.asarray(frame.to_ndarray()).reshape(-1).astype(np.int16)
    channels = len(getattr(getattr(frame, "layout", None), "channels", ())) or 1
    if channels > 1:
        data = data.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return int(frame.sample_rate or RATE), data


def resample(pcm: Pcm, rate: int) -> Pcm:
    """Linear resampling to ``RATE``; only used if the track ran at another rate."""
    if rate == RATE or not pcm.size:
        return pcm
    n = round(len(pcm) * RATE / rate)
    x = np.linspace(0, len(pcm) - 1, n)
    return np.interp(x, np.arange(len(pcm)), pcm).astype(np.int16)


def placed_frames(room: LocalRoom, t0: float) -> list[tuple[int, Pcm]]:
    """The agent's output frames as ``(first sample, mono pcm)`` on the call's clock.

    Each output frame carries the monotonic time at which the framework's track
    handed it out. The track paces itself on its own sample clock and never hands
    a frame out *before* it is due, only after, when the event loop was busy (and
    then it catches up in a burst). So a frame's lateness is its timestamp minus
    its sample position, and the smallest lateness from that frame to the end of
    the call is the track's true schedule. Frames go at their sample position plus
    that schedule offset: jitter and catch-up bursts vanish, frames never overlap,
    and a real stall (the schedule moving later by more than one frame) shows as
    silence where it happened.
    """
    frames = [(t, *frame_pcm(f)) for t, f in room.output_frames]
    pcms = [resample(pcm, rate) for _, rate, pcm in frames]
    cum = np.cumsum([0] + [len(p) for p in pcms])[:-1]
    lateness = np.array([(t - t0) * RATE for t, _, _ in frames]) - cum
    schedule = np.minimum.accumulate(lateness[::-1])[::-1] if len(lateness) else lateness
    placed: list[tuple[int, Pcm]] = []
    base = float(schedule[0]) if len(schedule) else 0.0
    for k, pcm in enumerate(pcms):
        if schedule[k] - base > len(pcm):
            base = float(schedule[k])
        placed.append((max(0, int(cum[k] + round(base))), pcm))
    return placed


def agent_track(room: LocalRoom, t0: float) -> Pcm:
    """The agent's channel: every frame the track sent, placed by :func:`placed_frames`."""
    placed = placed_frames(room, t0)
    if not placed:
        return np.zeros(0, dtype=np.int16)
    out = np.zeros(placed[-1][0] + len(placed[-1][1]), dtype=np.int16)
    for start, pcm in placed:
        out[start : start + len(pcm)] = pcm
    return out


def caller_track(call: Call) -> Pcm:
    """The caller's channel: each line as synthesized, placed where its playback began.

    Lines are written at their natural length. At ``--speed 1`` this is exactly the
    call; at another speed the caller's audio went onto the line ``speed`` times
    faster, so a line in the file runs on past the moment the model heard its end.
    """
    if not call.plays:
        return np.zeros(0, dtype=np.int16)
    end = max(round(call.rel(p.at) * RATE) + len(p.pcm) for p in call.plays)
    out = np.zeros(end, dtype=np.int32)
    for p in call.plays:
        start = round(call.rel(p.at) * RATE)
        out[start : start + len(p.pcm)] += p.pcm
    return np.clip(out, -32768, 32767).astype(np.int16)


def write_wav(path: Path, left: Pcm, right: Pcm) -> float:
    n = max(len(left), len(right))
    stereo = np.zeros((n, 2), dtype=np.int16)
    stereo[: len(left), 0] = left
    stereo[: len(right), 1] = right
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(stereo.astype("<i2").tobytes())
    return n / RATE


def agent_spans(room: LocalRoom, t0: float, gap: float = 0.6) -> list[tuple[float, float]]:
    """One span per answer: voiced agent output, with pauses shorter than ``gap`` bridged.

    Times are those of ``conversation.wav``. A new answer (the model's
    ``agent_speech_started``) always opens a new span, so back-to-back answers
    stay apart even when the caller was quick.
    """
    starts = sorted(t - t0 for t, _, _ in room.events_named("agent_speech_started"))
    spans: list[list[float]] = []
    answer = -1
    for first, pcm in placed_frames(room, t0):
        if not loud(pcm):
            continue
        start = first / RATE
        stop = start + len(pcm) / RATE
        # (placed on the track's schedule, a frame may lead its event by a few ms)
        current = sum(1 for s in starts if s <= start + 0.04) - 1
        if spans and current == answer and start - spans[-1][1] <= gap:
            spans[-1][1] = stop
        else:
            spans.append([start, stop])
            answer = current
    return [(a, b) for a, b in spans]


def latency_turns(call: Call) -> list[dict[str, Any]]:
    """Each first-audio latency, tied to the caller line that preceded it."""
    rows = []
    for t, seconds in call.latencies:
        before = [p for p in call.plays if p.at <= t]
        rows.append(
            {
                "at_s": round(call.rel(t), 3),
                "after": before[-1].text if before else None,
                "first_audio_latency_ms": round(seconds * 1000),
            }
        )
    return rows


def summary(call: Call, room: LocalRoom, wav_seconds: float) -> dict[str, Any]:
    interruption = None
    if call.interruption is not None:
        i = call.interruption
        interruption = {
            "interrupted": i["interrupted"],
            "at_s": round(call.rel(i["at"]), 3),
            "answer_started_s": round(call.rel(i["answer_started"]), 3),
            "truncate_audio_end_ms": i.get("truncate_audio_end_ms"),
            "answer_ms": i.get("answer_ms"),
            "heard_ms_speaker": i.get("heard_ms_speaker"),
            "heard_text": i.get("heard_text"),
        }
    return {
        "mode": "emulator" if call.offline else "azure",
        "speed": call.speed,
        "turns": [
            {"t_s": round(call.rel(e["t"]), 3), "role": e["role"], "text": e["text"]}
            for e in call.transcript
        ],
        "caller_lines": [
            {"t_s": round(call.rel(p.at), 3), "text": p.text, "seconds": round(p.seconds, 3)}
            for p in call.plays
        ],
        "latencies": latency_turns(call),
        "tool_calls": [
            {
                "t_s": round(call.rel(tool["t"]), 3),
                "name": tool["name"],
                "arguments": tool["arguments"],
                "output": tool["output"],
                "is_error": tool["is_error"],
            }
            for tool in call.tools
        ],
        "interruption": interruption,
        "agent_spans_s": [[round(a, 3), round(b, 3)] for a, b in agent_spans(room, call.t0)],
        "errors": call.errors,
        "wav_seconds": round(wav_seconds, 3),
    }


def print_summary(data: dict[str, Any], outputs: list[Path], notes: list[str]) -> None:
    bar = "─" * 72
    print(f"\n{bar}\nSummary ({data['mode']}, speed {data['speed']:g})")
    print("Turns:")
    for turn in data["turns"]:
        text = turn["text"] if len(turn["text"]) <= 80 else turn["text"][:77] + "…"
        print(f"  {turn['t_s']:6.2f}s {turn['role']:>6}: {text}")
    print("First-audio latency (caller stops → first agent audio arrives):")
    for row in data["latencies"]:
        print(f"  {row['first_audio_latency_ms']:5d} ms  after {row['after']!r}")
    print("Tool calls:")
    for tool in data["tool_calls"]:
        print(f"  {tool['name']}({tool['arguments']}) -> {tool['output']}")
    i = data["interruption"]
    if i is None:
        print("Interruption: none")
    elif not i["interrupted"]:
        print("Interruption: none (the answer ended before the caller spoke again)")
    else:
        speaker = f"{i['heard_ms_speaker'] / 1000:.2f} s from first to last voiced frame"
        if i["truncate_audio_end_ms"]:
            heard = i["truncate_audio_end_ms"]
            answer = f"a {i['answer_ms'] / 1000:.1f} s answer" if i["answer_ms"] else "the answer"
            print(
                f"Interruption: at {i['at_s']:.2f}s, {heard / 1000:.2f} s into {answer}; "
                f"the plugin truncated it on the server at audio_end_ms={heard} "
                f"(speaker track: {speaker})"
            )
        else:
            print(f"Interruption: at {i['at_s']:.2f}s; the caller heard {speaker}")
        if i["heard_text"]:
            print(f"  heard: {i['heard_text']!r}")
    for note in notes:
        print(f"Note: {note}")
    print("Wrote: " + ", ".join(str(p) for p in outputs))
    print(bar)


def draw_timeline(path: Path, data: dict[str, Any]) -> str | None:
    """``timeline.png`` with matplotlib, else Pillow; returns a note when it fell back."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        _draw_timeline_pillow(path, data)
        return 'matplotlib is not installed; drew a plain timeline (pip install -e ".[demo]")'

    end = max([data["wav_seconds"], *(b for _, b in data["agent_spans_s"]), 1.0])
    fig, ax = plt.subplots(figsize=(14, 4.2), dpi=110)
    caller = [(c["t_s"], c["seconds"] / data["speed"]) for c in data["caller_lines"]]
    agent = [(a, b - a) for a, b in data["agent_spans_s"]]
    ax.broken_barh(caller, (1.6, 0.7), facecolors="#3b7dd8", label="caller speech")
    ax.broken_barh(
        agent, (0.6, 0.7), facecolors="#2aa876", edgecolors="white", label="agent speech"
    )
    for c in data["caller_lines"]:
        ax.text(c["t_s"], 2.42, c["text"][:34], fontsize=7, color="#1f4f99", rotation=12)
    answers = [turn["text"] for turn in data["turns"] if turn["role"] == "agent"]
    for (a, _), text in zip(data["agent_spans_s"], answers, strict=False):
        ax.text(a, 0.42, text[:30], fontsize=7, color="#17694a")
    for tool in data["tool_calls"]:
        ax.axvline(tool["t_s"], color="#a05fd0", ls="--", lw=1.2)
        ax.text(tool["t_s"], 0.12, f" tool {tool['name']}", color="#a05fd0", fontsize=8)
    for row in data["latencies"]:
        t, ms = row["at_s"], row["first_audio_latency_ms"]
        ax.annotate(
            "",
            xy=(t, 1.45),
            xytext=(t - ms / 1000, 1.45),
            arrowprops={"arrowstyle": "->", "color": "#d98c00"},
        )
        ax.text(t, 1.47, f"{ms} ms", fontsize=7, color="#b06f00")
    i = data["interruption"]
    if i and i["interrupted"]:
        ax.axvline(i["at_s"], color="#d33", lw=2)
        heard = i["truncate_audio_end_ms"] or i["heard_ms_speaker"]
        ax.text(i["at_s"], 2.85, f" barge-in: heard {heard / 1000:.1f} s", color="#d33", fontsize=9)
    ax.set_yticks([1.0, 1.95], ["agent", "caller"])
    ax.set_ylim(0, 3.2)
    ax.set_xlim(0, end + 0.5)
    ax.set_xlabel("seconds since start (orange arrows: first-audio latency)")
    mode = "emulator" if data["mode"] == "emulator" else "Azure Voice Live"
    ax.set_title(f"Voice Live call through the VideoSDK pipeline ({mode}, speed {data['speed']:g})")
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return None


def _draw_timeline_pillow(path: Path, data: dict[str, Any]) -> None:
    from PIL import Image, ImageDraw

    end = float(max([data["wav_seconds"], *(b for _, b in data["agent_spans_s"]), 1.0])) + 0.5
    width, height, left = 1400, 310, 70
    scale = (width - left - 20) / end
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)

    def x(t: float) -> float:
        return left + t * scale

    draw.text((10, 90), "caller", fill="black")
    draw.text((10, 170), "agent", fill="black")
    for c in data["caller_lines"]:
        a = c["t_s"]
        draw.rectangle(
            [x(a), 80, max(x(a) + 2, x(a + c["seconds"] / data["speed"])), 110], fill="#3b7dd8"
        )
    for a, b in data["agent_spans_s"]:
        draw.rectangle([x(a), 160, max(x(a) + 2, x(b)), 190], fill="#2aa876")
    for tool in data["tool_calls"]:
        draw.line([x(tool["t_s"]), 40, x(tool["t_s"]), 250], fill="#a05fd0", width=2)
        draw.text((x(tool["t_s"]) + 3, 250), f"tool {tool['name']}", fill="#a05fd0")
    for row in data["latencies"]:
        t, ms = row["at_s"], row["first_audio_latency_ms"]
        draw.line([x(t - ms / 1000), 140, x(t), 140], fill="#d98c00", width=3)
        draw.text((x(t) + 2, 128), f"{ms} ms", fill="#b06f00")
    i = data["interruption"]
    if i and i["interrupted"]:
        draw.line([x(i["at_s"]), 30, x(i["at_s"]), 260], fill="#dd3333", width=3)
        heard = i["truncate_audio_end_ms"] or i["heard_ms_speaker"]
        draw.text((x(i["at_s"]) + 4, 30), f"barge-in: heard {heard / 1000:.1f} s", fill="#dd3333")
    mode = "emulator" if data["mode"] == "emulator" else "Azure Voice Live"
    draw.text((10, 8), f"Voice Live call ({mode}, speed {data['speed']:g})", fill="black")
    draw.text((left, 288), "seconds since start; orange: first-audio latency", fill="gray")
    for s in range(int(end) + 1):
        draw.line([x(s), 270, x(s), 275], fill="gray")
        if s % 5 == 0:
            draw.text((x(s) - 4, 278), str(s), fill="gray")
    image.save(path, format="PNG")


def write_outputs(call: Call, room: LocalRoom, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    wav = out / "conversation.wav"
    seconds = write_wav(wav, caller_track(call), agent_track(room, call.t0))
    data = summary(call, room, seconds)
    notes = []
    if call.speed != 1:
        notes.append(
            f"at --speed {call.speed:g} the caller's lines were fed {call.speed:g}x faster; "
            "conversation.wav writes them at natural length from where each began"
        )
    png = out / "timeline.png"
    note = draw_timeline(png, data)
    if note:
        notes.append(note)
    path = out / "summary.json"
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print_summary(data, [wav, png, path], notes)


# -- entry point --------------------------------------------------------------------------


def build_model(args: argparse.Namespace, endpoint: str, api_key: str | None) -> AzureVoiceLive:
    config = AzureVoiceLiveConfig(voice=args.voice) if args.voice else AzureVoiceLiveConfig()
    return AzureVoiceLive(model=args.model, endpoint=endpoint, api_key=api_key, config=config)


async def run(args: argparse.Namespace) -> int:
    real = args.no_emulator or bool(args.endpoint)
    if real:
        endpoint = (
            args.endpoint
            or os.environ.get("AZURE_VOICE_LIVE_ENDPOINT")
            or os.environ.get("AZURE_COGNITIVE_SERVICES_ENDPOINT")
        )
        if not endpoint:
            print(
                "error: real mode needs AZURE_VOICE_LIVE_ENDPOINT (or --endpoint), plus "
                "AZURE_VOICE_LIVE_API_KEY or an Azure login (az login / managed identity)",
                file=sys.stderr,
            )
            return 2
        # None lets the plugin read AZURE_VOICE_LIVE_API_KEY (or the Cognitive Services
        # name) itself, and fall back to Entra ID; the key never passes through here
        keyed = any(
            os.environ.get(v) for v in ("AZURE_VOICE_LIVE_API_KEY", "AZURE_COGNITIVE_SERVICES_KEY")
        )
        print(f"Azure Voice Live at {endpoint} ({'key' if keyed else 'Entra ID'} auth)")
        if args.speed != 1:
            print(
                "note: --speed paces the emulator; against the real service the call is real time"
            )
        call = Call(time.monotonic(), 1.0, offline=False)
        room = await run_call(build_model(args, endpoint, None), call, None)
        write_outputs(call, room, args.out)
        return 0

    tts = (
        "espeak-ng"
        if shutil.which("espeak-ng")
        else "the built-in speech-like signal (no espeak-ng)"
    )
    async with VoiceLiveEmulator(
        api_key=EMULATOR_KEY, scenario=scenario(), speed=args.speed, tts="auto"
    ) as emulator:
        print(f"Voice Live emulator on {emulator.endpoint}; voices: {tts}; speed {args.speed:g}")
        call = Call(time.monotonic(), args.speed, offline=True)
        room = await run_call(build_model(args, emulator.endpoint, EMULATOR_KEY), call, emulator)
    write_outputs(call, room, args.out)
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--endpoint", help="a real Voice Live endpoint (implies --no-emulator)")
    parser.add_argument(
        "--no-emulator",
        action="store_true",
        help="talk to real Azure Voice Live (AZURE_VOICE_LIVE_ENDPOINT and key or Azure login)",
    )
    parser.add_argument("--model", default=os.environ.get("AZURE_VOICE_LIVE_MODEL", "gpt-realtime"))
    parser.add_argument("--voice", help="a Voice Live voice (default: the plugin's)")
    parser.add_argument("--out", type=Path, default=Path("out"), help="output directory")
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="pace the emulator's audio and the caller's mic at N x real time; the agent's "
        "track always plays in real time, so this mainly shortens the waits",
    )
    parser.add_argument("--verbose", action="store_true", help="show framework and plugin logs")
    args = parser.parse_args(argv)
    if not (args.speed > 0 and math.isfinite(args.speed)):
        parser.error("--speed must be a positive number")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        # offline there is no VideoSDK session to report to; it says so after every turn
        logging.getLogger("videosdk.agents.metrics").setLevel(logging.CRITICAL)
    load_dotenv_here()
    try:
        return asyncio.run(run(args))
    except StepFailed as e:
        print(f"error: the call did not go as scripted: {e}", file=sys.stderr)
    except VoiceLiveError as e:
        print(f"error: Voice Live: {e}", file=sys.stderr)
    except ClientAuthenticationError as e:
        first = str(e.message or e).splitlines()[0]
        print(
            f"error: no usable Azure credential ({first}). Set AZURE_VOICE_LIVE_API_KEY, "
            "or sign in with `az login` / a managed identity.",
            file=sys.stderr,
        )
    except (TimeoutError, ConnectionError, OSError, RuntimeError, ValueError) as e:
        print(f"error: {type(e).__name__}: {e}", file=sys.stderr)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 1


if __name__ == "__main__":
    sys.exit(main())
