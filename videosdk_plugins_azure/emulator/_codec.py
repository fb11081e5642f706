"""Audio formats the emulator speaks on the wire.

Voice Live names formats on the wire (``input_audio_format`` /
``output_audio_format``) while the DSP code only cares about an encoding and a
sample rate. This module is the single place that knows how the two relate, so
the session and connection layers never hard-code rates or sample layouts.

G.711 is implemented here from ITU-T G.711 rather than via ``audioop`` (removed
in Python 3.13) so that the emulator works on every supported interpreter and
produces the same bytes everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from types import MappingProxyType
from typing import Final

import av
import numpy as np
import numpy.typing as npt

__all__ = [
    "ENCODINGS",
    "INPUT_FORMATS",
    "OUTPUT_FORMATS",
    "decode",
    "duration_ms",
    "encode",
    "encoding_of",
    "input_rate",
    "resample",
]

PCM16: Final = "pcm16"
G711_ULAW: Final = "g711_ulaw"
G711_ALAW: Final = "g711_alaw"

ENCODINGS: Final[frozenset[str]] = frozenset({PCM16, G711_ULAW, G711_ALAW})

INPUT_FORMATS: Final[frozenset[str]] = frozenset({PCM16, G711_ULAW, G711_ALAW})

OUTPUT_FORMATS: Final[Mapping[str, tuple[str, int]]] = MappingProxyType(
    {
        "pcm16": (PCM16, 24000),
        "pcm16_8000hz": (PCM16, 8000),
        "pcm16_16000hz": (PCM16, 16000),
        # SDK 1.1.0 spells the rate-suffixed variants with a hyphen.
        "pcm16-8000hz": (PCM16, 8000),
        "pcm16-16000hz": (PCM16, 16000),
        "g711_ulaw": (G711_ULAW, 8000),
        "g711_alaw": (G711_ALAW, 8000),
    }
)

_G711_RATE: Final = 8000
_DEFAULT_PCM_RATE: Final = 24000

_ULAW_BIAS: Final = 0x84
_ULAW_BIAS14: Final = _ULAW_BIAS >> 2


def _build_ulaw_decode_table() -> npt.NDArray[np.int16]:
    codes = np.arange(256, dtype=np.int32)
    u = ~codes & 0xFF
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = (((mantissa << 3) + _ULAW_BIAS) << exponent) - _ULAW_BIAS
    return np.where(u & 0x80, -magnitude, magnitude).astype(np.int16)


def _build_alaw_decode_table() -> npt.NDArray[np.int16]:
    codes = np.arange(256, dtype=np.int32)
    a = codes ^ 0x55
    exponent = (a >> 4) & 0x07
    mantissa = a & 0x0F
    magnitude = np.where(
        exponent == 0,
        (mantissa << 4) + 8,
        ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0),
    )
    # In A-law a set sign bit means a positive sample (the reverse of mu-law).
    return np.where(a & 0x80, magnitude, -magnitude).astype(np.int16)


def _build_segment_table(size: int, *, zero_segment: int) -> npt.NDArray[np.int32]:
    """Segment number (floor(log2)) per value, so encoding needs no per-sample branches."""
    values = np.arange(size, dtype=np.int64)
    table = np.zeros(size, dtype=np.int32)
    positive = values > 0
    table[positive] = np.floor(np.log2(values[positive])).astype(np.int32)
    table[0] = zero_segment
    return table


_ULAW_DECODE: Final = _build_ulaw_decode_table()
_ALAW_DECODE: Final = _build_alaw_decode_table()
# mu-law: the biased 14-bit magnitude >> 5 lies in 1..255; its floor(log2) is the exponent.
_ULAW_SEGMENT: Final = _build_segment_table(256, zero_segment=0)
# A-law: magnitude >> 8 lies in 0..127; exponent is floor(log2)+1, or 0 below 256.
_ALAW_SEGMENT: Final = _build_segment_table(128, zero_segment=-1) + 1


def encoding_of(fmt: str) -> str:
    """Accept either an encoding or any wire format name, so callers need not map first.

    Raises ``ValueError`` for a name Voice Live would not accept.
    """
    if fmt in ENCODINGS:
        return fmt
    spec = OUTPUT_FORMATS.get(fmt)
    if spec is None:
        raise ValueError(f"unsupported audio format: {fmt!r}")
    return spec[0]


def input_rate(fmt: str, declared_rate: int | None) -> int:
    """Rate of client audio: G.711 is fixed at 8 kHz, pcm16 follows the session setting."""
    if fmt not in INPUT_FORMATS:
        raise ValueError(f"unsupported input audio format: {fmt!r}")
    if fmt != PCM16:
        return _G711_RATE
    return declared_rate if declared_rate is not None else _DEFAULT_PCM_RATE


def decode(data: bytes, encoding: str) -> npt.NDArray[np.int16]:
    """Wire bytes to samples.

    For pcm16 an odd trailing byte is dropped rather than rejected because
    clients may split a sample across ``append`` events; the caller keeps that
    byte and prepends it to the next chunk.
    """
    enc = encoding_of(encoding)
    if enc == PCM16:
        usable = len(data) - (len(data) % 2)
        return np.frombuffer(data, dtype="<i2", count=usable // 2).astype(np.int16)
    codes = np.frombuffer(data, dtype=np.uint8)
    table = _ULAW_DECODE if enc == G711_ULAW else _ALAW_DECODE
    return table[codes]


def encode(samples: npt.NDArray[np.int16], encoding: str) -> bytes:
    """Samples to wire bytes (little-endian for pcm16, one byte per sample for G.711)."""
    enc = encoding_of(encoding)
    x = np.asarray(samples, dtype=np.int16).reshape(-1)
    if enc == PCM16:
        return x.astype("<i2", copy=False).tobytes()
    if enc == G711_ULAW:
        return _ulaw_encode(x).tobytes()
    return _alaw_encode(x).tobytes()


def _ulaw_encode(x: npt.NDArray[np.int16]) -> npt.NDArray[np.uint8]:
    # Works on 14-bit magnitudes like the ITU/Sun reference coder, so the bytes
    # match other G.711 implementations exactly, including at segment edges.
    wide = x.astype(np.int32) >> 2
    sign = np.where(wide < 0, 0x80, 0x00)
    magnitude = np.minimum(np.abs(wide) + _ULAW_BIAS14, 0x1FFF)
    exponent = _ULAW_SEGMENT[magnitude >> 5]
    mantissa = (magnitude >> (exponent + 1)) & 0x0F
    code: npt.NDArray[np.uint8] = (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8)
    return code


def _alaw_encode(x: npt.NDArray[np.int16]) -> npt.NDArray[np.uint8]:
    wide = x.astype(np.int32)
    sign = np.where(wide >= 0, 0x80, 0x00)
    # One's complement for negatives (as the reference coder does) keeps the
    # decision levels symmetric around the reconstruction points.
    magnitude = np.where(wide >= 0, wide, ~wide)
    exponent = _ALAW_SEGMENT[magnitude >> 8]
    mantissa = np.where(
        exponent == 0,
        magnitude >> 4,
        (magnitude >> (exponent + 3)) & 0x0F,
    )
    code: npt.NDArray[np.uint8] = ((sign | (exponent << 4) | mantissa) ^ 0x55).astype(np.uint8)
    return code


# Zero samples appended before resampling so swresample's filter delay is
# flushed even for tiny inputs; the output is trimmed back afterwards.
_RESAMPLE_TAIL_PAD: Final = 64


def resample(samples: npt.NDArray[np.int16], src_rate: int, dst_rate: int) -> npt.NDArray[np.int16]:
    """One-shot anti-aliased rate conversion of a whole signal.

    Uses FFmpeg's swresample through PyAV: it is deterministic, compensates its
    own filter delay, and needs no SciPy. The output length is pinned to
    ``round(len * dst / src)`` so durations computed by callers from sample
    counts stay consistent with what was actually produced.
    """
    if src_rate <= 0 or dst_rate <= 0:
        raise ValueError(f"sample rates must be positive, got {src_rate} -> {dst_rate}")
    x = np.ascontiguousarray(samples, dtype=np.int16).reshape(-1)
    if src_rate == dst_rate:
        return x.copy()
    target = round(Fraction(len(x) * dst_rate, src_rate))
    if target == 0:
        return np.zeros(0, dtype=np.int16)

    padded = np.concatenate([x, np.zeros(_RESAMPLE_TAIL_PAD, dtype=np.int16)])
    resampler = av.AudioResampler(format="s16", layout="mono", rate=dst_rate)
    frame = av.AudioFrame.from_ndarray(padded.reshape(1, -1), format="s16", layout="mono")
    frame.sample_rate = src_rate
    frame.pts = 0
    chunks = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    chunks.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
    out = np.concatenate(chunks).astype(np.int16, copy=False) if chunks else np.zeros(0, np.int16)
    if len(out) < target:
        out = np.concatenate([out, np.zeros(target - len(out), dtype=np.int16)])
    return np.ascontiguousarray(out[:target])


def duration_ms(n_samples: int, rate: int) -> float:
    """Audio length in milliseconds, the unit every Voice Live timestamp uses."""
    return n_samples * 1000.0 / rate
