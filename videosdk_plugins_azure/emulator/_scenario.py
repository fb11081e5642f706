"""What the emulated assistant says, turn by turn.

The emulator is not a language model: a test (or a user testing their own agent)
scripts each turn. A :class:`Turn` says what the caller's audio "contained" (the
transcript the service would report) and how the assistant answers: a reply text,
function calls followed by a reply once their outputs arrive, or calls to the
session's MCP servers, which the service runs itself (after the client approves them
when the server requires approval) before it speaks the reply. Unscripted turns
still work, answered by :func:`echo_reply`, so a plain SDK quick-start gets a
spoken answer with no setup.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

__all__ = [
    "FunctionCall",
    "McpCall",
    "ReplyContext",
    "ReplyText",
    "Scenario",
    "Turn",
    "echo_reply",
]


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
    mcp_outputs: Mapping[str, str] = field(default_factory=dict)
    """MCP tool name → output of the calls the server ran for this turn.

    Keyed by name because that is what a script knows; a tool called twice
    keeps both outputs, joined with ``"; "``.
    """
    mcp_denied: Sequence[str] = ()
    """MCP tool names the client did not approve (denied or left unanswered)."""
    mcp_errors: Mapping[str, str] = field(default_factory=dict)
    """MCP tool name → error of the calls that failed (scripted, or unknown server)."""


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
        return _arguments_json(self.arguments)


@dataclass(frozen=True)
class McpCall:
    """A call to a tool on one of the session's MCP servers, run by the service itself.

    ``server_label`` picks the server from the session's ``mcp`` tools. The
    scripted ``output`` is what the fake server returns; with ``error`` the call
    fails instead (``response.mcp_call.failed``). Arguments work as in
    :class:`FunctionCall`.
    """

    server_label: str
    name: str
    arguments: Mapping[str, Any] | str = field(default_factory=dict)
    output: str | None = None
    error: str | None = None

    def arguments_json(self) -> str:
        return _arguments_json(self.arguments)


def _arguments_json(arguments: Mapping[str, Any] | str) -> str:
    """Arguments as they go on the wire: a raw string is kept so tests can send bad JSON."""
    if isinstance(arguments, str):
        return arguments
    return json.dumps(dict(arguments), separators=(",", ":"))


@dataclass(frozen=True)
class Turn:
    """One scripted exchange.

    ``user`` is the transcript of the caller's audio for this turn (text turns
    carry their own words). With function ``calls``, the first response is those
    calls and ``reply`` answers once their outputs arrive. With :class:`McpCall`
    ``calls`` the service runs them and speaks ``reply`` in the same response, or
    first asks for approval when the server requires it.

    A turn's calls are all function calls or all MCP calls: the two wait on
    different parties (the client runs functions, the service runs MCP tools),
    and mixing them would leave no single answer to when the reply is due.
    """

    user: str | None = None
    reply: ReplyText | None = None
    calls: Sequence[FunctionCall | McpCall] = ()

    def __post_init__(self) -> None:
        functions, mcp = len(self.function_calls), len(self.mcp_calls)
        if functions + mcp != len(self.calls):
            raise ValueError("a turn's calls must be FunctionCall or McpCall objects")
        if functions and mcp:
            raise ValueError("a turn's calls must be all FunctionCall or all McpCall, not both")

    @property
    def function_calls(self) -> tuple[FunctionCall, ...]:
        return tuple(call for call in self.calls if isinstance(call, FunctionCall))

    @property
    def mcp_calls(self) -> tuple[McpCall, ...]:
        return tuple(call for call in self.calls if isinstance(call, McpCall))


def echo_reply(ctx: ReplyContext) -> str:
    """The default answer: report tool results, or repeat what the caller said, or offer help."""
    sentences = []
    results = [out for out in (*ctx.tool_outputs.values(), *ctx.mcp_outputs.values()) if out]
    if results:
        sentences.append("The result is " + "; ".join(r.rstrip(". ") for r in results) + ".")
    if ctx.mcp_errors:
        sentences.append(f"I could not use {', '.join(ctx.mcp_errors)}.")
    if ctx.mcp_denied:
        denied = ", ".join(dict.fromkeys(ctx.mcp_denied))
        sentences.append(f"I was not allowed to use {denied}.")
    if sentences:
        return " ".join(sentences)
    if ctx.user_text:
        return f"You said: {ctx.user_text}"
    return "Hello! How can I help you today?"


class Scenario:
    """An ordered script of turns, consumed one per user turn.

    The cursor is shared by every connection of an emulator, so a conversation
    that reconnects mid-call carries on with the next scripted turn.

    ``mcp_tools`` maps an MCP ``server_label`` to the tool list its fake server
    reports (``[{"name", "description", "input_schema", "annotations"?}]``). A
    label left out reports one minimal entry per tool name the script calls on
    it, so a script needs no tool list unless a test looks at the listing.
    """

    def __init__(
        self,
        turns: Iterable[Turn] = (),
        *,
        default_reply: Callable[[ReplyContext], str] = echo_reply,
        mcp_tools: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    ) -> None:
        self._turns = list(turns)
        self._cursor = 0
        self.default_reply = default_reply
        self._mcp_tools = _checked_mcp_tools(mcp_tools or {})

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

    def mcp_tools_for(self, server_label: str) -> list[dict[str, Any]]:
        """The tools the fake MCP server ``server_label`` lists (fresh copies)."""
        if server_label in self._mcp_tools:
            return copy.deepcopy(self._mcp_tools[server_label])
        names = dict.fromkeys(
            call.name
            for turn in self._turns
            for call in turn.mcp_calls
            if call.server_label == server_label
        )
        return [
            {
                "name": name,
                "description": f"The scripted tool {name!r}.",
                "input_schema": {"type": "object", "properties": {}},
            }
            for name in names
        ]

    def render_reply(self, reply: ReplyText | None, ctx: ReplyContext) -> str:
        if reply is None:
            return self.default_reply(ctx)
        if isinstance(reply, str):
            return reply
        return reply(ctx)

    @classmethod
    def from_data(cls, data: Any) -> Scenario:
        """Build from JSON-shaped data: ``{"turns": [{"user", "reply", "calls": [...]}]}``.

        Used by the command line, so a scenario can live in a file. A call with an
        ``"mcp"`` key is an MCP call on that server label (``name``, ``arguments``,
        ``output``, ``error``); others are function calls. A top-level
        ``"mcp_tools"`` object gives the servers' tool lists.
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
            calls = [
                _call_from_data(call, f"turn {i} call {j}")
                for j, call in enumerate(raw.get("calls") or [])
            ]
            try:
                turns.append(Turn(user=raw.get("user"), reply=raw.get("reply"), calls=tuple(calls)))
            except ValueError as exc:
                raise ValueError(f"turn {i}: {exc}") from None
        mcp_tools = data.get("mcp_tools") if isinstance(data, dict) else None
        return cls(turns, mcp_tools=mcp_tools)

    @classmethod
    def from_file(cls, path: str | Path) -> Scenario:
        return cls.from_data(json.loads(Path(path).read_text(encoding="utf-8")))


def _call_from_data(call: Any, where: str) -> FunctionCall | McpCall:
    """One scripted call from JSON: an ``"mcp"`` key (the server label) makes it an MCP call."""
    if not isinstance(call, dict) or not isinstance(call.get("name"), str):
        raise ValueError(f"{where} needs a 'name'")
    if "mcp" not in call:
        return FunctionCall(
            name=call["name"], arguments=call.get("arguments") or {}, call_id=call.get("call_id")
        )
    if not isinstance(call["mcp"], str) or not call["mcp"]:
        raise ValueError(f"{where}: 'mcp' must be the server label")
    for key in ("output", "error"):
        if call.get(key) is not None and not isinstance(call[key], str):
            raise ValueError(f"{where}: '{key}' must be a string")
    return McpCall(
        server_label=call["mcp"],
        name=call["name"],
        arguments=call.get("arguments") or {},
        output=call.get("output"),
        error=call.get("error"),
    )


def _checked_mcp_tools(
    tools: Mapping[str, Sequence[Mapping[str, Any]]],
) -> dict[str, list[dict[str, Any]]]:
    """Copy the tool lists, rejecting shapes the SDK could not read as ``MCPTool``."""
    if not isinstance(tools, Mapping):
        raise ValueError("mcp_tools must map a server label to a list of tools")
    checked: dict[str, list[dict[str, Any]]] = {}
    for label, entries in tools.items():
        if not isinstance(entries, Sequence) or isinstance(entries, str):
            raise ValueError(f"mcp_tools[{label!r}] must be a list of tools")
        for entry in entries:
            if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
                raise ValueError(f"every tool in mcp_tools[{label!r}] needs a string 'name'")
        checked[label] = [copy.deepcopy(dict(entry)) for entry in entries]
    return checked
