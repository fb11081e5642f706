"""What a fresh session needs to carry the conversation on after a reconnect.

The service forgets everything when a socket dies, so the call keeps its own copy
of the conversation as the items the service accepts back: user and assistant
messages and function calls with their outputs. It is bounded, because a call
can last hours and the last few dozen items carry what the model needs.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from ..protocol.ids import IdKind, mint

__all__ = ["REPLAYABLE_ITEM_TYPES", "History"]

REPLAYABLE_ITEM_TYPES = frozenset({"message", "function_call", "function_call_output"})
"""Item types a new session accepts from a client (MCP items are the server's own)."""

_DEFAULT_ITEMS = 64


class History:
    """A bounded record of conversation items, and whether replaying them failed once."""

    def __init__(self, max_items: int = _DEFAULT_ITEMS) -> None:
        self._items: deque[dict[str, Any]] = deque(maxlen=max_items)
        self.replay_failed = False
        """A session refused a replayed item: from then on the history travels in the
        instructions (``instructions_with_context``) instead of as items."""

    def __len__(self) -> int:
        return len(self._items)

    def remember(self, item: dict[str, Any]) -> None:
        """Keep ``item`` for a replay; images are left out (they are large and were of a
        moment that has passed), and a message of nothing but images is not kept."""
        if item.get("type") not in REPLAYABLE_ITEM_TYPES:
            return
        content = item.get("content")
        if isinstance(content, list) and any(_is_image(part) for part in content):
            kept = [part for part in content if not _is_image(part)]
            if not kept:
                return
            item = {**item, "content": kept}
        self._items.append(item)

    def replay_events(self) -> list[dict[str, Any]]:
        """The ``conversation.item.create`` events that rebuild the conversation."""
        if self.replay_failed:
            return []
        return [
            {"type": "conversation.item.create", "event_id": mint(IdKind.REPLAY, i), "item": item}
            for i, item in enumerate(self._items)
        ]

    def rejected(self) -> bool:
        """A replayed item was refused; True the first time only."""
        if self.replay_failed:
            return False
        self.replay_failed = True
        return True


def _is_image(part: Any) -> bool:
    return isinstance(part, dict) and part.get("type") == "input_image"
