"""Collapsing repeated identical errors, so a misbehaving service cannot flood the app.

A server that sends the same ``error`` a thousand times a second would otherwise
become a thousand ``error`` events for the pipeline and a thousand log lines. The
first of a kind is reported; repeats within :data:`WINDOW_S` are counted, and the
count is logged once when the window closes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

__all__ = ["WINDOW_S", "ErrorStorm"]

log = logging.getLogger("videosdk_plugins_azure")

WINDOW_S = 5.0
_MAX_KINDS = 64


@dataclass
class _Kind:
    opened: float
    repeats: int = 0


@dataclass
class ErrorStorm:
    window: float = WINDOW_S
    _kinds: dict[tuple[str, str], _Kind] = field(default_factory=dict)

    def admit(self, code: str, message: str, now: float) -> bool:
        """True when this error should be reported (the first of its kind in the window)."""
        key = (code, message)
        kind = self._kinds.get(key)
        if kind is not None and now - kind.opened < self.window:
            kind.repeats += 1
            return False
        if kind is not None:
            self._close(key, kind)
        elif len(self._kinds) >= _MAX_KINDS:
            oldest = next(iter(self._kinds))
            self._close(oldest, self._kinds.pop(oldest))
        self._kinds[key] = _Kind(now)
        return True

    def _close(self, key: tuple[str, str], kind: _Kind) -> None:
        if kind.repeats:
            log.warning(
                "Voice Live error %s repeated %d more time(s) in %.0fs (collapsed)",
                key[0],
                kind.repeats,
                self.window,
            )
