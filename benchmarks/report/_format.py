"""How numbers read in the table and in ``latest.md``.

Results hold ``None`` for what was not measured and the string ``"inf"`` for an
infinite ratio (JSON has no infinity); both must read the same everywhere.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["get", "mark", "num", "pair"]


def num(x: Any, digits: int = 1) -> str:
    """One value: ``–`` when not measured, ``∞`` when infinite."""
    if x is None:
        return "–"
    if isinstance(x, str):
        return "∞" if x == "inf" else x
    if isinstance(x, float) and not math.isfinite(x):
        return "∞"
    return f"{x:.{digits}f}"


def pair(d: dict[str, Any] | None, a: str, b: str, digits: int = 1) -> str:
    """Two statistics of one distribution (``p50 / p99``), or ``–`` when it is empty."""
    if not d or not d.get("n"):
        return "–"
    return f"{num(d.get(a), digits)} / {num(d.get(b), digits)}"


def get(node: Any, *path: str) -> Any:
    """``node[path[0]][path[1]]…``, or None as soon as a step is missing.

    A figure whose worker failed holds only an ``error``: every reader must cope
    with any key being absent.
    """
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def mark(met: bool | None) -> str:
    """A target check as the table shows it."""
    return "n/a" if met is None else ("met" if met else "MISSED")
