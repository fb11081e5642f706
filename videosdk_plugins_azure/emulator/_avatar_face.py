"""A synthetic talking face: deterministic frames whose mouth opens with the speech.

The emulator's avatar must let a test see, from decoded pixels alone, whether the
picture moves with the sound. So the face is simple and measurable: a plain
background, an oval face, two eyes and a dark mouth whose height is the speech
envelope of the frame's own slice of audio. :func:`mouth_opening` reads that
height back from any frame of the same layout, whatever its size (the layout is
relative to the frame), so the lip-sync figure compares what was rendered with
what was heard without trusting any timestamp the plugin computed.

Frames are drawn straight into ``yuv420p`` (H.264's native layout) with numpy:
the static parts once per size, only the mouth's box per frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "OPEN_DBFS",
    "SHUT_DBFS",
    "FaceRenderer",
    "envelope",
    "level_opening",
    "mouth_opening",
]

SHUT_DBFS = -50.0
"""Speech at or below this level keeps the mouth shut."""
OPEN_DBFS = -20.0
"""Speech at or above this level opens the mouth fully."""

_BACKGROUND = "#2B3A55"
_SKIN = "#E0B080"
_DARK = "#201010"
_DARK_LUMA = 80
"""Luma below which a pixel of the mouth's box counts as mouth (dark ~27, skin ~170)."""


@dataclass(frozen=True)
class _Layout:
    """Where the face's parts are, in pixels, for one frame size."""

    width: int
    height: int

    @property
    def unit(self) -> float:
        return min(self.width, self.height) / 2.0

    @property
    def centre(self) -> tuple[float, float]:
        return self.width / 2.0, self.height / 2.0

    @property
    def mouth(self) -> tuple[float, float, float, float]:
        """Centre x, centre y, half-width, largest half-height."""
        cx, cy = self.centre
        return cx, cy + 0.40 * self.unit, 0.24 * self.unit, 0.16 * self.unit

    def mouth_box(self) -> tuple[int, int, int, int]:
        """Rows and columns (``top, bottom, left, right``) the open mouth can reach."""
        cx, cy, rx, ry = self.mouth
        return (
            max(0, math.floor(cy - ry)),
            min(self.height, math.ceil(cy + ry) + 1),
            max(0, math.floor(cx - rx)),
            min(self.width, math.ceil(cx + rx) + 1),
        )


def _yuv(color: str) -> tuple[int, int, int]:
    """``#RRGGBB[AA]`` as BT.601 limited-range Y, U, V (alpha is ignored)."""
    r, g, b = (int(color[i : i + 2], 16) / 255.0 for i in (1, 3, 5))
    y = 16 + 65.481 * r + 128.553 * g + 24.966 * b
    u = 128 - 37.797 * r - 74.203 * g + 112.0 * b
    v = 128 + 112.0 * r - 93.786 * g - 18.214 * b
    return round(y), round(u), round(v)


def _ellipse(
    rows: npt.NDArray[np.float64],
    cols: npt.NDArray[np.float64],
    centre: tuple[float, float],
    radii: tuple[float, float],
) -> npt.NDArray[np.bool_]:
    (cx, cy), (rx, ry) = centre, radii
    return ((cols - cx) / rx) ** 2 + ((rows - cy) / ry) ** 2 <= 1.0


class FaceRenderer:
    """Draws the face at one size; :meth:`frame` takes the mouth's opening in ``[0, 1]``."""

    def __init__(self, width: int, height: int, background: str | None = None) -> None:
        if width % 2 or height % 2 or width < 16 or height < 16:
            raise ValueError(f"the face needs an even size of at least 16x16, got {width}x{height}")
        self.layout = _Layout(width, height)
        self._dark = _yuv(_DARK)
        self._base = self._static(_yuv(background or _BACKGROUND), _yuv(_SKIN))
        top, bottom, left, right = self.layout.mouth_box()
        self._box = (top - top % 2, bottom + bottom % 2, left - left % 2, right + right % 2)
        self._box_rows, self._box_cols = np.mgrid[
            self._box[0] : self._box[1], self._box[2] : self._box[3]
        ]

    def _static(
        self, background: tuple[int, int, int], skin: tuple[int, int, int]
    ) -> npt.NDArray[np.uint8]:
        """The frame without its mouth: ``(height * 3 / 2, width)`` packed yuv420p planes."""
        layout, unit = self.layout, self.layout.unit
        cx, cy = layout.centre
        planes = []
        for plane, scale in ((0, 1), (1, 2), (2, 2)):
            rows, cols = np.mgrid[0 : layout.height // scale, 0 : layout.width // scale]
            rows, cols = (rows + 0.5) * scale, (cols + 0.5) * scale
            out = np.full(rows.shape, background[plane], np.uint8)
            out[_ellipse(rows, cols, (cx, cy), (0.62 * unit, 0.82 * unit))] = skin[plane]
            for side in (-1, 1):
                eye = _ellipse(
                    rows, cols, (cx + side * 0.26 * unit, cy - 0.22 * unit), (0.08 * unit,) * 2
                )
                out[eye] = self._dark[plane]
            planes.append(out)
        return np.concatenate([planes[0].ravel(), planes[1].ravel(), planes[2].ravel()])

    def frame(self, opening: float) -> npt.NDArray[np.uint8]:
        """One frame, as the flat yuv420p bytes ``av.VideoFrame`` planes take."""
        layout = self.layout
        cx, cy, rx, ry_max = layout.mouth
        ry = max(0.04, min(1.0, opening)) * ry_max
        out = self._base.copy()
        width, height = layout.width, layout.height
        luma = out[: width * height].reshape(height, width)
        top, bottom, left, right = self._box
        mouth = _ellipse(self._box_rows + 0.5, self._box_cols + 0.5, (cx, cy), (rx, ry))
        luma[top:bottom, left:right][mouth] = self._dark[0]
        quarter = width * height // 4
        for index, plane in enumerate((1, 2)):
            start = width * height + index * quarter
            chroma = out[start : start + quarter].reshape(height // 2, width // 2)
            chroma[top // 2 : bottom // 2, left // 2 : right // 2][mouth[::2, ::2]] = self._dark[
                plane
            ]
        return out


def mouth_opening(luma: npt.NDArray[np.uint8]) -> float:
    """How open the mouth is in a frame of this layout, from its luma plane (``[0, 1]``).

    The dark area inside the mouth's box, as a share of the fully open mouth's area.
    """
    height, width = luma.shape
    layout = _Layout(width, height)
    top, bottom, left, right = layout.mouth_box()
    _, _, rx, ry_max = layout.mouth
    dark = int(np.count_nonzero(luma[top:bottom, left:right] < _DARK_LUMA))
    return min(1.0, dark / (math.pi * rx * ry_max))


def level_opening(dbfs: float) -> float:
    """How open the mouth is for speech at ``dbfs``: linear from shut to fully open."""
    return min(1.0, max(0.0, (dbfs - SHUT_DBFS) / (OPEN_DBFS - SHUT_DBFS)))


def envelope(
    samples: npt.NDArray[np.int16], rate: int, fps: int, first: int, count: int
) -> list[float]:
    """The mouth's opening for frames ``first .. first + count`` of ``samples``.

    Frame ``i`` shows ``[i / fps, (i + 1) / fps)`` of the audio: its RMS level mapped
    by :func:`level_opening` (:data:`SHUT_DBFS` shut, :data:`OPEN_DBFS` fully open).
    """
    openings = []
    for index in range(first, first + count):
        start, end = index * rate // fps, (index + 1) * rate // fps
        window = samples[start:end].astype(np.float64)
        rms = math.sqrt(float(np.mean(window * window))) / 32768.0 if window.size else 0.0
        openings.append(level_opening(20.0 * math.log10(rms) if rms > 0 else -120.0))
    return openings
