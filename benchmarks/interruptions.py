"""Figure 5's analysis: what each barge-in did to the answer it interrupted.

Kept apart from the session that records a barge-in run (:func:`.conversation.barge_in`)
because this part is pure: given the emulator's stamped events, the track probe's
``interrupt()`` calls and the frames the speaker played, it decides per barge-in
whether the buffered answer was flushed (and how fast), whether the speaker went
quiet, how much of the answer the caller heard, and whether the plugin truncated
the answer on the server at that position.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .common import OUTPUT_RATE, dist, frame_samples, voiced
from .probes import Interrupt, ServerClock, TrackProbe

__all__ = [
    "FADE_SECONDS",
    "FRAME",
    "TRUNCATE_TOLERANCE_MS",
    "analyse",
    "first_delta",
    "heard_samples",
]

FRAME = OUTPUT_RATE // 50
FADE_SECONDS = 0.4
"""The framework's default interrupt fade (``InterruptConfig.interrupt_fade_duration``)."""
TRUNCATE_TOLERANCE_MS = 40.0
"""How far the plugin's ``audio_end_ms`` may be from what the caller heard (two frames)."""


def _find(haystack: np.ndarray, needle: np.ndarray, start: int = 0) -> int | None:
    """Index of the first exact occurrence of ``needle`` in ``haystack`` at or after ``start``."""
    if needle.size == 0 or haystack.size < needle.size:
        return None
    hits = np.flatnonzero(haystack[start : haystack.size - needle.size + 1] == needle[0]) + start
    for i in hits:
        if np.array_equal(haystack[i : i + needle.size], needle):
            return int(i)
    return None


def heard_samples(output: np.ndarray, sent: np.ndarray, start: int = 0) -> tuple[int, int] | None:
    """How much of ``sent`` the caller heard, found in the speaker's ``output``.

    The answer plays unchanged up to the flush, then the framework's fade-out
    plays the samples that followed, each scaled down (ending in zeros). So:
    the exact run, then the run of scaled copies, up to its last non-zero sample.
    Returns ``(where it starts in output, samples heard)``, or None when the
    answer never played.
    """
    sent = sent.astype(np.int32)
    output = output.astype(np.int32)
    loud = np.flatnonzero(np.abs(sent) > 2000)
    if loud.size == 0:
        return None
    k0 = int(loud[0])
    pos = _find(output, sent[k0 : k0 + FRAME], start)
    if pos is None:
        return None
    begin = pos - k0
    n = min(sent.size, output.size - begin)
    if begin < 0 or n <= 0:
        return None
    a, b = output[begin : begin + n], sent[:n]
    mismatch = np.flatnonzero(a != b)
    if not mismatch.size:
        return begin, n  # still playing, unchanged, when the recording ended
    exact = int(mismatch[0])
    heard = exact
    limit = min(n, exact + int(FADE_SECONDS * OUTPUT_RATE) + FRAME)
    for i in range(exact, limit):
        o, r = a[i], b[i]
        if abs(o) > abs(r) + 1 or (o != 0 and r != 0 and (o > 0) != (r > 0)):
            break
        if o != 0:
            heard = i + 1
    return begin, heard


def _flush_of(interrupts: list[Interrupt], t0: float, fade: int) -> Interrupt | None:
    """The first interrupt() after ``t0`` that left no more than the fade-out queued."""
    for call in interrupts:
        if call.t >= t0 and call.queued_after <= fade + FRAME:
            return call
        if call.t >= t0 + 2.0:
            break
    return None


def first_delta(clock: ServerClock, index: int) -> float:
    """When the emulator sent the first audio of its ``index``-th response."""
    created = clock.of("response.created")
    if index >= len(created):
        return math.inf
    rid = created[index].response_id
    return next((s.t for s in clock.of("response.audio.delta") if s.response_id == rid), math.inf)


@dataclass
class _Recording:
    """One barge-in session as recorded, indexed for the per-barge-in questions."""

    clock: ServerClock
    probe: TrackProbe
    frames: list[tuple[float, Any]]
    truncates: list[dict[str, Any]]
    deletes: list[dict[str, Any]]
    times: np.ndarray = field(init=False)
    output: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.times = np.array([t for t, _ in self.frames])
        self.output = (
            np.concatenate([frame_samples(f) for _, f in self.frames])
            if self.frames
            else np.zeros(0, np.int16)
        )

    def answer_audio(self, response_id: str) -> np.ndarray:
        """Every sample the emulator sent for one response."""
        audio = b"".join(
            base64.b64decode(s.audio_b64 or "")
            for s in self.clock.of("response.audio.delta")
            if s.response_id == response_id
        )
        return np.frombuffer(audio, dtype="<i2")


def _flush_columns(rec: _Recording, t0: float) -> dict[str, Any]:
    """Was the buffered answer flushed after the barge-in at ``t0``, how fast, and did it stay
    quiet 0.5-1.0 s later?"""
    fade = int(FADE_SECONDS * OUTPUT_RATE)
    flush = _flush_of(rec.probe.interrupts, t0, fade)
    before = [c for c in rec.probe.interrupts if c.t >= t0]
    window = (rec.times > t0 + 0.5) & (rec.times <= t0 + 1.0)
    return {
        "queued_before_ms": (
            round(before[0].queued_before / OUTPUT_RATE * 1000) if before else None
        ),
        "flushed": flush is not None,
        "flush_ms": round((flush.t - t0) * 1000, 3) if flush is not None else None,
        "silent_0.5_to_1s": not any(
            voiced(frame_samples(rec.frames[j][1])) for j in np.flatnonzero(window)
        ),
    }


def _truncate_columns(rec: _Recording, index: int) -> dict[str, Any]:
    """How much of answer ``index`` the caller heard, and where the plugin truncated it."""
    response = rec.clock.of("response.created")[index]
    items = {s.response_id: s.item_id for s in rec.clock.of("response.output_item.added")}
    item_id = items.get(response.response_id)
    sent = rec.answer_audio(response.response_id)
    first = int(np.searchsorted(rec.times, first_delta(rec.clock, index)))
    found = heard_samples(rec.output, sent, max(0, first - 5) * FRAME)
    heard = found[1] if found is not None else None
    cut = next((e for e in rec.truncates if e.get("item_id") == item_id), None)
    row: dict[str, Any] = {
        "heard_ms": round(heard / OUTPUT_RATE * 1000, 1) if heard is not None else None,
        "still_playing_at_end": bool(
            found is not None and found[0] + found[1] >= rec.output.size - FRAME
        ),
        "truncate_sent": cut is not None,
        "audio_end_ms": cut.get("audio_end_ms") if cut else None,
        "deleted": any(e.get("item_id") == item_id for e in rec.deletes),
    }
    if cut is not None and heard is not None:
        row["truncate_error_ms"] = round(cut["audio_end_ms"] - heard / OUTPUT_RATE * 1000, 1)
    row["truncated_at_heard"] = bool(
        cut is not None
        and heard is not None
        and abs(row["truncate_error_ms"]) <= TRUNCATE_TOLERANCE_MS
    )
    return row


def analyse(
    count: int,
    clock: ServerClock,
    probe: TrackProbe,
    frames: list[tuple[float, Any]],
    truncates: list[dict[str, Any]],
    deletes: list[dict[str, Any]],
    errors: int,
) -> dict[str, Any]:
    """Figure 5's result for one plugin: one row per barge-in, and the totals."""
    rec = _Recording(clock, probe, frames, truncates, deletes)
    starts = [s.t for s in clock.of("input_audio_buffer.speech_started")]
    created = clock.of("response.created")
    rows: list[dict[str, Any]] = []
    for i in range(count):
        row: dict[str, Any] = {"index": i + 1}
        rows.append(row)
        if i + 1 >= len(starts) or i >= len(created):
            row["error"] = "no speech_started for this barge-in"
            continue
        # speech_started #0 is the caller's first question
        row.update(_flush_columns(rec, starts[i + 1]))
        row.update(_truncate_columns(rec, i))
    flush_ms = [r["flush_ms"] for r in rows if r.get("flush_ms") is not None]
    return {
        "barge_ins": count,
        "flushed": sum(1 for r in rows if r.get("flushed")),
        "silent_after": sum(1 for r in rows if r.get("silent_0.5_to_1s")),
        "truncated_at_heard": sum(1 for r in rows if r.get("truncated_at_heard")),
        "truncates_sent": len(truncates),
        "flush_ms": dist(flush_ms, 3),
        "first_failure": next((r["index"] for r in rows if not r.get("flushed")), None),
        "pipeline_errors": errors,
        "rows": rows,
        "_samples": flush_ms,
    }
