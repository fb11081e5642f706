"""Server-side MCP: the service calls the tools; the call reports them and asks for approvals."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from azure.ai.voicelive import models as m

from .effects import AskApproval
from .fields import ident, items, obj, text

if TYPE_CHECKING:
    from .call import CallCore

__all__ = ["MCP_HANDLERS", "McpApprovalRequest"]

log = logging.getLogger("videosdk_plugins_azure")

_MAX_OPEN_CALLS = 256


@dataclass(frozen=True)
class McpApprovalRequest:
    """A server-side MCP call waiting for the app's yes or no."""

    id: str
    server_label: str
    name: str
    arguments: str


def _list_tools(core: CallCore, event: m.ServerEvent) -> None:
    status = text(event, "type").rsplit(".", 1)[-1]
    log.info("MCP list tools %s (%s)", status, ident(event, "item_id"))
    core.emit("mcp_list_tools", {"item_id": ident(event, "item_id"), "status": status})


def _call_started(core: CallCore, event: m.ServerEventResponseMcpCallInProgress) -> None:
    item_id = ident(event, "item_id")
    if item_id is not None and len(core.mcp_started) < _MAX_OPEN_CALLS:
        core.mcp_started.setdefault(item_id, core.clock())


def _item_created(core: CallCore, event: m.ServerEventConversationItemCreated) -> None:
    item = obj(event, "item")
    kind = text(item, "type")
    if kind == "mcp_list_tools":
        names = [text(tool, "name") for tool in items(item, "tools")]
        core.emit(
            "mcp_list_tools",
            {"item_id": item.get("id"), "server_label": item.get("server_label"), "tools": names},
        )
    elif kind == "mcp_approval_request":
        request = McpApprovalRequest(
            id=text(item, "id"),
            server_label=text(item, "server_label"),
            name=text(item, "name"),
            arguments=text(item, "arguments"),
        )
        core.approvals_pending += 1
        core.effect(AskApproval(request))


def _server_url(core: CallCore, label: object) -> str | None:
    return next(
        (s.server_url for s in core.spec.config.mcp_servers if s.server_label == label), None
    )


def _call_done(core: CallCore, event: m.ServerEventResponseOutputItemDone) -> None:
    item = obj(event, "item")
    if text(item, "type") != "mcp_call":
        return
    item_id = text(item, "id")
    now = core.clock()
    started = core.mcp_started.pop(item_id, now)
    error = item.get("error")
    core.emit(
        "mcp_call",
        {
            "item_id": item_id,
            "server_label": item.get("server_label"),
            "name": item.get("name"),
            "arguments": item.get("arguments"),
            "output": item.get("output"),
            "error": error,
        },
    )
    try:
        params: Any = json.loads(text(item, "arguments") or "{}")
    except ValueError:
        params = {}
    core.metric(
        "add_mcp_tool_call",
        tool_type="remote",
        tool_url=_server_url(core, item.get("server_label")),
        tool_params=params if isinstance(params, dict | list) else {},
        tool_response={"output": item.get("output"), "error": error},
        start_time=started,
        end_time=now,
    )


_T = m.ServerEventType
MCP_HANDLERS: dict[str, Any] = {
    _T.MCP_LIST_TOOLS_IN_PROGRESS: _list_tools,
    _T.MCP_LIST_TOOLS_COMPLETED: _list_tools,
    _T.MCP_LIST_TOOLS_FAILED: _list_tools,
    _T.RESPONSE_MCP_CALL_IN_PROGRESS: _call_started,
    _T.CONVERSATION_ITEM_CREATED: _item_created,
    _T.RESPONSE_OUTPUT_ITEM_DONE: _call_done,
}
"""Server event type → MCP handler; merged into :data:`.handlers.HANDLERS`."""
