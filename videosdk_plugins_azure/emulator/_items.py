"""The shape of a conversation item a client may create, checked as the service does.

Shape only: which types, roles and content parts exist and what each holds. The
rules that depend on the conversation (call ids, approval requests, id clashes)
belong to :class:`~._conversation.Conversation`. Kept apart so ``response.create``
can check ``input_items`` and ``pre_generated_assistant_message`` with the same
rules, though those never join the conversation.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from ._validate import (
    Check,
    Shape,
    boolean,
    fail,
    list_of,
    non_empty_string,
    one_of,
    string,
    tagged,
)

__all__ = [
    "AUDIO_PART_TYPES",
    "IMAGE_DETAILS",
    "ITEM_STATUSES",
    "TEXT_PART_TYPES",
    "user_text",
    "validate_item",
]

ITEM_STATUSES = frozenset({"completed", "incomplete"})
IMAGE_DETAILS = frozenset({"auto", "low", "high"})
TEXT_PART_TYPES = frozenset({"text", "input_text", "output_text"})
AUDIO_PART_TYPES = frozenset({"audio", "input_audio"})


def _base64(value: Any, param: str) -> str:
    text = string(value, param)
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        fail(param, f"'{param}' must be base64-encoded audio.")
    return text


def _needs_audio_or_transcript(part: dict[str, Any], param: str) -> None:
    if "audio" not in part and "transcript" not in part:
        fail(
            f"{param}.audio",
            f"Missing required parameter: '{param}.audio' (or '{param}.transcript').",
            "missing_required_parameter",
        )


_TEXT_PART = Shape({"text": string}, frozenset({"text"}))
_USER_PARTS: dict[str, Check] = {
    "input_text": _TEXT_PART,
    "input_audio": Shape({"audio": _base64, "transcript": string}, post=_needs_audio_or_transcript),
    "input_image": Shape(
        {"image_url": non_empty_string, "detail": one_of(IMAGE_DETAILS)}, frozenset({"image_url"})
    ),
}
_ASSISTANT_PARTS: dict[str, Check] = {
    "text": _TEXT_PART,
    "output_text": _TEXT_PART,
    "audio": Shape({"audio": _base64, "transcript": string}),
}
_SYSTEM_PARTS: dict[str, Check] = {"input_text": _TEXT_PART}

_COMMON: dict[str, Check] = {
    "id": non_empty_string,
    "object": one_of({"realtime.item"}),
    "status": one_of(ITEM_STATUSES),
}


def _message(parts: Mapping[str, Check]) -> Shape:
    return Shape(
        {**_COMMON, "content": list_of(tagged(parts), non_empty=True)}, frozenset({"content"})
    )


_ITEM: Check = tagged(
    {
        "message": tagged(
            {
                "user": _message(_USER_PARTS),
                "assistant": _message(_ASSISTANT_PARTS),
                "system": _message(_SYSTEM_PARTS),
            },
            tag="role",
        ),
        "function_call": Shape(
            {**_COMMON, "name": non_empty_string, "call_id": non_empty_string, "arguments": string},
            frozenset({"name", "call_id", "arguments"}),
        ),
        "function_call_output": Shape(
            {**_COMMON, "call_id": non_empty_string, "output": string},
            frozenset({"call_id", "output"}),
        ),
        "mcp_approval_response": Shape(
            {
                **_COMMON,
                "approval_request_id": non_empty_string,
                "approve": boolean,
                "reason": string,
            },
            frozenset({"approval_request_id", "approve"}),
        ),
    }
)


def validate_item(item: Any, param: str = "item") -> dict[str, Any]:
    """Check the *shape* of a client item and return a normalised copy.

    Shape only: rules that depend on the conversation (call ids, approval
    requests, id clashes) live in :meth:`~._conversation.Conversation.create`. ``response.create``
    reuses this for ``input_items`` and ``pre_generated_assistant_message``,
    which never join the conversation.
    """
    result: dict[str, Any] = _ITEM(item, param)
    return result


def user_text(item: Mapping[str, Any]) -> str:
    """Everything a message "says": its text parts and audio transcripts, space-joined.

    Lets the server echo or answer a user turn without caring whether it arrived
    as text or as transcribed audio.
    """
    pieces: list[str] = []
    for part in item.get("content") or ():
        if not isinstance(part, Mapping):
            continue
        kind = part.get("type")
        text = part.get("text") if kind in TEXT_PART_TYPES else part.get("transcript")
        if kind in TEXT_PART_TYPES | AUDIO_PART_TYPES and isinstance(text, str) and text.strip():
            pieces.append(text.strip())
    return " ".join(pieces)
