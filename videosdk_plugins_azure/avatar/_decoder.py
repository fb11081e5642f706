"""One avatar video stream (a fragmented MP4), demuxed and decoded in a thread of its own.

``response.video.delta`` pieces are not aligned to MP4 fragments, so PyAV's
demuxer reads them as one byte stream from :class:`_Pipe`, a blocking file the
event loop writes into. Decoding is CPU work and PyAV's reads block, so both run
on a dedicated thread (an executor worker would be held for the whole call).

Each piece is fed with a *tag* (the response it arrived during); a decoded frame
gets the tag of the piece holding its first byte (``packet.pos``), so frames are
attributed by where their bytes were, never by when the thread got to them.

Bounded both ways: at most :data:`MAX_PENDING_BYTES` of undecoded input (beyond
that the stream is abandoned: losing bytes would corrupt every later frame), and
at most ``max_ahead`` decoded frames not yet consumed (the thread waits for the
consumer, so memory does not grow with how far the service runs ahead). Any
failure ends the stream with one warning: the call's audio never depends on it.
"""

from __future__ import annotations

import bisect
import io
import logging
import threading
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import av

__all__ = ["MAX_BAD_PACKETS", "MAX_PENDING_BYTES", "DecodedFrame", "StreamDecoder", "sniff"]

log = logging.getLogger("videosdk_plugins_azure")

MAX_PENDING_BYTES = 32 * 1024 * 1024
"""Undecoded video held at most (two minutes of a 2 Mbit/s avatar)."""
MAX_BAD_PACKETS = 25
"""Packets in a row that decode to nothing before the stream is given up (a second)."""
_OPEN_OPTIONS = {"probesize": "32", "analyzeduration": "0"}
"""Start decoding from the init segment alone instead of buffering seconds first."""


_MP4_BOXES = frozenset({b"ftyp", b"styp", b"moov", b"moof", b"free"})
_START_CODES = (b"\x00\x00\x00\x01", b"\x00\x00\x01")


def sniff(head: bytes) -> str | None:
    """The demuxer for a stream that begins with ``head``: ``mp4``, ``h264`` or ``None``.

    The service's stream is a fragmented MP4 (:mod:`..protocol.avatar`); a raw
    H.264 elementary stream is read too, in case a service version sends one.
    """
    if head[4:8] in _MP4_BOXES:
        return "mp4"
    if head.startswith(_START_CODES):
        return "h264"
    return None


@dataclass(frozen=True, slots=True)
class DecodedFrame:
    """A frame ready for the meeting: its tag, its stream time, the picture."""

    tag: Hashable
    seconds: float
    """Presentation time on the stream's own clock."""
    frame: Any
    """An ``av.VideoFrame`` in ``yuv420p`` at the track's size."""


class _Pipe(io.RawIOBase):
    """A blocking read end over pieces pushed from another thread."""

    def __init__(self) -> None:
        self._pieces: deque[bytes] = deque()
        self._lock = threading.Condition()
        self._head = memoryview(b"")
        self.pending = 0
        self.closed_for_writing = False

    def readable(self) -> bool:
        return True

    def push(self, data: bytes) -> None:
        with self._lock:
            self._pieces.append(data)
            self.pending += len(data)
            self._lock.notify()

    def end(self) -> None:
        with self._lock:
            self.closed_for_writing = True
            self._lock.notify()

    def peek(self, count: int) -> bytes:
        """The first ``count`` bytes not read yet (fewer at the end), waiting for them."""
        with self._lock:
            while self.pending < count and not self.closed_for_writing:
                self._lock.wait()
            head = bytes(self._head[:count])
            for piece in self._pieces:
                if len(head) >= count:
                    break
                head += piece[: count - len(head)]
            return head

    def readinto(self, buffer: Any) -> int:
        if not self._head:
            with self._lock:
                while not self._pieces and not self.closed_for_writing:
                    self._lock.wait()
                if not self._pieces:
                    return 0
                self._head = memoryview(self._pieces.popleft())
        count = min(len(buffer), len(self._head))
        buffer[:count] = self._head[:count]
        self._head = self._head[count:]
        with self._lock:
            self.pending -= count
        return count


class StreamDecoder:
    """Feeds one stream to PyAV and hands each decoded frame to ``on_frame`` (from the thread).

    ``size`` is the ``(width, height)`` frames are scaled to. Call :meth:`consumed`
    as frames are let go, and :meth:`close` (stop now) or :meth:`end` (decode the rest)
    at the end, then :meth:`join` the thread.
    """

    def __init__(
        self,
        size: tuple[int, int],
        on_frame: Callable[[DecodedFrame], None],
        *,
        max_ahead: int,
        name: str = "avatar-video",
    ) -> None:
        self._size = size
        self._on_frame = on_frame
        self._max_ahead = max(1, max_ahead)
        self._pipe = _Pipe()
        self._offsets: list[int] = []
        self._tags: list[Hashable] = []
        self._fed = 0
        self._ahead = 0
        self._gate = threading.Condition()
        self._stopping = False
        self.failed = False
        self.frames = 0
        """Frames decoded so far."""
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._started = False

    def feed(self, data: bytes, tag: Hashable) -> bool:
        """Queue one piece of the stream; ``False`` once the stream was given up."""
        if self.failed or self._stopping:
            return False
        if self._pipe.pending + len(data) > MAX_PENDING_BYTES:
            self._give_up("the avatar video arrives faster than it can be decoded")
            return False
        with self._gate:
            self._offsets.append(self._fed)
            self._tags.append(tag)
        self._fed += len(data)
        self._pipe.push(data)
        if not self._started:
            self._started = True
            self._thread.start()
        return True

    def consumed(self, count: int) -> None:
        """``count`` decoded frames were let go: the thread may decode as many more."""
        if count <= 0:
            return
        with self._gate:
            self._ahead = max(0, self._ahead - count)
            self._gate.notify()

    def end(self) -> None:
        """No more input: the thread decodes what it has, then stops."""
        self._pipe.end()

    def close(self) -> None:
        """Stop now: what is not decoded yet never will be."""
        with self._gate:
            self._stopping = True
            self._gate.notify()
        self._pipe.end()

    def join(self, timeout: float) -> None:
        if self._started:
            self._thread.join(timeout)

    def _give_up(self, why: str) -> None:
        if not self.failed:
            self.failed = True
            log.warning("avatar video stopped (%s); the call's audio goes on", why)
        self.close()

    def _tag_at(self, position: int | None) -> Hashable:
        with self._gate:
            if position is None or not self._offsets:
                return self._tags[-1] if self._tags else None
            index = max(0, bisect.bisect_right(self._offsets, position) - 1)
            if index > 64:  # what lies before the frame being decoded is never asked for
                del self._offsets[: index - 1], self._tags[: index - 1]
                index = 1
            return self._tags[index]

    def _run(self) -> None:
        container_format = sniff(self._pipe.peek(8))
        if container_format is None:
            if not self._stopping:
                self._give_up("the stream is neither a fragmented MP4 nor H.264")
            return
        try:
            with av.open(
                self._pipe, "r", format=container_format, options=_OPEN_OPTIONS
            ) as container:
                stream = container.streams.video[0]
                stream.thread_type = "NONE"  # a frame out per packet in: no decoder delay
                failures = 0
                for packet in container.demux(stream):
                    if self._stopping:  # closed: the last packet may be cut short, skip it
                        return
                    tag = self._tag_at(packet.pos)
                    try:
                        frames = packet.decode()
                    except av.FFmpegError:
                        frames = []
                    failures = 0 if frames or packet.size == 0 else failures + 1
                    if failures > MAX_BAD_PACKETS:
                        self._give_up(f"{failures} packets in a row did not decode")
                        return
                    for frame in frames:
                        if not self._deliver(tag, frame):
                            return
        except Exception as error:  # a broken stream must never reach the call
            if not self._stopping:
                self._give_up(f"{type(error).__name__}: {error}")

    def _deliver(self, tag: Hashable, frame: Any) -> bool:
        with self._gate:
            while self._ahead >= self._max_ahead and not self._stopping:
                self._gate.wait()
            if self._stopping:
                return False
            self._ahead += 1
        width, height = self._size
        picture = frame.reformat(width=width, height=height, format="yuv420p")
        seconds = float(frame.time) if frame.time is not None else 0.0
        self.frames += 1
        self._on_frame(DecodedFrame(tag, seconds, picture))
        return True
