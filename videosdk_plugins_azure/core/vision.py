"""Meeting video for the model: the latest frame, offered once per caller turn, rate-bounded.

A meeting sends 30 frames a second; the model needs to see what is on screen when
the caller asks about it. So only the newest frame is kept (a reference, not a
copy; it is encoded only when sent), and it goes with a caller's turn when it is
new and at least :attr:`VisionState.interval` seconds have passed since the last.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_VIDEO_INTERVAL", "VisionState"]

DEFAULT_VIDEO_INTERVAL = 2.0


@dataclass
class VisionState:
    interval: float | None = DEFAULT_VIDEO_INTERVAL
    """Seconds between meeting frames sent at the least; None sends none."""
    latest: Any = None
    fresh: bool = False
    last_sent: float | None = None
    frames_seen: int = 0

    def frame(self, frame: Any) -> None:
        self.latest = frame
        self.fresh = True
        self.frames_seen += 1

    def take(self, now: float) -> Any:
        """The frame to send with this turn, if one is due (else None)."""
        if self.interval is None or not self.fresh or self.latest is None:
            return None
        if self.last_sent is not None and now - self.last_sent < self.interval:
            return None
        self.fresh = False
        self.last_sent = now
        return self.latest
