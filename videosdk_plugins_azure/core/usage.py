"""Voice Live's token usage in the flat keys the framework's metrics collector reads."""

from __future__ import annotations

from typing import Any

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
    if not usage:
        return {}
    get = usage.get if hasattr(usage, "get") else (lambda k, d=None: getattr(usage, k, d))
    inp = get("input_token_details") or {}
    out = get("output_token_details") or {}
    cached = inp.get("cached_tokens_details") or {}
    flat = {key: get(key) for key in _TOP}
    for table, source in ((_INPUT, inp), (_CACHED, cached), (_OUTPUT, out)):
        flat.update({key: source.get(name) for key, name in table.items()})
    return {k: v for k, v in flat.items() if v is not None}
