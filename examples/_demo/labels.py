"""Where the timeline's text labels go and what they say: pure layout, no drawing.

A label belongs to a span (a caller line, an agent answer) and may use the room
from its span's start to the next span's start in its row. Vertical markers
(the tool call, the barge-in) cross every row, so a label never runs into one:
it ends before the first marker in its room, or, when there is no space before
it, starts just after. Text wraps at spaces onto a few lines and, when it still
does not fit, ends with "…" after the last whole word: a label never stops
mid-word. Widths come from a ``measure`` function (seconds of timeline per
string), so each renderer measures with its own font.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["ELLIPSIS", "Label", "fit_text", "place_labels"]

ELLIPSIS = "…"

Measure = Callable[[str], float]
"""A string's width, in seconds of the timeline."""


@dataclass(frozen=True)
class Label:
    """Text placed at ``x`` (seconds), one string per line, ``width`` seconds wide."""

    x: float
    lines: tuple[str, ...]
    width: float

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def fit_text(text: str, width: float, measure: Measure, max_lines: int) -> tuple[str, ...]:
    """``text`` wrapped at spaces into at most ``max_lines`` lines no wider than ``width``.

    Words that do not fit are left out and the last line ends with "…". Empty
    when not even the first word fits: the caller then places no label.
    """
    words = text.split()
    lines: list[str] = []
    used = 0
    while used < len(words) and len(lines) < max_lines:
        line = words[used]
        if measure(line) > width:
            break
        used += 1
        while used < len(words) and measure(f"{line} {words[used]}") <= width:
            line = f"{line} {words[used]}"
            used += 1
        lines.append(line)
    if used < len(words):
        return _shortened(lines, width, measure)
    return tuple(lines)


def _shortened(lines: list[str], width: float, measure: Measure) -> tuple[str, ...]:
    """Drop whole words from the end until the last line has room for the ellipsis."""
    while lines:
        last = lines[-1]
        while True:
            candidate = f"{last}{ELLIPSIS}"
            if measure(candidate) <= width:
                return (*lines[:-1], candidate)
            head, _, _ = last.rpartition(" ")
            if not head:
                break
            last = head
        lines.pop()
    return ()


def _rooms(
    start: float, stop: float, markers: Sequence[float], pad: float
) -> list[tuple[float, float]]:
    """The free stretches of ``[start, stop)`` once ``pad`` around each marker is taken out."""
    rooms = []
    left = start
    for m in sorted(m for m in markers if start - pad < m < stop):
        if m - pad > left:
            rooms.append((left, m - pad))
        left = max(left, m + pad)
    if stop - pad > left:
        rooms.append((left, stop - pad))
    return rooms


def place_labels(
    spans: Sequence[tuple[float, float]],
    texts: Sequence[str],
    *,
    markers: Sequence[float],
    end: float,
    measure: Measure,
    max_lines: int = 2,
    pad: float = 0.1,
) -> list[Label | None]:
    """One label per span of a row (``None`` where no word fits), in the order given.

    A label's room runs from its span's start to the next span's start (or
    ``end``); it takes the first stretch of that room, between markers, that
    holds at least its first word.
    """
    starts = sorted(a for a, _ in spans)
    labels: list[Label | None] = []
    for (start, _), text in zip(spans, texts, strict=True):
        stop = next((s for s in starts if s > start), end)
        label = None
        for left, right in _rooms(start, stop, markers, pad):
            lines = fit_text(text, right - left, measure, max_lines)
            if lines:
                label = Label(left, lines, max(measure(line) for line in lines))
                break
        labels.append(label)
    return labels
