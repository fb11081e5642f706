"""PCM helpers for the local meeting leg: conversion to the wire format, noise, levels.

Kept apart from the room so the arithmetic can be reasoned about (and tested)
without an event loop. Everything here works on int16, because that is what the
framework's meeting listener hands to ``Pipeline.on_audio_delta`` and what its
output track produces.
"""

from __future__ import annotations

import math
from typing import Any

import av
import numpy as np
import numpy.typing as npt

FRAME_SECONDS = 0.02
"""20 ms: the ptime of every codec VideoSDK negotiates (opus, G.711, G.722)."""

FULL_SCALE = 32768.0
"""0 dBFS for int16: levels are reported relative to this."""

SUPPORTED_CHANNELS = (1, 2)
"""Meeting legs are mono (telephony codecs) or stereo (opus as VideoSDK decodes it)."""

Int16Array = npt.NDArray[np.int16]


def layout_name(channels: int) -> str:
    """PyAV layout for a channel count; only the two a meeting leg can carry."""
    if channels == 1:
        return "mono"
    if channels == 2:
        return "stereo"
    raise ValueError(f"a meeting leg carries 1 or 2 channels, not {channels}")


def samples_per_frame(rate: int) -> int:
    """Samples per channel in one 20 ms frame at ``rate``."""
    n = rate * FRAME_SECONDS
    if abs(n - round(n)) > 1e-9:
        raise ValueError(f"{rate} Hz does not divide into 20 ms frames")
    return round(n)


def as_int16_frames(audio: Any, channels: int) -> Int16Array:
    """Normalise caller audio to a ``(samples, channels)`` int16 array.

    Accepted: bytes-like int16 little-endian PCM (interleaved when ``channels``
    is 2), a 1-D int16 array (interleaved likewise), a 2-D ``(samples, channels)``
    array, or float arrays in [-1, 1]. Anything else is refused loudly, because a
    silently misread buffer plays back as noise or at the wrong speed and the
    test then fails somewhere far away.
    """
    if isinstance(audio, bytes | bytearray | memoryview):
        raw = bytes(audio)
        if len(raw) % (2 * channels):
            raise ValueError(
                f"{len(raw)} bytes is not a whole number of {channels}-channel int16 samples"
            )
        arr: npt.NDArray[Any] = np.frombuffer(raw, dtype="<i2").astype(np.int16)
    elif isinstance(audio, np.ndarray):
        arr = audio
    else:
        raise TypeError(f"expected PCM bytes or a numpy array, got {type(audio).__name__}")

    if arr.ndim == 2:
        if arr.shape[1] != channels:
            raise ValueError(
                f"array has {arr.shape[1]} channels (shape {arr.shape}) but channels={channels}"
            )
    elif arr.ndim == 1:
        if arr.shape[0] % channels:
            raise ValueError(f"{arr.shape[0]} interleaved samples do not split into {channels}")
        arr = arr.reshape(-1, channels)
    else:
        raise ValueError(f"expected a 1-D or 2-D array, got shape {arr.shape}")

    if np.issubdtype(arr.dtype, np.floating):
        scaled = np.clip(np.rint(arr * 32767.0), -32768, 32767)
        return np.ascontiguousarray(scaled.astype(np.int16))
    if arr.dtype != np.int16:
        raise TypeError(f"integer PCM must be int16, got {arr.dtype}")
    return np.ascontiguousarray(arr)


def resample(pcm: Int16Array, rate: int, target_rate: int) -> Int16Array:
    """Resample ``(samples, channels)`` int16 with libswresample, in one shot.

    One shot (resample then flush) so the filter delay is drained and the output
    length is exactly ``len * target/rate``; streaming chunk by chunk would leave
    the tail in the resampler.
    """
    if rate == target_rate or pcm.shape[0] == 0:
        return pcm
    channels = pcm.shape[1]
    layout = layout_name(channels)
    frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout=layout)
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="s16", layout=layout, rate=target_rate)
    out = [*resampler.resample(frame), *resampler.resample(None)]
    if not out:
        return np.zeros((0, channels), dtype=np.int16)
    data = np.concatenate([f.to_ndarray().reshape(-1) for f in out])
    return np.ascontiguousarray(data.astype(np.int16).reshape(-1, channels))


def remix(pcm: Int16Array, channels: int) -> Int16Array:
    """Map channels the way a meeting does: mono is duplicated, stereo is averaged."""
    have = pcm.shape[1]
    if have == channels:
        return pcm
    if have == 1 and channels == 2:
        return np.ascontiguousarray(np.repeat(pcm, 2, axis=1))
    if have == 2 and channels == 1:
        mixed = (pcm.astype(np.int32).sum(axis=1) // 2).astype(np.int16)
        return np.ascontiguousarray(mixed.reshape(-1, 1))
    raise ValueError(f"cannot map {have} channels to {channels}")


def to_wire(
    audio: Any, *, rate: int, channels: int, wire_rate: int, wire_channels: int
) -> Int16Array:
    """Caller audio → ``(samples, wire_channels)`` int16 at ``wire_rate``.

    Down-mix happens before resampling (half the work) and up-mix after it
    (duplicated channels stay bit-identical), which is also what keeps a mono
    source exactly mono on a stereo leg.
    """
    pcm = as_int16_frames(audio, channels)
    if channels > wire_channels:
        pcm = remix(pcm, wire_channels)
    pcm = resample(pcm, rate, wire_rate)
    return remix(pcm, wire_channels)


def noise_sigma(dbfs: float) -> float:
    """Standard deviation of Gaussian noise whose RMS is ``dbfs`` (int16 full scale)."""
    return float(FULL_SCALE * 10.0 ** (dbfs / 20.0))


def make_noise(
    rng: np.random.Generator, n_samples: int, channels: int, dbfs: float | None
) -> Int16Array:
    """A line-noise block, or digital silence when ``dbfs`` is None."""
    if dbfs is None:
        return np.zeros((n_samples, channels), dtype=np.int16)
    block = rng.normal(0.0, noise_sigma(dbfs), size=(n_samples, channels))
    return np.clip(np.rint(block), -32768, 32767).astype(np.int16)


def rms_dbfs(samples: npt.NDArray[Any]) -> float:
    """RMS level in dBFS; ``-inf`` for an empty or all-zero buffer."""
    if samples.size == 0:
        return -math.inf
    rms = float(np.sqrt(np.mean(np.square(samples.astype(np.float64)))))
    if rms == 0.0:
        return -math.inf
    return 20.0 * math.log10(rms / FULL_SCALE)


def frame_pcm(frame: Any) -> Int16Array:
    """An ``av.AudioFrame``'s samples as ``(samples, channels)`` int16.

    Handles packed and planar layouts, since a custom track may produce either.
    """
    arr = np.asarray(frame.to_ndarray())
    channels = int(frame.layout.nb_channels)
    planar = bool(frame.format.is_planar)
    data = arr.reshape(channels, -1).T if planar else arr.reshape(-1, channels)
    return np.ascontiguousarray(data.astype(np.int16))


def frame_mono(frame: Any) -> Int16Array:
    """An output frame as mono int16 (channels averaged when there are several)."""
    pcm = frame_pcm(frame)
    if pcm.shape[1] == 1:
        return pcm.reshape(-1)
    mixed: Int16Array = (pcm.astype(np.int32).sum(axis=1) // pcm.shape[1]).astype(np.int16)
    return mixed
