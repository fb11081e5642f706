"""The call behind ``greeting_tool.jsonl``, and how to record or replay it.

A greeting, one spoken question, a function tool call and the answer that reads
the tool's output: the smallest call that shows what a cassette holds and that
replay lines up the ids the client sends back (the ``call_id`` of the tool output).

Record it again (against the emulator, through the recording proxy)::

    python examples/cassettes/greeting_tool.py record

Replay it offline through the real VideoSDK pipeline and print the transcript::

    python examples/cassettes/greeting_tool.py replay

To record the same call against Azure instead, run the proxy in front of the
service and point the agent at it (see the README's "Record and replay")::

    python -m videosdk_plugins_azure.emulator record \\
        --upstream https://<resource>.services.ai.azure.com --out my_call.jsonl
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
from pathlib import Path
from typing import Any, Literal

from videosdk.agents import Agent, Pipeline, function_tool

from videosdk_plugins_azure import AzureVoiceLive, AzureVoiceLiveConfig
from videosdk_plugins_azure.emulator import (
    CassetteReplay,
    FunctionCall,
    RecordingProxy,
    ReplyContext,
    Scenario,
    Turn,
    VoiceLiveEmulator,
    synthesize,
)
from videosdk_plugins_azure.testing import LocalRoom

__all__ = [
    "ANSWER",
    "CASSETTE",
    "GREETING",
    "QUESTION",
    "WeatherAgent",
    "call",
    "main",
    "record",
    "replay",
    "scenario",
]

CASSETTE = Path(__file__).with_suffix(".jsonl")
GREETING = "Hi, how can I help?"
QUESTION = "What's the weather in Paris?"
ANSWER = "It is 21 degrees in Paris."
MODEL = "gpt-realtime"


class WeatherAgent(Agent):
    def __init__(self) -> None:
        super().__init__(instructions="You tell callers the weather.")
        self.calls: list[str] = []

    async def on_enter(self) -> None:
        return None

    async def on_exit(self) -> None:
        return None

    @function_tool
    async def get_weather(self, city: str) -> dict[str, Any]:
        """Current weather for a city.

        Args:
            city: the city name
        """
        self.calls.append(city)
        return {"city": city, "temperature": 21, "sky": "sunny"}


def _answer(ctx: ReplyContext) -> str:
    """The scripted model reads the tool's real output, as the model would."""
    for output in ctx.tool_outputs.values():
        data = json.loads(output)
        return f"It is {data['temperature']} degrees in {data['city']}."
    return "I could not look that up."


def scenario() -> Scenario:
    """What the emulator's model says: the greeting, then the tool turn."""
    return Scenario(
        [
            Turn(reply=GREETING),
            Turn(
                user="what's the weather in paris",
                calls=[FunctionCall("get_weather", {"city": "Paris"})],
                reply=_answer,
            ),
        ]
    )


async def call(
    endpoint: str, api_key: str, *, config: AzureVoiceLiveConfig | None = None
) -> tuple[list[tuple[str, str]], WeatherAgent]:
    """Run the call against ``endpoint``; the transcript the agent ended with, and the agent."""
    agent = WeatherAgent()
    model = AzureVoiceLive(
        model=MODEL, endpoint=endpoint, api_key=api_key, config=config or AzureVoiceLiveConfig()
    )
    async with LocalRoom(agent, Pipeline(llm=model)) as room:
        await asyncio.wait_for(room.session.reply(instructions="Greet the caller."), timeout=30)
        await room.play(await synthesize(QUESTION, 24000), rate=24000)
        await room.play_silence(1.0)
        await room.wait_for(
            lambda: ("assistant", ANSWER) in room.chat_items(), timeout=30, what="the answer"
        )
        await room.wait_for_event("agent_speech_ended", timeout=30, count=2)
        return room.chat_items(), agent


async def record(
    out: Path,
    *,
    input_audio: Literal["store", "drop"] = "drop",
    config: AzureVoiceLiveConfig | None = None,
) -> list[tuple[str, str]]:
    """Record the call against the emulator through a :class:`RecordingProxy`."""
    key = "emulator-key"
    async with (
        VoiceLiveEmulator(
            api_key=key, speed=math.inf, model_latency=0, scenario=scenario()
        ) as emulator,
        RecordingProxy(emulator.endpoint, out, input_audio=input_audio) as proxy,
    ):
        transcript, _ = await call(proxy.endpoint, key, config=config)
    return transcript


async def replay(
    cassette: Path, *, config: AzureVoiceLiveConfig | None = None
) -> list[tuple[str, str]]:
    """Replay ``cassette`` through the pipeline (any key will do: nothing is real)."""
    async with CassetteReplay(cassette, speed=math.inf) as server:
        transcript, _ = await call(server.endpoint, "any-key", config=config)
    return transcript


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("record", "replay"))
    parser.add_argument("--cassette", type=Path, default=CASSETTE)
    args = parser.parse_args(argv)
    run = record if args.mode == "record" else replay
    transcript = asyncio.run(run(args.cassette))
    for role, text in transcript:
        print(f"{role}: {text}")
    if args.mode == "record":
        print(f"wrote {args.cassette} ({args.cassette.stat().st_size} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
