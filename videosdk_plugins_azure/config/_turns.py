"""Turn detection settings: when the service decides the caller has finished speaking."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass
from types import MappingProxyType
from typing import Any

from azure.ai.voicelive import models as vl

from ..protocol.turns import (
    AZURE_VAD_TYPES,
    EOU_MODELS,
    EOU_THRESHOLD_LEVELS,
    EOU_TIMEOUT_MS,
    LANGUAGE_VAD_TYPES,
    TURN_DETECTION_TYPES,
    TURN_SWITCHES,
    VAD_MS_MAXIMA,
    VAD_THRESHOLD_RANGE,
    EouModel,
    EouThresholdLevel,
    TurnDetectionType,
)
from ._checks import CHECKS, fail, freeze, text_tuple

__all__ = ["EndOfUtterance", "TurnDetection"]

_SDK_TURN_DETECTION: Mapping[TurnDetectionType, Callable[..., vl.TurnDetection]] = MappingProxyType(
    {
        "server_vad": vl.ServerVad,
        "azure_semantic_vad": vl.AzureSemanticVad,
        "azure_semantic_vad_en": vl.AzureSemanticVadEn,
        "azure_semantic_vad_multilingual": vl.AzureSemanticVadMultilingual,
    }
)
_SDK_EOU: Mapping[EouModel, Callable[..., vl.EouDetection]] = MappingProxyType(
    {
        "semantic_detection_v1": vl.AzureSemanticDetection,
        "semantic_detection_v1_en": vl.AzureSemanticDetectionEn,
        "semantic_detection_v1_multilingual": vl.AzureSemanticDetectionMultilingual,
    }
)

_AZURE_VAD_ONLY = ("speech_duration_ms", "remove_filler_words", "languages")
"""Fields the plugin sends only to the azure_* detectors."""

_EOU_TIMEOUT = CHECKS.integer(*EOU_TIMEOUT_MS)
_THRESHOLD = CHECKS.number(*VAD_THRESHOLD_RANGE)
_VAD_MS = MappingProxyType({name: CHECKS.integer(0, top) for name, top in VAD_MS_MAXIMA.items()})


@dataclass(frozen=True)
class EndOfUtterance:
    """Semantic end-of-utterance detection: decides from *what* was said whether a pause ends
    the turn, so slow speakers are not cut off mid-sentence.

    ``model`` picks the detector (``_en`` is tuned for English, ``_multilingual`` for
    others); ``threshold_level`` trades latency (``low``) for fewer false ends (``high``);
    ``timeout_ms`` caps how long the detector may wait (``None`` = service default).
    """

    model: EouModel = "semantic_detection_v1"
    _: KW_ONLY
    threshold_level: EouThresholdLevel = "default"
    timeout_ms: int | None = None

    def __post_init__(self) -> None:
        prefix = "turn_detection.end_of_utterance"
        CHECKS.one_of(EOU_MODELS)(self.model, f"{prefix}.model")
        CHECKS.one_of(EOU_THRESHOLD_LEVELS)(self.threshold_level, f"{prefix}.threshold_level")
        if self.timeout_ms is not None:
            _EOU_TIMEOUT(self.timeout_ms, f"{prefix}.timeout_ms")

    def to_sdk(self) -> vl.EouDetection:
        """The SDK end-of-utterance model (its class carries the ``model`` discriminator)."""
        options: dict[str, Any] = {"threshold_level": self.threshold_level}
        if self.timeout_ms is not None:
            options["timeout_ms"] = self.timeout_ms
        return _SDK_EOU[self.model](**options)


@dataclass(frozen=True)
class TurnDetection:
    """Server-side turn detection.

    The default, ``azure_semantic_vad``, is Azure's semantic VAD: it tolerates filler
    sounds and background noise better than plain energy VAD (``server_vad``), which
    matters on phone legs. ``None`` fields are left to the service defaults
    (threshold 0.5, prefix padding 420 ms for azure_* / 400 ms server_vad, silence
    500 ms, speech 80 ms).

    ``speech_duration_ms``, ``remove_filler_words`` and ``languages`` exist only on the
    azure_* detectors, and ``languages`` not on the English-only one. ``auto_truncate``
    lets the service cut the assistant's transcript at the barge-in point itself, which
    only happens when ``interrupt_response`` is on.
    """

    type: TurnDetectionType = "azure_semantic_vad"
    _: KW_ONLY
    threshold: float | None = None
    prefix_padding_ms: int | None = None
    silence_duration_ms: int | None = None
    speech_duration_ms: int | None = None
    end_of_utterance: EndOfUtterance | None = None
    remove_filler_words: bool | None = None
    languages: Sequence[str] | None = None
    create_response: bool = True
    interrupt_response: bool = True
    auto_truncate: bool = False

    def __post_init__(self) -> None:
        CHECKS.one_of(TURN_DETECTION_TYPES)(self.type, "turn_detection.type")
        if self.threshold is not None:
            _THRESHOLD(self.threshold, "turn_detection.threshold")
        for name, check in _VAD_MS.items():
            if getattr(self, name) is not None:
                check(getattr(self, name), f"turn_detection.{name}")
        if self.remove_filler_words is not None:
            CHECKS.boolean(self.remove_filler_words, "turn_detection.remove_filler_words")
        for name in TURN_SWITCHES:
            CHECKS.boolean(getattr(self, name), f"turn_detection.{name}")
        if self.end_of_utterance is not None and not isinstance(
            self.end_of_utterance, EndOfUtterance
        ):
            raise fail("turn_detection.end_of_utterance", "must be an EndOfUtterance")
        self._check_detector_fields()
        if self.auto_truncate and not self.interrupt_response:
            raise fail(
                "turn_detection.auto_truncate",
                "requires turn_detection.interrupt_response=True (truncation happens on barge-in)",
            )

    def _check_detector_fields(self) -> None:
        """Fields only some detector types have, and the languages list."""
        if self.type not in AZURE_VAD_TYPES:
            for name in _AZURE_VAD_ONLY:
                if getattr(self, name) is not None:
                    raise fail(
                        f"turn_detection.{name}",
                        f"is only supported by the azure_semantic_vad* types, not {self.type}",
                    )
        if self.languages is not None:
            if self.type not in LANGUAGE_VAD_TYPES:
                raise fail(
                    "turn_detection.languages",
                    f"is not supported by {self.type} (use azure_semantic_vad_multilingual)",
                )
            freeze(self, "languages", text_tuple(self.languages, "turn_detection.languages"))

    def to_sdk(self) -> vl.TurnDetection:
        """The SDK class for ``type`` with only the fields that were set."""
        options: dict[str, Any] = {
            "threshold": self.threshold,
            "prefix_padding_ms": self.prefix_padding_ms,
            "silence_duration_ms": self.silence_duration_ms,
            "speech_duration_ms": self.speech_duration_ms,
            "remove_filler_words": self.remove_filler_words,
            "languages": list(self.languages) if self.languages is not None else None,
            "end_of_utterance_detection": (
                self.end_of_utterance.to_sdk() if self.end_of_utterance is not None else None
            ),
            "create_response": self.create_response,
            "interrupt_response": self.interrupt_response,
            "auto_truncate": self.auto_truncate,
        }
        return _SDK_TURN_DETECTION[self.type](
            **{key: value for key, value in options.items() if value is not None}
        )
