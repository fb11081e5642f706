"""Buffers on the audio paths: append batching, the outage buffer, output framing.

Split from :mod:`.audio` (the converter) because these hold no DSP, only bytes:

* :class:`AppendBatcher`: halves the number of SDK ``append`` calls (and base64
  encodes, and WebSocket frames) at the cost of at most one batch of latency.
* :class:`PendingAudio`: a bounded buffer for audio that arrives before the session
  is ready, so the first words of a caller are not lost and memory stays bounded.
* :class:`OutputFramer`: keeps audio deltas sample-aligned for the output track.
"""

from __future__ import annotations

from collections import deque
from typing import Final, TypeAlias

__all__ = [
    "DEFAULT_APPEND_BATCH_MS",
    "AppendBatcher",
    "OutputFramer",
    "PendingAudio",
    "pcm16_bytes",
]

DEFAULT_APPEND_BATCH_MS: Final = 40.0
"""Two 20 ms pipeline frames per SDK ``append``: half the calls for 20 ms of added
latency, well below Voice Live's own turn-detection granularity."""

_S16_BYTES: Final = 2

BytesLike: TypeAlias = bytes | bytearray | memoryview
"""What the converters accept: the buffer types the framework and tests actually pass.

Deliberately not "anything with the buffer protocol": a numpy array or an
``array('h')`` passing silently would hide a caller that is feeding samples of the
wrong dtype or layout.
"""


def pcm16_bytes(sample_rate: int, duration_ms: float, channels: int = 1) -> int:
    """Byte count of ``duration_ms`` of s16 audio, always a whole number of frames.

    Whole frames matter because every size derived from a duration (batch targets,
    buffer bounds) is later used to cut audio, and a cut inside a sample misaligns
    everything after it.
    """
    if sample_rate <= 0 or channels <= 0 or duration_ms < 0:
        raise ValueError(
            f"need sample_rate > 0, channels > 0, duration_ms >= 0; got "
            f"{sample_rate}, {channels}, {duration_ms}"
        )
    return round(sample_rate * duration_ms / 1000) * _S16_BYTES * channels


class AppendBatcher:
    """Groups converted audio into SDK ``append`` calls of at least ``target_bytes``.

    Every ``append`` costs a base64 encode, a JSON event and a WebSocket frame, so
    sending two 20 ms frames at once halves that overhead. Whatever is buffered is
    released as one chunk as soon as it reaches the target, so the added latency
    never exceeds one batch, and chunks are never split: the converter already
    produces whole samples.
    """

    __slots__ = ("_chunks", "_size", "_target")

    def __init__(self, target_bytes: int) -> None:
        if target_bytes <= 0:
            raise ValueError(f"target_bytes must be positive, got {target_bytes}")
        self._target = target_bytes
        self._chunks: list[bytes] = []
        self._size = 0

    @classmethod
    def for_duration(
        cls, sample_rate: int, duration_ms: float = DEFAULT_APPEND_BATCH_MS
    ) -> AppendBatcher:
        """A batcher releasing ``duration_ms`` of mono s16 at ``sample_rate``."""
        return cls(max(pcm16_bytes(sample_rate, duration_ms), _S16_BYTES))

    @property
    def target_bytes(self) -> int:
        return self._target

    def __len__(self) -> int:
        return self._size

    def add(self, data: bytes) -> None:
        if data:
            self._chunks.append(data)
            self._size += len(data)

    def take(self) -> bytes | None:
        """Everything buffered once it reaches the target, else ``None``."""
        if self._size < self._target:
            return None
        return self.flush()

    def flush(self) -> bytes:
        """Everything buffered, however little, e.g. before a manual commit."""
        chunks = self._chunks
        if not chunks:
            return b""
        self._chunks = []
        self._size = 0
        # join() hands back a lone bytes chunk itself, without a copy.
        return b"".join(chunks)


class PendingAudio:
    """A bounded FIFO of converted audio kept while the session is not ready.

    Audio from before the session is up is still the user speaking, so it is held
    and sent once the session is ready; the bound keeps a session that never comes
    up from growing memory, and dropping the oldest bytes keeps the most recent
    (most relevant) speech. Drops are always whole samples, assuming whole
    samples went in, so the retained audio stays aligned.
    """

    __slots__ = ("_chunks", "_dropped", "_max", "_size")

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        self._max = max_bytes - max_bytes % _S16_BYTES
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._dropped = 0

    @property
    def max_bytes(self) -> int:
        return self._max

    @property
    def dropped_bytes(self) -> int:
        """Total bytes discarded to respect the bound, for logs and metrics."""
        return self._dropped

    def __len__(self) -> int:
        return self._size

    def append(self, data: bytes) -> None:
        if not data:
            return
        self._chunks.append(data)
        self._size += len(data)
        excess = self._size - self._max
        if excess > 0:
            self._drop_oldest(excess + (excess & 1))

    def _drop_oldest(self, count: int) -> None:
        self._dropped += count
        self._size -= count
        chunks = self._chunks
        while count:
            head = chunks[0]
            if len(head) <= count:
                chunks.popleft()
                count -= len(head)
            else:
                chunks[0] = head[count:]
                count = 0

    def drain(self) -> bytes:
        """Everything held, oldest first, leaving the buffer empty."""
        data = b"".join(self._chunks)
        self._chunks.clear()
        self._size = 0
        return data


class OutputFramer:
    """Keeps audio deltas for the output track an even number of bytes long.

    Voice Live may split a response's audio at any byte. The output track slices
    what it gets into s16 samples, so one odd-length delta would shift every later
    sample by a byte and turn the rest of the response into noise. A trailing odd
    byte is therefore held and prefixed to the next delta. Call :meth:`reset` at
    every new response: a byte held from a cancelled response belongs to audio
    that was never played and would misalign the next one.
    """

    __slots__ = ("_carry",)

    def __init__(self) -> None:
        self._carry = b""

    @property
    def pending(self) -> int:
        """Bytes held back (0 or 1)."""
        return len(self._carry)

    def feed(self, delta: BytesLike) -> bytes:
        if type(delta) is not bytes:
            delta = bytes(delta)
        carry = self._carry
        if carry:
            delta = carry + delta
        if len(delta) & 1:
            self._carry = delta[-1:]
            return delta[:-1]
        if carry:
            self._carry = b""
        return delta

    def reset(self) -> None:
        self._carry = b""
