"""What depends on the session's model: transcription models and temperature ranges.

GPT realtime models are speech-to-speech and accept only OpenAI transcription and
a narrow temperature range; cascaded models (a text LLM between Azure speech
recognition and synthesis) and agents accept the wide one. The plugin picks its
defaults and the emulator its rejections from the same rules.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "GPT_REALTIME_MODEL_PREFIXES",
    "GPT_REALTIME_TEMPERATURE_RANGE",
    "TEMPERATURE_RANGE",
    "TRANSCRIPTION_MODELS",
    "default_transcription_model",
    "is_gpt_realtime_model",
    "temperature_range",
]

TRANSCRIPTION_MODELS: Final = frozenset(
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

GPT_REALTIME_MODEL_PREFIXES: Final = ("gpt-realtime", "gpt-4o-realtime", "gpt-4o-mini-realtime")
"""Speech-to-speech GPT models: they need an OpenAI transcription model and a narrower
temperature range than the cascaded (text LLM + Azure speech) models."""

TEMPERATURE_RANGE: Final = (0.0, 2.0)
"""Sampling temperatures of cascaded models, and the widest any model accepts."""

GPT_REALTIME_TEMPERATURE_RANGE: Final = (0.6, 1.2)


def is_gpt_realtime_model(model: str | None) -> bool:
    """Whether ``model`` is one of the speech-to-speech GPT models (case-insensitive)."""
    return model is not None and model.lower().startswith(GPT_REALTIME_MODEL_PREFIXES)


def temperature_range(model: str | None) -> tuple[float, float]:
    """The temperatures the service accepts for ``model``.

    An unknown model (agent mode) gets the wide range: the agent's model decides and
    the service reports anything it rejects.
    """
    return GPT_REALTIME_TEMPERATURE_RANGE if is_gpt_realtime_model(model) else TEMPERATURE_RANGE


def default_transcription_model(model: str | None) -> str:
    """The transcription model the service accepts for ``model``'s family.

    A mismatch is rejected with ``invalid_input_audio_transcription_model``, so a
    client that does not choose must pick by family: ``whisper-1`` for GPT realtime,
    ``azure-speech`` for everything else (including agents whose model is unknown).
    """
    return "whisper-1" if is_gpt_realtime_model(model) else "azure-speech"
