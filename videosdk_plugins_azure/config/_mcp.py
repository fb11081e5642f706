"""Remote MCP servers the Voice Live service calls itself (server-side tools)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from types import MappingProxyType
from typing import Any

from azure.ai.voicelive import models as vl

from ..protocol.session import MCP_APPROVAL_MODES, MCP_LABEL, MCP_URL, McpApprovalMode
from ._checks import CHECKS, fail, freeze, text_tuple

__all__ = ["McpServer"]

_LABEL = CHECKS.matches(*MCP_LABEL)
_URL = CHECKS.matches(*MCP_URL)
_HEADERS = CHECKS.string_map()
_APPROVAL_MODE = CHECKS.one_of(MCP_APPROVAL_MODES)


@dataclass(frozen=True)
class McpServer:
    """A remote MCP server the Voice Live service calls itself (server-side tools).

    ``authorization`` and ``headers`` carry credentials: they are sent to the service
    in ``session.update`` and never shown by ``repr`` or logged.
    ``require_approval`` is ``"always"`` (each call waits for the app's approval
    callback), ``"never"``, or ``{"never": [...], "always": [...]}`` per tool name.
    """

    server_label: str
    server_url: str
    _: KW_ONLY
    allowed_tools: Sequence[str] | None = None
    headers: Mapping[str, str] | None = field(default=None, repr=False)
    authorization: str | None = field(default=None, repr=False)
    require_approval: McpApprovalMode | Mapping[str, Sequence[str]] = "always"

    def __post_init__(self) -> None:
        _LABEL(self.server_label, "mcp_servers.server_label")
        _URL(self.server_url, "mcp_servers.server_url")
        if self.allowed_tools is not None:
            freeze(
                self, "allowed_tools", text_tuple(self.allowed_tools, "mcp_servers.allowed_tools")
            )
        if self.headers is not None:
            headers = _HEADERS(self.headers, "mcp_servers.headers")
            freeze(self, "headers", MappingProxyType(headers))
        if self.authorization is not None:
            CHECKS.string(self.authorization, "mcp_servers.authorization")
        freeze(self, "require_approval", _approval(self.require_approval))

    def to_sdk(self) -> vl.MCPServer:
        """The server as the ``mcp`` tool entry of a session's ``tools``."""
        approval = self.require_approval
        fields: dict[str, Any] = {
            "type": "mcp",
            "server_label": self.server_label,
            "server_url": self.server_url,
            "require_approval": approval
            if isinstance(approval, str)
            else {k: list(v) for k, v in approval.items()},
        }
        if self.allowed_tools is not None:
            fields["allowed_tools"] = list(self.allowed_tools)
        if self.headers is not None:
            fields["headers"] = dict(self.headers)
        if self.authorization is not None:
            fields["authorization"] = self.authorization
        return vl.MCPServer(fields)


def _approval(approval: object) -> object:
    """A mode, or a per-mode mapping of tool names frozen to tuples."""
    if isinstance(approval, str):
        return _APPROVAL_MODE(approval, "mcp_servers.require_approval")
    if isinstance(approval, Mapping) and set(approval) <= MCP_APPROVAL_MODES:
        return MappingProxyType(
            {k: text_tuple(v, f"mcp_servers.require_approval.{k}") for k, v in approval.items()}
        )
    raise fail(
        "mcp_servers.require_approval",
        "must be 'always', 'never' or {'always'|'never': [names]}",
    )
