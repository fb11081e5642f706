"""A phone agent: Azure Voice Live on a SIP call (G.711 µ-law, 8 kHz).

The SIP call lands in the VideoSDK room ``VIDEOSDK_ROOM_ID`` (through your SIP
gateway and routing rules), and the agent joins that room with the PCMU codec.

Why PCMU matters here: the phone leg carries 8 kHz mono audio. With
``audio_codec="pcmu"`` the framework decodes G.711 to 8 kHz PCM and tells the
plugin the leg's rate. The plugin then declares ``input_audio_sampling_rate=8000``
to Voice Live and sends the caller's samples through untouched, and asks for
``pcm16_8000hz`` back, which goes straight onto the 8 kHz agent track. Nothing
is resampled in either direction: no added latency, no filter artefacts, and the
service's own telephony-tuned models hear exactly what the phone network sent.

Settings (environment or a ``.env`` file in the current directory):

    VIDEOSDK_AUTH_TOKEN          a VideoSDK token (or VIDEOSDK_API_KEY + VIDEOSDK_SECRET_KEY)
    VIDEOSDK_ROOM_ID             the room the SIP call is routed into
    AZURE_VOICE_LIVE_ENDPOINT    https://<resource>.services.ai.azure.com
    AZURE_VOICE_LIVE_API_KEY     optional: without it, Entra ID

    python examples/telephony_agent.py             # joins the room, waits for the caller
    python examples/telephony_agent.py --offline   # an 8 kHz call against the local emulator

A missing setting stops it before any network call, with exit status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from typing import Any

from _env import room_settings_ready
from _logs import configure_logging
from _scenario import tool_result
from videosdk.agents import (
    Agent,
    AgentSession,
    JobContext,
    Pipeline,
    RoomOptions,
    WorkerJob,
    function_tool,
)

from videosdk_plugins_azure import AzureVoiceLive, AzureVoiceLiveConfig, TurnDetection
from videosdk_plugins_azure.emulator import (
    FunctionCall,
    ReplyContext,
    Scenario,
    Turn,
    VoiceLiveEmulator,
    synthesize,
)
from videosdk_plugins_azure.testing import LocalRoom

__all__ = [
    "CALLER_LINE",
    "GREETING",
    "ORDERS",
    "PHONE_RATE",
    "PhoneAgent",
    "build_model",
    "entrypoint",
    "main",
    "make_context",
    "offline",
    "order_reply",
]

PHONE_RATE = 8000
GREETING = "Thanks for calling Contoso. How can I help?"
CALLER_LINE = "Hi, I'm calling about my order, number 4217."
ORDERS = {"4217": {"status": "shipped", "arrives": "Thursday"}}


class PhoneAgent(Agent):
    """A support line: greets the caller, looks orders up, says goodbye."""

    def __init__(self) -> None:
        super().__init__(
            instructions=(
                "You answer the Contoso support line. Be brief: callers are on the phone. "
                "Use lookup_order when a caller gives an order number."
            )
        )

    async def on_enter(self) -> None:
        await self.session.say(GREETING)

    async def on_exit(self) -> None:
        await self.session.say("Thanks for calling. Goodbye!")

    @function_tool
    async def lookup_order(self, order_id: str) -> dict[str, Any]:
        """The status of an order.

        Args:
            order_id: the order number the caller gave, digits only
        """
        # canned data; a real agent queries the order system here (with a timeout)
        order = ORDERS.get("".join(ch for ch in order_id if ch.isdigit()))
        if order is None:
            return {"order_id": order_id, "status": "not found"}
        return {"order_id": order_id, **order}


def build_model(endpoint: str | None = None, api_key: str | None = None) -> AzureVoiceLive:
    """Phone-friendly settings; the 8 kHz formats follow from the leg, nothing to set."""
    return AzureVoiceLive(
        endpoint=endpoint,
        api_key=api_key,
        config=AzureVoiceLiveConfig(
            # phone lines are noisy and callers say "um": semantic VAD drops fillers
            turn_detection=TurnDetection("azure_semantic_vad", remove_filler_words=True),
        ),
    )


async def entrypoint(ctx: JobContext) -> None:
    session = AgentSession(agent=PhoneAgent(), pipeline=Pipeline(llm=build_model()))
    await session.start(wait_for_participant=True, run_until_shutdown=True)


def make_context() -> JobContext:
    return JobContext(
        room_options=RoomOptions(
            room_id=os.environ["VIDEOSDK_ROOM_ID"],
            name="Contoso Phone Agent",
            playground=False,
            # the SIP leg's codec: 8 kHz G.711 µ-law, passed through at 8 kHz both ways
            audio_codec="pcmu",
        )
    )


# -- offline: the same agent on an emulated 8 kHz leg -------------------------------------


def order_reply(ctx: ReplyContext) -> str:
    """The scripted answer reads the tool's real output, as the model would."""
    order = tool_result(ctx, ("order_id", "status", "arrives"))
    if order is None:
        return "Sorry, I couldn't find that order."
    return (
        f"Your order {order['order_id']} has {order['status']} "
        f"and should arrive on {order['arrives']}."
    )


async def offline() -> int:
    """Greeting, one question, one tool call, over a PCMU-shaped leg (8 kHz mono)."""
    script = Scenario(
        [
            Turn(
                user=CALLER_LINE,
                calls=[FunctionCall("lookup_order", {"order_id": "4217"})],
                reply=order_reply,
            )
        ]
    )
    t0 = time.monotonic()

    def show(role: str, text: str) -> None:
        print(f"[{time.monotonic() - t0:6.2f}s] {role:>6}: {text}", flush=True)

    async with VoiceLiveEmulator(api_key="offline", scenario=script) as emulator:
        model = build_model(emulator.endpoint, "offline")

        def transcript(data: dict[str, Any]) -> None:
            if data.get("is_final"):
                show("caller" if data.get("role") == "user" else "agent", str(data.get("text")))

        def tool(data: dict[str, Any]) -> None:
            show("tool", f"{data['name']}({data['arguments']}) -> {data['output']}")

        model.on("realtime_model_transcription", transcript)
        model.on("realtime_model_function_executed", tool)

        room = LocalRoom(PhoneAgent(), Pipeline(llm=model), wire_rate=PHONE_RATE, wire_channels=1)
        async with room:

            def finals() -> list[Any]:
                return [
                    p
                    for p in room.payloads("realtime_model_transcription")
                    if p.get("role") == "agent" and p.get("is_final")
                ]

            await room.wait_for(lambda: len(finals()) >= 1, timeout=30, what="the greeting")
            speech = await synthesize(CALLER_LINE, PHONE_RATE)
            await room.play(speech, rate=PHONE_RATE)
            await room.wait_for(lambda: len(finals()) >= 2, timeout=30, what="the answer")

            update = emulator.last_connection.events("session.update")[0]["session"]
            rates = sorted({int(f.sample_rate) for _, f in room.output_frames[-50:]})
            print(
                f"declared to Voice Live: input_audio_sampling_rate="
                f"{update.get('input_audio_sampling_rate')}, "
                f"output_audio_format={update.get('output_audio_format')}"
            )
            print(
                f"leg {room.describe_leg()}: plugin in {model.input_sampling_rate} Hz, "
                f"out {model.output_sampling_rate} Hz; agent track frames at "
                f"{', '.join(map(str, rates))} Hz (no resampling either way)"
            )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--offline", action="store_true", help="an 8 kHz call against the local emulator"
    )
    args = parser.parse_args()
    configure_logging(local_room=args.offline)
    if args.offline:
        try:
            return asyncio.run(offline())
        except (TimeoutError, RuntimeError) as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
    if not room_settings_ready():
        return 2
    WorkerJob(entrypoint=entrypoint, jobctx=make_context).start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
