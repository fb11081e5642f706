"""A whole phone-style call with an Azure Voice Live agent, offline, in about 35 seconds.

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

It prints a live transcript (each line stamped with the time it ended), then a summary,
and writes into ``--out``:

* ``conversation.wav``: 24 kHz, 16-bit stereo, the caller on the left channel and
  the agent on the right, on one clock (seconds since the demo started). The
  caller's lines are placed where each began playing into the room; the agent's
  channel is every 20 ms frame the framework's output track sent, placed on the
  track's own schedule (see :func:`_demo.audio.placed_frames`). At ``--speed 1``
  the file is the call as a participant would have heard it.
* ``timeline.png``: who spoke when, the tool call, the barge-in, and the
  first-audio latency of each answer.
* ``summary.json``: turns, latencies, tool calls and the interruption, for scripts.
* with ``--avatar``, ``conversation.mp4``: the agent's avatar video track as the
  meeting would have shown it, with the same audio as ``conversation.wav``
  (offline, the emulator's synthetic face; see ``examples/avatar_movie.py``).

    python examples/offline_demo.py                  # real-time pacing (~35 s)
    python examples/offline_demo.py --speed 10       # faster: shorter waits
    python examples/offline_demo.py --avatar         # also the avatar: out/conversation.mp4
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
from pathlib import Path

# this file is the entry point; each part of the demo is a module of _demo (see its __init__)
from _demo.call import Call, StepFailed, run_call
from _demo.recording import agent_track, caller_track, write_wav
from _demo.script import scenario
from _demo.summary import print_summary, summary
from _demo.timeline import draw_timeline
from _env import load_dotenv_here
from _errors import FAILURES, explain
from _logs import configure_logging
from avatar_movie import AvatarMovie, avatar_note

from videosdk_plugins_azure import AzureVoiceLive, AzureVoiceLiveConfig
from videosdk_plugins_azure.config import Avatar
from videosdk_plugins_azure.emulator import VoiceLiveEmulator
from videosdk_plugins_azure.testing import LocalRoom

__all__ = [
    "EMULATOR_KEY",
    "build_model",
    "draw_timeline",
    "filmed_call",
    "main",
    "parse_args",
    "run",
    "run_real",
    "write_outputs",
]

EMULATOR_KEY = "offline-demo"
"""The loopback emulator's key: a placeholder, not a secret."""


def write_outputs(call: Call, room: LocalRoom, out: Path, movie: AvatarMovie | None = None) -> None:
    """``conversation.wav``, ``timeline.png``, ``summary.json`` (and with an avatar
    ``conversation.mp4``), then the printed summary."""
    out.mkdir(parents=True, exist_ok=True)
    wav = out / "conversation.wav"
    caller, agent = caller_track(call), agent_track(room, call.t0)
    seconds = write_wav(wav, caller, agent)
    data = summary(call, room, seconds)
    notes = []
    files = [wav]
    if movie is not None:
        files.append(movie.write(out / "conversation.mp4", caller, agent))
        notes.append(avatar_note(movie, room, offline=call.offline))
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
    print_summary(data, [*files, png, path], notes)


def build_model(args: argparse.Namespace, endpoint: str, api_key: str | None) -> AzureVoiceLive:
    avatar = Avatar(character="lisa", style="casual-sitting", width=640, height=360)
    avatar_or_none = avatar if args.avatar else None
    config = (
        AzureVoiceLiveConfig(voice=args.voice, avatar=avatar_or_none)
        if args.voice
        else AzureVoiceLiveConfig(avatar=avatar_or_none)
    )
    return AzureVoiceLive(model=args.model, endpoint=endpoint, api_key=api_key, config=config)


async def filmed_call(
    model: AzureVoiceLive, call: Call, emulator: VoiceLiveEmulator | None, out: Path
) -> tuple[LocalRoom, AvatarMovie | None]:
    """The call, with the agent's video track recorded from the start when it has one."""
    track = model.video_track
    movie = await AvatarMovie(track, out / ".avatar-video.mp4", call.t0).start() if track else None
    try:
        return await run_call(model, call, emulator), movie
    finally:
        if movie is not None:
            await movie.stop()


async def run_real(args: argparse.Namespace) -> int:
    """The call against Azure Voice Live: nothing scripted but the caller's lines."""
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
        print("note: --speed paces the emulator; against the real service the call is real time")
    call = Call(time.monotonic(), 1.0, offline=False)
    room, movie = await filmed_call(build_model(args, endpoint, None), call, None, args.out)
    write_outputs(call, room, args.out, movie)
    return 0


async def run(args: argparse.Namespace) -> int:
    """The call, against the embedded emulator unless an endpoint was asked for."""
    if args.no_emulator or args.endpoint:
        return await run_real(args)
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
        model = build_model(args, emulator.endpoint, EMULATOR_KEY)
        room, movie = await filmed_call(model, call, emulator, args.out)
    write_outputs(call, room, args.out, movie)
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
    parser.add_argument(
        "--avatar",
        action="store_true",
        help="give the agent a Voice Live avatar and write its video track, with the call's "
        "audio, to conversation.mp4",
    )
    parser.add_argument("--verbose", action="store_true", help="show framework and plugin logs")
    args = parser.parse_args(argv)
    if not (args.speed > 0 and math.isfinite(args.speed)):
        parser.error("--speed must be a positive number")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging(logging.INFO if args.verbose else logging.ERROR, local_room=not args.verbose)
    load_dotenv_here()
    try:
        return asyncio.run(run(args))
    except StepFailed as e:
        print(f"error: the call did not go as scripted: {e}", file=sys.stderr)
    except FAILURES as e:
        print(explain(e), file=sys.stderr)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 1


if __name__ == "__main__":
    sys.exit(main())
