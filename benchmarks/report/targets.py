"""The targets this plugin is held to, each declared once in :data:`TARGETS`.

One entry says which figure a target belongs to, which measured value(s) it
reads, how they compare and against what limit. The same entry decides
met/missed (:func:`targets`, stored in ``latest.json`` and listed in
``latest.md``), fills the target columns of the summary table
(:mod:`.table`) and draws the limit on the figure's plot (:mod:`.plots`), so
a limit cannot read one way in the table and another in a picture.
"""

from __future__ import annotations

import math
from collections import ChainMap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..call_cpu import DELTAS_MS
from ..common import FLOOR, OURS, VENDOR
from ..interruptions import TRUNCATE_TOLERANCE_MS
from ._format import get, mark
from .target_types import COMPARE, KIND, Check, Mark, Target

__all__ = [
    "BASELINE",
    "FIGURE_NUMBERS",
    "KIND",
    "TARGETS",
    "Check",
    "Checked",
    "Mark",
    "Target",
    "check",
    "check_all",
    "column",
    "marks",
    "ratio",
    "targets",
]

FIGURE_NUMBERS = {
    "input_cost": "1",
    "quality": "2",
    "output_latency": "3",
    "first_audio": "4",
    "barge_in": "5",
    "density": "6",
    "memory": "7",
    "cpu": "8",
    "scaleout": "9",
}
"""Figure key in ``results["figures"]`` → the number the table and plots show."""

BASELINE: dict[str, Any] = {
    "run": "the full runs of 2026-11-21 (2 CPUs, Python 3.11)",
    "output_latency_p99_over_vendor": (0.93, 1.08),
    "flush_p50_over_vendor": (1.01, 1.04),
}
"""Today's ratios to the vendor, which "no worse than today" is read against.

Absolute times drift with the machine and its load; the ratio to the vendor's,
measured in the same run, does not. The vendor flushes only its first barge-in
(figure 5), so the flush is compared at the median, with more room.
"""


def _today(key: str) -> str:
    """`` (no worse than today's 0.93–1.08×)``, for a claim (a format string)."""
    low, high = BASELINE[key]
    return f" (no worse than today's {low}–{high}×)"


def _per_delta(limit: float, over: str) -> tuple[Check, ...]:
    """Ours' CPU per call-second over ``over``'s, at every delta size of figure 8."""
    return tuple(
        Check(("by_delta", str(d), "cpu_ms_per_call_s", "median"), "≤", limit, over=over)
        for d in DELTAS_MS
    )


_DELTAS = "/".join(str(d) for d in DELTAS_MS)

TARGETS: tuple[Target, ...] = (
    Target(
        key="input_cost.ratio",
        figure="input_cost",
        where=(),
        checks=(Check(("ratio_p50",), "≤", 0.25),),
        claim="ours p50 {c0} of the vendor's (µs per 20 ms frame, through the real send path)",
        column="ours {c0} vendor (p50)",
        detail=" ({v0:.2f}×)",
        missing=None,  # without the vendor plugin there is nothing to compare with
    ),
    Target(
        key="input_cost.batching",
        figure="input_cost",
        where=("batching",),
        checks=(
            Check(("per_sample_mean_ms",), "≤", 20),
            Check(("per_sample_worst_ms",), "≤", 40),
        ),
        claim="batching adds {c0} ms on average, {c1} ms worst case",
        column="{c0} / {c1}",
        reading="{v0} / {v1} ms",
    ),
    Target(
        key="quality.rejection",
        figure="quality",
        where=("converters", KIND),
        checks=(Check(("rejection_worst_db",), "≥", 60),),
        claim="rejection of tones ≥ 12.5 kHz {c0} dB",
        column="{c0} dB",
        mark=Mark("y", scale=-1.0),
    ),
    Target(
        key="output_latency.p99",
        figure="output_latency",
        checks=(
            Check(("latency_ms", "p99"), "<", 2),
            Check(("latency_ms", "p99"), "≤", 1.25, over=VENDOR),
        ),
        claim="output latency p99 {c0} ms and {c1}" + _today("output_latency_p99_over_vendor"),
        column="p99 {c0} ms, {c1}",
        reading="{v0} ms ({v1:.2f}× vendor)",
        mark=Mark("x"),
    ),
    Target(
        key="barge_in.flushed",
        figure="barge_in",
        checks=(Check(("flushed",), "=", "barge_ins"),),
        claim="{barge_ins}/{barge_ins} barge-ins flushed",
        column="all",
        reading="{v0}/{barge_ins}",
    ),
    Target(
        key="barge_in.truncated",
        figure="barge_in",
        checks=(Check(("truncated_at_heard",), "=", "barge_ins"),),
        claim=(
            "{barge_ins}/{barge_ins} truncated at the heard position "
            f"(±{TRUNCATE_TOLERANCE_MS:g} ms)"
        ),
        column="all",
        reading="{v0}/{barge_ins}",
    ),
    Target(
        key="barge_in.flush_p99",
        figure="barge_in",
        checks=(
            Check(("flush_ms", "p99"), "<", 10),
            Check(("flush_ms", "p50"), "≤", 1.5, over=VENDOR),
        ),
        claim="flush p99 {c0} ms, and p50 {c1}" + _today("flush_p50_over_vendor"),
        column="p99 {c0} ms, p50 {c1}",
        reading="p99 {v0} ms (p50 {v1:.2f}× vendor)",
        mark=Mark("y"),
    ),
    Target(
        key="density.ratio",
        figure="density",
        checks=(Check(("sustained_sessions",), "≥", 3, over=VENDOR),),
        claim="ours carries {c0} the calls (same bisection schedule, ±1 call)",
        column="ours {c0}",
        reading="{v0:.2f}×",
        detail=" ({v0:.2f}×)",
        missing=None,
    ),
    Target(
        key="cpu.vendor",
        figure="cpu",
        checks=_per_delta(0.5, VENDOR),
        claim=f"CPU per call-second {{c0}} at {_DELTAS} ms deltas (median of the repeats)",
        column="ours {c0}",
        reading="{v0:.2f}× / {v1:.2f}× / {v2:.2f}×",
        missing=None,
    ),
    Target(
        key="cpu.floor",
        figure="cpu",
        checks=_per_delta(1.15, FLOOR),
        claim=f"CPU per call-second {{c0}} at {_DELTAS} ms deltas (median of the repeats)",
        column="ours {c0}",
        reading="{v0:.2f}× / {v1:.2f}× / {v2:.2f}×",
        missing=None,
    ),
    Target(
        key="memory.growth",
        figure="memory",
        checks=(Check(("growth_mb",), "<", 10),),
        claim="RSS growth {c0} MB over {sim_minutes:g} simulated minutes",
        column="{c0} MB",
        mark=Mark("y"),
    ),
)

_BY_KEY = {t.key: t for t in TARGETS}


def _result(figures: Mapping[str, Any], target: Target, kind: str) -> dict[str, Any] | None:
    """The dict ``target`` reads for one plugin; None when that plugin has no result.

    A worker that failed leaves only ``{"error": ...}``: its targets are not
    evaluated at all, rather than reported as missed for a reason the row
    cannot show.
    """
    node = get(figures, target.figure, *(kind if step == KIND else step for step in target.where))
    return node if isinstance(node, dict) and node and "error" not in node else None


def _numeric(value: Any) -> Any:
    """JSON has no infinity: results spell it ``"inf"``."""
    if isinstance(value, str):
        return {"inf": math.inf, "-inf": -math.inf}.get(value, value)
    return value


def _words(target: Target, result: Mapping[str, Any], values: list[Any]) -> ChainMap[str, Any]:
    names = {f"c{i}": c.text() for i, c in enumerate(target.checks)}
    names.update({f"v{i}": v for i, v in enumerate(values)})
    return ChainMap(names, dict(result))


def _reading(target: Target, result: dict[str, Any], values: list[Any]) -> Any:
    if target.reading is None:
        return values[0]
    return target.reading.format_map(_words(target, result, values))


def _met(target: Target, result: dict[str, Any], values: list[Any]) -> bool | None:
    if any(v is None for v in values):
        return target.missing
    return all(
        COMPARE[c.op](_numeric(v), result[c.limit] if isinstance(c.limit, str) else c.limit)
        for c, v in zip(target.checks, values, strict=True)
    )


@dataclass(frozen=True)
class Checked:
    """A target evaluated on one run."""

    target: Target
    claim: str
    value: Any
    met: bool | None
    vendor: Any
    detail: str

    def entry(self) -> dict[str, Any]:
        """What ``latest.json`` stores under ``targets``."""
        return {
            "figure": self.target.figure,
            "target": self.claim,
            "value": self.value,
            "met": self.met,
            "vendor": self.vendor,
        }

    def cell(self) -> str:
        """The table's "ours vs target" cell."""
        return mark(self.met) + self.detail


def ratio(ours: Any, other: Any) -> float | None:
    """``ours / other`` for two measured values; None unless both are numbers and
    ``other`` is positive (results spell infinity ``"inf"``)."""
    ours, other = _numeric(ours), _numeric(other)
    if not isinstance(ours, int | float) or not isinstance(other, int | float) or other <= 0:
        return None
    return float(ours) / float(other)


def _values(target: Target, figures: Mapping[str, Any], ours: dict[str, Any]) -> list[Any]:
    """The value each check compares: ours, or ours over the ``over`` client's."""
    values = []
    for c in target.checks:
        value = get(ours, *c.value)
        if c.over is not None:
            other = _result(figures, target, c.over)
            value = ratio(value, get(other, *c.value) if other is not None else None)
        values.append(value)
    return values


def _vendor_reading(target: Target, figures: Mapping[str, Any]) -> Any:
    """The vendor's own value next to ours (its first one, where ours is read as a ratio)."""
    if KIND not in target.where:
        return None
    result = _result(figures, target, VENDOR)
    if result is None:
        return None
    if any(c.over is not None for c in target.checks):
        return get(result, *target.checks[0].value)
    return _reading(target, result, [get(result, *c.value) for c in target.checks])


def check(target: Target, figures: Mapping[str, Any]) -> Checked | None:
    """Evaluate one target on a run's figures; None when ours has no result for it."""
    ours = _result(figures, target, OURS)
    if ours is None:
        return None
    values = _values(target, figures, ours)
    words = _words(target, ours, values)
    measured = all(v is not None for v in values)
    return Checked(
        target=target,
        claim=target.claim.format_map(words),
        value=_reading(target, ours, values) if measured else None,
        met=_met(target, ours, values),
        vendor=_vendor_reading(target, figures),
        detail=target.detail.format_map(words) if target.detail and measured else "",
    )


def check_all(results: Mapping[str, Any]) -> dict[str, Checked]:
    """Every target that could be evaluated on ``results``, by key, in :data:`TARGETS` order."""
    figures = results.get("figures", {})
    checked = {t.key: check(t, figures) for t in TARGETS}
    return {key: c for key, c in checked.items() if c is not None}


def targets(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``targets`` list of ``latest.json``: every target evaluated on ``results``."""
    return [c.entry() for c in check_all(results).values()]


def column(key: str) -> str:
    """The table's target cell for the target ``key``."""
    target = _BY_KEY[key]
    return target.column.format_map({f"c{i}": c.text() for i, c in enumerate(target.checks)})


def marks(figure: str) -> list[tuple[str, float]]:
    """``(axis, position)`` of every limit drawn on ``figure``'s plot."""
    return [
        (t.mark.axis, float(c.limit) * t.mark.scale)
        for t in TARGETS
        if t.figure == figure and t.mark is not None
        for c in t.checks
        if not isinstance(c.limit, str) and c.over is None
    ]
