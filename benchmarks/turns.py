"""The turn ledger of a driven call: what the caller said, and whether it was answered.

A :class:`CallLog` rides along with a :class:`~.load.DrivenSession`. The feeder tells
it which frame of the caller's script it hands over, so it knows when each utterance
was spoken in full; the model's events tell it when the service detected a turn
(``user_speech_ended``) and when an answer played (``agent_speech_started`` ...
``agent_speech_ended``, or ``llm_text_output``); the fault injector tells it when a
fault was ordered and when it had been carried out. :meth:`CallLog.ledger` then sorts
every detected turn into one of three bins:

* **answered**: an answer started after the turn ended and before the next turn
  ended, and no fault landed between the turn's end and that answer's end; or one
  did, and a new answer still started playing after the fault had been carried out;
* **cut by the fault**: a fault landed after the turn ended and before its answer
  finished, and no answer started after the fault. The fault itself cut it off;
  it is counted apart, never among the answered ones, and those whose answer had
  not started playing yet (the fault hit while the model was thinking) are
  counted again on their own;
* **lost**: no answer, and no fault to blame.

Every utterance spoken in full must also have been detected (a turn ended between
its onset and the next one). One that was not is *cut by the fault* when a fault
landed between its onset and 1 s after its end (the service had not yet said the
turn was over when its connection went), and *lost* otherwise. Lost turns are the
lost detected turns plus the lost utterances; a healthy call has none.
All times are the event loop's clock (``time.monotonic``).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MAX_SKIPPED_FRAMES",
    "TAIL_FRAMES",
    "CallLog",
    "FaultRecord",
    "merge_ledgers",
    "verdict",
]

TAIL_FRAMES = 50
"""An utterance counts as spoken once 1 s of line noise followed it (the VAD needs 0.5 s)."""
MAX_SKIPPED_FRAMES = 10
"""An utterance that lost more than 200 ms to a stalled feeder is not counted as spoken."""


@dataclass
class FaultRecord:
    kind: str
    ordered: float
    done: float
    outcome: str = ""
    connection: int = -1


@dataclass
class CallLog:
    """One call's timeline. ``spans`` and ``frames`` come from the :class:`~.load.Caller`."""

    index: int
    spans: list[tuple[int, int]]
    frames: int
    utterances: list[list[float | None]] = field(default_factory=list)
    """[onset, completed] per utterance begun; completed is None until it was spoken
    and followed by ``TAIL_FRAMES`` of noise (and stays None if the feeder skipped more
    than ``MAX_SKIPPED_FRAMES`` of it, or the caller hung up first)."""
    turns: list[float] = field(default_factory=list)
    reply_starts: list[float] = field(default_factory=list)
    reply_ends: list[float] = field(default_factory=list)
    texts: list[float] = field(default_factory=list)
    faults: list[FaultRecord] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    fatal: list[str] = field(default_factory=list)
    _prev: int | None = field(default=None, repr=False)
    _current: tuple[int, int] | None = field(default=None, repr=False)
    """The utterance being fed: (its span, how many of its frames were skipped)."""

    @property
    def tag(self) -> str:
        return f"call-{self.index:03d}"

    # -- the caller's side ------------------------------------------------------------

    def fed(self, k: int, frame: bytes, silence: bytes) -> bytes:
        """Frame ``k`` of the script is handed over; returns what to hand over.

        Until the first utterance begins, line noise replaces the script, so a call
        never starts in the middle of a question. Frames the feeder skipped (its
        line fell behind) are counted against the utterance they belonged to; one
        that lost more than ``MAX_SKIPPED_FRAMES`` is not counted as spoken.
        """
        pos = k % self.frames
        skipped = 0 if self._prev is None else max(0, k - self._prev - 1)
        self._prev = k
        onsets = [i for i, (a, _) in enumerate(self.spans) if (pos - a) % self.frames <= skipped]
        if onsets:
            self.utterances.append([time.monotonic(), None])
            start = self.spans[onsets[-1]][0]
            self._current = (onsets[-1], min(skipped, (pos - start) % self.frames))
        elif self._current is not None:
            span, lost = self._current
            start, end = self.spans[span]
            self._current = (span, lost + skipped)
            if (pos - start) % self.frames >= end - start + TAIL_FRAMES:
                if lost + skipped <= MAX_SKIPPED_FRAMES:
                    self.utterances[-1][1] = time.monotonic()
                self._current = None
        return frame if self.utterances else silence

    # -- the model's side -------------------------------------------------------------

    def attach(self, model: Any) -> None:
        def stamp(times: list[float]) -> Any:
            return lambda *_: times.append(time.monotonic())

        model.on("user_speech_ended", stamp(self.turns))
        model.on("agent_speech_started", stamp(self.reply_starts))
        model.on("agent_speech_ended", stamp(self.reply_ends))
        model.on("llm_text_output", stamp(self.texts))
        model.on("error", self._error)

    def _error(self, error: Any = None, *_: Any) -> None:
        code = str(getattr(error, "code", type(error).__name__))
        self.errors[code] += 1
        if getattr(error, "recoverable", True) is False:
            self.fatal.append(f"{code}: {error}")

    # -- the verdict ------------------------------------------------------------------

    def ledger(self, until: float) -> dict[str, int]:
        """Every turn and utterance in one bin; ``until`` is when the run stopped listening."""
        bins: Counter[str] = Counter()
        starts = sorted(self.reply_starts + self.texts)
        for i, end in enumerate(self.turns):
            nxt = self.turns[i + 1] if i + 1 < len(self.turns) else until
            bins[self._turn(end, nxt, [t for t in starts if end < t <= nxt])] += 1
        spoken = 0
        for i, (onset, completed) in enumerate(self.utterances):
            if onset is None or completed is None:
                continue
            spoken += 1
            nxt = self.utterances[i + 1][0] if i + 1 < len(self.utterances) else until
            if not any(onset < t <= (nxt or until) for t in self.turns):
                cut = any(onset < f.done and f.ordered <= completed for f in self.faults)
                bins["undetected, cut" if cut else "undetected"] += 1
        return {
            "utterances_spoken": spoken,
            "turns_detected": len(self.turns),
            "turns_answered": bins["answered"] + bins["answered after fault"],
            "of_which_answered_after_a_fault_in_the_turn": bins["answered after fault"],
            "turns_cut_by_fault": bins["cut"] + bins["cut before the answer"],
            "of_which_before_the_answer_started": bins["cut before the answer"],
            "utterances_cut_by_fault_before_detection": bins["undetected, cut"],
            "turns_unanswered": bins["lost"],
            "utterances_never_detected": bins["undetected"],
            "lost_turns": bins["lost"] + bins["undetected"],
        }

    def _turn(self, end: float, nxt: float, starts: list[float]) -> str:
        """The bin of the turn that ended at ``end`` (answers in ``starts``)."""
        hits = [f for f in self.faults if end < f.done and f.ordered <= nxt]
        if not hits:
            return "answered" if starts else "lost"
        fault = hits[0]
        if any(fault.done < t <= nxt for t in self.reply_starts):
            return "answered after fault"  # a new answer played after the recovery
        finished = [e for e in self.reply_ends if starts and e >= starts[0]]
        if starts and finished and finished[0] <= fault.ordered:
            return "answered"  # the answer had played out before the fault
        return "cut" if starts and starts[0] <= fault.done else "cut before the answer"


def merge_ledgers(ledgers: list[dict[str, int]]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for ledger in ledgers:
        total.update(ledger)
    return dict(total)


def verdict(calls: list[Any], logs: list[CallLog], until: float) -> dict[str, Any]:
    """The ledger, dead calls and errors of finished calls (before they are closed).

    A call is dead when its model is not ready, its output track is no longer
    drained, or it reported a fatal error (gave up), whether or not the caller is
    still talking (the caller has usually hung up by now).
    """
    dead = []
    for call, log in zip(calls, logs, strict=True):
        serving = bool(getattr(call.model, "ready", False)) and not call._tasks[1].done()
        if serving and not log.fatal:
            continue
        core = getattr(call.model, "_core", None)
        dead.append(
            {
                "call": log.tag,
                "link": str(getattr(getattr(core, "link", None), "state", None)),
                "fatal": log.fatal,
                "faults": [f"{f.kind} {f.outcome} #{f.connection}" for f in log.faults],
            }
        )
    errors: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    for log in logs:
        errors.update(log.errors)
        outcomes.update(f"{f.kind} {f.outcome}" for f in log.faults)
    return {
        **merge_ledgers([log.ledger(until) for log in logs]),
        "dead_calls": len(dead),
        "dead": dead,
        "faults": dict(sorted(outcomes.items())),
        "calls_without_a_fault": sum(
            not any(f.outcome == "ok" for f in log.faults) for log in logs
        ),
        "errors_by_code": dict(errors),
        "fatal_errors": sum(len(log.fatal) for log in logs),
        "reconnects": sum(getattr(call.model, "reconnects", 0) for call in calls),
        "frames_late": sum(call.frames_late for call in calls),
        "dropped_input_audio_bytes": sum(
            getattr(call.model, "dropped_input_audio_bytes", 0) for call in calls
        ),
    }
