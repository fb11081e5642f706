"""Join a VideoSDK meeting as a voice agent powered by Azure Voice Live.

The agent joins the room named by ``VIDEOSDK_ROOM_ID``, greets whoever is there,
answers questions (with a ``get_local_time`` tool), and says goodbye when the
session ends. ``playground=True`` prints a link to join the same room from a
browser.

Settings come from the environment or from a ``.env`` file in the current
directory:

    VIDEOSDK_AUTH_TOKEN          a VideoSDK token (or VIDEOSDK_API_KEY + VIDEOSDK_SECRET_KEY)
    VIDEOSDK_ROOM_ID             the meeting to join
    AZURE_VOICE_LIVE_ENDPOINT    https://<resource>.services.ai.azure.com
    AZURE_VOICE_LIVE_API_KEY     optional: without it, Entra ID (az login, managed identity)
    AZURE_VOICE_LIVE_MODEL       optional: gpt-realtime by default
    AZURE_VOICE_LIVE_VOICE       optional: a Voice Live voice name

    python examples/meeting_agent.py

A missing setting stops it before any network call, with exit status 2.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from _env import room_settings_ready
from videosdk.agents import (
    Agent,
    AgentSession,
    JobContext,
    Pipeline,
    RoomOptions,
    WorkerJob,
    function_tool,
)

from videosdk_plugins_azure import AzureVoiceLive, AzureVoiceLiveConfig

__all__ = ["AGENT_NAME", "MeetingAssistant", "build_model", "entrypoint", "main", "make_context"]

AGENT_NAME = "Azure Voice Live Agent"


class MeetingAssistant(Agent):
    """A meeting helper: greets on entry, tells the time anywhere, says goodbye on exit."""

    def __init__(self) -> None:
        super().__init__(
            instructions=(
                "You are a helpful assistant in a video meeting. Keep answers short and "
                "conversational. Use get_local_time when someone asks what time it is somewhere."
            )
        )

    async def on_enter(self) -> None:
        await self.session.say("Hi everyone! I'm the meeting assistant. How can I help?")

    async def on_exit(self) -> None:
        await self.session.say("Goodbye, and have a good day!")

    @function_tool
    def get_local_time(self, timezone: str) -> str:
        """The current local time in a time zone.

        Args:
            timezone: an IANA time zone such as "Europe/Lisbon" or "America/New_York"
        """
        try:
            now = datetime.now(ZoneInfo(timezone))
        except (ZoneInfoNotFoundError, ValueError):
            return f"unknown time zone {timezone!r}; use an IANA name like Europe/Lisbon"
        return now.strftime("%H:%M on %A")


def build_model() -> AzureVoiceLive:
    """Endpoint, key and model come from the environment (see the module docstring)."""
    voice = os.environ.get("AZURE_VOICE_LIVE_VOICE")
    config = AzureVoiceLiveConfig(voice=voice) if voice else AzureVoiceLiveConfig()
    return AzureVoiceLive(config=config)


async def entrypoint(ctx: JobContext) -> None:
    """One job: one room, one session, until the meeting ends."""
    session = AgentSession(agent=MeetingAssistant(), pipeline=Pipeline(llm=build_model()))
    await session.start(wait_for_participant=True, run_until_shutdown=True)


def make_context() -> JobContext:
    return JobContext(
        room_options=RoomOptions(
            room_id=os.environ["VIDEOSDK_ROOM_ID"], name=AGENT_NAME, playground=True
        )
    )


def main() -> int:
    if not room_settings_ready():
        return 2
    WorkerJob(entrypoint=entrypoint, jobctx=make_context).start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
