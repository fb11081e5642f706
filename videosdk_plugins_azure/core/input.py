"""The caller's audio on its way to the service: converted, batched, held while offline.

The meeting's wire format can change mid-call (the framework bumps a generation
counter), the declared input rate cannot (it is in the session), and audio that
arrives while no connection is live must not be lost for the first seconds of an
outage nor grow without bound after that.
"""

from __future__ import annotations

import logging

from ..audio import AppendBatcher, InputConverter, PendingAudio, choose_input_rate

__all__ = ["PENDING_MS", "WIRE_DEFAULT", "InputPath"]

log = logging.getLogger("videosdk_plugins_azure")

WIRE_DEFAULT = (48000, 2)
"""A VideoSDK meeting's audio: 48 kHz stereo."""
PENDING_MS = 5000
"""Caller audio kept while the connection is down; older audio is dropped (counted)."""


class InputPath:
    """Conversion to the declared rate, append batching and the outage buffer."""

    def __init__(self) -> None:
        self.converter: InputConverter | None = None
        self.input_rate = 24000
        self.pending = PendingAudio(max_bytes=48 * PENDING_MS)
        self._batcher: AppendBatcher | None = None
        self._wire: tuple[int, int] | None = None
        self._generation = -1
        self._drops_logged = False

    @property
    def wire(self) -> tuple[int, int] | None:
        return self._wire

    def follow_wire(self, wire: tuple[int, int] | None, generation: int) -> InputConverter:
        """The converter for the framework's current wire format.

        The first wire format fixes the declared input rate for the whole call; a
        later change only rebuilds the converter.
        """
        if self.converter is not None and generation == self._generation:
            return self.converter
        wire = wire or WIRE_DEFAULT
        if self.converter is None:
            self.input_rate = choose_input_rate(wire[0])
            self._batcher = AppendBatcher.for_duration(self.input_rate)
        elif wire != self._wire:
            log.info(
                "caller audio changed to %d Hz x%d; converting to %d Hz", *wire, self.input_rate
            )
        if self.converter is None or not self.converter.matches(*wire):
            self.converter = InputConverter(wire[0], wire[1], self.input_rate)
        self._wire, self._generation = wire, generation
        return self.converter

    def accept(self, pcm: bytes, *, live: bool) -> list[bytes]:
        """Blocks of converted audio to send now; held back while not ``live``."""
        if not live:
            self.pending.append(pcm)
            return []
        assert self._batcher is not None
        self._batcher.add(pcm)
        blocks = []
        while (block := self._batcher.take()) is not None:
            blocks.append(block)
        return blocks

    def drain(self) -> list[bytes]:
        """What was held during the outage, batched, now that a connection is live."""
        backlog = self.pending.drain()
        return self.accept(backlog, live=True) if backlog else []

    def note_drops(self, dropped_bytes: int) -> None:
        """Say once per call that caller audio is being dropped (the count keeps going)."""
        if dropped_bytes and not self._drops_logged:
            self._drops_logged = True
            log.warning(
                "dropping caller audio: the connection is down or too slow (counted in "
                "dropped_input_audio_bytes; logged once)"
            )

    def close(self) -> None:
        if self.converter is not None:
            self.converter.reset()
