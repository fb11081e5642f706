"""The agent's output track as PCM: levels, the track's own schedule, what the caller heard.

The framework's track hands out a 20 ms frame whenever its sample clock says so,
and the harness stamps each with ``time.monotonic()``. Everything the write-up
says about the agent's side (the recording, the speech spans, how much of an
interrupted answer was heard) is read off those stamped frames, here.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from videosdk_plugins_azure.testing import LocalRoom

__all__ = [
    "RATE",
    "VOICED_DBFS",
    "Pcm",
    "frame_pcm",
    "heard_from_speaker",
    "loud",
    "placed_frames",
    "resample",
    "voiced",
]

RATE = 24000
"""The rate of the caller's synthesized lines and of ``conversation.wav``: the agent's
track runs at 24 kHz on a meeting leg, so the agent channel needs no resampling."""

VOICED_DBFS = -50.0
"""A 20 ms frame louder than this counts as speech (line noise sits near -66 dBFS)."""

Pcm = npt.NDArray[np.int16]


def frame_pcm(frame: Any) -> tuple[int, Pcm]:
    """A track frame as ``(rate, mono int16)``; the agent's track is mono s16."""
    data = np.asarray(frame.to_ndarray()).reshape(-1).astype(np.int16)
    channels = len(getattr(getattr(frame, "layout", None), "channels", ())) or 1
    if channels > 1:
        data = data.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return int(frame.sample_rate or RATE), data


def resample(pcm: Pcm, rate: int) -> Pcm:
    """Linear resampling to ``RATE``; only used if the track ran at another rate."""
    if rate == RATE or not pcm.size:
        return pcm
    n = round(len(pcm) * RATE / rate)
    x = np.linspace(0, len(pcm) - 1, n)
    return np.interp(x, np.arange(len(pcm)), pcm).astype(np.int16)


def loud(pcm: Pcm) -> bool:
    """Louder than :data:`VOICED_DBFS`: speech, not line noise or digital silence."""
    if not pcm.size:
        return False
    rms = float(np.sqrt(np.mean(np.square(pcm.astype(np.float64)))))
    return rms > 0 and 20 * math.log10(rms / 32768) > VOICED_DBFS


def voiced(frame: Any) -> bool:
    """A track frame that carries speech (see :func:`loud`)."""
    return loud(frame_pcm(frame)[1])


def heard_from_speaker(room: LocalRoom, started: float, flushed: float) -> float:
    """Milliseconds from the answer's first voiced frame to its last one before the flush.

    An independent measure of what the caller heard, read off the speaker track
    itself; it works against the real service too, where no truncate record exists.
    ``flushed`` is when the service heard the caller (the plugin flushes right
    then); 200 ms after it covers the flush's short fade-out.
    """
    times = [t for t, f in room.output_frames if started <= t <= flushed + 0.2 and voiced(f)]
    if not times:
        return 0.0
    return round(1000 * (times[-1] - times[0] + 0.02))


def placed_frames(room: LocalRoom, t0: float) -> list[tuple[int, Pcm]]:
    """The agent's output frames as ``(first sample, mono pcm)`` on the call's clock.

    Each output frame carries the monotonic time at which the framework's track
    handed it out. The track paces itself on its own sample clock and never hands
    a frame out *before* it is due, only after, when the event loop was busy (and
    then it catches up in a burst). So a frame's lateness is its timestamp minus
    its sample position, and the smallest lateness from that frame to the end of
    the call is the track's true schedule. Frames go at their sample position plus
    that schedule offset: jitter and catch-up bursts vanish, frames never overlap,
    and a real stall (the schedule moving later by more than one frame) shows as
    silence where it happened.
    """
    frames = [(t, *frame_pcm(f)) for t, f in room.output_frames]
    pcms = [resample(pcm, rate) for _, rate, pcm in frames]
    cum = np.cumsum([0] + [len(p) for p in pcms])[:-1]
    lateness = np.array([(t - t0) * RATE for t, _, _ in frames]) - cum
    schedule = np.minimum.accumulate(lateness[::-1])[::-1] if len(lateness) else lateness
    placed: list[tuple[int, Pcm]] = []
    base = float(schedule[0]) if len(schedule) else 0.0
    for k, pcm in enumerate(pcms):
        if schedule[k] - base > len(pcm):
            base = float(schedule[k])
        placed.append((max(0, int(cum[k] + round(base))), pcm))
    return placed
