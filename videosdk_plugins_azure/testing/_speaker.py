"""The agent's side of a :class:`~._room.LocalRoom`: its output track, drained like a sender.

In a meeting the WebRTC sender calls ``track.recv()`` forever, and the framework
depends on it: ``agent_speech_ended``, utterance handles and
``reply(wait_for_playback=True)`` only complete once someone drains the track.
:class:`Speaker` is that sender, and keeps every frame it pulled, stamped with
``time.monotonic()``, for tests to measure.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from . import _framework as fw
from ._aio import cancel_and_wait
from ._wire import FRAME_SECONDS, frame_mono, rms_dbfs

__all__ = ["DEFAULT_RATE", "Speaker"]

DEFAULT_RATE = 24000
"""The agent track's rate on a meeting leg, unless the model reframes it."""


class Speaker:
    """Creates the agent's output track, drains it, and records what it played.

    ``on_frame`` is called after every frame (to wake waiters); ``on_stop`` with
    the reason if the drain ends on its own, which it never does while the
    session is alive.
    """

    def __init__(
        self, on_frame: Callable[[], None], on_stop: Callable[[BaseException], None]
    ) -> None:
        self.track: Any = None
        self.frames: list[tuple[float, Any]] = []
        self.errors = 0
        self._on_frame = on_frame
        self._on_stop = on_stop
        self._task: asyncio.Task[None] | None = None

    def start(self, pipeline: Any) -> None:
        """Give ``pipeline`` its output track and start pulling it.

        Pulled from before ``session.start()``: ``on_enter`` may speak and even
        wait for playback.
        """
        self.track = fw.attach_output_track(pipeline, asyncio.get_running_loop())
        self._task = asyncio.create_task(self._drain(self.track), name="LocalRoom.drain")
        self._task.add_done_callback(self._on_done)

    async def close(self) -> list[BaseException]:
        """Stop pulling and close the track; returns what went wrong on the way."""
        errors: list[BaseException] = []
        err = await cancel_and_wait(self._task)
        if err is not None:
            errors.append(err)
        if self.track is not None:
            try:
                await fw.close_output_track(self.track)
            except Exception as e:
                errors.append(e)
        return errors

    @property
    def rate(self) -> int:
        """The track's current sample rate."""
        return int(self.track.sample_rate) if self.track is not None else DEFAULT_RATE

    async def _drain(self, track: Any) -> None:
        """Pull the track like the WebRTC sender: ``recv()`` paces itself."""
        while True:
            try:
                frame = await track.recv()
            except fw.OutputTrackEnded:
                return
            if frame is None:
                # recv() logged an internal error and returned nothing; keep the
                # clock going rather than spinning.
                self.errors += 1
                await asyncio.sleep(FRAME_SECONDS)
                continue
            self.frames.append((time.monotonic(), frame))
            self._on_frame()

    def _on_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        err = task.exception()
        self._on_stop(
            RuntimeError(f"the output drain stopped unexpectedly: {err!r}")
            if err is not None
            else RuntimeError("the agent's output track ended while the room was open")
        )

    def _since(self, since: float | None) -> Iterable[Any]:
        return (f for t, f in self.frames if since is None or t >= since)

    def audio(self, since: float | None = None) -> bytes:
        """Every frame pulled (silence included) as mono int16 PCM at the track rate."""
        chunks = [frame_mono(f) for f in self._since(since)]
        if not chunks:
            return b""
        return np.concatenate(chunks).astype("<i2").tobytes()

    def voiced_ms(self, threshold_dbfs: float = -50.0, since: float | None = None) -> float:
        """Milliseconds of frames whose RMS level exceeds ``threshold_dbfs``."""
        total = 0.0
        for frame in self._since(since):
            pcm = frame_mono(frame)
            if rms_dbfs(pcm) > threshold_dbfs:
                total += 1000.0 * pcm.shape[0] / int(frame.sample_rate or self.rate)
        return total
