"""Voices: deciding a voice name's kind, checking its options, building the SDK object.

Kept apart from the config dataclass because the rules are about the voice kinds
(protocol facts in :mod:`..protocol.voices`), not about the rest of the session.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from azure.ai.voicelive import models as vl

from ..protocol.voices import (
    AZURE_VOICE_LIST_OPTIONS,
    AZURE_VOICE_STRING_OPTIONS,
    OPENAI_VOICES,
    PROSODY_RATE_RANGE,
    REALTIME_NATIVE_VOICES,
    VOICE_TEMPERATURE_RANGE,
    VOICE_TYPES,
    VoiceType,
    prosody_multiplier,
)
from ._checks import CHECKS, fail, freeze, text_tuple

if TYPE_CHECKING:
    from ._model import AzureVoiceLiveConfig

__all__ = ["SDK_VOICE_CLASSES", "SdkVoice", "check_voice", "resolve_voice_type", "sdk_voice"]

SdkVoice: TypeAlias = (
    vl.OpenAIVoice | vl.AzureVoice | vl.AzureRealtimeNativeVoice | vl.OpenAIVoiceName
)
"""SDK voice objects accepted verbatim (``AzureVoice`` covers standard, custom, personal
and avatar-voice-sync voices)."""

SDK_VOICE_CLASSES = (
    vl.OpenAIVoice,
    vl.AzureVoice,
    vl.AzureRealtimeNativeVoice,
    vl.OpenAIVoiceName,
)

_SDK_VOICE: Mapping[VoiceType, Callable[..., SdkVoice]] = MappingProxyType(
    {
        "openai": vl.OpenAIVoice,
        "azure-standard": vl.AzureStandardVoice,
        "azure-custom": vl.AzureCustomVoice,
        "azure-personal": vl.AzurePersonalVoice,
        "azure-realtime-native": vl.AzureRealtimeNativeVoice,
    }
)

_STRING_FIELDS = tuple(f"voice_{name}" for name in AZURE_VOICE_STRING_OPTIONS)
_LIST_FIELDS = tuple(f"voice_{name}" for name in AZURE_VOICE_LIST_OPTIONS)

_VOICE_KIND_FIELDS: Mapping[str, VoiceType] = MappingProxyType(
    {"voice_endpoint_id": "azure-custom", "voice_model": "azure-personal"}
)
"""Config field -> the one voice kind that takes it, and requires it."""

_SYNTHESIS_OPTIONS = ("temperature", "rate", *AZURE_VOICE_STRING_OPTIONS, *AZURE_VOICE_LIST_OPTIONS)

_SDK_VOICE_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        **{f"voice_{name}": name for name in _SYNTHESIS_OPTIONS},
        "voice_endpoint_id": "endpoint_id",
        "voice_model": "model",
    }
)
"""Config field -> SDK voice field, for every option a voice object can carry."""

_VOICE_FIELDS = ("voice_type", *_SDK_VOICE_FIELDS)
"""Every config field about the voice besides ``voice`` itself."""

_NAMED_VOICE_SETS: Mapping[str, frozenset[str]] = MappingProxyType(
    {"openai": OPENAI_VOICES, "azure-realtime-native": REALTIME_NATIVE_VOICES}
)
"""Voice kinds whose names form a closed set and that take no synthesis options."""

_VOICE_TEMPERATURE = CHECKS.number(*VOICE_TEMPERATURE_RANGE)
_PROSODY_RATE = CHECKS.number(*PROSODY_RATE_RANGE)


def resolve_voice_type(
    voice: object,
    voice_type: str | None = None,
    *,
    endpoint_id: str | None = None,
    model: str | None = None,
) -> str | None:
    """The wire voice ``type`` a voice string stands for (``None`` for SDK voice objects).

    The kind is never guessed from the name's shape (Azure names need not contain a
    dash, and "ava" is both an Azure and a realtime-native name). In order:

    1. an explicit ``voice_type`` wins;
    2. a name from the closed OpenAI set (alloy, ash, …) is an OpenAI voice;
    3. an ``endpoint_id`` makes it a custom voice, a personal-voice ``model`` a personal one;
    4. anything else is an Azure standard voice.

    Realtime-native voices therefore always need ``voice_type="azure-realtime-native"``.
    """
    if isinstance(voice, SDK_VOICE_CLASSES):
        return None
    if voice_type is not None:
        return voice_type
    if voice in OPENAI_VOICES:
        return "openai"
    if endpoint_id is not None:
        return "azure-custom"
    if model is not None:
        return "azure-personal"
    return "azure-standard"


def check_voice(config: AzureVoiceLiveConfig) -> None:
    """Validate the voice fields of ``config``, freezing list options to tuples."""
    if isinstance(config.voice, SDK_VOICE_CLASSES):
        for name in _VOICE_FIELDS:
            if getattr(config, name) is not None:
                raise fail(name, "must be None when voice is an SDK voice object")
        return
    if not isinstance(config.voice, str):
        raise fail("voice", "must be a voice name or an SDK voice object")
    CHECKS.non_empty_string(config.voice, "voice")
    if config.voice_type is not None:
        CHECKS.one_of(VOICE_TYPES)(config.voice_type, "voice_type")
    kind = config.voice_kind
    named = _NAMED_VOICE_SETS.get(kind or "")
    if named is not None:
        if config.voice not in named:
            names = ", ".join(sorted(named))
            raise fail("voice", f"{config.voice!r} is not a {kind} voice ({names})")
        for name in _SDK_VOICE_FIELDS:
            if getattr(config, name) is not None:
                raise fail(name, f"is only supported by Azure voices, not {kind} voices")
        return
    for name, owner in _VOICE_KIND_FIELDS.items():
        value = getattr(config, name)
        if (value is not None) != (kind == owner):
            problem = "is required" if value is None else "is only supported"
            raise fail(name, f"{problem} for {owner} voices (voice kind is {kind})")
        if value is not None:
            CHECKS.non_empty_string(value, name)
    _check_synthesis_options(config)


def _check_synthesis_options(config: AzureVoiceLiveConfig) -> None:
    """The speech-synthesis options every Azure TTS voice takes."""
    if config.voice_temperature is not None:
        _VOICE_TEMPERATURE(config.voice_temperature, "voice_temperature")
    if config.voice_rate is not None:
        _check_prosody_rate(config.voice_rate)
    for name in _STRING_FIELDS:
        value = getattr(config, name)
        if value is not None:
            CHECKS.non_empty_string(value, name)
    for name in _LIST_FIELDS:
        value = getattr(config, name)
        if value is not None:
            freeze(config, name, text_tuple(value, name))


def _check_prosody_rate(value: object) -> None:
    """SSML rate: a keyword or percentage passes; a bare multiplier must be in range."""
    rate = CHECKS.non_empty_string(value, "voice_rate")
    multiplier = prosody_multiplier(rate)
    if multiplier is not None:
        _PROSODY_RATE(multiplier, "voice_rate")


def sdk_voice(config: AzureVoiceLiveConfig) -> SdkVoice:
    """The typed voice object; validation already limited the options to the voice's kind."""
    voice = config.voice
    if isinstance(voice, SDK_VOICE_CLASSES):
        return voice
    options: dict[str, Any] = {}
    for name, sdk_name in _SDK_VOICE_FIELDS.items():
        value = getattr(config, name)
        if value is not None:
            options[sdk_name] = list(value) if isinstance(value, tuple) else value
    return _SDK_VOICE[cast(VoiceType, config.voice_kind)](name=voice, **options)
