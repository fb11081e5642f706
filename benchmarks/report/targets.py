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
import operator
from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ..common import OURS, VENDOR
from ..interruptions import TRUNCATE_TOLERANCE_MS
from ._format import get, mark

__all__ = [
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
}
"""Figure key in ``results["figures"]`` → the number the table and plots show."""

KIND = "{kind}"
"""In :attr:`Target.where`: the step that names the plugin (``ours``/``vendor``)."""

Comparison = Literal["<", "≤", "≥", "="]
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "≤": operator.le,
    "≥": operator.ge,
    "=": operator.eq,
}


@dataclass(frozen=True)
class Check:
    """One comparison: the value at ``value`` (inside the plugin's result) against ``limit``.

    ``limit`` is a number, or the key of another value in the same result (the
    barge-in count: "all of them"). ``shown`` is how a limit that is not a
    plain number reads (``1/3``).
    """

    value: tuple[str, ...]
    op: Comparison
    limit: float | str
    shown: str | None = None

    def text(self) -> str:
        """``≤ 20``: the comparison as the claim and the table spell it."""
        if self.shown is not None:
            return f"{self.op} {self.shown}"
        return f"{self.op} {self.limit:g}" if isinstance(self.limit, float | int) else self.op


@dataclass(frozen=True)
class Mark:
    """Where a target's limit is drawn on its figure's plot.

    ``scale`` maps the limit onto the plot's axis: figure 2 plots gain, so a
    rejection of at least 60 dB is a line at -60 dB.
    """

    axis: Literal["x", "y"]
    scale: float = 1.0


@dataclass(frozen=True)
class Target:
    """A target of one figure; see the module docstring for who reads it.

    ``where`` leads from the figure's results to the dict the checks read; with
    a :data:`KIND` step each plugin has its own (the vendor's value is reported
    next to ours), without one the figure measured ours against the vendor
    already. ``claim`` (the sentence in ``latest.json``), ``column`` (the
    table's target cell), ``reading`` and ``detail`` are format strings: ``{c0}``
    … are the checks' :meth:`Check.text`, ``{v0}`` … the measured values, and
    every key of the plugin's result is available by name.
    """

    key: str
    figure: str
    checks: tuple[Check, ...]
    claim: str
    column: str
    where: tuple[str, ...] = (KIND,)
    reading: str | None = None
    """How the measured value is reported; None reports the raw value."""
    detail: str | None = None
    """Appended to met/MISSED in the table when the value was measured."""
    missing: bool | None = False
    """What an unmeasured value counts as: a miss, or (None) not applicable."""
    mark: Mark | None = None


TARGETS: tuple[Target, ...] = (
    Target(
        key="input_cost.ratio",
        figure="input_cost",
        where=(),
        checks=(Check(("ratio_p50",), "≤", 1 / 3, shown="1/3"),),
        claim="ours p50 {c0} of the vendor's (µs per 20 ms frame)",
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
        checks=(Check(("latency_ms", "p99"), "<", 2),),
        claim="output latency p99 {c0} ms",
        column="p99 {c0} ms",
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
        checks=(Check(("flush_ms", "p99"), "<", 10),),
        claim="flush p99 {c0} ms",
        column="p99 {c0} ms",
        mark=Mark("y"),
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
        _COMPARE[c.op](_numeric(v), result[c.limit] if isinstance(c.limit, str) else c.limit)
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


def check(target: Target, figures: Mapping[str, Any]) -> Checked | None:
    """Evaluate one target on a run's figures; None when ours has no result for it."""
    ours = _result(figures, target, OURS)
    if ours is None:
        return None
    values = [get(ours, *c.value) for c in target.checks]
    words = _words(target, ours, values)
    vendor_result = _result(figures, target, VENDOR) if KIND in target.where else None
    vendor = None
    if vendor_result is not None:
        vendor_values = [get(vendor_result, *c.value) for c in target.checks]
        vendor = _reading(target, vendor_result, vendor_values)
    measured = all(v is not None for v in values)
    return Checked(
        target=target,
        claim=target.claim.format_map(words),
        value=_reading(target, ours, values),
        met=_met(target, ours, values),
        vendor=vendor,
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
        if not isinstance(c.limit, str)
    ]
