"""``session.voice`` and ``session.modalities``: what the service accepts for each voice kind."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..protocol.session import MODALITIES
from ..protocol.voices import (
    AZURE_VOICE_LIST_OPTIONS,
    OPENAI_VOICES,
    PERSONAL_VOICE_MODELS,
    PROSODY_RATE_RANGE,
    REALTIME_NATIVE_VOICES,
    SERVICE_AZURE_VOICE_STRING_OPTIONS,
    VOICE_TEMPERATURE_RANGE,
    ServiceVoiceType,
    prosody_multiplier,
)
from ._validate import (
    Check,
    Shape,
    fail,
    in_range,
    non_empty_string,
    number,
    one_of,
    string,
    string_list,
    string_or,
    subset_of,
    tagged,
)

__all__ = ["modalities", "voice"]


def _prosody_rate(value: Any, param: str) -> str | float | int:
    """SSML ``rate``: a keyword/percentage string, or a multiplier within range."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        fail(param, f"Invalid type for '{param}': expected a string or a number.")
    multiplier = prosody_multiplier(value)
    if multiplier is None:
        return value
    if not math.isfinite(multiplier):
        fail(param, f"Invalid value {value!r} for '{param}'.")
    in_range(multiplier, param, *PROSODY_RATE_RANGE)
    return value


_AZURE_VOICE_OPTIONS: dict[str, Check] = {
    "temperature": number(*VOICE_TEMPERATURE_RANGE),
    "rate": _prosody_rate,
    **dict.fromkeys(SERVICE_AZURE_VOICE_STRING_OPTIONS, string),
    **dict.fromkeys(AZURE_VOICE_LIST_OPTIONS, string_list),
}
_PERSONAL_MODEL = one_of(PERSONAL_VOICE_MODELS)


def _azure_voice(required: frozenset[str], **fields: Check) -> Shape:
    return Shape({**fields, **_AZURE_VOICE_OPTIONS}, required)


_VOICE_SHAPES: Mapping[ServiceVoiceType, Check] = {
    "openai": Shape({"name": one_of(OPENAI_VOICES)}, frozenset({"name"})),
    "azure-standard": _azure_voice(frozenset({"name"}), name=non_empty_string),
    "azure-custom": _azure_voice(
        frozenset({"name", "endpoint_id"}), name=non_empty_string, endpoint_id=non_empty_string
    ),
    "azure-personal": _azure_voice(
        frozenset({"name", "model"}), name=non_empty_string, model=_PERSONAL_MODEL
    ),
    "avatar-voice-sync": _azure_voice(frozenset({"model"}), model=_PERSONAL_MODEL),
    "azure-realtime-native": Shape({"name": one_of(REALTIME_NATIVE_VOICES)}, frozenset({"name"})),
}
voice = string_or(one_of(OPENAI_VOICES), tagged(_VOICE_SHAPES))
"""A bare string is shorthand for an OpenAI voice; objects pick their kind by ``type``."""


_MODALITY_LIST = subset_of(MODALITIES, non_empty=True)


def modalities(value: Any, param: str) -> list[str]:
    """The service always produces text; audio-only output is rejected."""
    chosen: list[str] = _MODALITY_LIST(value, param)
    if "text" not in chosen:
        fail(param, f"'{param}' must include 'text'; audio-only output is not supported.")
    return chosen
