"""The azure-ai-voicelive SDK quick-start flow, offline, against the local emulator.

It does what Microsoft's basic voice-assistant sample does: connect, configure the
session, stream the caller's audio in 20 ms chunks, and play the spoken answer.
The caller's voice is synthesized (espeak-ng when installed), and the answer is
written to ``out/quickstart_reply.wav``.

    python examples/sdk_quickstart.py                 # embedded emulator, no account needed
    python examples/sdk_quickstart.py --endpoint wss://<resource>.services.ai.azure.com

With ``--endpoint``, the key comes from ``AZURE_VOICE_LIVE_API_KEY``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import os
import sys
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from azure.ai.voicelive import models as m
from azure.ai.voicelive.aio import connect
from azure.core.credentials import AzureKeyCredential

from videosdk_plugins_azure.emulator import Scenario, Turn, VoiceLiveEmulator, synthesize

__all__ = ["QUESTION", "RATE", "listen", "main", "run", "save", "session_config", "speak"]

RATE = 24000
QUESTION = "Hello! What can you do for me today?"


Say = Callable[[str, str], None]


def session_config() -> m.RequestSession:
    """The quick-start's session: text and audio out, server VAD, transcription, noise and
    echo suppression."""
    return m.RequestSession(
        modalities=[m.Modality.TEXT, m.Modality.AUDIO],
        instructions="You are a helpful assistant. Keep answers short.",
        voice=m.AzureStandardVoice(name="en-US-AvaNeural"),
        input_audio_format=m.InputAudioFormat.PCM16,
        output_audio_format=m.OutputAudioFormat.PCM16,
        turn_detection=m.ServerVad(threshold=0.5, prefix_padding_ms=300, silence_duration_ms=500),
        input_audio_transcription=m.AudioInputTranscriptionOptions(model="whisper-1"),
        input_audio_noise_reduction=m.AudioNoiseReduction(type="azure_deep_noise_suppression"),
        input_audio_echo_cancellation=m.AudioEchoCancellation(),
    )


async def speak(conn: Any, say: Say) -> None:
    """The caller: the question between two stretches of line noise, in real-time 20 ms chunks."""
    voice = await synthesize(QUESTION, RATE)
    rng = np.random.default_rng(7)
    line = [(rng.standard_normal(int(RATE * s)) * 16).astype(np.int16) for s in (0.4, 1.2)]
    audio = np.concatenate([line[0], voice, line[1]])
    say("caller", f"(speaking) {QUESTION}")
    for i in range(0, len(audio), RATE // 50):
        chunk = audio[i : i + RATE // 50].astype("<i2").tobytes()
        await conn.input_audio_buffer.append(audio=base64.b64encode(chunk).decode("ascii"))
        await asyncio.sleep(0.02)


async def listen(conn: Any, say: Say) -> bytes:
    """Print the service's events until the answer is done; returns the answer's audio."""
    reply = bytearray()
    while True:
        event = await conn.recv()
        kind = event.type
        if kind == "session.updated":
            say("session", "ready")
        elif kind == "input_audio_buffer.speech_started":
            say("vad", f"speech started at {event.audio_start_ms} ms")
        elif kind == "input_audio_buffer.speech_stopped":
            say("vad", f"speech stopped at {event.audio_end_ms} ms")
        elif kind == "conversation.item.input_audio_transcription.completed":
            say("user", event.transcript)
        elif kind == "response.audio.delta":
            reply += event.delta
        elif kind == "response.audio_transcript.done":
            say("assistant", event.transcript)
        elif kind == "error":
            say("error", f"{event.error.code}: {event.error.message}")
        elif kind == "response.done":
            status = getattr(event.response.status, "value", event.response.status)
            say("response", f"{status}, {len(reply) / 2 / RATE:.2f} s of audio")
            return bytes(reply)


def save(out: Path, reply: bytes) -> None:
    """The answer as a mono 16-bit WAV."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(out), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(reply)


async def run(endpoint: str, key: str, model: str, out: Path) -> int:
    """Connect, configure, talk and listen at once (as the sample does), save the answer."""
    t0 = time.monotonic()

    def say(tag: str, text: str) -> None:
        print(f"[{time.monotonic() - t0:6.2f}s] {tag:<9} {text}", flush=True)

    async with connect(endpoint=endpoint, credential=AzureKeyCredential(key), model=model) as conn:
        await conn.session.update(session=session_config())
        sender = asyncio.create_task(speak(conn, say))
        try:
            async with asyncio.timeout(30):
                reply = await listen(conn, say)
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
    save(out, reply)
    say("saved", str(out))
    return 0 if reply else 1


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--endpoint", help="a real Voice Live endpoint (default: an embedded emulator)"
    )
    parser.add_argument("--model", default=os.environ.get("AZURE_VOICE_LIVE_MODEL", "gpt-realtime"))
    parser.add_argument("--out", type=Path, default=Path("out/quickstart_reply.wav"))
    args = parser.parse_args()
    if args.endpoint:
        key = os.environ.get("AZURE_VOICE_LIVE_API_KEY")
        if not key:
            print("error: set AZURE_VOICE_LIVE_API_KEY to use --endpoint", file=sys.stderr)
            return 2
        return await run(args.endpoint, key, args.model, args.out)
    script = Scenario(
        [Turn(user=QUESTION, reply="I can answer questions, call tools, and talk with you.")]
    )
    async with VoiceLiveEmulator(api_key="offline", scenario=script) as emulator:
        print(f"emulator listening on {emulator.endpoint}")
        return await run(emulator.endpoint, "offline", args.model, args.out)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
