"""Word and viseme timings that go with a spoken reply.

A client that shows captions or animates a face needs to know when each word and
mouth shape falls in the audio. Both tracks are laid out on one per-character grid
(a space counts as a character), the same grid the synthetic voice speaks on, so
text, timestamps and sound line up whichever engine produced the audio. Pure
functions: no audio is touched here.
"""

from __future__ import annotations

import unicodedata
from typing import Final

__all__ = ["layout", "visemes", "word_timings"]


def layout(text: str) -> tuple[list[str], int]:
    """Words and the character count (one per separating space) timing is spread over."""
    words = text.split()
    return words, sum(len(w) for w in words) + max(0, len(words) - 1)


def word_timings(text: str, duration_ms: float) -> list[tuple[str, float, float]]:
    """``(word, offset_ms, duration_ms)`` per word, spread by character count.

    Spaces get a character's worth of time, mirroring the synthetic voice, so
    transcript and ``audio_timestamp`` deltas line up with the audio that is
    streamed; the last word ends exactly at ``duration_ms``.
    """
    words, chars = layout(text)
    if not words:
        return []
    unit = max(0.0, duration_ms) / chars
    timings: list[tuple[str, float, float]] = []
    char_pos = 0
    for i, word in enumerate(words):
        offset = char_pos * unit
        length = max(0.0, duration_ms) - offset if i == len(words) - 1 else len(word) * unit
        timings.append((word, offset, length))
        char_pos += len(word) + 1
    return timings


# Azure TTS viseme ids (en-US): 0 silence, 1 ae/ax/ah, 2 aa, 3 ao, 4 ey/eh/uh,
# 5 er, 6 y/iy/ih/ix, 7 w/uw, 8 ow, 9 aw, 10 oy, 11 ay, 12 h, 13 r, 14 l,
# 15 s/z, 16 sh/ch/jh/zh, 17 th (voiced), 18 f/v, 19 d/t/n/th, 20 k/g/ng, 21 p/b/m.
_LETTER_VISEMES: Final[dict[str, int]] = {
    "a": 1, "b": 21, "c": 20, "d": 19, "e": 4, "f": 18, "g": 20, "h": 12, "i": 6,
    "j": 16, "k": 20, "l": 14, "m": 21, "n": 19, "o": 8, "p": 21, "q": 20, "r": 13,
    "s": 15, "t": 19, "u": 7, "v": 18, "w": 7, "x": 15, "y": 6, "z": 15,
}  # fmt: skip
_DIGRAPH_VISEMES: Final[dict[str, int]] = {
    "th": 17, "sh": 16, "ch": 16, "ph": 18, "ng": 20, "ee": 6, "oo": 7, "ou": 9,
    "ow": 9, "oy": 10, "oi": 10, "ai": 11, "ay": 11, "er": 5, "aw": 3, "au": 3, "ar": 2,
}  # fmt: skip
_OTHER_SPOKEN_VISEME: Final = 1


def _base_letter(ch: str) -> str:
    decomposed = unicodedata.normalize("NFKD", ch)
    return decomposed[0].lower() if decomposed else ch


def visemes(text: str, duration_ms: float) -> list[tuple[float, int]]:
    """A cheap lip-sync track: ``(audio_offset_ms, viseme_id)`` changes only.

    Letters stand in for phonemes, laid out on the same per-character grid as
    :func:`word_timings`; the mouth closes (id 0) at spaces, punctuation and the
    end of the utterance, as Azure's own tracks do.
    """
    words, chars = layout(text)
    if not words:
        return []
    spoken = " ".join(words)
    total = max(0.0, duration_ms)
    unit = total / chars
    track: list[tuple[float, int]] = []
    i = 0
    while i < len(spoken):
        letter = _base_letter(spoken[i])
        pair = letter + _base_letter(spoken[i + 1]) if i + 1 < len(spoken) else ""
        step = 1
        if pair in _DIGRAPH_VISEMES:
            viseme = _DIGRAPH_VISEMES[pair]
            step = 2
        elif letter in _LETTER_VISEMES:
            viseme = _LETTER_VISEMES[letter]
        elif letter.isalnum():
            viseme = _OTHER_SPOKEN_VISEME
        else:
            viseme = 0
        if not track or track[-1][1] != viseme:
            track.append((i * unit, viseme))
        i += step
    if track[-1][1] != 0:
        track.append((total, 0))
    return track
