"""Client frames in, and the server events that are not part of a response out.

The wire shapes the server state reads and writes, as pure functions, so
:mod:`._state` reads as decisions rather than dict literals. A response's own
events are built in :mod:`._response_events`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..protocol.events import ServerEvent, event
from ._errors import ProtocolError
from ._limits import MAX_JSON_DEPTH, ServerLimits

__all__ = [
    "client_event_id",
    "error_event",
    "item_created",
    "json_depth_exceeds",
    "optional_str",
    "parse_client_frame",
    "require_int",
    "require_str",
    "require_type",
    "transcription_events",
    "truncated",
    "user_audio_item",
]


def parse_client_frame(
    data: str | bytes,
    *,
    max_length: int = ServerLimits.max_frame_bytes,
    max_depth: int = MAX_JSON_DEPTH,
) -> dict[str, Any]:
    """A client frame as an event object; text and binary frames alike carry JSON.

    Whatever the frame holds, the answer is an event or a :class:`ProtocolError`,
    never another exception: a frame longer than ``max_length`` is not parsed, and
    JSON nested deeper than ``max_depth`` (which makes ``json`` recurse, and every
    handler after it) is refused.
    """
    if len(data) > max_length:
        raise ProtocolError(
            "message_too_large",
            f"The message is {len(data)} long; the limit is {max_length}.",
        )
    try:
        parsed = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError("invalid_json", "The message is not valid JSON.") from None
    except RecursionError:
        raise _too_deep(max_depth) from None
    if _openings(data) > max_depth and json_depth_exceeds(parsed, max_depth):
        raise _too_deep(max_depth)
    if not isinstance(parsed, dict):
        raise ProtocolError("invalid_value", "A client event must be a JSON object.")
    return parsed


def _too_deep(max_depth: int) -> ProtocolError:
    message = f"The message is nested more than {max_depth} levels deep."
    return ProtocolError("invalid_json", message)


def _openings(data: str | bytes) -> int:
    """An upper bound on the nesting, counted at C speed: a frame with fewer ``[``/``{``
    than the limit (an audio append has one) needs no walk."""
    if isinstance(data, str):
        return data.count("[") + data.count("{")
    return data.count(b"[") + data.count(b"{")


def json_depth_exceeds(value: Any, max_depth: int) -> bool:
    """Whether parsed JSON nests more than ``max_depth`` containers deep.

    Iterative (an explicit stack), so a deep document cannot exhaust the stack of
    the check that is there to stop it.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth >= max_depth:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def client_event_id(client_event: Mapping[str, Any]) -> str | None:
    """The client's ``event_id``, echoed in the ``error`` an event provokes."""
    raw = client_event.get("event_id")
    return raw if isinstance(raw, str) else None


def require_type(client_event: Mapping[str, Any]) -> str:
    """The event's ``type``, which names its handler."""
    kind = client_event.get("type")
    if not isinstance(kind, str):
        raise ProtocolError(
            "missing_required_parameter", "A client event needs a string 'type'.", param="type"
        )
    return kind


def require_str(client_event: Mapping[str, Any], key: str) -> str:
    value = client_event.get(key)
    if not isinstance(value, str) or not value:
        raise ProtocolError("missing_required_parameter", f"Missing or invalid '{key}'.", param=key)
    return value


def require_int(client_event: Mapping[str, Any], key: str, default: Any = None) -> int:
    value = client_event.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProtocolError("invalid_value", f"'{key}' must be an integer.", param=key)
    return value


def optional_str(client_event: Mapping[str, Any], key: str) -> str | None:
    value = client_event.get(key)
    if value is not None and not isinstance(value, str):
        raise ProtocolError("invalid_value", f"'{key}' must be a string.", param=key)
    return value


def error_event(error: ProtocolError, client_event_id: str | None = None) -> dict[str, Any]:
    """The ``error`` server event for a rejected request."""
    return event(ServerEvent.ERROR, error=error.to_error(client_event_id))


def item_created(item: Mapping[str, Any], previous: str | None) -> dict[str, Any]:
    """Announce an item the server just stored (a copy: the stored one may change)."""
    return event(ServerEvent.CONVERSATION_ITEM_CREATED, previous_item_id=previous, item=dict(item))


def truncated(item_id: str, content_index: int, audio_end_ms: int) -> dict[str, Any]:
    return event(
        ServerEvent.CONVERSATION_ITEM_TRUNCATED,
        item_id=item_id,
        content_index=content_index,
        audio_end_ms=audio_end_ms,
    )


def user_audio_item(item_id: str) -> dict[str, Any]:
    """The user message committed from input audio, before any transcript."""
    return {
        "id": item_id,
        "type": "message",
        "object": "realtime.item",
        "role": "user",
        "status": "completed",
        "content": [{"type": "input_audio", "transcript": None}],
    }


def transcription_events(
    item_id: str, transcript: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The input transcription of a user item: deltas of three words, then the completion."""
    words = transcript.split(" ")
    deltas = []
    for start in range(0, len(words), 3):
        piece = " ".join(words[start : start + 3])
        deltas.append(
            event(
                ServerEvent.CONVERSATION_ITEM_INPUT_AUDIO_TRANSCRIPTION_DELTA,
                item_id=item_id,
                content_index=0,
                delta=piece if start == 0 else " " + piece,
            )
        )
    completed = event(
        ServerEvent.CONVERSATION_ITEM_INPUT_AUDIO_TRANSCRIPTION_COMPLETED,
        item_id=item_id,
        content_index=0,
        transcript=transcript,
    )
    return deltas, completed
