"""Voice kinds, the closed voice-name sets, and the ranges of the synthesis options.

The plugin decides a voice's kind from these sets and the emulator rejects names
outside them, so a name added to a set here is accepted by both at once.
"""

from __future__ import annotations

from typing import Final, Literal, TypeAlias, get_args

__all__ = [
    "AZURE_VOICE_LIST_OPTIONS",
    "AZURE_VOICE_STRING_OPTIONS",
    "DEFAULT_VOICE",
    "DEFAULT_VOICE_TYPE",
    "OPENAI_VOICES",
    "PERSONAL_VOICE_MODELS",
    "PROSODY_RATE_RANGE",
    "REALTIME_NATIVE_VOICES",
    "SERVICE_AZURE_VOICE_STRING_OPTIONS",
    "SERVICE_VOICE_TYPES",
    "VOICE_TEMPERATURE_RANGE",
    "VOICE_TYPES",
    "ServiceVoiceType",
    "VoiceType",
    "prosody_multiplier",
]

VoiceType: TypeAlias = Literal[
    "openai", "azure-standard", "azure-custom", "azure-personal", "azure-realtime-native"
]
"""Wire ``voice.type`` values the plugin can produce from a voice name."""

VOICE_TYPES: Final = frozenset(get_args(VoiceType))

ServiceVoiceType: TypeAlias = Literal[VoiceType, "avatar-voice-sync"]
"""Every ``voice.type`` the service accepts: the plugin's kinds plus the avatar-sync voice,
which only makes sense with an avatar (the plugin does not drive one)."""

SERVICE_VOICE_TYPES: Final = frozenset(get_args(ServiceVoiceType))

DEFAULT_VOICE_TYPE: Final = "azure-standard"
DEFAULT_VOICE: Final = "en-US-Ava:DragonHDLatestNeural"
"""The service's own default voice; naming it keeps a session's voice stable if the service
default ever changes mid-deployment."""

OPENAI_VOICES: Final = frozenset(
    {"alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"}
)
"""Closed set of OpenAI voice names; a bare string in this set is an OpenAI voice."""

REALTIME_NATIVE_VOICES: Final = frozenset(
    {
        "aarti",
        "andrew",
        "ava",
        "denise",
        "diya",
        "elsa",
        "florian",
        "francisca",
        "meera",
        "xiaoxiao",
        "yunxi",
        "ximena",
    }
)
"""Names of ``azure-realtime-native`` voices (model ``azure-realtime`` only)."""

PERSONAL_VOICE_MODELS: Final = frozenset(
    {
        "DragonLatestNeural",
        "PhoenixLatestNeural",
        "PhoenixV2Neural",
        "DragonHDOmniLatestNeural",
        "MAI-Voice-1",
    }
)
"""Synthesis models a personal (or avatar-sync) voice runs on."""

AZURE_VOICE_STRING_OPTIONS: Final = ("pitch", "volume", "style", "locale", "custom_lexicon_url")
"""Free-text synthesis options of every Azure TTS voice that the plugin exposes."""

SERVICE_AZURE_VOICE_STRING_OPTIONS: Final = (
    *AZURE_VOICE_STRING_OPTIONS,
    "custom_text_normalization_url",
)
"""All free-text synthesis options the service takes (the plugin leaves the newest out)."""

AZURE_VOICE_LIST_OPTIONS: Final = ("prefer_locales",)

VOICE_TEMPERATURE_RANGE: Final = (0.0, 1.0)
PROSODY_RATE_RANGE: Final = (0.5, 1.5)
"""Bounds of an SSML prosody ``rate`` given as a bare multiplier."""


def prosody_multiplier(rate: str | float) -> float | None:
    """The multiplier an SSML ``rate`` stands for, or ``None`` for a keyword or percentage.

    Only a multiplier has a range to check; ``"fast"`` or ``"+10%"`` are the speech
    service's to judge.
    """
    try:
        return float(rate)
    except ValueError:
        return None
