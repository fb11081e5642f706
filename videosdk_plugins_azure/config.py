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
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from types import MappingProxyType
from typing import Any, Literal, TypeAlias

from azure.ai.voicelive import models as vl

from ._protocol import (
    GPT_REALTIME_MODEL_PREFIXES,
    OPENAI_VOICES,
    REALTIME_NATIVE_VOICES,
    TRANSCRIPTION_MODELS,
    is_gpt_realtime_model,
    temperature_range,
)

__all__ = [
    "DEFAULT_VOICE",
    "GPT_REALTIME_MODEL_PREFIXES",
    "INPUT_RATES",
    "OPENAI_VOICES",
    "OUTPUT_RATES",
    "REALTIME_NATIVE_VOICES",
    "TRANSCRIPTION_MODELS",
    "AzureVoiceLiveConfig",
    "EndOfUtterance",
    "McpServer",
    "SdkVoice",
    "TurnDetection",
    "build_session",
    "build_tools_update",
    "is_gpt_realtime_model",
    "output_format_for_rate",
    "resolve_transcription_model",
    "resolve_voice_type",
    "temperature_range",
]

TurnDetectionType: TypeAlias = Literal[
    "server_vad", "azure_semantic_vad", "azure_semantic_vad_en", "azure_semantic_vad_multilingual"
]
EouModel: TypeAlias = Literal[
    "semantic_detection_v1", "semantic_detection_v1_en", "semantic_detection_v1_multilingual"
]
EouThresholdLevel: TypeAlias = Literal["low", "medium", "high", "default"]
VoiceType: TypeAlias = Literal[
    "openai", "azure-standard", "azure-custom", "azure-personal", "azure-realtime-native"
]
NoiseReduction: TypeAlias = Literal["azure_deep_noise_suppression", "near_field", "far_field"]
OutputAudioFormat: TypeAlias = Literal["pcm16", "pcm16_8000hz", "pcm16_16000hz"]
ReasoningEffort: TypeAlias = Literal["none", "minimal", "low", "medium", "high", "xhigh"]
ToolChoiceLiteral: TypeAlias = Literal["auto", "none", "required"]

SdkVoice: TypeAlias = (
    vl.OpenAIVoice | vl.AzureVoice | vl.AzureRealtimeNativeVoice | vl.OpenAIVoiceName
)
"""SDK voice objects accepted verbatim (``AzureVoice`` covers standard, custom, personal
and avatar-voice-sync voices)."""

_SDK_VOICE_CLASSES = (
    vl.OpenAIVoice,
    vl.AzureVoice,
    vl.AzureRealtimeNativeVoice,
    vl.OpenAIVoiceName,
)

DEFAULT_VOICE = "en-US-Ava:DragonHDLatestNeural"
"""The service's own default voice; naming it keeps a session's voice stable if the service
default ever changes mid-deployment."""


INPUT_RATES = frozenset({8000, 16000, 24000})
"""pcm16 input rates the service accepts, so call legs are passed through without resampling."""

OUTPUT_RATES: Mapping[str, int] = MappingProxyType(
    {"pcm16": 24000, "pcm16_8000hz": 8000, "pcm16_16000hz": 16000}
)
"""Sample rate of each pcm16 output format, for sizing the playback track."""

_FORMAT_FOR_RATE: Mapping[int, str] = MappingProxyType(
    {rate: name for name, rate in OUTPUT_RATES.items()}
)

_TURN_DETECTION_TYPES = frozenset(
    {"server_vad", "azure_semantic_vad", "azure_semantic_vad_en", "azure_semantic_vad_multilingual"}
)
_EOU_MODELS = frozenset(
    {"semantic_detection_v1", "semantic_detection_v1_en", "semantic_detection_v1_multilingual"}
)
_EOU_THRESHOLD_LEVELS = frozenset({"low", "medium", "high", "default"})
_VOICE_TYPES = frozenset(
    {"openai", "azure-standard", "azure-custom", "azure-personal", "azure-realtime-native"}
)
_NOISE_REDUCTIONS = frozenset({"azure_deep_noise_suppression", "near_field", "far_field"})
_REASONING_EFFORTS = frozenset({"none", "minimal", "low", "medium", "high", "xhigh"})
_TOOL_CHOICE_LITERALS = frozenset({"auto", "none", "required"})
_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MAX_OUTPUT_TOKENS = 4096
_EOU_TIMEOUT_MS = (1, 60_000)
_PROSODY_RATE = (0.5, 1.5)

_VAD_MS_MAXIMA: Mapping[str, int] = MappingProxyType(
    {"prefix_padding_ms": 5_000, "silence_duration_ms": 10_000, "speech_duration_ms": 10_000}
)
"""Upper bounds well past any useful value: they catch seconds-for-milliseconds mix-ups."""

_AZURE_VAD_ONLY = ("speech_duration_ms", "remove_filler_words")
_LANGUAGE_VAD_TYPES = frozenset({"azure_semantic_vad", "azure_semantic_vad_multilingual"})
"""``languages`` steers the multilingual detector; the ``_en`` and server VADs have none."""

_SDK_TURN_DETECTION: Mapping[str, Callable[..., vl.TurnDetection]] = MappingProxyType(
    {
        "server_vad": vl.ServerVad,
        "azure_semantic_vad": vl.AzureSemanticVad,
        "azure_semantic_vad_en": vl.AzureSemanticVadEn,
        "azure_semantic_vad_multilingual": vl.AzureSemanticVadMultilingual,
    }
)
_SDK_EOU: Mapping[str, Callable[..., vl.EouDetection]] = MappingProxyType(
    {
        "semantic_detection_v1": vl.AzureSemanticDetection,
        "semantic_detection_v1_en": vl.AzureSemanticDetectionEn,
        "semantic_detection_v1_multilingual": vl.AzureSemanticDetectionMultilingual,
    }
)
_SDK_VOICE: Mapping[str, Callable[..., SdkVoice]] = MappingProxyType(
    {
        "openai": vl.OpenAIVoice,
        "azure-standard": vl.AzureStandardVoice,
        "azure-custom": vl.AzureCustomVoice,
        "azure-personal": vl.AzurePersonalVoice,
        "azure-realtime-native": vl.AzureRealtimeNativeVoice,
    }
)

_VOICE_OPTIONS: Mapping[str, str] = MappingProxyType(
    {
        "voice_temperature": "temperature",
        "voice_rate": "rate",
        "voice_pitch": "pitch",
        "voice_volume": "volume",
        "voice_style": "style",
        "voice_locale": "locale",
        "voice_prefer_locales": "prefer_locales",
        "voice_custom_lexicon_url": "custom_lexicon_url",
    }
)
"""Config field -> SDK voice field for the speech-synthesis options every Azure TTS voice takes."""

_VOICE_KIND_FIELDS: Mapping[str, str] = MappingProxyType(
    {"voice_endpoint_id": "azure-custom", "voice_model": "azure-personal"}
)
"""Config field -> the one voice kind that takes it, and requires it."""

_SDK_VOICE_FIELDS: Mapping[str, str] = MappingProxyType(
    {**_VOICE_OPTIONS, "voice_endpoint_id": "endpoint_id", "voice_model": "model"}
)
"""Config field -> SDK voice field, for every option a voice object can carry."""

_VOICE_EXTRA_FIELDS = ("voice_type", *_SDK_VOICE_FIELDS)
_NAMED_VOICE_SETS: Mapping[str, frozenset[str]] = MappingProxyType(
    {"openai": OPENAI_VOICES, "azure-realtime-native": REALTIME_NATIVE_VOICES}
)
"""Voice kinds whose names form a closed set and that take no synthesis options."""


# -- validation helpers -----------------------------------------------------------------


def _fail(name: str, problem: str) -> ValueError:
    return ValueError(f"{name} {problem}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_choice(value: object, allowed: frozenset[str], name: str) -> None:
    if not isinstance(value, str) or value not in allowed:
        choices = ", ".join(sorted(allowed))
        raise _fail(name, f"must be one of {choices} (got {value!r})")


def _check_number(value: object, low: float, high: float, name: str) -> None:
    if not _is_number(value) or not low <= value <= high:  # type: ignore[operator]
        raise _fail(name, f"must be between {low:g} and {high:g} (got {value!r})")


def _check_int(value: object, low: int, high: int, name: str) -> None:
    if not _is_int(value) or not low <= value <= high:  # type: ignore[operator]
        raise _fail(name, f"must be an integer between {low} and {high} (got {value!r})")


def _check_bool(value: object, name: str) -> None:
    if not isinstance(value, bool):
        raise _fail(name, f"must be True or False (got {value!r})")


def _check_text(value: object, name: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise _fail(name, "must be a non-empty string")


def _text_tuple(value: object, name: str) -> tuple[str, ...]:
    """Freeze a list of strings; a bare string is refused because it would iterate as letters."""
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise _fail(name, "must be a list of strings (a single string is not a list)")
    if not value:
        raise _fail(name, "must not be empty (use None for the service default)")
    for item in value:
        _check_text(item, f"{name} items")
    return tuple(value)


def _freeze(instance: object, name: str, value: object) -> None:
    """Store a normalised value on a frozen dataclass (only legal inside ``__post_init__``)."""
    object.__setattr__(instance, name, value)


# -- turn detection ---------------------------------------------------------------------


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
        _check_choice(self.model, _EOU_MODELS, f"{prefix}.model")
        _check_choice(self.threshold_level, _EOU_THRESHOLD_LEVELS, f"{prefix}.threshold_level")
        if self.timeout_ms is not None:
            _check_int(self.timeout_ms, *_EOU_TIMEOUT_MS, f"{prefix}.timeout_ms")

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
        _check_choice(self.type, _TURN_DETECTION_TYPES, "turn_detection.type")
        if self.threshold is not None:
            _check_number(self.threshold, 0.0, 1.0, "turn_detection.threshold")
        for name, maximum in _VAD_MS_MAXIMA.items():
            value = getattr(self, name)
            if value is not None:
                _check_int(value, 0, maximum, f"turn_detection.{name}")
        if self.remove_filler_words is not None:
            _check_bool(self.remove_filler_words, "turn_detection.remove_filler_words")
        for name in ("create_response", "interrupt_response", "auto_truncate"):
            _check_bool(getattr(self, name), f"turn_detection.{name}")
        if self.end_of_utterance is not None and not isinstance(
            self.end_of_utterance, EndOfUtterance
        ):
            raise _fail("turn_detection.end_of_utterance", "must be an EndOfUtterance")
        if not self.type.startswith("azure_"):
            for name in (*_AZURE_VAD_ONLY, "languages"):
                if getattr(self, name) is not None:
                    raise _fail(
                        f"turn_detection.{name}",
                        f"is only supported by the azure_semantic_vad* types, not {self.type}",
                    )
        if self.languages is not None:
            if self.type not in _LANGUAGE_VAD_TYPES:
                raise _fail(
                    "turn_detection.languages",
                    f"is not supported by {self.type} (use azure_semantic_vad_multilingual)",
                )
            _freeze(self, "languages", _text_tuple(self.languages, "turn_detection.languages"))
        if self.auto_truncate and not self.interrupt_response:
            raise _fail(
                "turn_detection.auto_truncate",
                "requires turn_detection.interrupt_response=True (truncation happens on barge-in)",
            )

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


def output_format_for_rate(rate: int) -> str:
    """The pcm16 output format whose rate matches a call leg, so no output resampling is
    needed; rates the service cannot produce get the 24 kHz default."""
    return _FORMAT_FOR_RATE.get(rate, "pcm16")


# -- voices -------------------------------------------------------------------------------


def resolve_voice_type(
    voice: object,
    voice_type: str | None = None,
    *,
    endpoint_id: str | None = None,
    model: str | None = None,
) -> str | None:
    """The wire voice ``type`` a voice string stands for (``None`` for SDK voice objects).

    The kind is never guessed from the name's shape (Azure names need not contain a
    dash, and "ava" is both an Azure and a realtime-native name). In order:

    1. an explicit ``voice_type`` wins;
    2. a name from the closed OpenAI set (alloy, ash, …) is an OpenAI voice;
    3. an ``endpoint_id`` makes it a custom voice, a personal-voice ``model`` a personal one;
    4. anything else is an Azure standard voice.

    Realtime-native voices therefore always need ``voice_type="azure-realtime-native"``.
    """
    if isinstance(voice, _SDK_VOICE_CLASSES):
        return None
    if voice_type is not None:
        return voice_type
    if voice in OPENAI_VOICES:
        return "openai"
    if endpoint_id is not None:
        return "azure-custom"
    if model is not None:
        return "azure-personal"
    return "azure-standard"


def _check_prosody_rate(value: object) -> None:
    """SSML rate: a keyword or percentage passes; a bare multiplier must be in [0.5, 1.5]."""
    _check_text(value, "voice_rate")
    try:
        multiplier = float(str(value))
    except ValueError:
        return
    _check_number(multiplier, *_PROSODY_RATE, "voice_rate")


# -- the config -----------------------------------------------------------------------------


_MCP_LABEL = re.compile(r"[a-zA-Z0-9_-]+")


@dataclass(frozen=True)
class McpServer:
    """A remote MCP server the Voice Live service calls itself (server-side tools).

    ``authorization`` and ``headers`` carry credentials: they are sent to the service
    in ``session.update`` and never shown by ``repr`` or logged.
    ``require_approval`` is ``"always"`` (each call waits for the app's approval
    callback), ``"never"``, or ``{"never": [...], "always": [...]}`` per tool name.
    """

    server_label: str
    server_url: str
    _: KW_ONLY
    allowed_tools: Sequence[str] | None = None
    headers: Mapping[str, str] | None = field(default=None, repr=False)
    authorization: str | None = field(default=None, repr=False)
    require_approval: Literal["always", "never"] | Mapping[str, Sequence[str]] = "always"

    def __post_init__(self) -> None:
        if not isinstance(self.server_label, str) or not _MCP_LABEL.fullmatch(self.server_label):
            raise _fail("mcp_servers.server_label", "use letters, digits, '_' or '-'")
        if not isinstance(self.server_url, str) or not re.fullmatch(
            r"https?://\S+", self.server_url
        ):
            raise _fail("mcp_servers.server_url", "must be an http:// or https:// URL")
        if self.allowed_tools is not None:
            _freeze(
                self, "allowed_tools", _text_tuple(self.allowed_tools, "mcp_servers.allowed_tools")
            )
        if self.headers is not None:
            if not isinstance(self.headers, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in self.headers.items()
            ):
                raise _fail("mcp_servers.headers", "must map strings to strings")
            _freeze(self, "headers", MappingProxyType(dict(self.headers)))
        if self.authorization is not None and not isinstance(self.authorization, str):
            raise _fail("mcp_servers.authorization", "must be a string")
        approval = self.require_approval
        if isinstance(approval, str):
            _check_choice(approval, frozenset({"always", "never"}), "mcp_servers.require_approval")
        elif isinstance(approval, Mapping) and set(approval) <= {"always", "never"}:
            _freeze(
                self,
                "require_approval",
                MappingProxyType(
                    {
                        k: _text_tuple(v, f"mcp_servers.require_approval.{k}")
                        for k, v in approval.items()
                    }
                ),
            )
        else:
            raise _fail(
                "mcp_servers.require_approval",
                "must be 'always', 'never' or {'always'|'never': [names]}",
            )

    def to_sdk(self) -> vl.MCPServer:
        approval = self.require_approval
        fields: dict[str, Any] = {
            "type": "mcp",
            "server_label": self.server_label,
            "server_url": self.server_url,
            "require_approval": approval
            if isinstance(approval, str)
            else {k: list(v) for k, v in approval.items()},
        }
        if self.allowed_tools is not None:
            fields["allowed_tools"] = list(self.allowed_tools)
        if self.headers is not None:
            fields["headers"] = dict(self.headers)
        if self.authorization is not None:
            fields["authorization"] = self.authorization
        return vl.MCPServer(fields)


@dataclass(frozen=True, kw_only=True)
class AzureVoiceLiveConfig:
    """Everything about a Voice Live session that is the user's choice.

    Connect-time facts (model, call-leg sample rates, tools, instructions, agent
    mode) are arguments of :func:`build_session` instead, so one config can be
    reused across rooms, telephony legs and reconnects.

    Voices: ``voice`` is a name (see :func:`resolve_voice_type` for how its kind is
    decided) or an SDK voice object passed through untouched. The ``voice_*`` options
    apply to Azure TTS voices only; OpenAI and realtime-native voices take none.

    Defaults follow the best-behaved peers: semantic VAD, deep noise suppression and
    server echo cancellation on (speaker-phone callers otherwise make the model hear
    itself), and user transcription on with a per-model default, because without it
    the conversation history has no user turns.
    """

    voice: str | SdkVoice = DEFAULT_VOICE
    voice_type: VoiceType | None = None
    voice_temperature: float | None = None
    voice_rate: str | None = None
    voice_pitch: str | None = None
    voice_volume: str | None = None
    voice_style: str | None = None
    voice_locale: str | None = None
    voice_prefer_locales: Sequence[str] | None = None
    voice_custom_lexicon_url: str | None = None
    voice_endpoint_id: str | None = None
    voice_model: str | None = None

    modalities: Sequence[str] = ("text", "audio")
    turn_detection: TurnDetection | vl.TurnDetection | None = field(default_factory=TurnDetection)
    noise_reduction: NoiseReduction | None = "azure_deep_noise_suppression"
    echo_cancellation: bool = True

    input_transcription_model: str | None = "auto"
    input_transcription_language: str | None = None
    input_transcription_phrases: Sequence[str] | None = None
    input_transcription_prompt: str | None = None

    word_timestamps: bool = False
    visemes: bool = False

    temperature: float | None = None
    max_response_output_tokens: int | Literal["inf"] | None = None
    tool_choice: ToolChoiceLiteral | str | None = None
    parallel_tool_calls: bool | None = None
    reasoning_effort: ReasoningEffort | None = None

    output_audio_format: OutputAudioFormat | None = None
    mcp_servers: Sequence[McpServer] = ()
    """Server-side MCP tools (see :class:`McpServer`)."""
    tool_timeout: float = 30.0
    """Seconds a function tool may run before the model is told it timed out."""
    interim_response: Any = None
    extra_session: Mapping[str, Any] | None = None
    """Raw ``session`` fields merged over everything else, last. An escape hatch for
    service features newer than this config; values are sent as given and are not
    validated here."""

    def __post_init__(self) -> None:
        self._validate_voice()
        self._validate_modalities()
        self._validate_audio_processing()
        self._validate_transcription()
        self._validate_generation()
        if not all(isinstance(server, McpServer) for server in self.mcp_servers):
            raise _fail("mcp_servers", "must be McpServer(...) entries")
        labels = [server.server_label for server in self.mcp_servers]
        if len(set(labels)) != len(labels):
            raise _fail("mcp_servers", "server labels must be unique")
        _freeze(self, "mcp_servers", tuple(self.mcp_servers))
        if not _is_number(self.tool_timeout) or not 0 < self.tool_timeout <= 3600:
            raise _fail("tool_timeout", "must be between 0 and 3600 seconds")
        if self.interim_response is not None and not isinstance(self.interim_response, Mapping):
            raise _fail("interim_response", "must be an SDK interim-response config or a dict")
        if self.extra_session is not None:
            if not isinstance(self.extra_session, Mapping) or not all(
                isinstance(key, str) for key in self.extra_session
            ):
                raise _fail("extra_session", "must be a mapping with string keys")
            _freeze(self, "extra_session", MappingProxyType(dict(self.extra_session)))

    @property
    def voice_kind(self) -> str | None:
        """The wire voice ``type`` this config produces (``None`` for SDK voice objects)."""
        return resolve_voice_type(
            self.voice,
            self.voice_type,
            endpoint_id=self.voice_endpoint_id,
            model=self.voice_model,
        )

    @property
    def audio_output(self) -> bool:
        """Whether the model speaks; text-only sessions carry no voice."""
        return "audio" in self.modalities

    def _validate_voice(self) -> None:
        if isinstance(self.voice, _SDK_VOICE_CLASSES):
            for name in _VOICE_EXTRA_FIELDS:
                if getattr(self, name) is not None:
                    raise _fail(name, "must be None when voice is an SDK voice object")
            return
        if not isinstance(self.voice, str):
            raise _fail("voice", "must be a voice name or an SDK voice object")
        _check_text(self.voice, "voice")
        if self.voice_type is not None:
            _check_choice(self.voice_type, _VOICE_TYPES, "voice_type")
        kind = self.voice_kind
        named = _NAMED_VOICE_SETS.get(kind or "")
        if named is not None:
            if self.voice not in named:
                names = ", ".join(sorted(named))
                raise _fail("voice", f"{self.voice!r} is not a {kind} voice ({names})")
            for name in _SDK_VOICE_FIELDS:
                if getattr(self, name) is not None:
                    raise _fail(name, f"is only supported by Azure voices, not {kind} voices")
            return
        for name, owner in _VOICE_KIND_FIELDS.items():
            value = getattr(self, name)
            if (value is not None) != (kind == owner):
                problem = "is required" if value is None else "is only supported"
                raise _fail(name, f"{problem} for {owner} voices (voice kind is {kind})")
            if value is not None:
                _check_text(value, name)
        if self.voice_temperature is not None:
            _check_number(self.voice_temperature, 0.0, 1.0, "voice_temperature")
        if self.voice_rate is not None:
            _check_prosody_rate(self.voice_rate)
        for name in (
            "voice_pitch",
            "voice_volume",
            "voice_style",
            "voice_locale",
            "voice_custom_lexicon_url",
        ):
            value = getattr(self, name)
            if value is not None:
                _check_text(value, name)
        if self.voice_prefer_locales is not None:
            _freeze(
                self,
                "voice_prefer_locales",
                _text_tuple(self.voice_prefer_locales, "voice_prefer_locales"),
            )

    def _validate_modalities(self) -> None:
        """The service always produces text and refuses audio-only output."""
        modalities = self.modalities
        if isinstance(modalities, str) or not isinstance(modalities, Sequence):
            raise _fail("modalities", "must be a list such as ['text', 'audio'] or ['text']")
        values = tuple(modalities)
        if len(set(values)) != len(values) or set(values) not in ({"text"}, {"text", "audio"}):
            raise _fail("modalities", f"must be ['text', 'audio'] or ['text'] (got {list(values)})")
        _freeze(self, "modalities", values)
        if not self.audio_output:
            for name in ("word_timestamps", "visemes"):
                if getattr(self, name):
                    raise _fail(name, "needs audio output (add 'audio' to modalities)")

    def _validate_audio_processing(self) -> None:
        detection = self.turn_detection
        if detection is not None and not isinstance(detection, TurnDetection | vl.TurnDetection):
            raise _fail("turn_detection", "must be a TurnDetection, an SDK TurnDetection or None")
        if self.noise_reduction is not None:
            _check_choice(self.noise_reduction, _NOISE_REDUCTIONS, "noise_reduction")
        for name in ("echo_cancellation", "word_timestamps", "visemes"):
            _check_bool(getattr(self, name), name)
        if self.output_audio_format is not None:
            _check_choice(self.output_audio_format, frozenset(OUTPUT_RATES), "output_audio_format")

    def _validate_transcription(self) -> None:
        model = self.input_transcription_model
        if model is None:
            for name in (
                "input_transcription_language",
                "input_transcription_phrases",
                "input_transcription_prompt",
            ):
                if getattr(self, name) is not None:
                    raise _fail(
                        name, "needs input transcription (input_transcription_model is None)"
                    )
            return
        _check_choice(model, TRANSCRIPTION_MODELS | {"auto"}, "input_transcription_model")
        if self.input_transcription_language is not None:
            _check_text(self.input_transcription_language, "input_transcription_language")
        if self.input_transcription_prompt is not None and not isinstance(
            self.input_transcription_prompt, str
        ):
            raise _fail("input_transcription_prompt", "must be a string")
        if self.input_transcription_phrases is not None:
            _freeze(
                self,
                "input_transcription_phrases",
                _text_tuple(self.input_transcription_phrases, "input_transcription_phrases"),
            )

    def _validate_generation(self) -> None:
        if self.temperature is not None:
            _check_number(self.temperature, 0.0, 2.0, "temperature")
        tokens = self.max_response_output_tokens
        if (
            tokens is not None
            and tokens != "inf"
            and not (_is_int(tokens) and 1 <= tokens <= _MAX_OUTPUT_TOKENS)
        ):
            raise _fail(
                "max_response_output_tokens",
                f"must be an integer between 1 and {_MAX_OUTPUT_TOKENS} or 'inf' (got {tokens!r})",
            )
        choice = self.tool_choice
        if choice is not None and (
            not isinstance(choice, str)
            or (choice not in _TOOL_CHOICE_LITERALS and not _FUNCTION_NAME.fullmatch(choice))
        ):
            raise _fail(
                "tool_choice",
                "must be 'auto', 'none', 'required' or a function name "
                f"(1-64 letters, digits, '_' or '-'; got {choice!r})",
            )
        if self.parallel_tool_calls is not None:
            _check_bool(self.parallel_tool_calls, "parallel_tool_calls")
        if self.reasoning_effort is not None:
            _check_choice(self.reasoning_effort, _REASONING_EFFORTS, "reasoning_effort")


# -- session building -----------------------------------------------------------------------


def resolve_transcription_model(config: AzureVoiceLiveConfig, model: str | None) -> str | None:
    """The input transcription model to request, or ``None`` for no user transcripts.

    ``"auto"`` picks what the service accepts for the model family: ``whisper-1`` for
    GPT realtime models, ``azure-speech`` for everything else (cascaded models and
    agents whose model is not known here); a mismatch is rejected by the service with
    ``invalid_input_audio_transcription_model``.
    """
    chosen = config.input_transcription_model
    if chosen != "auto":
        return chosen
    return "whisper-1" if is_gpt_realtime_model(model) else "azure-speech"


def _sdk_voice(config: AzureVoiceLiveConfig) -> SdkVoice:
    """The typed voice object; validation already limited the options to the voice's kind."""
    voice = config.voice
    if isinstance(voice, _SDK_VOICE_CLASSES):
        return voice
    options: dict[str, Any] = {}
    for name, sdk_name in _SDK_VOICE_FIELDS.items():
        value = getattr(config, name)
        if value is not None:
            options[sdk_name] = list(value) if isinstance(value, tuple) else value
    return _SDK_VOICE[str(config.voice_kind)](name=voice, **options)


def _sdk_turn_detection(config: AzureVoiceLiveConfig) -> vl.TurnDetection | None:
    detection = config.turn_detection
    return detection.to_sdk() if isinstance(detection, TurnDetection) else detection


def _sdk_transcription(
    config: AzureVoiceLiveConfig, model: str | None
) -> vl.AudioInputTranscriptionOptions | None:
    chosen = resolve_transcription_model(config, model)
    if chosen is None:
        return None
    options = vl.AudioInputTranscriptionOptions(
        model=chosen,
        language=config.input_transcription_language,
        phrase_list=(
            list(config.input_transcription_phrases)
            if config.input_transcription_phrases is not None
            else None
        ),
    )
    if config.input_transcription_prompt is not None:
        # Documented by the service but not declared by SDK 1.3.1; item assignment is the
        # only way an undeclared key reaches the wire.
        options["prompt"] = config.input_transcription_prompt
    return options


def _function_names(tools: Sequence[Any]) -> set[Any]:
    """Names of the function tools; SDK tool models are mappings too."""
    return {
        tool.get("name")
        for tool in tools
        if isinstance(tool, Mapping) and tool.get("type") == "function"
    }


def _sdk_tool_choice(choice: str | None, tools: Sequence[Any]) -> Any:
    """A literal choice is sent as is; any other string forces that function, which must be
    among the tools or the service rejects the whole update."""
    if choice is None or choice in _TOOL_CHOICE_LITERALS:
        return choice
    if choice not in _function_names(tools):
        raise _fail("tool_choice", f"names function {choice!r}, which is not among the tools")
    return vl.ToolChoiceFunctionSelection(name=choice)


def build_session(
    config: AzureVoiceLiveConfig,
    *,
    model: str | None,
    instructions: str | None,
    tools: Sequence[Any] = (),
    input_rate: int,
    output_format: str | None = None,
    agent_mode: bool = False,
) -> vl.RequestSession:
    """The ``session`` of a ``session.update`` for ``config`` on one connection.

    ``model`` is the connection's model (``None`` in agent mode) and picks the
    transcription default and the valid temperature range. ``input_rate`` is the
    call leg's pcm16 rate, declared instead of resampled. The output format is the
    config's, else ``output_format`` (the one matching the playback leg, see
    :func:`output_format_for_rate`), else 24 kHz ``pcm16``. Instructions are left out
    in agent mode because the agent owns its prompt and the service rejects them.

    The session is built from one mapping of wire names so that ``None`` values stay
    explicit ``null``s (turning features off) and ``extra_session`` can override or
    add any key; send it as is (``conn.session.update(session=...)``): ``dict(session)``
    would lose the nulls.
    """
    if not _is_int(input_rate) or input_rate not in INPUT_RATES:
        raise _fail("input_rate", f"must be one of 8000, 16000, 24000 (got {input_rate!r})")
    if output_format is not None:
        _check_choice(output_format, frozenset(OUTPUT_RATES), "output_format")
    if config.temperature is not None:
        low, high = temperature_range(model)
        if not low <= config.temperature <= high:
            raise _fail(
                "temperature",
                f"must be between {low:g} and {high:g} for model {model!r} "
                f"(got {config.temperature!r})",
            )

    session: dict[str, Any] = {"modalities": list(config.modalities)}
    if config.audio_output:
        session["voice"] = _sdk_voice(config)
    if instructions is not None and not agent_mode:
        session["instructions"] = instructions
    session |= {
        "input_audio_format": "pcm16",
        "input_audio_sampling_rate": input_rate,
        "output_audio_format": config.output_audio_format or output_format or "pcm16",
        "turn_detection": _sdk_turn_detection(config),
        "input_audio_noise_reduction": (
            vl.AudioNoiseReduction(type=config.noise_reduction)
            if config.noise_reduction is not None
            else None
        ),
        "input_audio_echo_cancellation": (
            vl.AudioEchoCancellation() if config.echo_cancellation else None
        ),
        "input_audio_transcription": _sdk_transcription(config, model),
    }
    if config.word_timestamps:
        session["output_audio_timestamp_types"] = ["word"]
    if config.visemes:
        session["animation"] = vl.Animation(outputs=["viseme_id"])
    tools = [*tools, *(server.to_sdk() for server in config.mcp_servers)]
    if tools:
        session["tools"] = tools
    optional = {
        "tool_choice": _sdk_tool_choice(config.tool_choice, tools),
        "parallel_tool_calls": config.parallel_tool_calls,
        "temperature": config.temperature,
        "max_response_output_tokens": config.max_response_output_tokens,
        "reasoning_effort": config.reasoning_effort,
        "interim_response": config.interim_response,
    }
    session |= {key: value for key, value in optional.items() if value is not None}
    if config.extra_session:
        session |= config.extra_session
    return vl.RequestSession(session)


def build_tools_update(config: AzureVoiceLiveConfig, tools: Sequence[Any]) -> vl.RequestSession:
    """The ``session.update`` that swaps the tool list mid-call (``agent.update_tools``)."""
    all_tools = [*tools, *(server.to_sdk() for server in config.mcp_servers)]
    session: dict[str, Any] = {"tools": all_tools}
    choice = _sdk_tool_choice(config.tool_choice, all_tools)
    if choice is not None:
        session["tool_choice"] = choice
    return vl.RequestSession(session)
