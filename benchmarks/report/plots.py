"""The PNG plots of one run: the distributions behind the summary table.

matplotlib is optional (the ``bench`` extra): without it the run still writes
its tables and says why there are no plots. Every limit a plot shows comes from
:mod:`.targets` (or, for figure 6's pass criterion, from :mod:`..density`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..common import FLOOR, OURS, VENDOR
from ..density import LAG_LIMIT_MS
from ._format import get
from .targets import marks

__all__ = ["COLORS", "plots"]

COLORS = {OURS: "#1f77b4", VENDOR: "#d62728", FLOOR: "#2ca02c", "fft_baseline": "#7f7f7f"}


class _Canvas:
    """matplotlib, the output folder, and the files written so far."""

    def __init__(self, plt: Any, out: Path) -> None:
        self.plt = plt
        self.out = out
        self.written: list[str] = []

    def save(self, fig: Any, name: str) -> None:
        path = self.out / name
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        self.plt.close(fig)
        self.written.append(str(path))


def _limit(ax: Any, axis: str, at: float) -> None:
    (ax.axhline if axis == "y" else ax.axvline)(at, color="k", ls="--", lw=0.7)


def _draw_targets(ax: Any, figure: str) -> None:
    for axis, at in marks(figure):
        _limit(ax, axis, at)


def _input_cost(c: _Canvas, cost: dict[str, Any]) -> None:
    names = [n for n in (OURS, VENDOR, FLOOR, "fft_baseline") if n in cost["rows"]]
    data = [cost.get("_samples_" + n, []) for n in names]
    if not all(data):
        return
    fig, ax = c.plt.subplots(figsize=(8, 3.2))
    ax.boxplot(data, vert=False, whis=(1, 99), showfliers=False)
    ax.set_yticks(range(1, len(names) + 1), names)
    ax.set_xscale("log")
    ax.set_xlabel("µs per 20 ms frame (box: p25-p75, whiskers: p1-p99)")
    ax.set_title("Figure 1: input path cost")
    _draw_targets(ax, "input_cost")
    c.save(fig, "fig1_input_cost.png")


def _quality(c: _Canvas, quality: dict[str, Any]) -> None:
    q = quality.get("converters")
    if not q:
        return
    fig, ax = c.plt.subplots(figsize=(8, 3.6))
    for name, entry in q.items():
        pts = [(fz, -140.0 if g in ("-inf", "inf") else g) for fz, g in entry["response"]]
        ax.plot(
            [p[0] for p in pts], [p[1] for p in pts], marker=".", label=name, color=COLORS.get(name)
        )
    ax.axvline(12000, color="k", lw=0.6, ls=":")  # the 24 kHz output's Nyquist frequency
    _draw_targets(ax, "quality")
    ax.set_xscale("log")
    ax.set_ylim(-145, 5)
    ax.set_xlabel("input tone (Hz), 48 kHz stereo in, 24 kHz mono out")
    ax.set_ylabel("gain (dB); -140 = digital silence")
    ax.set_title("Figure 2: frequency response, streamed in 20 ms chunks")
    ax.legend()
    c.save(fig, "fig2_quality.png")


def _ecdf(figure: str, title: str, name: str, log: bool) -> Callable[[_Canvas, Any], None]:
    """A plotter of the cumulative distribution of each plugin's ``_samples`` (ms)."""

    def draw(c: _Canvas, results: dict[str, Any]) -> None:
        data = {k: sorted(v["_samples"]) for k, v in results.items() if v.get("_samples")}
        if not data:
            return
        fig, ax = c.plt.subplots(figsize=(7, 3.4))
        for kind, values in data.items():
            ys = [(i + 1) / len(values) for i in range(len(values))]
            ax.step(values, ys, where="post", label=kind, color=COLORS.get(kind))
        _draw_targets(ax, figure)
        if log:
            ax.set_xscale("log")
        ax.set_xlabel("ms")
        ax.set_ylabel("fraction ≤ x")
        ax.set_title(title)
        ax.legend()
        c.save(fig, name)

    return draw


def _barge_in(c: _Canvas, barge: dict[str, Any]) -> None:
    fig, ax = c.plt.subplots(figsize=(8, 3.4))
    flushes = [
        r["flush_ms"]
        for d in barge.values()
        for r in d.get("rows", [])
        if r.get("flushed") and r.get("flush_ms") is not None
    ]
    limits = [at for axis, at in marks("barge_in") if axis == "y"]
    top = max([1.0, *flushes, *limits])
    for kind, d in barge.items():
        rws = d.get("rows", [])
        ok = [(r["index"], r["flush_ms"]) for r in rws if r.get("flushed")]
        bad = [r["index"] for r in rws if not r.get("flushed")]
        color = COLORS.get(kind)
        ax.plot([x for x, _ in ok], [y for _, y in ok], "o", label=f"{kind} flushed", color=color)
        ax.xaxis.get_major_locator().set_params(integer=True)
        if bad:
            ax.plot(bad, [top * 1.3] * len(bad), "x", label=f"{kind} NOT flushed", color=color)
    _draw_targets(ax, "barge_in")
    ax.set_xlabel("barge-in # in one session")
    ax.set_ylabel("speech_started → flushed (ms)")
    ax.set_ylim(0, top * 1.5)
    ax.set_title("Figure 5: barge-in flush time (x = never flushed)")
    ax.legend(fontsize=8)
    c.save(fig, "fig5_barge_in.png")


def _medians(steps: list[dict[str, Any]], key: str) -> tuple[list[float], list[list[float]]]:
    """Medians of one number over steps, and their distance to the min and max (error bars)."""
    mid = [s[key]["median"] for s in steps]
    low = [s[key]["median"] - s[key]["min"] for s in steps]
    high = [s[key]["max"] - s[key]["median"] for s in steps]
    return mid, [low, high]


def _density(c: _Canvas, dens: dict[str, Any]) -> None:
    fig, (a1, a2) = c.plt.subplots(1, 2, figsize=(10, 3.4))
    for kind, d in dens.items():
        steps = [s for s in d.get("steps", []) if "error" not in s]
        xs = [s["sessions"] for s in steps]
        color = COLORS.get(kind)
        for ax, key in ((a1, "lag_p99_ms"), (a2, "cpu_ms_per_call_s")):
            ys, bars = _medians(steps, key)
            ax.errorbar(xs, ys, yerr=bars, fmt="-", color=color, label=kind, capsize=2)
            for x, y, s in zip(xs, ys, steps, strict=True):
                face = color if s["passed"] else "white"
                ax.plot([x], [y], "o", color=color, markerfacecolor=face)
    _limit(a1, "y", LAG_LIMIT_MS)
    _draw_targets(a1, "density")
    a1.set_yscale("log")
    a1.set_xlabel("concurrent calls")
    a1.set_ylabel("event-loop lag p99 (ms), median (min–max)")
    a1.set_title("Figure 6: loop lag vs calls (hollow = failed)")
    a2.set_xlabel("concurrent calls")
    a2.set_ylabel("CPU ms per call-second")
    a2.set_title("CPU per call")
    a1.legend()
    c.save(fig, "fig6_density.png")


def _cpu(c: _Canvas, cpu: dict[str, Any]) -> None:
    kinds = [k for k in (OURS, VENDOR, FLOOR) if get(cpu, k, "by_delta")]
    deltas = get(cpu, OURS, "deltas_ms") or []
    if not kinds or not deltas:
        return
    fig, ax = c.plt.subplots(figsize=(7, 3.4))
    width = 0.8 / len(kinds)
    for i, kind in enumerate(kinds):
        steps = [get(cpu, kind, "by_delta", str(d)) or {} for d in deltas]
        ok = [(j, s) for j, s in enumerate(steps) if get(s, "cpu_ms_per_call_s", "n")]
        ys, bars = _medians([s for _, s in ok], "cpu_ms_per_call_s")
        xs = [j + (i - (len(kinds) - 1) / 2) * width for j, _ in ok]
        ax.bar(xs, ys, width, yerr=bars, capsize=2, label=kind, color=COLORS.get(kind))
    ax.set_xticks(range(len(deltas)), [f"{d} ms" for d in deltas])
    ax.set_xlabel("audio delta size the emulator sends")
    ax.set_ylabel("CPU ms per call-second")
    ax.set_title(f"Figure 8: CPU per call, {get(cpu, OURS, 'calls')} calls (median, min–max)")
    ax.legend()
    c.save(fig, "fig8_cpu.png")


def _memory(c: _Canvas, mem: dict[str, Any]) -> None:
    fig, ax = c.plt.subplots(figsize=(7, 3.4))
    for kind, m in mem.items():
        series = m.get("series") or []
        if series:
            base = m["rss_after_warmup_mb"]
            ax.plot(
                [p[0] for p in series],
                [p[1] - base for p in series],
                label=kind,
                color=COLORS.get(kind),
            )
    _draw_targets(ax, "memory")
    ax.set_xlabel("simulated minutes")
    ax.set_ylabel("RSS − RSS after warm-up (MB)")
    ax.set_title("Figure 7: memory over a simulated call")
    ax.legend()
    c.save(fig, "fig7_memory.png")


_PLOTS: tuple[tuple[str, Callable[[_Canvas, Any], None]], ...] = (
    ("input_cost", _input_cost),
    ("quality", _quality),
    (
        "output_latency",
        _ecdf(
            "output_latency",
            "Figure 3: audio delta written → frame in the track",
            "fig3_output_latency.png",
            True,
        ),
    ),
    (
        "first_audio",
        _ecdf(
            "first_audio",
            "Figure 4: speech_stopped → first voiced frame out",
            "fig4_first_audio.png",
            False,
        ),
    ),
    ("barge_in", _barge_in),
    ("density", _density),
    ("memory", _memory),
    ("cpu", _cpu),
)


def plots(results: dict[str, Any], out: Path) -> tuple[list[str], str | None]:
    """PNG plots of the distributions; returns the files and a note when skipped."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return [], "matplotlib is not installed: no plots (`pip install -e '.[bench]'`)"
    canvas = _Canvas(plt, out)
    figures = results.get("figures", {})
    for name, draw in _PLOTS:
        if get(figures, name):
            draw(canvas, figures[name])
    return canvas.written, None
