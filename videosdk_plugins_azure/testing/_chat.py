"""The agent's chat context as plain ``(role, text)`` pairs, for assertions.

The framework's chat items are messages, function calls and function outputs,
each shaped differently (a message's content may be a list of parts); tests
want to compare them to strings.
"""

from __future__ import annotations

from typing import Any

__all__ = ["chat_pairs"]


def chat_pairs(ctx: Any) -> list[tuple[str, str]]:
    """``ctx.items`` as ``(role or item type, text)``; see :meth:`LocalRoom.chat_items`."""
    return [_summarise(item) for item in ctx.items]


def _summarise(item: Any) -> tuple[str, str]:
    kind = str(getattr(item, "type", type(item).__name__))
    if kind == "message":
        role = getattr(item, "role", "")
        content = getattr(item, "content", "")
        if isinstance(content, str):
            text = content
        else:
            text = " ".join(c for c in content if isinstance(c, str))
        return (str(getattr(role, "value", role)), text)
    if kind == "function_call":
        return (kind, f"{getattr(item, 'name', '')}({getattr(item, 'arguments', '')})")
    if kind == "function_call_output":
        return (kind, str(getattr(item, "output", "")))
    return (kind, "")
