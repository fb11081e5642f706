"""A voice agent with function tools and a server-side MCP server.

Offline (default): runs against the embedded emulator with a scripted caller and
prints what happened, so you can see every tool call and its output.

    python examples/tools_agent.py

Against Azure: set AZURE_VOICE_LIVE_ENDPOINT (and a key or an Azure login) and the
same agent runs on the real service; the MCP server below is Microsoft Learn's
public docs server.

    python examples/tools_agent.py --azure
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

from _logs import configure_logging
from _scenario import tool_result
from videosdk.agents import Agent, Pipeline, function_tool

from videosdk_plugins_azure import AzureVoiceLive, AzureVoiceLiveConfig, McpServer
from videosdk_plugins_azure.emulator import (
    FunctionCall,
    McpCall,
    ReplyContext,
    Scenario,
    Turn,
    VoiceLiveEmulator,
    synthesize,
)
from videosdk_plugins_azure.testing import LocalRoom

__all__ = [
    "DOCS_MCP",
    "QUESTIONS",
    "SCRIPT",
    "TravelAgent",
    "approve_docs",
    "build_model",
    "docs_reply",
    "main",
    "report",
    "talk",
    "time_reply",
    "weather_reply",
]

DOCS_MCP = McpServer(
    "microsoft_docs",
    "https://learn.microsoft.com/api/mcp",
    allowed_tools=["microsoft_docs_search"],
    require_approval="always",
)


class TravelAgent(Agent):
    def __init__(self) -> None:
        super().__init__(
            instructions=(
                "You are a travel assistant. Use get_weather for weather questions, "
                "get_time for the local time, and the docs tools for technical questions."
            )
        )

    async def on_enter(self) -> None:
        await self.session.say("Hi! Ask me about the weather or the time anywhere.")

    async def on_exit(self) -> None:
        return None

    @function_tool
    async def get_weather(self, city: str, unit: str = "celsius") -> dict[str, Any]:
        """Current weather for a city.

        Args:
            city: the city, e.g. "Paris"
            unit: "celsius" or "fahrenheit"
        """
        # a real agent would call a weather API here (with its own timeout)
        return {
            "city": city,
            "sky": "sunny",
            "temperature": 21 if unit == "celsius" else 70,
            "unit": unit,
        }

    @function_tool
    def get_time(self, utc_offset_hours: int = 0) -> str:
        """The current time at a UTC offset. Sync tools run in a worker thread."""
        now = datetime.now(UTC).timestamp() + utc_offset_hours * 3600
        return datetime.fromtimestamp(now, UTC).strftime("%H:%M")


async def approve_docs(request: Any) -> bool:
    """Decide on a server-side MCP call; here: allow read-only docs searches."""
    print(f"  approval asked: {request.server_label}.{request.name}({request.arguments})")
    return request.name == "microsoft_docs_search"


def build_model(endpoint: str | None, api_key: str | None) -> AzureVoiceLive:
    return AzureVoiceLive(
        model=os.environ.get("AZURE_VOICE_LIVE_MODEL", "gpt-realtime"),
        endpoint=endpoint,
        api_key=api_key,
        config=AzureVoiceLiveConfig(mcp_servers=[DOCS_MCP], tool_timeout=10.0),
        mcp_approval=approve_docs,
    )


def report(model: AzureVoiceLive) -> None:
    def executed(data: dict[str, Any]) -> None:
        status = "error" if data["is_error"] else "ok"
        print(f"  tool {data['name']}({data['arguments']}) -> {status}: {data['output']}")

    def mcp_call(data: dict[str, Any]) -> None:
        print(f"  mcp {data['server_label']}.{data['name']} -> {data['output'] or data['error']}")

    def said(data: dict[str, Any]) -> None:
        if data["is_final"]:
            print(f"{data['role']:>9}: {data['text']}")

    model.on("realtime_model_function_executed", executed)
    model.on("mcp_call", mcp_call)
    model.on("realtime_model_transcription", said)


# The emulated model's answers read the tools' real outputs, as a model would, so
# the offline run shows what the tools returned in the words a caller would hear.


def weather_reply(ctx: ReplyContext) -> str:
    data = tool_result(ctx, ("city", "sky", "temperature", "unit"))
    if data is None:
        return "Sorry, I couldn't get the weather just now."
    degrees = f"{data['temperature']} degrees {str(data['unit']).capitalize()}"
    return f"Right now it's {data['sky']} in {data['city']}, {degrees}."


def time_reply(ctx: ReplyContext) -> str:
    now = next((out for out in ctx.tool_outputs.values() if out), None)
    return f"It's {now} there right now." if now else "Sorry, I couldn't get the time."


def docs_reply(ctx: ReplyContext) -> str:
    found = ctx.mcp_outputs.get("microsoft_docs_search")
    if not found:
        return "Sorry, I couldn't search the docs just now."
    return f"According to the Microsoft docs: {found}"


SCRIPT = Scenario(
    [
        Turn(
            user="what's the weather in Lisbon",
            calls=[FunctionCall("get_weather", {"city": "Lisbon"})],
            reply=weather_reply,
        ),
        Turn(
            user="and what time is it there",
            calls=[FunctionCall("get_time", {"utc_offset_hours": 0})],
            reply=time_reply,
        ),
        Turn(
            user="how do I enable semantic VAD",
            reply=docs_reply,
            calls=[
                McpCall(
                    "microsoft_docs",
                    "microsoft_docs_search",
                    {"query": "voice live semantic vad"},
                    output="Set turn_detection to azure_semantic_vad.",
                )
            ],
        ),
    ]
)


QUESTIONS = (
    "What's the weather in Lisbon?",
    "And what time is it there?",
    "How do I enable semantic VAD?",
)


async def talk(model: AzureVoiceLive) -> None:
    """A caller asks the questions aloud through a LocalRoom (the real framework)."""
    report(model)
    async with LocalRoom(TravelAgent(), Pipeline(llm=model)) as room:
        await room.wait_for_event("llm_text_output", timeout=30)  # the greeting
        for question in QUESTIONS:
            answered = len(room.events_named("llm_text_output"))
            await room.play(await synthesize(question, 24000), rate=24000)
            await room.play_silence(1.0)
            # tool and approval rounds have no text: wait for the spoken answer itself
            await room.wait_for_event("llm_text_output", timeout=60, count=answered + 1)
        print(json.dumps({"chat": room.chat_items()}, indent=2))


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--azure", action="store_true", help="use real Azure Voice Live (env vars)")
    args = parser.parse_args()
    configure_logging(logging.WARNING)
    if args.azure:
        if not os.environ.get("AZURE_VOICE_LIVE_ENDPOINT"):
            missing = "AZURE_VOICE_LIVE_ENDPOINT (and AZURE_VOICE_LIVE_API_KEY or an Azure login)"
            print(f"error: set {missing}", file=sys.stderr)
            return 2
        await talk(build_model(None, None))
        return 0
    async with VoiceLiveEmulator(api_key="offline", scenario=SCRIPT) as emulator:
        await talk(build_model(emulator.endpoint, "offline"))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
