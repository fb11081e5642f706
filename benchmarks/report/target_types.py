"""What a target is made of: the checks, the mark on a plot, the target itself.

:mod:`.targets` declares every target with these and evaluates them; the types
live here so the declarations stay one readable list.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["COMPARE", "KIND", "Check", "Comparison", "Mark", "Target"]

KIND = "{kind}"
"""In :attr:`Target.where`: the step that names the plugin (``ours``/``vendor``)."""

Comparison = Literal["<", "≤", "≥", "="]
COMPARE: dict[str, Callable[[Any, Any], bool]] = {
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
    plain number reads (``1/3``). With ``over`` the value compared is a ratio:
    ours divided by the same value of the client ``over`` (``vendor``, ``floor``),
    from the same run.
    """

    value: tuple[str, ...]
    op: Comparison
    limit: float | str
    shown: str | None = None
    over: str | None = None

    def text(self) -> str:
        """``≤ 20``: the comparison as the claim and the table spell it."""
        if self.shown is not None:
            return f"{self.op} {self.shown}"
        if self.over is not None:
            return f"{self.op} {self.limit:g}× {self.over}"
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
