"""The caller's side of a :class:`~._room.LocalRoom`: a microphone the framework listens to.

The caller's audio reaches the model the way a participant's does in a meeting:
the framework's own listener pulls a live track (:class:`~._mic.FakeMicTrack`)
and pushes every frame through ``Pipeline.on_audio_delta``. This module feeds
that track and connects it to that listener.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

from . import _framework as fw
from ._aio import cancel_and_wait
from ._mic import FakeMicTrack
from ._wire import FRAME_SECONDS, to_wire

__all__ = ["CallerLeg"]


class CallerLeg:
    """The caller's microphone ``mic``, on the meeting leg it was built for.

    ``on_stop`` is called with the reason if the framework's listener ends while
    connected, which it only does when ``handle_audio_input`` raised.
    """

    def __init__(self, mic: FakeMicTrack, on_stop: Callable[[BaseException], None]) -> None:
        self.mic = mic
        self._on_stop = on_stop
        self._listener: asyncio.Task[Any] | None = None

    def connect(self, pipeline: Any) -> None:
        """Start the framework's listener on the microphone, as the room does when a
        participant's audio stream is enabled."""
        self._listener = fw.start_audio_listener(pipeline, self.mic)
        self._listener.add_done_callback(self._on_done)

    async def say(self, audio: Any, *, rate: int, channels: int) -> None:
        """Queue ``audio`` (see :meth:`LocalRoom.play`); returns once the listener took it all."""
        pcm = to_wire(
            audio,
            rate=rate,
            channels=channels,
            wire_rate=self.mic.rate,
            wire_channels=self.mic.channels,
        )
        await self.mic.enqueue(self.mic.split(pcm))

    async def pause(self, seconds: float) -> None:
        """Queue ``seconds`` of line noise, like speech."""
        n = max(0, math.ceil(seconds / FRAME_SECONDS - 1e-9))
        await self.mic.enqueue(self.mic.noise_frames(n))

    async def hang_up(self) -> list[BaseException]:
        """Fail whatever is still queued, stop the track and the listener; returns what
        went wrong on the way."""
        self.mic.fail_pending(RuntimeError("the LocalRoom closed before this audio was consumed"))
        self.mic.stop()
        err = await cancel_and_wait(self._listener)
        return [] if err is None else [err]

    def _on_done(self, task: asyncio.Task[Any]) -> None:
        self._on_stop(
            RuntimeError(
                "the framework's audio listener stopped: on_audio_delta/handle_audio_input "
                "raised (the exception is in the log, from videosdk.agents.room._input_stream)"
            )
        )
