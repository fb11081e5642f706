"""What the call did, and the caller who drives it through the three scripted exchanges.

The caller never sleeps for a guessed time: every wait is on something the room
recorded (a transcript, a speech event, voiced output frames, the emulator's
copy of the plugin's truncate), so the same script runs at any ``--speed`` and
against the real service.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from videosdk.agents import Pipeline

from videosdk_plugins_azure import AzureVoiceLive
from videosdk_plugins_azure.emulator import VoiceLiveEmulator, synthesize
from videosdk_plugins_azure.testing import LocalRoom

from .audio import RATE, VOICED_DBFS, Pcm, heard_from_speaker, voiced
from .script import BARGE_IN, CITY_QUESTION, HELLO, LONG_ANSWER, WEATHER_QUESTION, TravelDesk

__all__ = [
    "BARGE_AFTER_MS",
    "TIMES_NOTE",
    "WAIT",
    "Call",
    "Caller",
    "Played",
    "StepFailed",
    "run_call",
]

BARGE_AFTER_MS = 2500.0
"""How much of the long answer the caller hears before talking over it."""

WAIT = 60.0
"""Seconds any one step may take before the demo gives up (the real service included)."""

TIMES_NOTE = (
    "Times: seconds since the start, stamped when each line ended (a caller line when its\n"
    "transcript arrived, an agent line when it finished playing or was cut off)."
)
"""The live transcript's stamps are end times (a final transcript exists only then)."""


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


async def run_call(
    model: AzureVoiceLive, call: Call, emulator: VoiceLiveEmulator | None
) -> LocalRoom:
    """The three scripted exchanges; returns the (closed) room for the write-up."""
    call.attach(model)
    room = LocalRoom(TravelDesk(), Pipeline(llm=model), speed=call.speed)
    async with room:
        caller = Caller(room, call, emulator)
        print(TIMES_NOTE, flush=True)
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
