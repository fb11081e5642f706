"""User turns waiting for their answer, and the registry that outlives a socket.

A scripted turn is bound to the user message that consumed it; when its first
response is function calls, the turn then waits for the client's outputs. Those
outputs may arrive on another socket (the client reconnected and replayed the
conversation), so the waiting turns are filed by ``call_id`` in one
:class:`ToolTurnRegistry` per emulator, shared by all its connections.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._mcp import McpProgress
from ._scenario import ReplyContext, Turn

__all__ = ["PendingTurn", "ToolFiller", "ToolTurnRegistry", "tool_filler"]


@dataclass(eq=False)
class PendingTurn:
    """A user turn waiting for its answer (and, after calls, for their outputs).

    Compared by identity: two turns with the same script and words are still
    different waits.
    """

    index: int
    """Position of the scripted turn, or -1 for an unscripted one."""
    turn: Turn
    user_text: str | None
    open_calls: dict[str, str | None] = field(default_factory=dict)
    """``call_id`` → output once the client sent it (``None`` until then)."""
    mcp: McpProgress = field(default_factory=McpProgress)

    @property
    def waiting_for_outputs(self) -> bool:
        """Some call of this turn has no output yet."""
        return any(output is None for output in self.open_calls.values())

    @property
    def has_outputs(self) -> bool:
        """The client sent at least one output: the reply may follow."""
        return any(output is not None for output in self.open_calls.values())

    @property
    def outputs(self) -> dict[str, str]:
        return {k: v for k, v in self.open_calls.items() if v is not None}

    def reply_context(self, instructions: str | None, **results: Any) -> ReplyContext:
        return ReplyContext(self.index, self.user_text, instructions, **results)


class ToolTurnRegistry:
    """``call_id`` → the turn waiting for that call's output, across connections.

    Public because it is emulator state a test may want to inspect (is a call
    still awaited after the drop?); connections reach it through their
    :class:`~._context.ConnectionContext`, never through the server.
    """

    def __init__(self) -> None:
        self._turns: dict[str, PendingTurn] = {}

    def register(self, turn: PendingTurn) -> None:
        """File ``turn`` under each of its open call ids."""
        for call_id in turn.open_calls:
            self._turns[call_id] = turn

    def release(self, turn: PendingTurn) -> None:
        """Forget ``turn``: once answered, a replayed output of it is history."""
        for call_id in turn.open_calls:
            self._turns.pop(call_id, None)

    def get(self, call_id: str) -> PendingTurn | None:
        return self._turns.get(call_id)

    def __contains__(self, call_id: object) -> bool:
        return call_id in self._turns

    def __iter__(self) -> Iterator[str]:
        return iter(self._turns)

    def __len__(self) -> int:
        return len(self._turns)


@dataclass(frozen=True)
class ToolFiller:
    """The static words spoken when the client's tools take too long."""

    threshold: float
    """Seconds of waiting (at speed 1) before a filler is spoken."""
    texts: Sequence[str]


def tool_filler(config: Any) -> ToolFiller | None:
    """The static filler for slow tools, if the session's ``interim_response`` asks for one.

    Only ``static_interim_response`` with the ``tool`` trigger and a threshold
    qualifies: the emulator has no model to write an ``llm_interim_response``.
    The validator has already normalised the hyphenated spelling.
    """
    if not isinstance(config, Mapping) or config.get("type") != "static_interim_response":
        return None
    threshold = config.get("latency_threshold_ms")
    if "tool" not in (config.get("triggers") or ()) or threshold is None:
        return None
    return ToolFiller(threshold / 1000.0, list(config["texts"]))
