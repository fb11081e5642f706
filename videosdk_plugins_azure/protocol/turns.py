"""Turn-detection and end-of-utterance settings: detector types, levels and limits.

The plugin offers the Azure detectors and ``server_vad``; the service also takes
OpenAI's ``semantic_vad``, so the emulator accepts that one on top.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Literal, TypeAlias, get_args

__all__ = [
    "AZURE_VAD_TYPES",
    "EAGERNESS_LEVELS",
    "EOU_MODELS",
    "EOU_THRESHOLD_LEVELS",
    "EOU_TIMEOUT_MS",
    "LANGUAGE_VAD_TYPES",
    "SEMANTIC_VAD",
    "SERVICE_TURN_DETECTION_TYPES",
    "TURN_DETECTION_TYPES",
    "TURN_SWITCHES",
    "VAD_MS_MAXIMA",
    "VAD_THRESHOLD_RANGE",
    "EouModel",
    "EouThresholdLevel",
    "TurnDetectionType",
]

TurnDetectionType: TypeAlias = Literal[
    "server_vad", "azure_semantic_vad", "azure_semantic_vad_en", "azure_semantic_vad_multilingual"
]
TURN_DETECTION_TYPES: Final = frozenset(get_args(TurnDetectionType))

SEMANTIC_VAD: Final = "semantic_vad"
"""OpenAI's semantic VAD: documented by the service, absent from SDK 1.3.1."""

SERVICE_TURN_DETECTION_TYPES: Final = TURN_DETECTION_TYPES | {SEMANTIC_VAD}

AZURE_VAD_TYPES: Final = frozenset(t for t in TURN_DETECTION_TYPES if t.startswith("azure_"))
"""Azure's detectors, the only ones with ``remove_filler_words`` (and speech-duration
defaults of their own)."""

LANGUAGE_VAD_TYPES: Final = frozenset(t for t in AZURE_VAD_TYPES if not t.endswith("_en"))
"""``languages`` steers the multilingual detector; the ``_en`` and server VADs have none."""

EAGERNESS_LEVELS: Final = frozenset({"low", "medium", "high", "auto"})
"""``semantic_vad`` only."""

VAD_THRESHOLD_RANGE: Final = (0.0, 1.0)

VAD_MS_MAXIMA: Mapping[str, int] = MappingProxyType(
    {"prefix_padding_ms": 5_000, "silence_duration_ms": 10_000, "speech_duration_ms": 10_000}
)
"""Upper bounds (from 0) well past any useful value: they catch seconds-for-milliseconds
mix-ups."""

TURN_SWITCHES: Final = ("create_response", "interrupt_response", "auto_truncate")
"""Boolean switches every detector takes."""

EouModel: TypeAlias = Literal[
    "semantic_detection_v1", "semantic_detection_v1_en", "semantic_detection_v1_multilingual"
]
EOU_MODELS: Final = frozenset(get_args(EouModel))

EouThresholdLevel: TypeAlias = Literal["low", "medium", "high", "default"]
EOU_THRESHOLD_LEVELS: Final = frozenset(get_args(EouThresholdLevel))

EOU_TIMEOUT_MS: Final = (1, 60_000)
