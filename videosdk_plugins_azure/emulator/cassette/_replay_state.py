"""One replayed connection's state: live client events in, due server steps out.

No asyncio and no socket: the connection feeds it each live client event with the
time it arrived, and asks which recorded step is due and when (see the gating rule
in :mod:`._script`). The first client event that does not match the recording
ends the replay of the connection with a :class:`CassetteMismatch`, which names it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from ...protocol.events import ClientEvent
from ._audio import LiveAudio
from ._format import APPEND
from ._match import IdMap, Signature, describe, signature
from ._script import VOICE_GRACE_MS, Expected, Script, Step

_SESSION_UPDATE: Final[str] = ClientEvent.SESSION_UPDATE.value

__all__ = ["CassetteMismatch", "ReplayState"]


class CassetteMismatch(AssertionError):
    """A client did something the recording did not: the first divergent event.

    ``session`` is the cassette session, ``index`` the position of the event among
    that session's client events (audio appends not counted), ``line`` the cassette
    line of the expected event, ``expected``/``got`` the signatures compared.
    """

    def __init__(
        self,
        message: str,
        *,
        session: int | None,
        index: int | None = None,
        line: int | None = None,
        expected: Signature | None = None,
        got: Signature | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.session = session
        self.index = index
        self.line = line
        self.expected = expected
        self.got = got


def _diverged(
    script: Script, index: int, expected: Expected | None, got: Signature, frame: int
) -> CassetteMismatch:
    where = f"cassette session {script.session}, client event #{index}"
    if expected is not None:
        where += f" (cassette line {expected.line})"
    message = (
        f"replay mismatch at {where}: expected "
        f"{describe(expected.signature if expected else None)}, got {describe(got)} "
        f"(live frame {frame})"
    )
    if expected is not None:
        recorded = expected.signature
        differs = [k for k in {**recorded, **got} if recorded.get(k) != got.get(k)]
        message += f"; differs in: {', '.join(differs)}"
    return CassetteMismatch(
        message,
        session=script.session,
        index=index,
        line=expected.line if expected else None,
        expected=expected.signature if expected else None,
        got=got,
    )


class ReplayState:
    """Matches a live client against ``script`` and releases its steps."""

    def __init__(self, script: Script, started: float) -> None:
        self.script = script
        self.ids = IdMap()
        self.audio = LiveAudio()
        self.matched = 0
        """Expected client events matched so far."""
        self.frames = 0
        self.mismatch: CassetteMismatch | None = None
        self._started = started
        self._matched_at: list[float] = []
        """Live time each expected event was matched: when the gates it opens opened."""
        self._next = 0
        self._head_opened: float | None = None
        self._last_release = started
        self._last_t = 0.0
        """Recorded time of the step sent last."""
        self._check_head(started)

    # -- the client's side -------------------------------------------------------------

    def receive(self, event: Mapping[str, Any] | None, now: float) -> CassetteMismatch | None:
        """Take one live client frame (None: not a JSON event); a mismatch ends the replay."""
        if self.mismatch is not None:
            return self.mismatch
        self.frames += 1
        if event is not None and event.get("type") == APPEND:
            self.audio.feed(event.get("audio"))
            self._check_head(now)
            return None
        expected = self.script.expected
        wanted = expected[self.matched] if self.matched < len(expected) else None
        got = signature(event, self.ids)
        if wanted is None or got != wanted.signature:
            self.mismatch = _diverged(self.script, self.matched, wanted, got, self.frames)
            return self.mismatch
        if event is not None and wanted.event is not None:
            self.ids.learn_from(wanted.event, event)
            if event.get("type") == _SESSION_UPDATE:
                self.audio.configure(event.get("session"))
        self.matched += 1
        self._matched_at.append(now)
        self.audio.restart()
        self._check_head(now)
        return None

    def _gate_open(self, step: Step) -> bool:
        if step.after_events != self.matched:
            return step.after_events < self.matched
        audio = self.audio
        if audio.ms < step.after_ms:
            return False
        return not step.needs_voice or audio.heard or audio.ms >= step.after_ms + VOICE_GRACE_MS

    def _check_head(self, now: float) -> None:
        """Note when the next step's gate opened."""
        steps = self.script.steps
        nxt = self._next
        if self._head_opened is None and nxt < len(steps) and self._gate_open(steps[nxt]):
            self._head_opened = now

    # -- the server's side -------------------------------------------------------------

    def due_at(self, speed: float) -> float | None:
        """When the next step may be sent: None while its gate is shut or nothing is left."""
        if self.mismatch is not None or self._head_opened is None:
            return None
        step = self.script.steps[self._next]
        opened = self._head_opened
        if not step.audio_driven:  # its gate opened when its client event came
            index = step.after_events - 1
            opened = self._matched_at[index] if index >= 0 else self._started
        if math.isinf(speed):
            return max(opened, self._last_release)
        if step.gate_t >= self._last_t:  # its gate is its latest cause
            due = opened + (step.t - step.gate_t) / speed
        else:  # the server event before it is
            due = self._last_release + (step.t - self._last_t) / speed
        return max(due, self._last_release)

    def take(self, at: float) -> Step:
        """The next step, now being sent at ``at`` (call only once :meth:`due_at` said so)."""
        step = self.script.steps[self._next]
        self._next += 1
        self._last_release = at
        self._last_t = step.t
        self._head_opened = None
        if step.audio_driven:
            self.audio.restart()
        self._check_head(at)
        return step

    def outgoing(self, step: Step) -> dict[str, Any] | None:
        """The step's event in the live client's ids."""
        return None if step.event is None else self.ids.rewrite(step.event)

    def waiting_for(self) -> str:
        """What the next step waits for, in words (for a replay that seems stuck)."""
        if self.finished:
            return "nothing"
        step = self.script.steps[self._next]
        if step.after_events > self.matched:
            wanted = self.script.expected[self.matched]
            return f"client event #{self.matched}: {describe(wanted.signature)}"
        if self.audio.ms < step.after_ms:
            return f"{step.after_ms - self.audio.ms:.0f} ms more input audio"
        if step.needs_voice and not self.audio.heard:
            return "the caller's voice (input audio above -40 dBFS)"
        return "its recorded delay"

    @property
    def finished(self) -> bool:
        """Every step was sent (or the replay stopped at a mismatch)."""
        return self.mismatch is not None or self._next >= len(self.script.steps)

    def unplayed(self) -> str | None:
        """What of the session was not played, for :meth:`CassetteReplay.assert_all_played`."""
        if self.mismatch is not None:
            return self.mismatch.message
        missing = len(self.script.expected) - self.matched
        unsent = len(self.script.steps) - self._next
        if not missing and not unsent:
            return None
        parts = []
        if missing:
            nxt = describe(self.script.expected[self.matched].signature)
            parts.append(f"{missing} client event(s) never came (next: {nxt})")
        if unsent:
            parts.append(f"{unsent} server event(s) never sent")
        return f"cassette session {self.script.session}: " + "; ".join(parts)
