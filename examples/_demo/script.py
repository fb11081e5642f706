"""The demo's script: the caller's lines, the emulated model's answers, and the agent.

Offline, the emulator answers each caller line with the scripted reply (and the
weather question with a real call of the agent's tool); against Azure only the
caller's lines and the agent are used, and the real model decides what to say.
"""

from __future__ import annotations

from typing import Any

from _scenario import tool_result
from videosdk.agents import Agent, function_tool

from videosdk_plugins_azure.emulator import FunctionCall, ReplyContext, Scenario, Turn

__all__ = [
    "BARGE_IN",
    "CITY_QUESTION",
    "GREETING",
    "HELLO",
    "HELLO_REPLY",
    "INSTRUCTIONS",
    "LONG_ANSWER",
    "WALK_REPLY",
    "WEATHER",
    "WEATHER_QUESTION",
    "TravelDesk",
    "scenario",
    "weather_reply",
]

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
    data = tool_result(ctx, ("city", "sky", "temperature_c"))
    if data is None:
        return "Sorry, I couldn't get the weather just now."
    return f"Right now in {data['city']} it's {data['sky']} and {data['temperature_c']} degrees."


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
