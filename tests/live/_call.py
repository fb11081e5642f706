"""The agent the live suite talks to, and the caller's moves, waiting on events only.

A real model words things its own way, so nothing here compares an answer with
a text: an answer is the next final agent transcript after a moment, and it
counts when it arrived and is not empty. Questions whose meaning matters go in
as text (``session.reply``), which a real model understands whatever caller
voice is installed; audio is for what only audio can do (talking over the agent).
"""

from __future__ import annotations

import time
from typing import Any

from videosdk.agents import Agent, function_tool

from videosdk_plugins_azure.emulator import synthesize
from videosdk_plugins_azure.testing import LocalRoom

__all__ = [
    "INSTRUCTIONS",
    "STEP",
    "WEATHER",
    "LiveDesk",
    "agent_finals",
    "answer_after",
    "ask",
    "next_answer",
    "speak",
    "started_after",
]

STEP = 60.0
"""Seconds one step may take on the real service before the test fails (generous: a
cold deployment can take several seconds to answer the first time)."""

INSTRUCTIONS = (
    "You are the Contoso test desk. Answer in one short sentence, unless the caller asks "
    "for a long answer. For any question about the weather, call get_weather."
)

WEATHER = {"city": "", "sky": "sunny", "temperature_c": 21}


class LiveDesk(Agent):
    """Says ``greeting`` on entry (when given) and has one function tool."""

    def __init__(self, greeting: str | None = None) -> None:
        super().__init__(instructions=INSTRUCTIONS)
        self.greeting = greeting
        self.weather_cities: list[str] = []

    async def on_enter(self) -> None:
        if self.greeting:
            await self.session.say(self.greeting)

    async def on_exit(self) -> None:
        return None

    @function_tool
    async def get_weather(self, city: str) -> dict[str, Any]:
        """Current weather for a city.

        Args:
            city: the city, e.g. "Lisbon"
        """
        self.weather_cities.append(city)
        return {**WEATHER, "city": city}


def agent_finals(room: LocalRoom, since: float) -> list[tuple[float, str]]:
    """Final agent transcripts recorded at or after ``since``: ``(time, text)``."""
    return [
        (t, str(payload.get("text", "")))
        for t, name, payload in room.events
        if name == "realtime_model_transcription"
        and t >= since
        and isinstance(payload, dict)
        and payload.get("role") == "agent"
        and payload.get("is_final")
    ]


def started_after(room: LocalRoom, since: float) -> list[float]:
    return [t for t, _, _ in room.events_named("agent_speech_started") if t >= since]


async def answer_after(room: LocalRoom, since: float, what: str = "an answer") -> tuple[float, str]:
    """The first final agent transcript after ``since``; fails if it is empty."""
    await room.wait_for(lambda: agent_finals(room, since), timeout=STEP, what=what)
    at, text = agent_finals(room, since)[0]
    assert text.strip(), f"{what} arrived with an empty transcript"
    return at, text


async def next_answer(room: LocalRoom, since: float, what: str) -> tuple[float, str]:
    """The answer whose speech *started* after ``since`` (not one already under way)."""
    await room.wait_for(lambda: started_after(room, since), timeout=STEP, what=f"{what} to start")
    return await answer_after(room, started_after(room, since)[0], what)


async def ask(room: LocalRoom, question: str) -> tuple[float, str]:
    """Ask ``question`` as a text turn and wait for the answer; returns ``(asked_at, text)``."""
    asked = time.monotonic()
    await room.session.reply(instructions=question, wait_for_playback=False)
    _, text = await answer_after(room, asked, f"the answer to {question!r}")
    return asked, text


async def speak(room: LocalRoom, text: str) -> float:
    """The caller says ``text`` aloud (espeak-ng when installed); returns when it began."""
    pcm = await synthesize(text, 24000)
    began = time.monotonic()
    await room.play(pcm, rate=24000)
    await room.play_silence(1.0)
    return began
