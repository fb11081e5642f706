"""The shapes of a response's items, parts and summary objects, as the service sends them.

Pure builders, kept apart from the timed generator in :mod:`._responses` so the
wire shapes (§3.3 and §8 of ``voicelive-protocol.md``) can be read, and tested,
without streaming anything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..protocol.events import RATE_LIMITS_UPDATED, event
from ._mcp import McpStep
from ._plan import ActiveResponse
from ._scenario import McpCall

__all__ = [
    "approval_request_item",
    "assistant_message_item",
    "content_part",
    "function_call_item",
    "limit_chars",
    "limit_words",
    "mcp_call_item",
    "rate_limits_event",
    "response_object",
    "usage",
    "visemes_on",
    "word_timestamps_on",
]


def usage(input_tokens: int, text: str, audio_ms: float) -> dict[str, Any]:
    """Token usage in the service's shape; the counts are a documented estimate."""
    text_tokens = max(1, math.ceil(len(text) / 4)) if text else 0
    audio_tokens = math.ceil(audio_ms / 50)
    output = text_tokens + audio_tokens
    return {
        "total_tokens": input_tokens + output,
        "input_tokens": input_tokens,
        "output_tokens": output,
        "input_token_details": {
            "cached_tokens": 0,
            "text_tokens": input_tokens,
            "audio_tokens": 0,
            "image_tokens": 0,
            "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0, "image_tokens": 0},
        },
        "output_token_details": {"text_tokens": text_tokens, "audio_tokens": audio_tokens},
    }


def limit_words(text: str, max_tokens: int | None) -> tuple[str, bool]:
    """Cut a reply at ``max_tokens`` words (one word ≈ one token here)."""
    if max_tokens is None:
        return text, False
    words = text.split()
    if len(words) <= max_tokens:
        return text, False
    return " ".join(words[:max_tokens]), True


def limit_chars(text: str, max_chars: int) -> tuple[str, bool]:
    """Cut a reply to at most ``max_chars``, at the last space when there is one.

    The emulator's own cap (see ``ServerLimits.max_reply_chars``): speech costs CPU
    and memory in proportion to the text.
    """
    if len(text) <= max_chars:
        return text, False
    head = text[:max_chars]
    space = head.rfind(" ")
    return (head[:space] if space > 0 else head).rstrip(), True


def rate_limits_event() -> dict[str, Any]:
    """The fixed ``rate_limits.updated`` the service sends as a response starts."""
    return event(
        RATE_LIMITS_UPDATED,
        rate_limits=[
            {"name": "requests", "limit": 1000, "remaining": 999, "reset_seconds": 60.0},
            {"name": "tokens", "limit": 100000, "remaining": 99000, "reset_seconds": 60.0},
        ],
    )


def response_object(
    response: ActiveResponse,
    status: str,
    *,
    status_details: dict[str, Any] | None,
    spoken: str,
    audio_ms: float,
) -> dict[str, Any]:
    """The ``response`` object of ``response.created`` (in progress) or ``response.done``."""
    plan = response.plan
    done = status != "in_progress"
    return {
        "id": response.id,
        "object": "realtime.response",
        "status": status,
        "status_details": status_details if done else None,
        "output": list(response.output) if done else [],
        "usage": usage(plan.input_tokens, spoken, audio_ms) if done else None,
        "modalities": list(plan.modalities),
        "output_audio_format": plan.output_audio_format,
        "voice": plan.voice,
        "temperature": plan.temperature,
        "max_output_tokens": plan.max_output_tokens,
        "metadata": plan.metadata,
    }


def word_timestamps_on(session: Mapping[str, Any]) -> bool:
    """Whether the session asked for ``response.audio_timestamp.*`` events."""
    return "word" in (session.get("output_audio_timestamp_types") or [])


def visemes_on(session: Mapping[str, Any]) -> bool:
    """Whether the session asked for ``response.animation_viseme.*`` events."""
    animation = session.get("animation") or {}
    return "viseme_id" in (animation.get("outputs") or [])


def assistant_message_item() -> dict[str, Any]:
    return {
        "type": "message",
        "object": "realtime.item",
        "role": "assistant",
        "status": "in_progress",
        "content": [],
    }


def content_part(audio: bool, said: str) -> dict[str, Any]:
    """An assistant content part holding ``said`` (empty when the part is added)."""
    return {"type": "audio", "transcript": said} if audio else {"type": "text", "text": said}


def function_call_item(name: str, call_id: str) -> dict[str, Any]:
    return {
        "type": "function_call",
        "object": "realtime.item",
        "status": "in_progress",
        "name": name,
        "call_id": call_id,
        "arguments": "",
    }


def mcp_call_item(step: McpStep) -> dict[str, Any]:
    call = step.call
    return {
        "type": "mcp_call",
        "object": "realtime.item",
        "status": "in_progress",
        "server_label": call.server_label,
        "name": call.name,
        "arguments": "",
        "output": None,
        "error": None,
        "approval_request_id": step.approval_request_id,
    }


def approval_request_item(call: McpCall) -> dict[str, Any]:
    return {
        "type": "mcp_approval_request",
        "object": "realtime.item",
        "server_label": call.server_label,
        "name": call.name,
        "arguments": call.arguments_json(),
    }
