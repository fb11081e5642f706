"""The summary table: one row per headline number, ours next to the vendor's.

Printed on stdout after a run and embedded in ``latest.md``. A row that has a
target takes its target cell and its met/MISSED cell from :mod:`.targets`,
by the target's key, never from text of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..common import FLOOR, OURS, VENDOR
from ..density import LAG_LIMIT_MS
from ..interruptions import TRUNCATE_TOLERANCE_MS
from ._format import get, num, pair
from .targets import FIGURE_NUMBERS, Checked, check_all, column, ratio

__all__ = ["HEADER", "Row", "markdown_table", "rows", "table"]

Row = tuple[str, str, str, str, str, str, str, str]
"""figure, metric, ours, vendor, floor client, per-chunk FFT baseline, target, met."""

HEADER: Row = (
    "fig",
    "metric",
    "ours",
    "vendor",
    "floor",
    "per-chunk FFT",
    "target",
    "ours vs target",
)
_MET = HEADER.index("ours vs target")


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
        floor: str = "",
        fft: str = "",
        target: str | None = None,
    ) -> None:
        """One row; ``target`` is the key of the :class:`~.targets.Target` it reports on."""
        goal = column(target) if target else ""
        checked = self.checked.get(target) if target else None
        met = checked.cell() if checked else ""
        self.out.append((FIGURE_NUMBERS[figure], metric, ours, vendor, floor, fft, goal, met))

    def reading(self, target: str) -> str:
        """How the run measured ``target`` (ours' value or ratio), or ``–``."""
        checked = self.checked.get(target)
        return "–" if checked is None or checked.value is None else str(checked.value)


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
        "input path (each client's real send path), µs per 20 ms frame, p50 / p99",
        pair(r.get(OURS), "p50", "p99"),
        pair(r.get(VENDOR), "p50", "p99"),
        pair(r.get(FLOOR), "p50", "p99"),
        pair(r.get("fft_baseline"), "p50", "p99"),
        target="input_cost.ratio",
    )
    t.add(
        "input_cost",
        "… ours ÷ vendor / ours ÷ floor, p50",
        f"{num(cost.get('ratio_p50'), 2)}× / {num(cost.get('floor_ratio_p50'), 2)}×",
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
    noisy = " (noisy steps)" if d.get("noisy_steps") else ""
    if not d.get("limit_reached"):
        return f"≥ {n} (limit not reached){noisy}"
    return f"{n} ({d.get('first_failing')} failed){noisy}"


def _median(step: Any, key: str, digits: int = 2) -> str:
    """``median (min–max)`` of one number of a step's repeats."""
    s = get(step, key)
    if not s or not s.get("n"):
        return "–"
    return f"{num(s['median'], digits)} ({num(s['min'], digits)}–{num(s['max'], digits)})"


def _density(t: _Rows, dens: dict[str, Any]) -> None:
    t.add(
        "density",
        f"concurrent real-time calls at loop-lag p99 < {LAG_LIMIT_MS:g} ms "
        "(median of the repeats, bisected to ±1 call)",
        _sustained(dens.get(OURS)),
        _sustained(dens.get(VENDOR)),
        _sustained(dens.get(FLOOR)),
        target="density.ratio",
    )
    t.add(
        "density",
        "… CPU ms per call-second at that count, median (min–max)",
        *(_median(get(dens, k), "cpu_ms_per_call_s_at_sustained") for k in (OURS, VENDOR, FLOOR)),
    )
    calls = ratio(get(dens, FLOOR, "sustained_sessions"), get(dens, VENDOR, "sustained_sessions"))
    if calls:
        t.add(
            "density",
            "… the floor's calls ÷ the vendor's (the most any client reaches here)",
            "",
            floor=f"{calls:.2f}×",
        )


def _cpu(t: _Rows, cpu: dict[str, Any]) -> None:
    calls = get(cpu, OURS, "calls")
    for delta in get(cpu, OURS, "deltas_ms") or []:
        cells = (
            _median(get(cpu, k, "by_delta", str(delta)), "cpu_ms_per_call_s")
            for k in (OURS, VENDOR, FLOOR)
        )
        t.add(
            "cpu",
            f"CPU ms per call-second, {calls} calls, {delta} ms deltas, median (min–max)",
            *cells,
        )
    t.add("cpu", "… ours ÷ vendor, per delta size", t.reading("cpu.vendor"), target="cpu.vendor")
    t.add("cpu", "… ours ÷ floor, per delta size", t.reading("cpu.floor"), target="cpu.floor")
    deltas = get(cpu, OURS, "deltas_ms") or []
    median = ("cpu_ms_per_call_s", "median")
    floor_over_vendor = [
        ratio(
            get(cpu, FLOOR, "by_delta", str(d), *median),
            get(cpu, VENDOR, "by_delta", str(d), *median),
        )
        for d in deltas
    ]
    shown = [r for r in floor_over_vendor if r]
    if deltas and len(shown) == len(deltas):
        t.add(
            "cpu",
            "… the floor ÷ vendor, per delta size (the least any client reaches here)",
            "",
            floor=" / ".join(f"{r:.2f}×" for r in shown),
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


def _scaleout(t: _Rows, out: dict[str, Any]) -> None:
    processes = get(out, OURS, "processes")

    def both(*path: str, digits: int = 1) -> tuple[str, str]:
        return num(get(out, OURS, *path), digits), num(get(out, VENDOR, *path), digits)

    t.add(
        "scaleout",
        f"framework Worker, {processes} processes: time to accept a job, "
        "p50 first / warm wave (ms)",
        *(
            f"{a} / {b}"
            for a, b in zip(
                both("accept_ms_first_wave", "p50"), both("accept_ms_warm_wave", "p50"), strict=True
            )
        ),
    )
    t.add(
        "scaleout",
        "… CPU ms per call-second (one call per process), p50",
        *both("cpu_ms_per_call_s", "p50", digits=2),
    )
    t.add("scaleout", "… calls per core at that cost", *both("calls_per_core"))
    t.add("scaleout", "… RSS per process (MB), p50", *both("rss_mb_per_process", "p50"))


_FIGURES: tuple[tuple[str, Callable[[_Rows, dict[str, Any]], None]], ...] = (
    ("input_cost", _input_cost),
    ("quality", _quality),
    ("output_latency", _output_latency),
    ("first_audio", _first_audio),
    ("barge_in", _barge_in),
    ("density", _density),
    ("memory", _memory),
    ("cpu", _cpu),
    ("scaleout", _scaleout),
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
        if cells[_MET] == "MISSED":
            cells[_MET] = "**MISSED**"
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
