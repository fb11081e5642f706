"""Voice Live's token usage in the flat keys the framework's metrics collector reads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .fields import obj

__all__ = ["flatten_usage"]

_TOP = ("input_tokens", "output_tokens", "total_tokens")
_INPUT = {
    "input_text_tokens": "text_tokens",
    "input_audio_tokens": "audio_tokens",
    "input_image_tokens": "image_tokens",
    "input_cached_tokens": "cached_tokens",
}
_CACHED = {
    "cached_text_tokens": "text_tokens",
    "cached_audio_tokens": "audio_tokens",
    "cached_image_tokens": "image_tokens",
}
_OUTPUT = {
    "output_text_tokens": "text_tokens",
    "output_audio_tokens": "audio_tokens",
    "thoughts_tokens": "reasoning_tokens",
}


def flatten_usage(usage: Any) -> dict[str, Any]:
    """``response.done``'s nested usage → ``{"input_tokens": .., "input_audio_tokens": ..}``."""
    if not isinstance(usage, Mapping):
        return {}
    inp = obj(usage, "input_token_details")
    sources = (
        (_INPUT, inp),
        (_CACHED, obj(inp, "cached_tokens_details")),
        (_OUTPUT, obj(usage, "output_token_details")),
    )
    flat = {key: usage.get(key) for key in _TOP}
    for table, source in sources:
        flat.update({key: source.get(name) for key, name in table.items()})
    return {k: v for k, v in flat.items() if isinstance(v, int) and not isinstance(v, bool)}
