"""``tools`` and ``tool_choice`` rules shared by ``session.update`` and ``response.create``."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from ..protocol.session import (
    FUNCTION_NAME,
    MCP_APPROVAL_MODES,
    MCP_LABEL,
    MCP_URL,
    TOOL_CHOICE_LITERALS,
)
from ._validate import (
    Shape,
    any_object,
    fail,
    list_of,
    matches,
    non_empty_string,
    one_of,
    string,
    string_list,
    string_map,
    string_or,
    tagged,
)

__all__ = ["check_tool_choice_target", "function_names", "tool_choice", "tools"]


def _json_schema_object(value: Any, param: str) -> dict[str, Any]:
    """Function parameters are a JSON schema; the model only accepts object schemas."""
    schema = any_object(value, param)
    if "type" in schema and schema["type"] != "object":
        fail(f"{param}.type", f"'{param}.type' must be 'object'.")
    return schema


_REQUIRE_APPROVAL = string_or(
    one_of(MCP_APPROVAL_MODES), Shape(dict.fromkeys(MCP_APPROVAL_MODES, string_list))
)
"""A mode for every tool, or per-mode lists of tool names."""


_TOOL = tagged(
    {
        "function": Shape(
            {
                "name": matches(*FUNCTION_NAME),
                "description": string,
                "parameters": _json_schema_object,
            },
            frozenset({"name"}),
        ),
        "mcp": Shape(
            {
                "server_label": matches(*MCP_LABEL),
                "server_url": matches(*MCP_URL),
                "authorization": string,
                "headers": string_map(),
                "allowed_tools": string_list,
                "require_approval": _REQUIRE_APPROVAL,
            },
            frozenset({"server_label", "server_url"}),
        ),
    }
)
_TOOL_LIST = list_of(_TOOL)
_TOOL_KEY = {"function": "name", "mcp": "server_label"}


def tools(value: Any, param: str) -> list[dict[str, Any]]:
    """Tools are addressed by name (functions) or label (MCP servers), so those must be unique."""
    checked: list[dict[str, Any]] = _TOOL_LIST(value, param)
    seen: set[tuple[str, str]] = set()
    for index, tool in enumerate(checked):
        key = _TOOL_KEY[tool["type"]]
        identity = (tool["type"], tool[key])
        if identity in seen:
            fail(f"{param}[{index}].{key}", f"Duplicate {tool['type']} tool {key} {tool[key]!r}.")
        seen.add(identity)
    return checked


def function_names(tools: Any) -> set[str]:
    """Names of the function tools in a (validated) tool list."""
    if not isinstance(tools, list):
        return set()
    return {
        tool["name"]
        for tool in tools
        if isinstance(tool, Mapping)
        and tool.get("type") == "function"
        and isinstance(tool.get("name"), str)
    }


tool_choice = string_or(
    one_of(TOOL_CHOICE_LITERALS),
    tagged({"function": Shape({"name": non_empty_string}, frozenset({"name"}))}),
)
"""A literal mode, or ``{"type": "function", "name": ...}`` forcing one function."""


def check_tool_choice_target(choice: Any, param: str, names: Collection[str]) -> None:
    """A forced function must exist, or the model could never satisfy the choice."""
    if isinstance(choice, Mapping) and choice["name"] not in names:
        fail(
            f"{param}.name",
            f"Tool choice function {choice['name']!r} is not among the configured tools.",
        )
