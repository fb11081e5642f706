"""The vendor plugin's config fields, accepted and mapped onto this config.

``videosdk-plugins-azure`` 1.0.30 (``from videosdk.plugins.azure import
AzureVoiceLiveConfig``) spells some settings differently. A script written for it
should run after changing only its import line, so :class:`AzureVoiceLiveConfig`
takes those spellings as init-only arguments, maps each onto the field that means
the same thing here, and warns once per field with the replacement to write
instead. Nothing is stored under the old names: the mapped fields are the config's
only state, so ``dataclasses.replace`` and equality see one canonical config.

The values keep the vendor's meaning. Defaults do not carry over: when an old field
is not given, this config's own default applies (for example the vendor always sent
``server_vad`` with threshold 0.5, padding 300 ms and silence 500 ms; here the
default is ``azure_semantic_vad`` with the service's values, and giving
``turn_detection_threshold=0.5`` sets only the threshold). Fields whose names are
unchanged (``voice``, ``modalities``, ``output_audio_format``, ``temperature``) need
no mapping; the vendor's ``Modality``/audio-format enums in them are normalised to
plain strings by the config itself.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from ..protocol.audio import G711_FORMATS, PCM16
from ..protocol.checks import is_int
from ..protocol.session import MAX_OUTPUT_TOKENS
from ..protocol.turns import VAD_MS_MAXIMA, VAD_THRESHOLD_RANGE
from ._checks import CHECKS, fail, freeze, plain_string
from ._turns import TurnDetection

if TYPE_CHECKING:
    from ._model import AzureVoiceLiveConfig

__all__ = ["VENDOR_FIELDS", "apply_vendor_fields"]

_TURN_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "turn_detection_threshold": "threshold",
        "turn_detection_prefix_padding_ms": "prefix_padding_ms",
        "turn_detection_silence_duration_ms": "silence_duration_ms",
    }
)
"""Vendor field -> the :class:`TurnDetection` field it sets."""

VENDOR_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        **{
            old: f"use turn_detection=TurnDetection({new}=...)" for old, new in _TURN_FIELDS.items()
        },
        "max_completion_tokens": "use max_response_output_tokens",
        "input_audio_format": "remove it: input is always pcm16, declared at the call leg's rate",
    }
)
"""Each vendor-only field -> what to write instead (the advice its DeprecationWarning gives)."""

_TURN_CHECKS = MappingProxyType(
    {
        "turn_detection_threshold": CHECKS.number(*VAD_THRESHOLD_RANGE),
        "turn_detection_prefix_padding_ms": CHECKS.integer(0, VAD_MS_MAXIMA["prefix_padding_ms"]),
        "turn_detection_silence_duration_ms": CHECKS.integer(
            0, VAD_MS_MAXIMA["silence_duration_ms"]
        ),
    }
)

_WARN_AT_CALLER = 4
"""Stack levels from the ``warn`` call to the user's line: this function,
``__post_init__``, the generated ``__init__``, the caller."""


def apply_vendor_fields(config: AzureVoiceLiveConfig, given: Mapping[str, Any]) -> None:
    """Map the vendor fields the user gave (``None`` = not given) onto ``config``.

    Called first in ``__post_init__``, so the mapped values then go through the
    config's own validation like any other value.
    """
    present = {name: value for name, value in given.items() if value is not None}
    for name in present:
        warnings.warn(
            f"AzureVoiceLiveConfig({name}=...) is the videosdk-plugins-azure spelling and "
            f"is deprecated; {VENDOR_FIELDS[name]}",
            DeprecationWarning,
            stacklevel=_WARN_AT_CALLER,
        )
    if "input_audio_format" in present:
        _check_input_format(present["input_audio_format"])
    turn_values = {name: present[name] for name in _TURN_FIELDS if name in present}
    if turn_values:
        freeze(config, "turn_detection", _turn_detection(config, turn_values))
    if "max_completion_tokens" in present:
        tokens = _max_tokens(config, present["max_completion_tokens"])
        freeze(config, "max_response_output_tokens", tokens)


def _check_input_format(value: object) -> None:
    """Only pcm16 is meaningful: the plugin declares each leg's pcm16 rate instead of
    sending G.711, so a G.711 request would silently not be honoured."""
    fmt = plain_string(value)
    if fmt == PCM16:
        return
    if fmt in G711_FORMATS:
        raise fail(
            "input_audio_format",
            f"{fmt!r} is not supported: the plugin sends pcm16 and declares the call leg's "
            "rate (8 kHz on a phone leg), so remove input_audio_format",
        )
    raise fail("input_audio_format", f"must be 'pcm16' (got {value!r})")


def _turn_detection(config: AzureVoiceLiveConfig, values: Mapping[str, Any]) -> TurnDetection:
    """The config's :class:`TurnDetection` with the vendor's values set on it.

    The detector type stays this config's (the vendor's fixed ``server_vad`` is not a
    field the user chose). A value already set differently on ``turn_detection`` is a
    contradiction, not something to resolve silently.
    """
    detection = config.turn_detection
    name = next(iter(values))
    if detection is None:
        raise fail(name, "cannot be used with turn_detection=None (turn detection is off)")
    if not isinstance(detection, TurnDetection):
        raise fail(name, "cannot be combined with an SDK turn_detection object; set it there")
    changes: dict[str, Any] = {}
    for old, value in values.items():
        new = _TURN_FIELDS[old]
        checked = _TURN_CHECKS[old](value, old)
        current = getattr(detection, new)
        if current is not None and current != checked:
            raise fail(old, f"conflicts with turn_detection.{new}={current!r}; give only one")
        changes[new] = checked
    return dataclasses.replace(detection, **changes)


def _max_tokens(config: AzureVoiceLiveConfig, value: object) -> int | Literal["inf"]:
    """``max_completion_tokens`` is the response token cap, i.e. ``max_response_output_tokens``.

    (The vendor assigned it to an attribute the SDK does not serialise, so it never
    reached the service; here it does.)
    """
    tokens: int | Literal["inf"]
    if value == "inf":
        tokens = "inf"
    elif isinstance(value, int) and is_int(value) and 1 <= value <= MAX_OUTPUT_TOKENS:  # no bools
        tokens = value
    else:
        raise fail(
            "max_completion_tokens",
            f"must be an integer between 1 and {MAX_OUTPUT_TOKENS} or 'inf' (got {value!r})",
        )
    current = config.max_response_output_tokens
    if current is not None and current != tokens:
        raise fail(
            "max_completion_tokens",
            f"conflicts with max_response_output_tokens={current!r}; give only one",
        )
    return tokens
