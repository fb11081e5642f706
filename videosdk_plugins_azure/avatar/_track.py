"""The agent's video track: the avatar frame of the moment, at the configured rate and size.

A ``videosdk`` custom video track (an aiortc ``MediaStreamTrack``): the meeting's
sender calls :meth:`AvatarVideoTrack.recv` in a loop and sends what it returns.
``recv`` keeps the configured frame rate against a monotonic clock, asks its
``source`` for the frame to show now (the avatar timeline, see
:mod:`..core.avatar`) and shows a plain dark frame until the avatar's first one.
"""

from __future__ import annotations

import asyncio
import fractions
import time
from collections.abc import Callable
from typing import Any

import av
import numpy as np
from videosdk.custom_video_track import CustomVideoTrack
from vsaiortc.mediastreams import MediaStreamError

__all__ = ["VIDEO_CLOCK_RATE", "AvatarVideoTrack", "blank_frame"]

VIDEO_CLOCK_RATE = 90000
"""RTP's video clock: the track's timestamps count in these ticks."""
_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK_RATE)


def blank_frame(width: int, height: int) -> Any:
    """A black ``yuv420p`` frame (shown before the avatar's first frame arrives)."""
    planes = np.empty((height * 3 // 2, width), np.uint8)
    planes[:height] = 16
    planes[height:] = 128
    return av.VideoFrame.from_ndarray(planes, format="yuv420p")


class AvatarVideoTrack(CustomVideoTrack):  # type: ignore[misc]
    """Frames from ``source`` (``None``: nothing to show yet), paced at ``frame_rate``."""

    kind = "video"

    def __init__(self, width: int, height: int, frame_rate: int, source: Callable[[], Any]) -> None:
        super().__init__()
        self.width = width
        self.height = height
        self.frame_rate = frame_rate
        self._source = source
        self._blank = blank_frame(width, height)
        self._count = 0
        self._started: float | None = None
        self.frames_sent = 0
        """Frames handed to the sender, the blank ones included."""

    async def recv(self) -> Any:
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        if self._started is None:
            self._started = now
        else:
            self._count += 1
            wait = self._started + self._count / self.frame_rate - now
            if wait > 0:
                await asyncio.sleep(wait)
        frame = self._source()
        if frame is None:
            frame = self._blank
        frame.pts = self._count * VIDEO_CLOCK_RATE // self.frame_rate
        frame.time_base = _TIME_BASE
        self.frames_sent += 1
        return frame
