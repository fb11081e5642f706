"""A text-only agent: Voice Live answers in text, with no speech synthesis at all.

``AzureVoiceLiveConfig(modalities=("text",))`` turns the agent's voice off: the
model's answers arrive as text (``llm_text_output``), which suits chat
side-panels, captions-only agents, or checking prompts and tools cheaply before
paying for audio. Questions go in with ``session.reply(...)``.

    python examples/text_only_agent.py                       # local emulator, no account
    python examples/text_only_agent.py "What is Voice Live?"  # your own questions
    python examples/text_only_agent.py --azure                # real Azure Voice Live

``--azure`` reads ``AZURE_VOICE_LIVE_ENDPOINT`` and ``AZURE_VOICE_LIVE_API_KEY``
(without a key: Entra ID), from the environment or a ``.env`` file in the current
directory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from typing import Any

from _env import load_dotenv_here
from _errors import FAILURES, explain
from _logs import configure_logging
from videosdk.agents import Agent, Pipeline

from videosdk_plugins_azure import AzureVoiceLive, AzureVoiceLiveConfig
from videosdk_plugins_azure.emulator import Scenario, Turn, VoiceLiveEmulator
from videosdk_plugins_azure.testing import LocalRoom

__all__ = [
    "ANSWER_TIMEOUT",
    "QUESTIONS",
    "SCRIPTED_ANSWERS",
    "TextAssistant",
    "ask",
    "build_model",
    "main",
    "run",
]

QUESTIONS = (
    "In one sentence, what is Azure Voice Live?",
    "Which audio formats does it accept from a phone line?",
)
SCRIPTED_ANSWERS = (
    "Azure Voice Live is a speech-to-speech service that lets an agent talk with callers "
    "in real time.",
    "From a phone line it takes 8 kilohertz audio, as 16-bit PCM or G.711.",
)
ANSWER_TIMEOUT = 60.0


class TextAssistant(Agent):
    """Answers briefly; nothing to say on entry or exit, since there is no voice."""

    def __init__(self) -> None:
        super().__init__(instructions="You are a concise assistant. Answer in one sentence.")

    async def on_enter(self) -> None:
        return None

    async def on_exit(self) -> None:
        return None


def build_model(endpoint: str | None, api_key: str | None) -> AzureVoiceLive:
    return AzureVoiceLive(
        endpoint=endpoint, api_key=api_key, config=AzureVoiceLiveConfig(modalities=("text",))
    )


async def ask(model: AzureVoiceLive, questions: list[str]) -> int:
    """Each question as a text turn; prints the model's text answer."""
    t0 = time.monotonic()
    async with LocalRoom(TextAssistant(), Pipeline(llm=model)) as room:
        for question in questions:
            print(f"[{time.monotonic() - t0:6.2f}s]    you: {question}", flush=True)
            answered = len(room.payloads("llm_text_output"))
            await asyncio.wait_for(room.session.reply(instructions=question), ANSWER_TIMEOUT)
            await room.wait_for_event("llm_text_output", timeout=ANSWER_TIMEOUT, count=answered + 1)
            answer: dict[str, Any] = room.payloads("llm_text_output")[answered]
            print(f"[{time.monotonic() - t0:6.2f}s]  agent: {answer.get('text')}", flush=True)
        # the agent "speaks" text (its speech events fire), but no audio ever plays
        print(f"agent audio played: {room.voiced_ms():.0f} ms (text only)")
    return 0


async def run(args: argparse.Namespace) -> int:
    questions = list(args.questions) or list(QUESTIONS)
    if args.azure:
        if not (
            os.environ.get("AZURE_VOICE_LIVE_ENDPOINT")
            or os.environ.get("AZURE_COGNITIVE_SERVICES_ENDPOINT")
        ):
            print(
                "error: missing setting: AZURE_VOICE_LIVE_ENDPOINT (plus AZURE_VOICE_LIVE_API_KEY "
                "or an Azure login). Set it in the environment or in a .env file.",
                file=sys.stderr,
            )
            return 2
        return await ask(build_model(None, None), questions)
    # the emulator is scripted for the example questions; others get its "You said: …" echo
    script = Scenario([] if args.questions else [Turn(reply=a) for a in SCRIPTED_ANSWERS])
    async with VoiceLiveEmulator(api_key="offline", scenario=script) as emulator:
        return await ask(build_model(emulator.endpoint, "offline"), questions)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("questions", nargs="*", help="questions to ask (default: two examples)")
    parser.add_argument("--azure", action="store_true", help="use real Azure Voice Live")
    args = parser.parse_args()
    configure_logging()
    if args.azure:
        load_dotenv_here()
    try:
        return asyncio.run(run(args))
    except FAILURES as e:
        print(explain(e), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
