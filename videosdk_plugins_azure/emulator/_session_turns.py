"""``session.turn_detection`` rules, and the defaults the service fills in for each detector."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Final

from ..protocol.turns import (
    AZURE_VAD_TYPES,
    EAGERNESS_LEVELS,
    EOU_MODELS,
    EOU_THRESHOLD_LEVELS,
    EOU_TIMEOUT_MS,
    LANGUAGE_VAD_TYPES,
    SEMANTIC_VAD,
    SERVICE_TURN_DETECTION_TYPES,
    TURN_SWITCHES,
    VAD_MS_MAXIMA,
    VAD_THRESHOLD_RANGE,
)
from ._validate import Check, Shape, boolean, fail, integer, number, one_of, string_list, tagged

__all__ = ["PREFIX_PADDING_CHANGE_API_VERSION", "TURN_DETECTION", "effective_turn_detection"]

PREFIX_PADDING_CHANGE_API_VERSION: Final = "2026-04-10"
"""API versions before this one report ``prefix_padding_ms`` 300; later ones 400/420."""


def _auto_truncate_needs_interrupt(config: dict[str, Any], param: str) -> None:
    """Auto-truncation happens on barge-in, which only exists when responses are interrupted."""
    if config.get("auto_truncate") is True and config.get("interrupt_response") is False:
        fail(
            f"{param}.auto_truncate",
            f"'{param}.auto_truncate' requires '{param}.interrupt_response' to be true.",
        )


_EOU_SHAPE = Shape(
    {
        "threshold_level": one_of(EOU_THRESHOLD_LEVELS),
        "timeout_ms": integer(*EOU_TIMEOUT_MS),
    }
)
_VAD_COMMON: dict[str, Check] = {
    "threshold": number(*VAD_THRESHOLD_RANGE),
    "prefix_padding_ms": integer(0, VAD_MS_MAXIMA["prefix_padding_ms"]),
    "silence_duration_ms": integer(0, VAD_MS_MAXIMA["silence_duration_ms"]),
    **dict.fromkeys(TURN_SWITCHES, boolean),
    "end_of_utterance_detection": tagged(dict.fromkeys(EOU_MODELS, _EOU_SHAPE), tag="model"),
}


def _detector_fields(kind: str) -> dict[str, Check]:
    """The fields detector ``kind`` takes beyond the common ones."""
    if kind == SEMANTIC_VAD:
        return {"eagerness": one_of(EAGERNESS_LEVELS)}
    fields: dict[str, Check] = {
        "speech_duration_ms": integer(0, VAD_MS_MAXIMA["speech_duration_ms"])
    }
    if kind in AZURE_VAD_TYPES:
        fields["remove_filler_words"] = boolean
    if kind in LANGUAGE_VAD_TYPES:
        fields["languages"] = string_list
    return fields


TURN_DETECTION = tagged(
    {
        kind: Shape({**_VAD_COMMON, **_detector_fields(kind)}, post=_auto_truncate_needs_interrupt)
        for kind in sorted(SERVICE_TURN_DETECTION_TYPES)
    }
)


def _turn_detection_defaults(kind: str, api_version: str | None) -> dict[str, Any]:
    """Effective values the service reports for fields a client left out."""
    azure = kind in AZURE_VAD_TYPES
    defaults: dict[str, Any] = {}
    if kind != SEMANTIC_VAD:
        legacy = api_version is not None and api_version < PREFIX_PADDING_CHANGE_API_VERSION
        defaults |= {
            "threshold": 0.5,
            "prefix_padding_ms": 300 if legacy else (420 if azure else 400),
            "silence_duration_ms": 500,
        }
    else:
        defaults["eagerness"] = "auto"
    if azure:
        defaults |= {"speech_duration_ms": 80, "remove_filler_words": False}
    return defaults | {"create_response": True, "interrupt_response": True, "auto_truncate": False}


def effective_turn_detection(config: Mapping[str, Any], api_version: str | None) -> dict[str, Any]:
    """``config`` (already validated) completed with the service defaults for its type."""
    kind = config["type"]
    return {
        "type": kind,
        **_turn_detection_defaults(kind, api_version),
        **{key: copy.deepcopy(value) for key, value in config.items() if key != "type"},
    }
