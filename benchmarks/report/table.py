"""The summary table: one row per headline number, ours next to the vendor's.

Printed on stdout after a run and embedded in ``latest.md``. A row that has a
target takes its target cell and its met/MISSED cell from :mod:`.targets`,
by the target's key, never from text of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..common import OURS, VENDOR
from ..density import LAG_LIMIT_MS
from ..interruptions import TRUNCATE_TOLERANCE_MS
from ._format import get, num, pair
from .targets import FIGURE_NUMBERS, Checked, check_all, column

__all__ = ["HEADER", "Row", "markdown_table", "rows", "table"]

Row = tuple[str, str, str, str, str, str, str]
"""figure, metric, ours, vendor, per-chunk FFT baseline, target, met."""

HEADER: Row = ("fig", "metric", "ours", "vendor", "per-chunk FFT", "target", "ours vs target")


class _Rows:
    """The rows being built, and the run's target checks they refer to."""

    def __init__(self, results: dict[str, Any]) -> None:
        self.checked: dict[str, Checked] = check_all(results)
        self.out: list[Row] = []

    def add(
        self,
        figure: str,
        metric: str,
        ours: str,
        vendor: str = "",
        fft: str = "",
        target: str | None = None,
    ) -> None:
        """One row; ``target`` is the key of the :class:`~.targets.Target` it reports on."""
        goal = column(target) if target else ""
        checked = self.checked.get(target) if target else None
        met = checked.cell() if checked else ""
        self.out.append((FIGURE_NUMBERS[figure], metric, ours, vendor, fft, goal, met))


def _both(figure: dict[str, Any], key: str, stats: str, digits: int) -> tuple[str, str]:
    """``p50 / p99`` (or ``p50 / p90``) of one distribution, ours then the vendor's."""
    a, b = stats.split("/")
    return (
        pair(get(figure, OURS, key), a, b, digits),
        pair(get(figure, VENDOR, key), a, b, digits),
    )


def _input_cost(t: _Rows, cost: dict[str, Any]) -> None:
    r = cost["rows"]
    t.add(
        "input_cost",
        "input path, µs per 20 ms frame, p50 / p99",
        pair(r.get(OURS), "p50", "p99"),
        pair(r.get(VENDOR), "p50", "p99"),
        pair(r.get("fft_baseline"), "p50", "p99"),
        target="input_cost.ratio",
    )
    t.add(
        "input_cost",
        "… ours, sent by the real sender task (+1 loop turn per batch)",
        pair(r.get("ours_sender_task"), "p50", "p99"),
    )
    b = cost.get("batching", {})
    t.add(
        "input_cost",
        "latency added by batching, per sample: mean / worst (ms)",
        f"{num(b.get('per_sample_mean_ms'))} / {num(b.get('per_sample_worst_ms'))}",
        "0 / 0 (sends every frame)" if VENDOR in r else "–",
        target="input_cost.batching",
    )


def _quality(t: _Rows, quality: dict[str, Any]) -> None:
    q = quality.get("converters")
    if not q:
        return

    def cells(key: str, digits: int = 1) -> tuple[str, str, str]:
        values = (get(q, name, key) for name in (OURS, VENDOR, "fft_baseline"))
        ours, vendor, fft = ("–" if v is None else f"{num(v, digits)} dB" for v in values)
        return ours, vendor, fft

    for key, label in (
        ("snr_streamed_vs_oneshot_speech_db", "SNR streamed vs one-shot, speech-like"),
        ("snr_streamed_vs_oneshot_sine_997hz_db", "SNR streamed vs one-shot, 997 Hz sine"),
    ):
        t.add("quality", label, *cells(key))
    t.add(
        "quality",
        "rejection of tones ≥ 12.5 kHz (worst tone)",
        *cells("rejection_worst_db"),
        target="quality.rejection",
    )
    t.add(
        "quality",
        "passband flatness 100 Hz–10 kHz (max − min gain)",
        *cells("passband_flatness_db", 3),
    )


def _output_latency(t: _Rows, lat: dict[str, Any]) -> None:
    t.add(
        "output_latency",
        "output latency, delta written → frame in track, p50 / p99 (ms)",
        *_both(lat, "latency_ms", "p50/p99", 3),
        target="output_latency.p99",
    )


def _first_audio(t: _Rows, tfa: dict[str, Any]) -> None:
    for metric, key, digits in (
        ("time to first audio, speech_stopped → first voiced frame, p50 / p90 (ms)", "ttfa_ms", 1),
        ("… speech_stopped → first audio in the track's buffer, p50 / p90 (ms)", "to_buffer_ms", 2),
    ):
        t.add(
            "first_audio",
            metric,
            *_both(tfa, key, "p50/p90", digits),
        )


def _barge_in(t: _Rows, barge: dict[str, Any]) -> None:
    def frac(kind: str, key: str) -> str:
        b = barge.get(kind) or {}
        return f"{b[key]}/{b['barge_ins']}" if key in b else "–"

    for metric, key, target in (
        ("barge-ins whose buffered answer was flushed", "flushed", "barge_in.flushed"),
        (
            f"… truncated on the server at the heard position (±{TRUNCATE_TOLERANCE_MS:g} ms)",
            "truncated_at_heard",
            "barge_in.truncated",
        ),
    ):
        t.add("barge_in", metric, frac(OURS, key), frac(VENDOR, key), target=target)
    t.add(
        "barge_in",
        "… flush time, speech_started → flushed, p50 / p99 (ms)",
        *_both(barge, "flush_ms", "p50/p99", 2),
        target="barge_in.flush_p99",
    )
    t.add(
        "barge_in",
        "… speaker silent 0.5–1.0 s after the barge-in",
        frac(OURS, "silent_after"),
        frac(VENDOR, "silent_after"),
    )


def _sustained(d: dict[str, Any] | None) -> str:
    if not d or "sustained_sessions" not in d:
        return "–"
    n = d["sustained_sessions"]
    if not d.get("limit_reached"):
        return f"≥ {n} (limit not reached)"
    failed = [s["sessions"] for s in d.get("steps", []) if not s["passed"] and s["sessions"] > n]
    return f"{n} ({min(failed)} failed)" if failed else f"{n}"


def _common_cpu(dens: dict[str, Any]) -> tuple[int | None, float | None, float | None]:
    """CPU per call-minute of both plugins at the largest call count both sustained."""

    def passing(kind: str) -> dict[int, float]:
        steps = get(dens, kind, "steps") or []
        return {s["sessions"]: s["cpu_s_per_session_min"] for s in steps if s.get("passed")}

    ours, vendor = passing(OURS), passing(VENDOR)
    both = sorted(set(ours) & set(vendor))
    if both:
        n = both[-1]
        return n, ours[n], vendor[n]
    if ours:
        n = max(ours)
        return n, ours[n], None
    return None, None, None


def _density(t: _Rows, dens: dict[str, Any]) -> None:
    t.add(
        "density",
        f"concurrent real-time calls at loop-lag p99 < {LAG_LIMIT_MS:g} ms",
        _sustained(dens.get(OURS)),
        _sustained(dens.get(VENDOR)),
    )
    common_n, ours_cpu, vendor_cpu = _common_cpu(dens)
    t.add(
        "density",
        f"CPU s per call-minute (at {common_n} calls)" if common_n else "CPU s per call-minute",
        num(ours_cpu, 3),
        num(vendor_cpu, 3),
    )


def _memory(t: _Rows, mem: dict[str, Any]) -> None:
    sim = num(get(mem, OURS, "sim_minutes"), 0)
    speed = num(get(mem, OURS, "speed"), 0)
    t.add(
        "memory",
        f"RSS growth over {sim} simulated min (×{speed}), MB",
        num(get(mem, OURS, "growth_mb"), 2),
        num(get(mem, VENDOR, "growth_mb"), 2),
        target="memory.growth",
    )
    t.add(
        "memory",
        "… least-squares slope, MB per simulated hour",
        num(get(mem, OURS, "slope_mb_per_hour"), 2),
        num(get(mem, VENDOR, "slope_mb_per_hour"), 2),
    )


_FIGURES: tuple[tuple[str, Callable[[_Rows, dict[str, Any]], None]], ...] = (
    ("input_cost", _input_cost),
    ("quality", _quality),
    ("output_latency", _output_latency),
    ("first_audio", _first_audio),
    ("barge_in", _barge_in),
    ("density", _density),
    ("memory", _memory),
)


def rows(results: dict[str, Any]) -> list[Row]:
    """The table's rows for every figure the run produced."""
    t = _Rows(results)
    figures = results.get("figures", {})
    for name, build in _FIGURES:
        if figures.get(name):
            build(t, figures[name])
    return t.out


def table(results: dict[str, Any]) -> str:
    """The table as aligned plain text, for the terminal."""
    body = rows(results)
    widths = [max(len(r[i]) for r in [HEADER, *body]) for i in range(len(HEADER))]

    def line(r: Row) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(HEADER), sep, *(line(r) for r in body)])


def markdown_table(results: dict[str, Any]) -> str:
    """The table in Markdown, with a missed target in bold."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for r in rows(results):
        cells = [c.replace("|", "\\|") for c in r]
        if cells[6] == "MISSED":
            cells[6] = "**MISSED**"
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
