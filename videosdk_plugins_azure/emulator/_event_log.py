"""One side's recorded events, bounded by count and by bytes.

A record used to keep every event of every connection for the life of the process:
an emulator serving a soak, a benchmark or a shared endpoint grew without limit
(+241 MB after 20,000 items). A log with bounds drops its oldest events once it
holds more than ``max_events`` of them or more than ``max_bytes`` of JSON, and
counts what it dropped; an event bigger than ``max_bytes`` on its own is kept as a
stub that says so. Without bounds (``None``) it keeps everything, for tests.

Events live in a plain list that is trimmed in place, so code that reads
``record.client_events`` (``len``, slices, iteration) sees an ordinary list. The
oldest tenth goes at once when a bound is passed, so trimming costs amortised
constant time per event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["EventLog", "LogBounds"]


@dataclass(frozen=True)
class LogBounds:
    """How much one log keeps; ``None`` keeps everything."""

    max_events: int | None = None
    max_bytes: int | None = None


class EventLog:
    """The events of one side of one connection, oldest first."""

    def __init__(self, bounds: LogBounds | None = None) -> None:
        self.bounds = bounds or LogBounds()
        self.events: list[dict[str, Any]] = []
        self._sizes: list[int] = []
        self.bytes = 0
        """Approximate JSON bytes of the events kept."""
        self.dropped = 0
        """Events dropped to stay within the bounds."""

    def add(self, event: dict[str, Any], size: int) -> None:
        """Keep ``event`` (about ``size`` bytes of JSON), dropping the oldest past a bound."""
        limit = self.bounds.max_bytes
        if limit is not None and size > limit:
            event = {
                "type": event.get("type"),
                "event_id": event.get("event_id"),
                "omitted": f"<{size} bytes: over the record's limit of {limit}>",
            }
            size = 128
        self.events.append(event)
        self._sizes.append(size)
        self.bytes += size
        self._trim()

    def _trim(self) -> None:
        max_events, max_bytes = self.bounds.max_events, self.bounds.max_bytes
        over_count = max_events is not None and len(self.events) > max_events
        over_bytes = max_bytes is not None and self.bytes > max_bytes
        if not (over_count or over_bytes):
            return
        keep_events = len(self.events) if max_events is None else max_events - max_events // 10
        keep_bytes = self.bytes if max_bytes is None else max_bytes - max_bytes // 10
        drop = max(0, len(self.events) - keep_events)
        freed = sum(self._sizes[:drop])
        while drop < len(self.events) - 1 and self.bytes - freed > keep_bytes:
            freed += self._sizes[drop]
            drop += 1
        del self.events[:drop]
        del self._sizes[:drop]
        self.bytes -= freed
        self.dropped += drop
