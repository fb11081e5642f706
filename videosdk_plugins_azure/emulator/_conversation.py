"""The server-side conversation: an ordered list of wire-shaped items.

Voice Live keeps the conversation on the server; clients only see it through
``conversation.item.*`` events. The emulator must reject the same malformed items
the service rejects (so a plugin bug surfaces locally, not in production) and keep
the bookkeeping the service relies on: insertion order for ``previous_item_id``,
call ids linking tool outputs to tool calls, and how much assistant audio exists so
``conversation.item.truncate`` can be checked and applied.

Item *shapes* are checked by :mod:`._items` (``validate_item`` and ``user_text``
are re-exported here); this module adds the rules that need the conversation.
Stored items are plain dicts exactly as they go on the wire. The dicts returned by
:meth:`Conversation.create`, :meth:`Conversation.add` and :meth:`Conversation.get`
are the live stored objects, so a response runner can stream content into an
assistant item in place; copy one before holding on to it as a snapshot.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..protocol.text import cut_text
from ._errors import ProtocolError
from ._items import AUDIO_PART_TYPES, user_text, validate_item
from ._validate import fail, integer, is_int

__all__ = ["ROOT", "Conversation", "user_text", "validate_item"]

ROOT = "root"
"""``previous_item_id`` value that inserts at the start of the conversation."""


def _not_found(item_id: object, param: str = "item_id") -> ProtocolError:
    return ProtocolError("item_not_found", f"Item with id {item_id!r} not found.", param=param)


class Conversation:
    """Ordered, id-addressable store of conversation items with service-like rules.

    ``id_factory`` (``prefix -> id``) lets the server draw ids from one
    emulator-wide sequence, as the service's ids are unique across sessions;
    without it ids come from a per-conversation counter (``item_001`` ...).
    """

    def __init__(self, *, id_factory: Callable[[str], str] | None = None) -> None:
        self._id_factory = id_factory
        self._order: list[str] = []
        self._items: dict[str, dict[str, Any]] = {}
        self._counters: dict[str, int] = {}
        self._reserved: set[str] = set()
        self._audio_ms: dict[str, float] = {}
        self._input_audio: dict[tuple[str, int], str] = {}
        self._server_made: set[str] = set()

    user_text = staticmethod(user_text)

    # -- ids -------------------------------------------------------------------------

    def new_id(self, prefix: str = "item") -> str:
        """Reserve the next free id ``<prefix>_NNN`` (deterministic per conversation).

        Reserved ids count as taken, so the server can announce an item id (e.g.
        in ``speech_started``) before it adds the item without a client stealing it.
        """
        while True:
            if self._id_factory is not None:
                candidate = self._id_factory(prefix)
            else:
                self._counters[prefix] = self._counters.get(prefix, 0) + 1
                candidate = f"{prefix}_{self._counters[prefix]:03d}"
            if candidate not in self._items and candidate not in self._reserved:
                self._reserved.add(candidate)
                return candidate

    # -- reading ---------------------------------------------------------------------

    @property
    def items(self) -> tuple[dict[str, Any], ...]:
        """The items in conversation order (the tuple cannot reorder the store)."""
        return tuple(self._items[item_id] for item_id in self._order)

    @property
    def last_id(self) -> str | None:
        """Id of the last item: the ``previous_item_id`` of the next appended item."""
        return self._order[-1] if self._order else None

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._items

    def get(self, item_id: Any) -> dict[str, Any]:
        """The live stored item; ``item_not_found`` for unknown ids."""
        if not isinstance(item_id, str) or item_id not in self._items:
            raise _not_found(item_id)
        return self._items[item_id]

    def index_of(self, item_id: Any) -> int:
        """Position of ``item_id`` in the conversation."""
        self.get(item_id)
        return self._order.index(item_id)

    def made_by_server(self, item_id: str) -> bool:
        """Whether the server added the item (a response's output, committed audio).

        A client-created assistant item is history the client replays; a
        server-made one is an answer the server itself attributed when it planned it.
        """
        return item_id in self._server_made

    def input_audio(self, item_id: str, content_index: int) -> str | None:
        """Base64 audio a client sent in an ``input_audio`` part.

        Stored items drop the audio bytes (echoing them back would bloat every
        ``conversation.item.created``/``retrieved`` frame), but the server may
        still want to transcribe them.
        """
        self.get(item_id)
        return self._input_audio.get((item_id, content_index))

    # -- writing ---------------------------------------------------------------------

    def create(
        self, item: Any, *, previous_item_id: str | None = None, status: str = "completed"
    ) -> tuple[dict[str, Any], str | None]:
        """Validate and insert a client ``conversation.item.create`` item.

        Returns the stored item and the id of the item now before it (``None``
        when it is first), i.e. the ``previous_item_id`` of ``conversation.item.created``.
        """
        checked = validate_item(item)
        position = self._insert_position(previous_item_id)
        self._check_references(checked)
        item_id = checked.pop("id", None)
        if item_id is None:
            item_id = self.new_id("item")
        elif item_id in self._items or item_id in self._reserved:
            raise ProtocolError(
                "item_already_exists", f"Item with id {item_id!r} already exists.", param="item.id"
            )
        stored: dict[str, Any] = {
            "id": item_id,
            "object": "realtime.item",
            "type": checked.pop("type"),
        }
        stored.update(checked)
        stored["status"] = checked.get("status", status)
        for index, part in enumerate(stored.get("content", ())):
            if part["type"] == "input_audio":
                audio = part.pop("audio", None)
                if audio is not None:
                    self._input_audio[(item_id, index)] = audio
                part.setdefault("transcript", None)
        return stored, self._store(stored, position)

    def add(self, item: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
        """Append a server-generated item (assistant output, tool calls, user audio).

        No client-facing validation: the server builds these itself. An id
        reserved with :meth:`new_id` may be used; a missing id is assigned.
        """
        item_id = item.get("id")
        if item_id is None:
            item_id = self.new_id("item")
        elif item_id in self._items:
            raise ProtocolError(
                "item_already_exists", f"Item with id {item_id!r} already exists.", param="item.id"
            )
        stored: dict[str, Any] = {"id": item_id, "object": "realtime.item", **item}
        self._server_made.add(item_id)
        return stored, self._store(stored, len(self._order))

    def replace(self, item: Mapping[str, Any]) -> dict[str, Any]:
        """Swap in a new version of an existing item, keeping its position.

        The response runner builds a finished item (final status and content)
        as a new dict; this makes the stored copy match what ``output_item.done``
        announced. Audio bookkeeping for the id is kept.
        """
        item_id = item.get("id")
        self.get(item_id)
        stored: dict[str, Any] = {"id": item_id, "object": "realtime.item", **item}
        self._items[stored["id"]] = stored
        return stored

    def delete(self, item_id: Any) -> None:
        """Remove an item (``item_not_found`` for unknown ids)."""
        position = self.index_of(item_id)
        del self._order[position]
        del self._items[item_id]
        self._audio_ms.pop(item_id, None)
        self._server_made.discard(item_id)
        for key in [key for key in self._input_audio if key[0] == item_id]:
            del self._input_audio[key]

    def set_transcript(self, item_id: str, content_index: int, transcript: str) -> None:
        """Record the transcript of an audio part (user input transcription finished)."""
        part = self._audio_part(item_id, content_index, AUDIO_PART_TYPES)
        part["transcript"] = transcript

    # -- assistant audio -------------------------------------------------------------

    def set_audio_ms(self, item_id: str, ms: float) -> None:
        """Record how much audio (ms) has been generated for an assistant item so far."""
        self.get(item_id)
        if ms < 0:
            raise ValueError(f"audio duration must be >= 0, got {ms}")
        self._audio_ms[item_id] = float(ms)

    def audio_ms(self, item_id: str) -> float:
        """Audio duration (ms) currently attributed to ``item_id`` (0 if none)."""
        self.get(item_id)
        return self._audio_ms.get(item_id, 0.0)

    def truncate(self, item_id: Any, content_index: Any, audio_end_ms: Any) -> None:
        """Apply ``conversation.item.truncate`` the way the service does.

        The client reports how much assistant audio it actually played; the
        service drops the unheard remainder (audio and the matching tail of the
        transcript) so the model's context matches what the user heard.
        """
        item = self.get(item_id)
        if item.get("type") != "message" or item.get("role") != "assistant":
            raise ProtocolError(
                "invalid_value",
                "Only model output audio messages can be truncated",
                param="item_id",
            )
        if content_index != 0 or not is_int(content_index):
            raise ProtocolError(
                "invalid_value",
                f"Invalid content_index {content_index!r}: only 0 is supported.",
                param="content_index",
            )
        part = self._audio_part(item_id, 0, frozenset({"audio"}))
        integer(0)(audio_end_ms, "audio_end_ms")
        total = self._audio_ms.get(item_id, 0.0)
        if audio_end_ms > total:
            raise ProtocolError(
                "invalid_value",
                f"Audio content of {round(total)}ms is already shorter than {audio_end_ms}ms",
                param="audio_end_ms",
            )
        transcript = part.get("transcript")
        if isinstance(transcript, str):
            part["transcript"] = cut_text(transcript, audio_end_ms, total) if total > 0 else ""
        self._audio_ms[item_id] = float(audio_end_ms)

    # -- internals -------------------------------------------------------------------

    def _insert_position(self, previous_item_id: Any) -> int:
        if previous_item_id is None:
            return len(self._order)
        if previous_item_id == ROOT:
            return 0
        if not isinstance(previous_item_id, str) or previous_item_id not in self._items:
            raise _not_found(previous_item_id, "previous_item_id")
        return self._order.index(previous_item_id) + 1

    def _check_references(self, item: Mapping[str, Any]) -> None:
        kind = item["type"]
        if kind == "function_call" and self._find("function_call", "call_id", item["call_id"]):
            fail(
                "item.call_id", f"A function call with call_id {item['call_id']!r} already exists."
            )
        if kind == "function_call_output" and not self._find(
            "function_call", "call_id", item["call_id"]
        ):
            fail("item.call_id", f"No function call with call_id {item['call_id']!r} found.")
        if kind == "mcp_approval_response" and not self._find(
            "mcp_approval_request", "id", item["approval_request_id"]
        ):
            fail(
                "item.approval_request_id",
                f"No MCP approval request with id {item['approval_request_id']!r} found.",
            )

    def _find(self, kind: str, key: str, value: object) -> bool:
        return any(
            item.get("type") == kind and item.get(key) == value for item in self._items.values()
        )

    def _store(self, stored: dict[str, Any], position: int) -> str | None:
        item_id: str = stored["id"]
        self._reserved.discard(item_id)
        self._items[item_id] = stored
        self._order.insert(position, item_id)
        return self._order[position - 1] if position > 0 else None

    def _audio_part(
        self, item_id: str, content_index: Any, kinds: frozenset[str]
    ) -> dict[str, Any]:
        content: Sequence[Any] = self.get(item_id).get("content") or ()
        if (
            not is_int(content_index)
            or not 0 <= content_index < len(content)
            or not isinstance(content[content_index], dict)
            or content[content_index].get("type") not in kinds
        ):
            raise ProtocolError(
                "invalid_value",
                f"Content index {content_index!r} is not an audio part.",
                param="content_index",
            )
        part: dict[str, Any] = content[content_index]
        return part
