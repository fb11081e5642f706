"""The avatar in the meeting: decoder, timeline and video track of one call, wired together.

The adapter makes one :class:`AvatarOutput` when the config has an avatar and hands
it the core's :class:`~..core.avatar.VideoPiece` effects. Pieces go to a
:class:`~._decoder.StreamDecoder` (one per connection, as each connection's
video is a new MP4 stream); decoded frames come back to the event loop and into
the core's :class:`~..core.avatar.AvatarTimeline`; the
:class:`~._track.AvatarVideoTrack` asks the timeline for the frame at the audio
track's playback position each time the meeting's sender wants one.

The playback position is the audio track's own count of samples played
(``snapshot_playback``), anchored at the start of the call, which is the
timeline the core places each answer's first sample on: picture and sound are
read off one clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from ..config import AvatarVideo
from ..core.avatar import AvatarTimeline, VideoPiece
from ..core.responses import CallState
from ._decoder import DecodedFrame, StreamDecoder
from ._publish import publish
from ._track import AvatarVideoTrack

__all__ = ["DECODED_BYTES", "AvatarOutput"]

log = logging.getLogger("videosdk_plugins_azure")

DECODED_BYTES = 96 * 1024 * 1024
"""Decoded frames held ahead of playback at most, in bytes (sets the frame count)."""
_JOIN_S = 2.0


class AvatarOutput:
    """One call's avatar: feed it pieces, read ``track`` (publish it), close it at the end.

    ``model`` is the realtime model whose ``audio_track`` plays the answers (read at
    every frame: the pipeline may replace the track).
    """

    def __init__(self, model: Any, calls: CallState, video: AvatarVideo) -> None:
        self._model = model
        self.video = video
        self.timeline = AvatarTimeline(calls)
        self.track = AvatarVideoTrack(video.width, video.height, video.frame_rate, self._now)
        self._decoder: StreamDecoder | None = None
        self._stream: int | None = None
        self._retired: list[StreamDecoder] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self.max_ahead = max(8, DECODED_BYTES // (video.width * video.height * 3 // 2))

    @property
    def frames_decoded(self) -> int:
        return sum(d.frames for d in (*self._retired, self._decoder) if d is not None)

    async def run(self) -> None:
        """A task for the call's life: publishes the track, closes everything when cancelled."""
        self._loop = asyncio.get_running_loop()
        try:
            pending = publish(self.track)
            if pending is not None:
                await pending
            await asyncio.Event().wait()
        finally:
            await self.aclose()

    def feed(self, piece: VideoPiece) -> None:
        """A piece of the stream, from the core (on the event loop)."""
        if self._closed:
            return
        self._loop = self._loop or asyncio.get_running_loop()
        if self._stream != piece.stream or self._decoder is None:
            self._new_stream(piece.stream)
        assert self._decoder is not None
        self._decoder.feed(piece.data, piece.response_id)

    def _new_stream(self, stream: int) -> None:
        """A new connection's MP4: the old stream's frames still decode (their audio plays on)."""
        if self._decoder is not None:
            self._decoder.end()
            self._retired.append(self._decoder)
        self._stream = stream
        self._decoder = StreamDecoder(
            (self.video.width, self.video.height), self._from_thread, max_ahead=self.max_ahead
        )

    def _from_thread(self, decoded: DecodedFrame) -> None:
        loop = self._loop
        if loop is None or self._closed:
            return
        with contextlib.suppress(RuntimeError):  # the loop closed under the thread
            loop.call_soon_threadsafe(self._add, decoded)

    def _add(self, decoded: DecodedFrame) -> None:
        if self._closed:
            return
        before = self.timeline.queued
        self.timeline.add(decoded.tag, decoded.seconds, decoded.frame)
        self._consumed(before + 1 - self.timeline.queued)

    def _now(self) -> Any:
        """The frame to show now (the track's source)."""
        self.timeline.rate = int(getattr(self._model, "output_sampling_rate", self.timeline.rate))
        track = getattr(self._model, "audio_track", None)
        if track is None:
            return self.timeline.shown
        played, _ = track.snapshot_playback()
        before = self.timeline.queued
        frame = self.timeline.show(int(played))
        self._consumed(before - self.timeline.queued)
        return frame

    def _consumed(self, count: int) -> None:
        """Frames let go make room in every decoder still running (an old stream's tail
        too: which stream a dropped frame came from is not worth tracking)."""
        if count > 0:
            for decoder in (*self._retired, self._decoder):
                if decoder is not None:
                    decoder.consumed(count)

    async def aclose(self) -> None:
        """Stop decoding, end the track, and wait for the decoder threads."""
        if self._closed:
            return
        self._closed = True
        decoders = [d for d in (*self._retired, self._decoder) if d is not None]
        for decoder in decoders:
            decoder.close()
        self.track.stop()
        for decoder in decoders:
            await asyncio.to_thread(decoder.join, _JOIN_S)
