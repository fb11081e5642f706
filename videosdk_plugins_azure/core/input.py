"""The caller's audio on its way to the service: batched, converted, held while offline.

The meeting's wire format can change mid-call (the framework bumps a generation
counter), the declared input rate cannot (it is in the session), and audio that
arrives while no connection is live must not be lost for the first seconds of an
outage nor grow without bound after that. Wire audio is gathered into 40 ms blocks
before it is converted (:class:`~videosdk_plugins_azure.audio.BlockConverter`):
each block is one conversion and one append.
"""

from __future__ import annotations

import logging

from ..audio import BlockConverter, BytesLike, InputConverter, PendingAudio, choose_input_rate

__all__ = ["PENDING_MS", "WIRE_DEFAULT", "InputPath"]

log = logging.getLogger("videosdk_plugins_azure")

WIRE_DEFAULT = (48000, 2)
"""A VideoSDK meeting's audio: 48 kHz stereo."""
PENDING_MS = 5000
"""Caller audio kept while the connection is down; older audio is dropped (counted)."""


class InputPath:
    """Append batching, conversion to the declared rate and the outage buffer."""

    def __init__(self) -> None:
        self.converter: InputConverter | None = None
        self.input_rate = 24000
        self.pending = PendingAudio(max_bytes=48 * PENDING_MS)
        self._blocks: BlockConverter | None = None
        self._spill = b""
        """Audio of a wire format just left, converted, to go out with the next block."""
        self._wire: tuple[int, int] | None = None
        self._generation = -1
        self._drops_logged = False

    @property
    def wire(self) -> tuple[int, int] | None:
        return self._wire

    def follow_wire(self, wire: tuple[int, int] | None, generation: int) -> InputConverter:
        """The converter for the framework's current wire format.

        The first wire format fixes the declared input rate for the whole call; a
        later change only rebuilds the converter, once the audio held in the old
        format is converted.
        """
        if self.converter is not None and generation == self._generation:
            return self.converter
        wire = wire or WIRE_DEFAULT
        if self.converter is None:
            self.input_rate = choose_input_rate(wire[0])
        elif wire != self._wire:
            log.info(
                "caller audio changed to %d Hz x%d; converting to %d Hz", *wire, self.input_rate
            )
        if self.converter is None or not self.converter.matches(*wire):
            if self._blocks is not None:
                self._spill += self._blocks.drain()
            self.converter = InputConverter(wire[0], wire[1], self.input_rate)
            self._blocks = BlockConverter(self.converter)
        self._wire, self._generation = wire, generation
        return self.converter

    def accept(self, pcm: BytesLike, *, live: bool) -> list[bytes]:
        """Wire audio in; the blocks to send now out (none while not ``live``: held)."""
        assert self._blocks is not None, "follow_wire() comes first"
        block = self._blocks.feed(pcm)
        if block is None:
            return []
        if self._spill:
            block, self._spill = self._spill + block, b""
        if not live:
            self.pending.append(block)
            return []
        return [block] if block else []

    def drain(self) -> list[bytes]:
        """What was held during the outage, as one block, now that a connection is live.

        The block still being gathered goes too, cut short: nothing that arrived
        before the connection was ready waits for more audio to follow it.
        """
        if self._blocks is not None:
            self.pending.append(self._spill + self._blocks.drain())
            self._spill = b""
        backlog = self.pending.drain()
        return [backlog] if backlog else []

    def note_drops(self, dropped_bytes: int) -> None:
        """Say once per call that caller audio is being dropped (the count keeps going)."""
        if dropped_bytes and not self._drops_logged:
            self._drops_logged = True
            log.warning(
                "dropping caller audio: the connection is down or too slow (counted in "
                "dropped_input_audio_bytes; logged once)"
            )

    def close(self) -> None:
        self._spill = b""
        if self._blocks is not None:
            self._blocks.reset()
