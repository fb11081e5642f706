"""Reading server event fields that may have any shape at all.

The SDK deserialises an event by its ``type`` but hands nested values back as the
raw JSON, so a hostile or buggy server can put a string where an object belongs,
a list where an id belongs. Handlers read fields only through these, which answer
the expected type or an empty default, so a malformed event is ignored in part
instead of raising halfway through a handler (and leaving the call half-updated).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["ident", "items", "obj", "text"]

_EMPTY: Mapping[str, Any] = {}


def obj(source: Any, key: str) -> Mapping[str, Any]:
    """The object at ``key``, or an empty one."""
    value = source.get(key) if isinstance(source, Mapping) else None
    return value if isinstance(value, Mapping) else _EMPTY


def text(source: Any, key: str) -> str:
    """The string at ``key``, or ``""``."""
    value = source.get(key) if isinstance(source, Mapping) else None
    return value if isinstance(value, str) else ""


def ident(source: Any, key: str) -> str | None:
    """The id at ``key`` (a non-empty string), or None."""
    return text(source, key) or None


def items(source: Any, key: str) -> list[Any]:
    """The list at ``key``, or an empty one."""
    value = source.get(key) if isinstance(source, Mapping) else None
    return list(value) if isinstance(value, list | tuple) else []
