"""Draining a video track the way the meeting's sender does, keeping what it showed.

Offline there is no WebRTC sender to call the agent's video track, so nothing
would ever be shown. :class:`VideoRecorder` is that sender: a task that calls
``track.recv()`` until the track ends, noting when each frame came out on the
monotonic clock (the clock ``LocalRoom`` stamps the agent's audio frames with),
so a test can line picture and sound up. It keeps at most ``keep`` frames, or
hands each to ``on_frame`` (the demo's MP4 writer) instead of keeping it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from vsaiortc.mediastreams import MediaStreamError

__all__ = ["RecordedFrame", "VideoRecorder"]

RecordedFrame = tuple[float, Any]
"""``(time.monotonic() when the frame came out, the frame)``."""


class VideoRecorder:
    """Calls ``track.recv()`` in a task of its own until :meth:`aclose` or the track's end."""

    def __init__(
        self,
        track: Any,
        *,
        keep: int = 3000,
        on_frame: Callable[[float, Any], None] | None = None,
    ) -> None:
        self.track = track
        self.frames: deque[RecordedFrame] = deque(maxlen=keep)
        self._on_frame = on_frame
        self.count = 0
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> VideoRecorder:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._drain())
        return self

    async def _drain(self) -> None:
        try:
            with contextlib.suppress(MediaStreamError):
                while True:
                    frame = await self.track.recv()
                    stamp = time.monotonic()
                    self.count += 1
                    if self._on_frame is not None:
                        self._on_frame(stamp, frame)
                    else:
                        self.frames.append((stamp, frame))
                    self._changed.set()
        finally:
            self._changed.set()  # a waiter learns the track ended

    async def wait_for(self, count: int, timeout: float) -> None:
        """Until ``count`` frames came out in all (``TimeoutError`` otherwise)."""
        async with asyncio.timeout(timeout):
            while self.count < count:
                self._changed.clear()
                if self._task is not None and self._task.done():
                    self._task.result()
                    raise RuntimeError("the video track ended")
                await self._changed.wait()

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def __aenter__(self) -> VideoRecorder:
        return self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
