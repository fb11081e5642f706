"""The lip-sync figure: how far the emulator's avatar picture is from the sound, as delivered.

The measurement, precisely:

* **Sound.** The agent's audio as it came out of the framework's output track:
  each 20 ms frame with the ``time.monotonic()`` at which the track handed it
  out. Its mouth signal ``A(t)`` is the RMS level of the frames centred within
  ``t ± window / 2`` (the window is one video frame, the slice of audio each
  emulator frame is drawn from), mapped to an opening exactly as the emulator
  maps speech to its mouth (:func:`._avatar_face.level_opening`).
* **Picture.** The agent's video track as the meeting's sender gets it: each frame
  with the ``time.monotonic()`` at which the track handed it out. Its mouth
  signal ``V(t)`` is the opening read back from the frame's pixels
  (:func:`._avatar_face.mouth_opening`), held until the next frame.
* Both are sampled on one 5 ms grid over the span asked for, and ``V`` is shifted
  against ``A`` by every lag in ±``max_lag_ms``; the lag with the highest
  Pearson correlation is the offset. Positive: the picture is late.

One clock (the monotonic one both drains stamp with), and nothing the plugin
computed: its timestamps, its timeline and its decoder are what is measured.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from ..protocol.avatar import AVATAR_FRAME_RATE
from ._avatar_face import level_opening, mouth_opening

__all__ = ["GRID_MS", "LipSync", "lip_sync", "mouths"]

GRID_MS = 5
"""Resolution of the measurement."""


class LipSync(NamedTuple):
    offset_ms: float
    """How late the picture is (negative: early)."""
    correlation: float
    """Pearson correlation of the two mouth signals at that offset."""
    points: int
    """Grid points compared."""


def _audio_signal(
    frames: Sequence[tuple[float, npt.NDArray[np.int16], int]],
    grid: npt.NDArray[np.float64],
    window: float,
) -> npt.NDArray[np.float64]:
    centres = np.array([t + len(pcm) / rate / 2 for t, pcm, rate in frames])
    power = np.array(
        [float(np.mean(pcm.astype(np.float64) ** 2)) if pcm.size else 0.0 for _, pcm, _ in frames]
    )
    total = np.concatenate([[0.0], np.cumsum(power)])
    low = np.searchsorted(centres, grid - window / 2, side="left")
    high = np.searchsorted(centres, grid + window / 2, side="left")
    count = high - low
    mean = np.where(count > 0, (total[high] - total[low]) / np.maximum(count, 1), np.nan)
    rms = np.sqrt(mean) / 32768.0
    level = np.where(rms > 0, 20 * np.log10(np.where(rms > 0, rms, 1.0)), -120.0)
    openings = np.array([level_opening(float(value)) for value in level])
    return np.where(count > 0, openings, np.nan)


def _video_signal(
    mouths: Sequence[tuple[float, float]], grid: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    stamps = np.array([t for t, _ in mouths])
    openings = np.array([opening for _, opening in mouths])
    index = np.searchsorted(stamps, grid, side="right") - 1
    return np.where(index >= 0, openings[np.clip(index, 0, None)], np.nan)


def mouths(frames: Sequence[tuple[float, Any]]) -> list[tuple[float, float]]:
    """``(stamp, opening)`` of ``(stamp, av.VideoFrame)`` pairs, read from their pixels."""
    return [(t, mouth_opening(frame.to_ndarray()[: frame.height])) for t, frame in frames]


def lip_sync(
    audio: Sequence[tuple[float, npt.NDArray[np.int16], int]],
    video: Sequence[tuple[float, float]],
    span: tuple[float, float],
    *,
    max_lag_ms: int = 300,
    window_ms: float = 1000 / AVATAR_FRAME_RATE,
) -> LipSync:
    """The offset of ``video`` ``(stamp, mouth opening)`` (see :func:`mouths`) against
    ``audio`` ``(stamp, pcm, rate)``."""
    if not audio or not video:
        raise ValueError("lip sync needs audio frames and video frames")
    grid = np.arange(span[0], span[1], GRID_MS / 1000.0)
    sound = _audio_signal(audio, grid, window_ms / 1000.0)
    picture = _video_signal(video, grid)
    best = LipSync(0.0, -2.0, 0)
    for lag in range(-max_lag_ms // GRID_MS, max_lag_ms // GRID_MS + 1):
        a = sound[max(0, -lag) : len(sound) - max(0, lag)]
        v = picture[max(0, lag) : len(picture) - max(0, -lag)]
        keep = ~(np.isnan(a) | np.isnan(v))
        if keep.sum() < 10:
            continue
        a, v = a[keep] - a[keep].mean(), v[keep] - v[keep].mean()
        scale = math.sqrt(float((a * a).sum() * (v * v).sum()))
        score = float((a * v).sum()) / scale if scale else -1.0
        if score > best.correlation:
            best = LipSync(lag * GRID_MS, score, int(keep.sum()))
    return best
