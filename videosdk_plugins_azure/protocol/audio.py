"""Audio formats and sample rates of the Voice Live wire.

The plugin declares its call legs' rates instead of resampling, and the emulator
rejects what the service rejects, so both read the accepted values from here.
The plugin only ever sends the current underscore spellings of the pcm16 formats;
the service (and so the emulator) also takes the 1.1.0 dash spellings and G.711.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Literal, TypeAlias, get_args

__all__ = [
    "DEFAULT_INPUT_SAMPLING_RATE",
    "G711_FORMATS",
    "G711_RATE",
    "INPUT_AUDIO_FORMATS",
    "INPUT_SAMPLING_RATES",
    "LEGACY_OUTPUT_FORMATS",
    "OUTPUT_AUDIO_FORMATS",
    "OUTPUT_RATES",
    "PCM16",
    "PCM16_DEFAULT_RATE",
    "PCM16_INPUT_RATES",
    "SERVICE_OUTPUT_AUDIO_FORMATS",
    "G711Format",
    "OutputAudioFormat",
    "output_format_for_rate",
]

PCM16: Final = "pcm16"
"""16-bit little-endian mono PCM; as an output format it means 24 kHz."""

PCM16_DEFAULT_RATE: Final = 24000
"""The rate ``pcm16`` runs at unless a session says otherwise (input and output)."""

PCM16_INPUT_RATES: Final = frozenset({8000, 16000, PCM16_DEFAULT_RATE})
"""``input_audio_sampling_rate`` values pcm16 input may declare."""

G711Format: TypeAlias = Literal["g711_ulaw", "g711_alaw"]
G711_FORMATS: Final = frozenset(get_args(G711Format))
G711_RATE: Final = 8000
"""G.711 is narrowband telephony audio: always 8 kHz, in both directions."""

OutputAudioFormat: TypeAlias = Literal["pcm16", "pcm16_8000hz", "pcm16_16000hz"]
"""The pcm16 output formats, in the spelling SDK 1.3.1 uses."""

OUTPUT_RATES: Mapping[str, int] = MappingProxyType(
    {PCM16: PCM16_DEFAULT_RATE, "pcm16_8000hz": 8000, "pcm16_16000hz": 16000}
)
"""Sample rate of each pcm16 output format, for sizing the playback track."""

OUTPUT_AUDIO_FORMATS: Final = frozenset(get_args(OutputAudioFormat))

LEGACY_OUTPUT_FORMATS: Mapping[str, str] = MappingProxyType(
    {name.replace("_", "-"): name for name in OUTPUT_AUDIO_FORMATS if "_" in name}
)
"""SDK 1.1.0 dash spellings (``pcm16-8000hz``) -> the current name; the service still
accepts them."""

SERVICE_OUTPUT_AUDIO_FORMATS: Final = (
    OUTPUT_AUDIO_FORMATS | LEGACY_OUTPUT_FORMATS.keys() | G711_FORMATS
)
"""Every ``output_audio_format`` the service accepts (a superset of what the plugin sends)."""

INPUT_AUDIO_FORMATS: Final = frozenset({PCM16}) | G711_FORMATS

INPUT_SAMPLING_RATES: Mapping[str, frozenset[int]] = MappingProxyType(
    {PCM16: PCM16_INPUT_RATES, **dict.fromkeys(G711_FORMATS, frozenset({G711_RATE}))}
)
"""Input format -> the sampling rates it may be declared with."""

DEFAULT_INPUT_SAMPLING_RATE: Mapping[str, int] = MappingProxyType(
    {PCM16: PCM16_DEFAULT_RATE, **dict.fromkeys(G711_FORMATS, G711_RATE)}
)
"""Input format -> the rate the service assumes when a session names none."""

_FORMAT_FOR_RATE: Mapping[int, str] = MappingProxyType(
    {rate: name for name, rate in OUTPUT_RATES.items()}
)


def output_format_for_rate(rate: int) -> str:
    """The pcm16 output format whose rate matches a call leg, so no output resampling is
    needed; rates the service cannot produce get the 24 kHz default."""
    return _FORMAT_FOR_RATE.get(rate, PCM16)
