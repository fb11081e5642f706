"""Server-side MCP tools: what the service decides before it calls an MCP server.

Voice Live runs MCP tools itself, unlike function tools, which the client runs. So
the emulator plays the MCP server too: it lists a server's tools when the session
first names it (from the :class:`~._scenario.Scenario`'s tool lists) and returns
the scripted ``output``/``error`` of each :class:`~._scenario.McpCall`.

The rules here are pure decisions on session data; :mod:`._state` and
:mod:`._planner` keep the per-connection state and :mod:`._responses` streams the
events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, MutableSet, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from ..protocol.events import ServerEvent, event
from ._scenario import McpCall
from ._wire import item_created

if TYPE_CHECKING:
    from ._conversation import Conversation

__all__ = [
    "FAILING_HOST",
    "TOOL_NOT_ALLOWED",
    "UNKNOWN_SERVER",
    "McpProgress",
    "McpStep",
    "StepKind",
    "approved_steps",
    "first_steps",
    "list_new_servers",
    "listing_fails",
    "mcp_servers",
    "needs_approval",
    "visible_tools",
]

FAILING_HOST = "fail.invalid"
"""A ``server_url`` on this host fails its tool listing: a documented test hook.

``.invalid`` is reserved (RFC 2606), so no real server can be hidden behind it.
"""

UNKNOWN_SERVER = "unknown server"
"""Error of a scripted call whose ``server_label`` is not among the session's tools."""

TOOL_NOT_ALLOWED = "tool not allowed"
"""Error of a scripted call to a tool the server's ``allowed_tools`` leaves out."""

StepKind = Literal["run", "ask"]


def mcp_servers(tools: Any) -> dict[str, Mapping[str, Any]]:
    """``server_label`` → MCP server config, from a (validated) tool list."""
    if not isinstance(tools, list):
        return {}
    return {
        tool["server_label"]: tool
        for tool in tools
        if isinstance(tool, Mapping) and tool.get("type") == "mcp"
    }


def listing_fails(server: Mapping[str, Any]) -> bool:
    return urlsplit(str(server.get("server_url", ""))).hostname == FAILING_HOST


def visible_tools(
    server: Mapping[str, Any], tools: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The tools the model may see: ``allowed_tools`` filters the server's list."""
    allowed = server.get("allowed_tools")
    return [dict(tool) for tool in tools if allowed is None or tool.get("name") in allowed]


def list_new_servers(
    tools: Any,
    listed: MutableSet[str],
    conversation: Conversation,
    scripted_tools: Callable[[str], Iterable[Mapping[str, Any]]],
) -> Iterator[dict[str, Any]]:
    """The listing events of each MCP server in ``tools`` not in ``listed`` yet.

    The service connects to a server when the session first names it; the
    listing is a conversation item, so it also takes part in
    ``previous_item_id``. A failed listing still creates its (empty) item.
    ``listed`` is the connection's set, updated as the servers are listed.
    """
    for label, server in mcp_servers(tools).items():
        if label in listed:
            continue
        listed.add(label)
        item_id = conversation.new_id("item")
        yield event(ServerEvent.MCP_LIST_TOOLS_IN_PROGRESS, item_id=item_id)
        failed = listing_fails(server)
        found = [] if failed else visible_tools(server, scripted_tools(label))
        item, previous = conversation.add(
            {"id": item_id, "type": "mcp_list_tools", "server_label": label, "tools": found}
        )
        yield item_created(item, previous)
        done = ServerEvent.MCP_LIST_TOOLS_FAILED if failed else ServerEvent.MCP_LIST_TOOLS_COMPLETED
        yield event(done, item_id=item_id)


def needs_approval(server: Mapping[str, Any], name: str) -> bool:
    """Whether the service must ask the client before calling ``name``.

    The documented default is ``"always"``. In the per-name form a tool in
    neither list falls back to that default, and one listed in both needs
    approval: asking is the safe reading of a contradictory config.
    """
    mode = server.get("require_approval", "always")
    if isinstance(mode, str):
        return mode != "never"
    return name in (mode.get("always") or ()) or name not in (mode.get("never") or ())


def _blocked(call: McpCall, server: Mapping[str, Any] | None) -> str | None:
    """Why the service cannot call this tool at all, if it cannot."""
    if server is None:
        return UNKNOWN_SERVER
    allowed = server.get("allowed_tools")
    if allowed is not None and call.name not in allowed:
        return TOOL_NOT_ALLOWED
    return None


@dataclass(frozen=True)
class McpStep:
    """One MCP output item of a response: run the call, or ask the client first."""

    call: McpCall
    kind: StepKind = "run"
    error: str | None = None
    """The call's outcome when run: its scripted error, or why it could not run."""
    approval_request_id: str | None = None

    @property
    def output(self) -> str | None:
        """What the server returned; ``None`` when the call failed."""
        return None if self.error is not None else (self.call.output or "")


def first_steps(
    calls: Sequence[McpCall], tools: Any, *, can_ask: bool
) -> tuple[list[McpStep], list[str]]:
    """The steps of the response that answers a turn, and the tools not called.

    Calls that need approval become ``ask`` steps; the rest run at once. A call
    that cannot run (unknown server, tool not allowed) runs and fails without
    asking: there is nothing to approve. Without ``can_ask`` (an out-of-band
    response, whose approval request no client item could refer to) calls that
    need approval are not made and are reported as not allowed.
    """
    servers = mcp_servers(tools)
    steps: list[McpStep] = []
    skipped: list[str] = []
    for call in calls:
        server = servers.get(call.server_label)
        problem = _blocked(call, server)
        if problem is None and server is not None and needs_approval(server, call.name):
            if can_ask:
                steps.append(McpStep(call, "ask"))
            else:
                skipped.append(call.name)
            continue
        steps.append(McpStep(call, error=problem or call.error))
    return steps, skipped


def approved_steps(
    requests: Mapping[str, McpCall], answers: Mapping[str, bool], tools: Any
) -> tuple[list[McpStep], list[str]]:
    """The calls to run once the client has answered, and the tools it did not approve.

    An unanswered request counts as denied: the service never runs a call
    nobody approved. The server is looked up again, as the session may have
    changed while the client decided.
    """
    servers = mcp_servers(tools)
    steps: list[McpStep] = []
    denied: list[str] = []
    for request_id, call in requests.items():
        if answers.get(request_id):
            problem = _blocked(call, servers.get(call.server_label))
            steps.append(McpStep(call, error=problem or call.error, approval_request_id=request_id))
        else:
            denied.append(call.name)
    return steps, denied


@dataclass
class McpProgress:
    """What an MCP turn has produced so far, across its (at most two) responses."""

    outputs: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    denied: list[str] = field(default_factory=list)
    requests: dict[str, McpCall] = field(default_factory=dict)
    """Approval request item id → call, once the response that asked has completed."""

    def record(self, steps: Iterable[McpStep], denied: Iterable[str]) -> None:
        for step in steps:
            if step.kind != "run":
                continue
            name = step.call.name
            if step.output is not None:
                before = self.outputs.get(name)
                self.outputs[name] = step.output if before is None else f"{before}; {step.output}"
            else:
                self.errors[name] = str(step.error)
        self.denied.extend(denied)
