"""User-facing configuration for Azure Voice Live and its translation into a ``session.update``.

Everything here is pure: dataclasses validate themselves on construction so a bad
value fails where the user wrote it (with the field named in the message) instead
of as an ``error`` event seconds into a call, and :func:`build_session` turns a
config plus the facts only known at connect time (model, call-leg sample rates,
tools, agent mode) into the SDK's typed :class:`~azure.ai.voicelive.models.RequestSession`.

Conventions:

* ``None`` on an optional field means "leave it to the service default" and the
  field is not sent. The exceptions are the switchable features (turn detection,
  noise reduction, echo cancellation, input transcription): turning them off must
  be *said* to the service, so they are sent as an explicit JSON ``null``.
* SDK model objects (voices, turn detection) are accepted as-is for users who need
  a field this config does not model; ``extra_session`` is the last-resort escape
  hatch for service features newer than this module.

Modules: :mod:`._model` (the config dataclass), :mod:`._turns` (turn detection),
:mod:`._voice` (voices), :mod:`._mcp` (MCP servers), :mod:`._session` (building the
``session.update``), :mod:`._checks` (the plugin's wording of the shared checks),
:mod:`._vendor` (the vendor plugin's field spellings, mapped and deprecated),
:mod:`._avatar` (the avatar shown in the meeting).
Protocol facts (enums, ranges, voice sets) live in :mod:`..protocol` and are
re-exported here where users have imported them from this module.
"""

from __future__ import annotations

from ..protocol.audio import OUTPUT_RATES, OutputAudioFormat, output_format_for_rate
from ..protocol.audio import PCM16_INPUT_RATES as INPUT_RATES
from ..protocol.models import (
    GPT_REALTIME_MODEL_PREFIXES,
    TRANSCRIPTION_MODELS,
    is_gpt_realtime_model,
    temperature_range,
)
from ..protocol.session import NoiseReduction, ReasoningEffort, ToolChoiceLiteral
from ..protocol.turns import EouModel, EouThresholdLevel, TurnDetectionType
from ..protocol.voices import DEFAULT_VOICE, OPENAI_VOICES, REALTIME_NATIVE_VOICES, VoiceType
from ._avatar import Avatar, AvatarVideo, avatar_video
from ._mcp import McpServer
from ._model import AzureVoiceLiveConfig
from ._session import build_session, resolve_transcription_model
from ._turns import EndOfUtterance, TurnDetection
from ._vendor import VENDOR_FIELDS
from ._voice import SdkVoice, resolve_voice_type

__all__ = [
    "DEFAULT_VOICE",
    "GPT_REALTIME_MODEL_PREFIXES",
    "INPUT_RATES",
    "OPENAI_VOICES",
    "OUTPUT_RATES",
    "REALTIME_NATIVE_VOICES",
    "TRANSCRIPTION_MODELS",
    "VENDOR_FIELDS",
    "Avatar",
    "AvatarVideo",
    "AzureVoiceLiveConfig",
    "EndOfUtterance",
    "EouModel",
    "EouThresholdLevel",
    "McpServer",
    "NoiseReduction",
    "OutputAudioFormat",
    "ReasoningEffort",
    "SdkVoice",
    "ToolChoiceLiteral",
    "TurnDetection",
    "TurnDetectionType",
    "VoiceType",
    "avatar_video",
    "build_session",
    "is_gpt_realtime_model",
    "output_format_for_rate",
    "resolve_transcription_model",
    "resolve_voice_type",
    "temperature_range",
]
