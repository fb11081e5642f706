"""What the emulated assistant says, turn by turn.

The emulator is not a language model: a test (or a user testing their own agent)
scripts each turn. A :class:`Turn` says what the caller's audio "contained" (the
transcript the service would report) and how the assistant answers: a reply text,
or function calls followed by a reply once their outputs arrive. Unscripted turns
still work, answered by :func:`echo_reply`, so a plain SDK quick-start gets a
spoken answer with no setup.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias


@dataclass(frozen=True)
class ReplyContext:
    """What a reply callable can base its text on."""

    turn_index: int
    """0-based index of the scripted turn (or -1 when no turn was consumed)."""
    user_text: str | None
    """The caller's words: the transcript of an audio turn or the text of a text turn."""
    instructions: str | None
    """The instructions in force: the response's own, else the session's."""
    tool_outputs: Mapping[str, str] = field(default_factory=dict)
    """``call_id`` → output, for the reply that follows function calls."""


ReplyText: TypeAlias = str | Callable[[ReplyContext], str]


@dataclass(frozen=True)
class FunctionCall:
    """A function call the assistant makes.

    ``arguments`` may be a mapping (sent as JSON) or a raw string, so tests can
    send arguments that are not valid JSON.
    """

    name: str
    arguments: Mapping[str, Any] | str = field(default_factory=dict)
    call_id: str | None = None

    def arguments_json(self) -> str:
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(dict(self.arguments), separators=(",", ":"))


@dataclass(frozen=True)
class Turn:
    """One scripted exchange.

    ``user`` is the transcript of the caller's audio for this turn (text turns
    carry their own words). With ``calls``, the first response is those function
    calls and ``reply`` answers once their outputs arrive.
    """

    user: str | None = None
    reply: ReplyText | None = None
    calls: Sequence[FunctionCall] = ()


def echo_reply(ctx: ReplyContext) -> str:
    """The default answer: repeat what the caller said, or offer help."""
    if ctx.tool_outputs:
        return "The result is " + "; ".join(ctx.tool_outputs.values()) + "."
    if ctx.user_text:
        return f"You said: {ctx.user_text}"
    return "Hello! How can I help you today?"


class Scenario:
    """An ordered script of turns, consumed one per user turn.

    The cursor is shared by every connection of an emulator, so a conversation
    that reconnects mid-call carries on with the next scripted turn.
    """

    def __init__(
        self,
        turns: Iterable[Turn] = (),
        *,
        default_reply: Callable[[ReplyContext], str] = echo_reply,
    ) -> None:
        self._turns = list(turns)
        self._cursor = 0
        self.default_reply = default_reply

    def next_turn(self) -> tuple[int, Turn]:
        """Consume the next turn; past the end, an unscripted one (index -1)."""
        if self._cursor < len(self._turns):
            index = self._cursor
            self._cursor += 1
            return index, self._turns[index]
        return -1, Turn()

    @property
    def consumed(self) -> int:
        return self._cursor

    @property
    def remaining(self) -> int:
        return len(self._turns) - self._cursor

    def add(self, *turns: Turn) -> None:
        self._turns.extend(turns)

    def render_reply(self, reply: ReplyText | None, ctx: ReplyContext) -> str:
        if reply is None:
            return self.default_reply(ctx)
        if isinstance(reply, str):
            return reply
        return reply(ctx)

    @classmethod
    def from_data(cls, data: Any) -> Scenario:
        """Build from JSON-shaped data: ``{"turns": [{"user", "reply", "calls": [...]}]}``.

        Used by the command line, so a scenario can live in a file.
        """
        raw_turns = data.get("turns") if isinstance(data, dict) else data
        if not isinstance(raw_turns, list):
            raise ValueError("a scenario is a list of turns or {'turns': [...]}")
        turns = []
        for i, raw in enumerate(raw_turns):
            if not isinstance(raw, dict):
                raise ValueError(f"turn {i} must be an object")
            unknown = set(raw) - {"user", "reply", "calls"}
            if unknown:
                raise ValueError(f"turn {i} has unknown keys: {sorted(unknown)}")
            calls = []
            for j, call in enumerate(raw.get("calls") or []):
                if not isinstance(call, dict) or not isinstance(call.get("name"), str):
                    raise ValueError(f"turn {i} call {j} needs a 'name'")
                calls.append(
                    FunctionCall(
                        name=call["name"],
                        arguments=call.get("arguments") or {},
                        call_id=call.get("call_id"),
                    )
                )
            turns.append(Turn(user=raw.get("user"), reply=raw.get("reply"), calls=tuple(calls)))
        return cls(turns)

    @classmethod
    def from_file(cls, path: str | Path) -> Scenario:
        return cls.from_data(json.loads(Path(path).read_text(encoding="utf-8")))
