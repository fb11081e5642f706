"""The framework's audio track, seen as the core's :class:`~.core.effects.Speaker`.

The track does not say where its playback is; it counts samples played
(``snapshot_playback``) and keeps a queue of frames and a partial buffer. The
speaker's timeline end is the sum of both plus what waits here, which is where
the next answer's first sample will play.

The service streams answers faster than real time, and a misbehaving one could
stream without end. The track's queue grows without a bound, and its
``interrupt()`` walks the whole queue, so a barge-in on minutes of queued audio
stalls the event loop for seconds. So at most :data:`TRACK_AHEAD_S` of audio goes
into the track; the rest waits in a bounded overflow here, fed in as the track
plays, cleared at once on a barge-in, and beyond :data:`OVERFLOW_S` dropped and
counted.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

__all__ = ["FEED_INTERVAL_S", "OVERFLOW_S", "TRACK_AHEAD_S", "TrackSpeaker", "queued_samples"]

log = logging.getLogger("videosdk_plugins_azure")

TRACK_AHEAD_S = 10.0
"""Agent audio queued in the framework's track at most, ahead of what has played."""
OVERFLOW_S = 120.0
"""Agent audio held beyond that, waiting for the track; more is dropped (counted)."""
FEED_INTERVAL_S = 0.1
"""How often the overflow tops the track up while it holds audio."""


def queued_samples(track: Any) -> int:
    """Samples in the speaker's queue that have not played yet."""
    frames = len(getattr(track, "frame_buffer", ()))
    partial = len(getattr(track, "audio_data_buffer", b"")) // 2
    return frames * int(getattr(track, "samples", 0)) + partial


class TrackSpeaker:
    """Reads the model's current ``audio_track`` at every call (the pipeline may swap it)."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self._overflow = bytearray()
        self._finish_pending = False
        self._wake = asyncio.Event()
        self.rate = 24000
        self.dropped_bytes = 0
        """Agent audio dropped because the overflow was full."""

    def _ahead(self) -> int:
        return int(TRACK_AHEAD_S * self.rate)

    def present(self) -> bool:
        return self._model.audio_track is not None

    def position(self) -> int:
        track = self._model.audio_track
        played, _pushed = track.snapshot_playback()
        return int(played) + queued_samples(track) + len(self._overflow) // 2

    def flush(self) -> int:
        """Interrupt the track; the timeline then ends where its fade-out does."""
        track = self._model.audio_track
        self._overflow.clear()
        self._finish_pending = False
        played = self.position() - queued_samples(track)
        track.interrupt()
        return played + queued_samples(track)

    async def write(self, pcm: bytes) -> None:
        """Agent audio for the track, or for the overflow once the track is far enough ahead."""
        track = self._model.audio_track
        if track is None:
            return
        if not self._overflow and queued_samples(track) + len(pcm) // 2 <= self._ahead():
            await track.add_new_bytes(pcm)
            return
        room = int(OVERFLOW_S * self.rate) * 2 - len(self._overflow)
        if len(pcm) > room:
            if not self.dropped_bytes:
                log.warning(
                    "agent audio arrives far faster than it plays; dropping what exceeds "
                    "%.0f s (counted in dropped_output_audio_bytes; logged once)",
                    OVERFLOW_S,
                )
            self.dropped_bytes += len(pcm) - max(room, 0)
            pcm = pcm[: max(room, 0) // 2 * 2]
        self._overflow += pcm
        self._wake.set()

    def resume(self) -> None:
        """Re-arm the track after an interrupt, for the next answer."""
        track = self._model.audio_track
        if track is not None:
            track.enable_audio_input()

    def finish(self) -> None:
        """The answer's audio is complete: tell the track once the overflow is in it."""
        if self._overflow:
            self._finish_pending = True
            return
        track = self._model.audio_track
        if track is not None:
            track.mark_synthesis_complete()

    async def feed(self) -> None:
        """Move the overflow into the track as it plays (a task for the call's life)."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._overflow:
                track = self._model.audio_track
                room = self._ahead() - queued_samples(track) if track is not None else 0
                if room > 0:
                    take = min(room * 2, len(self._overflow))
                    chunk = bytes(self._overflow[:take])
                    del self._overflow[:take]
                    await track.add_new_bytes(chunk)
                if self._overflow:
                    await asyncio.sleep(FEED_INTERVAL_S)
            if self._finish_pending:
                self._finish_pending = False
                self.finish()
