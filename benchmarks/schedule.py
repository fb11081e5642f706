"""The rules of a load figure's steps, the same for every client, as plain functions.

* :class:`Bisection`: which call count to measure next. Counts double from
  ``start`` until a step fails, then the bracket between the largest count that
  passed and the smallest that failed is halved until they are one call apart.
  Every client gets exactly this schedule, so none gets finer steps near its limit
  than another.
* :func:`collect`: the repeats of one step. A window in which other processes on
  the machine used more than :data:`FOREIGN_LIMIT` of a core is not kept: it is
  measured again, up to ``retries`` extra windows per step; a window that never got
  a quiet machine is kept and marked (``quiet: False``), and so is its step.
* :func:`summarize`: the step's verdict and numbers. A step passes on the median of
  its repeats' loop-lag p99 (and only if every call stayed up in every repeat); each
  number is reported as its median with the spread (min and max) of the repeats.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FOREIGN_LIMIT",
    "LAG_LIMIT_MS",
    "SPREAD_KEYS",
    "Bisection",
    "Plan",
    "collect",
    "quiet",
    "spread",
    "summarize",
]

LAG_LIMIT_MS = 20.0
"""A step passes while the event loop's lag p99 (median of the repeats) stays under this."""
FOREIGN_LIMIT = 0.15
"""Cores that processes other than the benchmark's may use during a window kept as quiet."""
SPREAD_KEYS = (
    "lag_p99_ms",
    "cpu_share",
    "cpu_ms_per_call_s",
    "emulator_cpu_share",
    "foreign_cpu_share",
    "input_realtime_ratio",
    "agent_voiced_s_per_call_min",
)
"""The numbers of a window that a step reports as median and spread."""


@dataclass(frozen=True)
class Plan:
    """How every step of a load figure is measured, the same for every client."""

    settle: float
    """Seconds between reaching a step's call count and its first window."""
    window: float
    """Seconds per window."""
    repeats: int = 3
    """Windows kept per step (the verdict is on their median)."""
    retries: int = 3
    """Extra windows a step may take to replace windows taken under foreign load."""

    def describe(self) -> dict[str, Any]:
        return {
            "settle_s": self.settle,
            "window_s": self.window,
            "repeats": self.repeats,
            "retries": self.retries,
            "foreign_limit_cores": FOREIGN_LIMIT,
        }


@dataclass
class Bisection:
    """Double from ``start`` up to ``ceiling`` until a failure, then bisect to ±1 call."""

    start: int
    ceiling: int
    passed: int = 0
    """The largest count that passed (0: none yet)."""
    failed: int | None = None
    """The smallest count that failed (None: none yet)."""

    def __post_init__(self) -> None:
        if not 1 <= self.start <= self.ceiling:
            raise ValueError(f"need 1 <= start <= ceiling, got {self.start} and {self.ceiling}")

    def next(self) -> int | None:
        """The next count to measure, or None once the limit is known to ±1 call."""
        if self.failed is None:
            if self.passed == 0:
                return self.start
            return None if self.passed >= self.ceiling else min(self.ceiling, 2 * self.passed)
        if self.failed - self.passed <= 1:
            return None
        return (self.passed + self.failed) // 2

    def record(self, count: int, passed: bool) -> None:
        """What the step at ``count`` showed."""
        if passed:
            self.passed = max(self.passed, count)
        else:
            self.failed = count if self.failed is None else min(self.failed, count)

    @property
    def limit_reached(self) -> bool:
        """Whether some count failed (else the largest passing count is only a lower bound)."""
        return self.failed is not None


def quiet(window: Mapping[str, Any], limit: float = FOREIGN_LIMIT) -> bool:
    """Whether other processes left the machine to the benchmark during ``window``."""
    return float(window.get("foreign_cpu_share", 0.0)) <= limit


async def collect(
    measure: Callable[[], Awaitable[dict[str, Any]]],
    repeats: int,
    retries: int,
    limit: float = FOREIGN_LIMIT,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``repeats`` windows, re-measuring noisy ones; returns (kept, discarded).

    At most ``retries`` windows are discarded for the whole step; after that a
    noisy window is kept, marked ``quiet: False``.
    """
    if repeats < 1:
        raise ValueError("a step needs at least one repeat")
    kept: list[dict[str, Any]] = []
    discarded: list[dict[str, Any]] = []
    while len(kept) < repeats:
        window = await measure()
        window["quiet"] = quiet(window, limit)
        if window["quiet"] or len(discarded) >= retries:
            kept.append(window)
        else:
            discarded.append(window)
    return kept, discarded


def spread(values: Sequence[float | None], digits: int = 3) -> dict[str, Any]:
    """Median and spread (min, max) of a step's repeats; ``{"n": 0}`` when there are none."""
    xs = [float(v) for v in values if v is not None]
    if not xs:
        return {"n": 0}
    return {
        "n": len(xs),
        "median": round(statistics.median(xs), digits),
        "min": round(min(xs), digits),
        "max": round(max(xs), digits),
    }


def summarize(
    count: int,
    kept: Sequence[Mapping[str, Any]],
    discarded: Sequence[Mapping[str, Any]] = (),
    lag_limit_ms: float = LAG_LIMIT_MS,
) -> dict[str, Any]:
    """One step: the verdict on the median, every number as median and spread."""
    step: dict[str, Any] = {"sessions": count}
    for key in SPREAD_KEYS:
        step[key] = spread([w.get(key) for w in kept])
    lag = step["lag_p99_ms"]
    all_alive = all(w.get("alive") == w.get("sessions") for w in kept)
    step["passed"] = bool(kept) and all_alive and lag.get("median", math.inf) < lag_limit_ms
    step["all_alive"] = all_alive
    step["quiet"] = all(bool(w.get("quiet", True)) for w in kept)
    step["repeats"] = list(kept)
    step["discarded"] = list(discarded)
    return step
