"""Voice Live protocol facts shared by the plugin and the emulator.

Written once, so that what the plugin sends and what the emulator accepts cannot
drift apart. Values follow ``voicelive-protocol.md`` §4 and §9. Submodules by
responsibility:

* :mod:`.audio`: audio formats and sample rates;
* :mod:`.voices`: voice kinds, closed voice-name sets, synthesis-option ranges;
* :mod:`.turns`: turn detection and end-of-utterance settings;
* :mod:`.session`: the other closed sets and limits of session and response fields;
* :mod:`.models`: what depends on the model (transcription, temperature);
* :mod:`.checks`: the validation kit both sides build their checks from;
* :mod:`.text`: how a transcript is cut when its audio is truncated;
* :mod:`.net`: which hosts count as this machine.
* :mod:`.avatar`: ``AvatarConfig``'s rules and what its video stream is.

The most used names are re-exported here.
"""

from __future__ import annotations

from .audio import OUTPUT_RATES, PCM16_INPUT_RATES, output_format_for_rate
from .checks import Check, Checks, Wording
from .models import (
    TRANSCRIPTION_MODELS,
    default_transcription_model,
    is_gpt_realtime_model,
    temperature_range,
)
from .net import is_loopback
from .text import cut_text
from .voices import DEFAULT_VOICE, OPENAI_VOICES, REALTIME_NATIVE_VOICES

__all__ = [
    "DEFAULT_VOICE",
    "OPENAI_VOICES",
    "OUTPUT_RATES",
    "PCM16_INPUT_RATES",
    "REALTIME_NATIVE_VOICES",
    "TRANSCRIPTION_MODELS",
    "Check",
    "Checks",
    "Wording",
    "cut_text",
    "default_transcription_model",
    "is_gpt_realtime_model",
    "is_loopback",
    "output_format_for_rate",
    "temperature_range",
]
