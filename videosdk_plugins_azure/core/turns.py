"""The caller's side of the call: whether they are speaking, and their transcripts.

Kept apart from the agent's responses because the two overlap in time (a barge-in
is the caller starting while the agent speaks) and the rotation rule needs both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["UserTurn"]

_MAX_OPEN_TRANSCRIPTS = 32


@dataclass
class UserTurn:
    speaking: bool = False
    metrics_held: bool = False
    """Whether this turn holds the framework's metrics turn open (see ``open_metrics_turn``)."""
    stopped_at: float | None = None
    """When the server's VAD last heard the caller stop (first-audio latency starts here)."""
    latencies: list[float] = field(default_factory=list)
    """Seconds from ``speech_stopped`` to each answer's first audio delta."""
    _partials: dict[str, str] = field(default_factory=dict)

    def started(self) -> None:
        self.speaking = True

    def stopped(self, now: float) -> None:
        self.speaking = False
        self.stopped_at = now

    def first_audio(self, now: float) -> float | None:
        """The latency of this answer's first audio, once per caller turn."""
        if self.stopped_at is None:
            return None
        latency = now - self.stopped_at
        self.stopped_at = None
        self.latencies.append(latency)
        return latency

    def transcript_delta(self, item_id: str, delta: str) -> str:
        """The caller's transcript so far for ``item_id`` (matched by item, not by order)."""
        text = self._partials.get(item_id, "") + delta
        if item_id not in self._partials and len(self._partials) >= _MAX_OPEN_TRANSCRIPTS:
            del self._partials[next(iter(self._partials))]
        self._partials[item_id] = text
        return text

    def transcript_closed(self, item_id: str) -> None:
        self._partials.pop(item_id, None)
