"""Voice Live protocol facts shared by the plugin's config and the emulator.

One copy, so that what the plugin sends and what the emulator accepts cannot drift
apart. Values follow ``voicelive-protocol.md`` §4 (SDK 1.3.1 enums and the service
docs).
"""

from __future__ import annotations

OPENAI_VOICES = frozenset(
    {"alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"}
)
"""Closed set of OpenAI voice names; a bare string in this set is an OpenAI voice."""

REALTIME_NATIVE_VOICES = frozenset(
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

PERSONAL_VOICE_MODELS = frozenset(
    {
        "DragonLatestNeural",
        "PhoenixLatestNeural",
        "PhoenixV2Neural",
        "DragonHDOmniLatestNeural",
        "MAI-Voice-1",
    }
)

TRANSCRIPTION_MODELS = frozenset(
    {
        "whisper-1",
        "gpt-4o-transcribe",
        "gpt-4o-mini-transcribe",
        "gpt-4o-transcribe-diarize",
        "mai-transcribe-1",
        "mai-transcribe",
        "azure-speech",
    }
)
"""Input transcription models; ``mai-transcribe`` is the docs' spelling of the SDK's
``mai-transcribe-1``."""

GPT_REALTIME_MODEL_PREFIXES = ("gpt-realtime", "gpt-4o-realtime", "gpt-4o-mini-realtime")
"""Speech-to-speech GPT models: they need an OpenAI transcription model and a narrower
temperature range than the cascaded (text LLM + Azure speech) models."""


def is_gpt_realtime_model(model: str | None) -> bool:
    return model is not None and model.lower().startswith(GPT_REALTIME_MODEL_PREFIXES)


def temperature_range(model: str | None) -> tuple[float, float]:
    """The temperatures the service accepts for ``model``.

    GPT realtime models only accept [0.6, 1.2]; other models the usual [0, 2]. An
    unknown model (agent mode) gets the wide range: the agent's model decides and the
    service reports anything it rejects.
    """
    return (0.6, 1.2) if is_gpt_realtime_model(model) else (0.0, 2.0)
