"""How long the emulated model thinks before a response's first output.

The service answers hundreds of milliseconds after ``speech_stopped``, never within a
few (``voicelive-protocol.md`` §9). An emulator that answers in 3 ms lets a client
pass with ordering races that only a zero-latency server produces (audio arriving
before the client has finished reacting to the end of the caller's turn, say), so
the default is :data:`DEFAULT_MODEL_LATENCY` ± :data:`DEFAULT_LATENCY_JITTER`.

The latency is **wall-clock** seconds, not scaled by ``speed``: ``speed`` paces the
audio, which is emulated time, while the latency is the model's think time. So an
unpaced emulator (``speed=math.inf``) still waits; a test that does not care about
latency says so with ``model_latency=0``, and gets the old instant answers.

The jitter comes from a :class:`random.Random` per connection, seeded from the
emulator's ``seed`` and the connection's index: the same settings give the same
latencies on every run, and one connection's latencies do not depend on how its
responses interleave with other connections'.
"""

from __future__ import annotations

import math
import random
from typing import Final

__all__ = [
    "DEFAULT_LATENCY_JITTER",
    "DEFAULT_MODEL_LATENCY",
    "DEFAULT_SEED",
    "LatencyDraws",
    "check_latency",
]

DEFAULT_MODEL_LATENCY: Final = 0.3
"""Seconds from a response's start to its first output item, on average."""
DEFAULT_LATENCY_JITTER: Final = 0.1
"""Half-width of the uniform spread around :data:`DEFAULT_MODEL_LATENCY`."""
DEFAULT_SEED: Final = 0


def check_latency(model_latency: float, latency_jitter: float) -> None:
    """Refuse latencies no clock can wait: negative, NaN or infinite ones."""
    for name, value in (("model_latency", model_latency), ("latency_jitter", latency_jitter)):
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number of seconds >= 0, got {value!r}")


class LatencyDraws:
    """One connection's sequence of model latencies.

    A draw is ``model_latency`` moved by up to ``latency_jitter`` either way (never
    below 0). A ``model_latency`` of 0 means "answer at once": no jitter, and no
    draw is used up, so switching latency off for one response leaves the next
    draws where they were.
    """

    def __init__(self, seed: int, connection_index: int) -> None:
        # A string seed is hashed with SHA-512, so it does not depend on PYTHONHASHSEED.
        seeded = f"voice-live-latency:{seed}:{connection_index}"
        self._rng = random.Random(seeded)  # noqa: S311 - timing jitter, not a secret

    def draw(self, model_latency: float, latency_jitter: float) -> float:
        if model_latency <= 0:
            return 0.0
        offset = (2.0 * self._rng.random() - 1.0) * latency_jitter
        return max(0.0, model_latency + offset)
