"""Probes that give both ends of a call one clock (``time.monotonic()``), in one process.

* :class:`ServerClock` stamps every event the in-process emulator sends, right
  after its WebSocket frame was written;
* :class:`TrackProbe` stamps the agent's output track: when audio bytes have
  become frames in its buffer, and what every ``interrupt()`` flushed.

The clock listens through the emulator's public observer hook. The probe patches the
framework's track class for the duration of a ``with`` block and restores it after,
so it observes the real framework without changing it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .common import b64_size

__all__ = ["Interrupt", "ServerClock", "Stamp", "TrackProbe", "queued_samples"]


@dataclass
class Stamp:
    """One server event the emulator sent, and when (``time.monotonic()``)."""

    t: float
    type: str
    connection: int
    response_id: str | None = None
    item_id: str | None = None
    audio_bytes: int = 0
    audio_b64: str | None = None
    status: str | None = None


class ServerClock:
    """Stamps every event the in-process emulator sends, right after it is written.

    The emulator records each server event only after ``send_str`` has handed
    the frame to the socket, so stamping at the record is stamping at the
    write (:meth:`VoiceLiveEmulator.observe`). Audio payloads are kept only when
    ``keep_audio`` is set.
    """

    def __init__(self, keep_audio: bool = False) -> None:
        self.stamps: list[Stamp] = []
        self.keep_audio = keep_audio

    def watch(self, emulator: Any) -> None:
        """Stamp ``emulator``'s server events from now on, for as long as it runs."""

        def observe(connection: Any, source: str, event: Any) -> None:
            if source == "server":
                self._note(connection.index, event)

        emulator.observe(observe)

    def _note(self, connection: int, event: dict[str, Any]) -> None:
        now = time.monotonic()
        kind = str(event.get("type"))
        stamp = Stamp(now, kind, connection)
        if kind == "response.audio.delta":
            delta = event.get("delta") or ""
            stamp.response_id = event.get("response_id")
            stamp.item_id = event.get("item_id")
            stamp.audio_bytes = b64_size(delta)
            if self.keep_audio:
                stamp.audio_b64 = delta
        elif kind in ("response.created", "response.done"):
            response = event.get("response") or {}
            stamp.response_id = response.get("id")
            stamp.status = response.get("status")
        elif kind == "response.output_item.added":
            stamp.response_id = event.get("response_id")
            stamp.item_id = (event.get("item") or {}).get("id")
        self.stamps.append(stamp)

    def of(self, kind: str) -> list[Stamp]:
        return [s for s in self.stamps if s.type == kind]

    def count(self, kind: str) -> int:
        return sum(1 for s in self.stamps if s.type == kind)


@dataclass
class Interrupt:
    """One ``interrupt()`` on the agent's track: when, and what it left queued."""

    t: float
    queued_before: int
    """Samples queued (not yet played) before the call."""
    queued_after: int
    tail_pending_before: bool
    """The framework's flag that turns interrupt() into a no-op until re-enabled."""


@dataclass
class TrackProbe:
    """Observes the framework's ``TeeCustomAudioStreamTrack`` (the agent's speaker).

    ``adds`` holds ``(time, cumulative bytes offered)`` stamped when
    ``add_new_bytes`` returns, i.e. when the audio is in the track's frame
    buffer, ready for the next ``recv()``. ``interrupts`` records every flush.
    """

    adds: list[tuple[float, int]] = field(default_factory=list)
    interrupts: list[Interrupt] = field(default_factory=list)
    _offered: int = 0

    @contextlib.contextmanager
    def installed(self) -> Iterator[TrackProbe]:
        from videosdk.agents.room.output_stream import (
            CustomAudioStreamTrack,
            TeeCustomAudioStreamTrack,
        )

        probe = self
        original_add = TeeCustomAudioStreamTrack.add_new_bytes
        had_interrupt = "interrupt" in TeeCustomAudioStreamTrack.__dict__
        original_interrupt = TeeCustomAudioStreamTrack.interrupt

        async def add_new_bytes(track: Any, audio_data: bytes) -> None:
            await original_add(track, audio_data)
            probe._offered += len(audio_data)
            probe.adds.append((time.monotonic(), probe._offered))

        def interrupt(track: Any) -> None:
            before = queued_samples(track)
            pending = bool(getattr(track, "_faded_tail_pending", False))
            CustomAudioStreamTrack.interrupt(track)
            probe.interrupts.append(
                Interrupt(time.monotonic(), before, queued_samples(track), pending)
            )

        TeeCustomAudioStreamTrack.add_new_bytes = add_new_bytes  # type: ignore[method-assign]
        TeeCustomAudioStreamTrack.interrupt = interrupt  # type: ignore[method-assign]
        try:
            yield self
        finally:
            TeeCustomAudioStreamTrack.add_new_bytes = original_add  # type: ignore[method-assign]
            if had_interrupt:
                TeeCustomAudioStreamTrack.interrupt = original_interrupt  # type: ignore[method-assign]
            else:
                del TeeCustomAudioStreamTrack.interrupt


def queued_samples(track: Any) -> int:
    """Samples the track holds that have not been played yet."""
    frames = len(getattr(track, "frame_buffer", ()))
    return (
        frames * int(getattr(track, "samples", 0))
        + len(getattr(track, "audio_data_buffer", b"")) // 2
    )
