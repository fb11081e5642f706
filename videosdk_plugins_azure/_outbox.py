"""The one ordered path from the plugin to the socket.

Everything the plugin sends goes through here, in order, sent by a single task. The
framework's hooks therefore never wait on the network (``handle_audio_input`` is
awaited inline in the meeting's receive loop), and a slow socket cannot make memory
grow: audio is bounded and its oldest chunks are dropped and counted, while
control events (session updates, items, responses, truncations) are never dropped.

Audio stays raw PCM here until it is sent: a bound can trim it, and the sender
builds the ``input_audio_buffer.append`` frame from it directly (see
:mod:`._fast_events`). While nothing is queued, the transport sends caller audio
at once instead, which cannot change the order.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from typing import Any, TypeAlias

__all__ = ["MAX_CONTROL_EVENTS", "Outbox", "Outgoing"]

Outgoing: TypeAlias = dict[str, Any] | bytes
"""What the sender takes from the outbox: a client event, or caller PCM for an append."""

MAX_CONTROL_EVENTS = 256
"""Control events queued behind a socket that is down or slow before the app's own
requests (text turns, ``say``) are refused with an error; the call's own events are
always queued."""


@dataclass
class _Entry:
    event: dict[str, Any] | None
    audio: bytes = b""
    """Raw PCM for an append; encoded only when sent, so a bound can trim it."""

    @property
    def audio_bytes(self) -> int:
        return len(self.audio)


class Outbox:
    """A FIFO of client events; audio entries are bounded by ``max_audio_bytes``."""

    def __init__(self, max_audio_bytes: int, max_control: int = MAX_CONTROL_EVENTS) -> None:
        self._entries: deque[_Entry] = deque()
        self._audio_bytes = 0
        self._control = 0
        self.max_control = max_control
        self.max_audio_bytes = max_audio_bytes
        self.dropped_audio_bytes = 0
        self.dropped_audio_chunks = 0
        self._ready = asyncio.Event()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def audio_bytes(self) -> int:
        return self._audio_bytes

    @property
    def control_full(self) -> bool:
        """Whether the app's own requests are refused for now (:data:`MAX_CONTROL_EVENTS`)."""
        return self._control >= self.max_control

    def put(self, event: dict[str, Any], *, urgent: bool = False) -> None:
        """Queue a control event; ``urgent`` ones (a cancel) go before queued audio."""
        self._control += 1
        if urgent:
            self._entries.appendleft(_Entry(event))
        else:
            self._entries.append(_Entry(event))
        self._ready.set()

    def put_audio(self, pcm: bytes) -> None:
        """Queue caller audio; beyond the bound, the oldest audio goes (counted)."""
        if len(pcm) > self.max_audio_bytes:
            cut = len(pcm) - self.max_audio_bytes
            cut += cut % 2
            self.dropped_audio_bytes += cut
            self.dropped_audio_chunks += 1
            pcm = pcm[cut:]
        self._entries.append(_Entry(None, pcm))
        self._audio_bytes += len(pcm)
        if self._audio_bytes > self.max_audio_bytes:
            self._drop_oldest_audio()
        self._ready.set()

    def _drop_oldest_audio(self) -> None:
        kept: deque[_Entry] = deque()
        while self._entries and self._audio_bytes > self.max_audio_bytes:
            entry = self._entries.popleft()
            if entry.audio_bytes:
                self._audio_bytes -= entry.audio_bytes
                self.dropped_audio_bytes += entry.audio_bytes
                self.dropped_audio_chunks += 1
            else:
                kept.append(entry)
        self._entries.extendleft(reversed(kept))

    async def get(self) -> Outgoing:
        while not self._entries:
            self._ready.clear()
            await self._ready.wait()
        entry = self._entries.popleft()
        if entry.event is not None:
            self._control -= 1
            return entry.event
        self._audio_bytes -= entry.audio_bytes
        return entry.audio

    def put_back(self, item: Outgoing) -> None:
        """Return what failed to send to the front, to go out on the next connection.

        Audio goes back as audio, so the bound still holds: it is the oldest, and
        the first to go if newer audio fills the outbox meanwhile.
        """
        if not isinstance(item, bytes):
            self.put(item, urgent=True)
            return
        self._entries.appendleft(_Entry(None, item))
        self._audio_bytes += len(item)
        if self._audio_bytes > self.max_audio_bytes:
            self._drop_oldest_audio()
        self._ready.set()

    def discard(self, event_type: str) -> int:
        """Drop queued control events of one type (requests re-issued from the call state)."""
        before = len(self._entries)
        self._entries = deque(
            e for e in self._entries if e.event is None or e.event.get("type") != event_type
        )
        dropped = before - len(self._entries)
        self._control -= dropped
        return dropped
