"""``conversation.mp4``: the agent's video track as the meeting saw it, with the call's audio.

The offline demo's ``--avatar`` records the agent's video track while the call runs
(:class:`~videosdk_plugins_azure.avatar.VideoRecorder` drains it the way the
meeting's sender would) and encodes each frame as it comes out, in a thread, at
the moment it came out: a frame held between answers lasts as long as it was on
screen. When the call is over, :meth:`AvatarMovie.write` puts that video and the
call's stereo audio (caller left, agent right, the same samples as
``conversation.wav``) into one MP4 on the same clock.
"""

from __future__ import annotations

import asyncio
import fractions
import queue
import threading
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from videosdk_plugins_azure.avatar import VideoRecorder
from videosdk_plugins_azure.emulator import lip_sync, mouth_opening
from videosdk_plugins_azure.testing import LocalRoom

__all__ = ["AvatarMovie", "avatar_note"]

_MS = fractions.Fraction(1, 1000)
_BACKLOG = 250
"""Frames waiting for the encoder at most; beyond, frames are skipped (and counted)."""


class AvatarMovie:
    """Records ``track`` from now on; ``t0`` is the call's clock (``time.monotonic()``)."""

    def __init__(self, track: Any, scratch: Path, t0: float) -> None:
        self._track = track
        self._t0 = t0
        self._scratch = scratch
        self._queue: queue.Queue[tuple[int, Any] | None] = queue.Queue(_BACKLOG)
        self._recorder = VideoRecorder(track, on_frame=self._frame)
        self._thread = threading.Thread(target=self._encode, name="avatar-movie", daemon=True)
        self.frames = 0
        self.skipped = 0
        self.mouths: list[tuple[float, float]] = []
        """``(stamp, mouth opening)`` of each frame shown (the emulator's face only)."""
        self._error: BaseException | None = None

    async def start(self) -> AvatarMovie:
        self._scratch.parent.mkdir(parents=True, exist_ok=True)
        self._thread.start()
        self._recorder.start()
        return self

    def _frame(self, stamp: float, frame: Any) -> None:
        self.mouths.append((stamp, mouth_opening(frame.to_ndarray()[: frame.height])))
        try:
            self._queue.put_nowait((round((stamp - self._t0) * 1000), frame))
        except queue.Full:
            self.skipped += 1

    def _encode(self) -> None:
        try:
            with av.open(str(self._scratch), "w") as out:
                stream: Any = out.add_stream("libx264", rate=self._track.frame_rate)
                stream.width, stream.height = self._track.width, self._track.height
                stream.pix_fmt, stream.time_base = "yuv420p", _MS
                stream.codec_context.time_base = _MS  # frames keep their own milliseconds
                # no B-frames: frames held on screen come at uneven times, and with
                # reordering their decode times could collide
                stream.codec_context.options = {"preset": "veryfast", "tune": "zerolatency"}
                last = -1
                while (item := self._queue.get()) is not None:
                    at, frame = item
                    if at <= last:
                        continue
                    picture = av.VideoFrame.from_ndarray(frame.to_ndarray(), format="yuv420p")
                    picture.pts, picture.time_base, last = at, _MS, at
                    out.mux(stream.encode(picture))
                    self.frames += 1
                out.mux(stream.encode(None))
        except BaseException as error:  # reported by write(), on the caller's thread
            self._error = error

    async def stop(self) -> None:
        """Stop recording (the call is over) and let the encoder finish."""
        await self._recorder.aclose()
        while self._thread.is_alive():  # a dead encoder leaves a full queue behind
            try:
                self._queue.put(None, timeout=0.1)
                break
            except queue.Full:
                continue
        await asyncio.to_thread(self._thread.join)
        if self._error is not None:
            raise self._error

    def write(
        self,
        path: Path,
        caller: npt.NDArray[np.int16],
        agent: npt.NDArray[np.int16],
        rate: int = 24000,
    ) -> Path:
        """``path``: the recorded video and the call's audio (``caller`` left, ``agent`` right)."""
        length = max(len(caller), len(agent))
        stereo = np.zeros((length, 2), np.int16)
        stereo[: len(caller), 0], stereo[: len(agent), 1] = caller, agent
        with av.open(str(self._scratch)) as source, av.open(str(path), "w") as out:
            video_in = source.streams.video[0]
            video_out = out.add_stream_from_template(video_in)
            audio: Any = out.add_stream("aac", rate=rate, layout="stereo")
            for packet in source.demux(video_in):
                if packet.dts is not None:
                    packet.stream = video_out
                    out.mux(packet)
            step = 1024
            for start in range(0, length, step):
                block = np.ascontiguousarray(stereo[start : start + step].reshape(1, -1))
                frame = av.AudioFrame.from_ndarray(block, format="s16", layout="stereo")
                frame.sample_rate, frame.pts = rate, start
                out.mux(audio.encode(frame))
            out.mux(audio.encode(None))
        self._scratch.unlink(missing_ok=True)
        return path


def avatar_note(movie: AvatarMovie, room: LocalRoom, *, offline: bool) -> str:
    """One line for the summary: what was filmed, and offline the lip-sync figure.

    The figure is :func:`~videosdk_plugins_azure.emulator._avatar_sync.lip_sync` over
    the whole call: the mouth read back from each frame shown against the agent's
    audio as its track played it. Against the real service the face is not the
    emulator's, so there is no mouth to read back.
    """
    note = f"avatar: {movie.frames} video frames in conversation.mp4"
    if movie.skipped:
        note += f" ({movie.skipped} skipped: the encoder fell behind)"
    audio = [
        (t, np.asarray(f.to_ndarray()).reshape(-1).astype(np.int16), f.sample_rate)
        for t, f in room.output_frames
    ]
    if not offline or not audio or not movie.mouths:
        return note
    span = (movie.mouths[0][0], movie.mouths[-1][0])
    sync = lip_sync(audio, movie.mouths, span)
    return f"{note}; lip sync: picture {sync.offset_ms:+.0f} ms vs voice (r={sync.correlation:.2f})"
