"""A response's avatar video on the wire: ``response.video.delta`` events beside its audio.

Only sessions with ``avatar.output_protocol: "websocket"`` get any: for every other
session :func:`response_video` returns ``None`` and nothing here runs (no encoder is
made, no frame drawn).

The video follows the response's own audio: frame ``i`` shows the slice
``[i / fps, (i + 1) / fps)`` of it and its mouth opens with that slice's level.
Before each audio chunk goes out, the frames up to :data:`LEAD_FRAMES` past the
chunk's end are encoded (in an executor) and sent, so the picture is always on the
wire before the sound it shows. The bytes are cut into deltas the way the service
cuts them, not on fragment boundaries: a few bytes of each batch wait for the
next one, so a client must demux a stream, never a delta. When the response ends
(or is cancelled) what is left goes out at once, so every frame of a response
arrives while it is the response being generated.

An encode batch is awaited to its end even when the response is cancelled meanwhile
(it lasts milliseconds): abandoning it would leave its bytes for the next
response, where a client would take them for that response's frames. For the same
reason a batch is sent under the stream's lock: the stream's bytes stay in order.
"""

from __future__ import annotations

import asyncio
import base64
import weakref
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from ..protocol.avatar import VIDEO_CODEC
from ..protocol.events import ServerEvent, event
from ._avatar_face import envelope
from ._avatar_video import AvatarEncoder
from ._response_stream import ResponseHost
from ._session_avatar import websocket_avatar

__all__ = ["LEAD_FRAMES", "MAX_DELTA_BYTES", "ResponseVideo", "response_video"]

LEAD_FRAMES = 2
"""Frames sent ahead of the audio chunk that goes out with them."""
MAX_DELTA_BYTES = 24 * 1024
"""Raw video bytes per ``response.video.delta`` at most (32 KiB once in base64)."""
_HELD_BACK = (1, 13, 5, 29, 3)
"""Bytes each batch keeps for the next, in turn: deltas never end on a fragment."""


class _SessionVideo:
    """One session's MP4 stream: its encoder, and the bytes not yet sent."""

    def __init__(self, session: Mapping[str, Any]) -> None:
        self.encoder = AvatarEncoder.for_session(session)
        self.pending = bytearray()
        self.batches = 0
        self.lock = asyncio.Lock()


_STREAMS: weakref.WeakKeyDictionary[Any, _SessionVideo] = weakref.WeakKeyDictionary()
"""Connection (the response host) → its stream; it goes when the connection does."""


def response_video(
    host: ResponseHost, samples: npt.NDArray[np.int16], rate: int, output_index: int
) -> ResponseVideo | None:
    """The video of a response about to speak ``samples``, or ``None`` without an avatar."""
    session = host.session
    if not websocket_avatar(session):
        return None
    stream = _STREAMS.get(host)
    if stream is None:
        stream = _STREAMS[host] = _SessionVideo(session)
    return ResponseVideo(host, stream, samples, rate, output_index)


class ResponseVideo:
    """The frames of one response, encoded and sent ahead of its audio."""

    def __init__(
        self,
        host: ResponseHost,
        stream: _SessionVideo,
        samples: npt.NDArray[np.int16],
        rate: int,
        output_index: int,
    ) -> None:
        self._host = host
        self._stream = stream
        self._samples = samples
        self._rate = rate
        self._output_index = output_index
        fps = stream.encoder.fps
        self._fps = fps
        self._total = -(-len(samples) * fps // rate)
        self._done = 0

    async def send_until(self, ms: float) -> None:
        """Frames up to ``LEAD_FRAMES`` past ``ms`` of the response's audio are on the wire."""
        target = min(self._total, int(ms * self._fps / 1000) + 1 + LEAD_FRAMES)
        await self._send(target, final=False)

    async def finish(self) -> None:
        """Everything encoded so far goes out (the response ended or was cancelled)."""
        await self._send(self._done, final=True)

    async def _send(self, target: int, *, final: bool) -> None:
        stream = self._stream
        async with stream.lock:
            if target > self._done:
                openings = envelope(
                    self._samples, self._rate, self._fps, self._done, target - self._done
                )
                key_first = self._done == 0
                self._done = target
                loop = asyncio.get_running_loop()
                stream.pending += await loop.run_in_executor(
                    None, lambda: stream.encoder.encode(openings, key_first=key_first)
                )
            held = 0 if final else _HELD_BACK[stream.batches % len(_HELD_BACK)]
            stream.batches += 1
            cut = max(0, len(stream.pending) - held)
            data = bytes(stream.pending[:cut])
            del stream.pending[:cut]
            for start in range(0, len(data), MAX_DELTA_BYTES):
                piece = data[start : start + MAX_DELTA_BYTES]
                await self._host.send(
                    event(
                        ServerEvent.RESPONSE_VIDEO_DELTA,
                        output_index=self._output_index,
                        codec=VIDEO_CODEC,
                        delta=base64.b64encode(piece).decode("ascii"),
                    )
                )
