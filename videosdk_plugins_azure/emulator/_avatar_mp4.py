"""Fragmented MP4 for one H.264 track, written box by box.

The service's websocket avatar stream is a fragmented MP4 (``ftyp`` + ``moov``,
then ``moof`` + ``mdat`` pairs; see :mod:`..protocol.avatar`). FFmpeg's muxer
holds each sample back until the next one arrives, so a response's last frame
would only leave with the next response's first, and a client attributing video
to the response it arrived in would misplace it. Writing the boxes here puts every
frame in a fragment of its own, on the wire as soon as it is encoded.

Only what a demuxer needs: one video track, an ``avcC`` built from the encoder's
SPS and PPS, empty sample tables in ``moov`` and one sample per ``trun``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

__all__ = ["TIMESCALE", "Fmp4Writer", "annexb_units"]

TIMESCALE = 90000
"""Ticks per second of the track's timestamps (the video convention)."""

_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
_SPS, _PPS, _AUD = 7, 8, 9
_KEY_FLAGS = 0x02000000
"""``sample_depends_on = 2``: a sync sample."""
_DELTA_FLAGS = 0x01010000
"""``sample_depends_on = 1`` and ``sample_is_non_sync_sample``."""


def _box(kind: bytes, *parts: bytes) -> bytes:
    body = b"".join(parts)
    return struct.pack(">I", 8 + len(body)) + kind + body


def _full(kind: bytes, version: int, flags: int, *parts: bytes) -> bytes:
    return _box(kind, struct.pack(">I", (version << 24) | flags), *parts)


def annexb_units(data: bytes) -> list[bytes]:
    """The NAL units of an Annex B byte stream (what libx264 emits), start codes removed."""
    units: list[bytes] = []
    index, start = 0, -1
    while True:
        found = data.find(b"\x00\x00\x01", index)
        if found < 0:
            break
        if start >= 0:
            end = found - 1 if found > 0 and data[found - 1] == 0 else found
            units.append(data[start:end])
        start = index = found + 3
    if start >= 0:
        units.append(data[start:])
    return [unit for unit in units if unit]


class Fmp4Writer:
    """The boxes of one video track; :meth:`sample` turns an encoded frame into a fragment."""

    def __init__(self, width: int, height: int) -> None:
        self.width = width
        self.height = height
        self._sequence = 0
        self.parameter_sets: tuple[bytes, bytes] | None = None

    def init_segment(self, sps: bytes, pps: bytes) -> bytes:
        """``ftyp`` and ``moov``: what a demuxer reads before the first fragment."""
        self.parameter_sets = (sps, pps)
        ftyp = _box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isomiso6avc1mp41")
        return ftyp + _box(b"moov", self._mvhd(), self._trak(sps, pps), self._mvex())

    def _mvhd(self) -> bytes:
        return _full(
            b"mvhd",
            0,
            0,
            struct.pack(">IIII", 0, 0, TIMESCALE, 0),
            struct.pack(">IH", 0x10000, 0x100),
            bytes(10),
            _MATRIX,
            bytes(24),
            struct.pack(">I", 2),
        )

    def _trak(self, sps: bytes, pps: bytes) -> bytes:
        tkhd = _full(
            b"tkhd",
            0,
            3,
            struct.pack(">IIIII", 0, 0, 1, 0, 0),
            bytes(8),
            struct.pack(">HHHH", 0, 0, 0, 0),
            _MATRIX,
            struct.pack(">II", self.width << 16, self.height << 16),
        )
        mdhd = _full(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, TIMESCALE, 0, 0x55C4, 0))
        hdlr = _full(b"hdlr", 0, 0, bytes(4), b"vide", bytes(12), b"VideoHandler\x00")
        dinf = _box(b"dinf", _full(b"dref", 0, 0, struct.pack(">I", 1), _full(b"url ", 0, 1)))
        stbl = _box(
            b"stbl",
            _full(b"stsd", 0, 0, struct.pack(">I", 1), self._avc1(sps, pps)),
            _full(b"stts", 0, 0, struct.pack(">I", 0)),
            _full(b"stsc", 0, 0, struct.pack(">I", 0)),
            _full(b"stsz", 0, 0, struct.pack(">II", 0, 0)),
            _full(b"stco", 0, 0, struct.pack(">I", 0)),
        )
        minf = _box(b"minf", _full(b"vmhd", 0, 1, bytes(8)), dinf, stbl)
        return _box(b"trak", tkhd, _box(b"mdia", mdhd, hdlr, minf))

    def _avc1(self, sps: bytes, pps: bytes) -> bytes:
        avcc = _box(
            b"avcC",
            bytes([1, sps[1], sps[2], sps[3], 0xFF, 0xE1]),
            struct.pack(">H", len(sps)),
            sps,
            bytes([1]),
            struct.pack(">H", len(pps)),
            pps,
        )
        return _box(
            b"avc1",
            bytes(6),
            struct.pack(">H", 1),
            bytes(16),
            struct.pack(">HH", self.width, self.height),
            struct.pack(">II", 0x480000, 0x480000),
            bytes(4),
            struct.pack(">H", 1),
            bytes(32),
            struct.pack(">Hh", 0x18, -1),
            avcc,
        )

    def _mvex(self) -> bytes:
        return _box(b"mvex", _full(b"trex", 0, 0, struct.pack(">IIIII", 1, 1, 0, 0, 0)))

    def sample(self, units: Iterable[bytes], dts: int, duration: int, *, key: bool) -> bytes:
        """One frame as ``moof`` + ``mdat``; parameter sets and delimiters stay in ``avcC``."""
        payload = b"".join(
            struct.pack(">I", len(unit)) + unit
            for unit in units
            if unit[0] & 0x1F not in (_SPS, _PPS, _AUD)
        )
        self._sequence += 1
        flags = _KEY_FLAGS if key else _DELTA_FLAGS

        def moof(data_offset: int) -> bytes:
            trun = _full(
                b"trun",
                0,
                0x000701,
                struct.pack(">Ii", 1, data_offset),
                struct.pack(">III", duration, len(payload), flags),
            )
            traf = _box(
                b"traf",
                _full(b"tfhd", 0, 0x020000, struct.pack(">I", 1)),
                _full(b"tfdt", 1, 0, struct.pack(">Q", dts)),
                trun,
            )
            return _box(b"moof", _full(b"mfhd", 0, 0, struct.pack(">I", self._sequence)), traf)

        size = len(moof(0))
        return moof(size + 8) + _box(b"mdat", payload)
