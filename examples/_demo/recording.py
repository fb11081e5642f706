"""``conversation.wav``: the caller on the left channel, the agent on the right, on one clock.

The caller's lines are written where each began playing into the room; the
agent's channel is every frame its track sent, on the track's own schedule
(:func:`~.audio.placed_frames`), so jitter in the harness does not show up as
clicks or gaps that no participant heard.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from videosdk_plugins_azure.testing import LocalRoom

from .audio import RATE, Pcm, placed_frames
from .call import Call

__all__ = ["agent_track", "caller_track", "write_wav"]


def agent_track(room: LocalRoom, t0: float) -> Pcm:
    """The agent's channel: every frame the track sent, placed by :func:`placed_frames`."""
    placed = placed_frames(room, t0)
    if not placed:
        return np.zeros(0, dtype=np.int16)
    out = np.zeros(placed[-1][0] + len(placed[-1][1]), dtype=np.int16)
    for start, pcm in placed:
        out[start : start + len(pcm)] = pcm
    return out


def caller_track(call: Call) -> Pcm:
    """The caller's channel: each line as synthesized, placed where its playback began.

    Lines are written at their natural length. At ``--speed 1`` this is exactly the
    call; at another speed the caller's audio went onto the line ``speed`` times
    faster, so a line in the file runs on past the moment the model heard its end.
    """
    if not call.plays:
        return np.zeros(0, dtype=np.int16)
    end = max(round(call.rel(p.at) * RATE) + len(p.pcm) for p in call.plays)
    out = np.zeros(end, dtype=np.int32)
    for p in call.plays:
        start = round(call.rel(p.at) * RATE)
        out[start : start + len(p.pcm)] += p.pcm
    return np.clip(out, -32768, 32767).astype(np.int16)


def write_wav(path: Path, left: Pcm, right: Pcm) -> float:
    """A 16-bit stereo WAV at :data:`RATE`; returns its length in seconds."""
    n = max(len(left), len(right))
    stereo = np.zeros((n, 2), dtype=np.int16)
    stereo[: len(left), 0] = left
    stereo[: len(right), 1] = right
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(stereo.astype("<i2").tobytes())
    return n / RATE
