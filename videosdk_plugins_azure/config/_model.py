"""``AzureVoiceLiveConfig``: everything about a Voice Live session that is the user's choice."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import InitVar, dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from azure.ai.voicelive import models as vl

from ..protocol.audio import OUTPUT_AUDIO_FORMATS, OutputAudioFormat
from ..protocol.checks import is_int, is_number
from ..protocol.models import TEMPERATURE_RANGE, TRANSCRIPTION_MODELS
from ..protocol.session import (
    FUNCTION_NAME,
    MAX_OUTPUT_TOKENS,
    NOISE_REDUCTIONS,
    REASONING_EFFORTS,
    TOOL_CHOICE_LITERALS,
    NoiseReduction,
    ReasoningEffort,
    ToolChoiceLiteral,
)
from ..protocol.voices import DEFAULT_VOICE, VoiceType
from ._avatar import Avatar, check_avatar
from ._checks import CHECKS, fail, freeze, plain_string, text_tuple
from ._mcp import McpServer
from ._turns import TurnDetection
from ._vendor import apply_vendor_fields
from ._voice import SdkVoice, check_voice, resolve_voice_type

__all__ = ["AzureVoiceLiveConfig"]

_FUNCTION_NAME = re.compile(FUNCTION_NAME.regex)
_TOOL_CHOICE_NAMES = ", ".join(repr(name) for name in sorted(TOOL_CHOICE_LITERALS))
_TEMPERATURE = CHECKS.number(*TEMPERATURE_RANGE)
_TRANSCRIPTION_OPTIONS = (
    "input_transcription_language",
    "input_transcription_phrases",
    "input_transcription_prompt",
)


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

    The vendor plugin's spellings (``turn_detection_threshold``,
    ``turn_detection_prefix_padding_ms``, ``turn_detection_silence_duration_ms``,
    ``max_completion_tokens``, ``input_audio_format``) are accepted as init-only
    arguments with a ``DeprecationWarning`` each, so its scripts run unchanged; they
    keep its meaning but not its defaults (see :mod:`._vendor`). Its ``Modality`` and
    audio-format enums are accepted where strings are and stored as plain strings.
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
    avatar: Avatar | vl.AvatarConfig | None = None
    """The avatar the service renders; the plugin publishes it as the agent's video track."""

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

    # videosdk-plugins-azure 1.0.30 spellings: init-only (never stored), mapped by _vendor
    turn_detection_threshold: InitVar[float | None] = None
    turn_detection_prefix_padding_ms: InitVar[int | None] = None
    turn_detection_silence_duration_ms: InitVar[int | None] = None
    max_completion_tokens: InitVar[int | None] = None
    input_audio_format: InitVar[str | None] = None

    def __post_init__(
        self,
        turn_detection_threshold: float | None,
        turn_detection_prefix_padding_ms: int | None,
        turn_detection_silence_duration_ms: int | None,
        max_completion_tokens: int | None,
        input_audio_format: str | None,
    ) -> None:
        apply_vendor_fields(
            self,
            {
                "turn_detection_threshold": turn_detection_threshold,
                "turn_detection_prefix_padding_ms": turn_detection_prefix_padding_ms,
                "turn_detection_silence_duration_ms": turn_detection_silence_duration_ms,
                "max_completion_tokens": max_completion_tokens,
                "input_audio_format": input_audio_format,
            },
        )
        check_voice(self)
        self._validate_modalities()
        self._validate_audio_processing()
        self._validate_transcription()
        self._validate_generation()
        self._validate_tools()
        if self.interim_response is not None and not isinstance(self.interim_response, Mapping):
            raise fail("interim_response", "must be an SDK interim-response config or a dict")
        if self.extra_session is not None:
            if not isinstance(self.extra_session, Mapping) or not all(
                isinstance(key, str) for key in self.extra_session
            ):
                raise fail("extra_session", "must be a mapping with string keys")
            freeze(self, "extra_session", MappingProxyType(dict(self.extra_session)))

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

    def _validate_modalities(self) -> None:
        """The service always produces text and refuses audio-only output."""
        modalities = self.modalities
        if isinstance(modalities, str) or not isinstance(modalities, Sequence):
            raise fail("modalities", "must be a list such as ['text', 'audio'] or ['text']")
        values = tuple(plain_string(modality) for modality in modalities)
        if len(set(values)) != len(values) or set(values) not in ({"text"}, {"text", "audio"}):
            raise fail("modalities", f"must be ['text', 'audio'] or ['text'] (got {list(values)})")
        freeze(self, "modalities", values)
        if not self.audio_output:
            for name in ("word_timestamps", "visemes", "avatar"):
                if getattr(self, name):
                    raise fail(name, "needs audio output (add 'audio' to modalities)")
        check_avatar(self.avatar)

    def _validate_audio_processing(self) -> None:
        detection = self.turn_detection
        if detection is not None and not isinstance(detection, TurnDetection | vl.TurnDetection):
            raise fail("turn_detection", "must be a TurnDetection, an SDK TurnDetection or None")
        if self.noise_reduction is not None:
            CHECKS.one_of(NOISE_REDUCTIONS)(self.noise_reduction, "noise_reduction")
        for name in ("echo_cancellation", "word_timestamps", "visemes"):
            CHECKS.boolean(getattr(self, name), name)
        if self.output_audio_format is not None:
            fmt = plain_string(self.output_audio_format)
            CHECKS.one_of(OUTPUT_AUDIO_FORMATS)(fmt, "output_audio_format")
            freeze(self, "output_audio_format", fmt)

    def _validate_transcription(self) -> None:
        model = self.input_transcription_model
        if model is None:
            for name in _TRANSCRIPTION_OPTIONS:
                if getattr(self, name) is not None:
                    raise fail(
                        name, "needs input transcription (input_transcription_model is None)"
                    )
            return
        CHECKS.one_of(TRANSCRIPTION_MODELS | {"auto"})(model, "input_transcription_model")
        if self.input_transcription_language is not None:
            CHECKS.non_empty_string(
                self.input_transcription_language, "input_transcription_language"
            )
        if self.input_transcription_prompt is not None:
            CHECKS.string(self.input_transcription_prompt, "input_transcription_prompt")
        if self.input_transcription_phrases is not None:
            freeze(
                self,
                "input_transcription_phrases",
                text_tuple(self.input_transcription_phrases, "input_transcription_phrases"),
            )

    def _validate_generation(self) -> None:
        if self.temperature is not None:
            _TEMPERATURE(self.temperature, "temperature")
        tokens = self.max_response_output_tokens
        if (
            tokens is not None
            and tokens != "inf"
            and not (is_int(tokens) and 1 <= tokens <= MAX_OUTPUT_TOKENS)
        ):
            raise fail(
                "max_response_output_tokens",
                f"must be an integer between 1 and {MAX_OUTPUT_TOKENS} or 'inf' (got {tokens!r})",
            )
        choice = self.tool_choice
        if choice is not None and (
            not isinstance(choice, str)
            or (choice not in TOOL_CHOICE_LITERALS and not _FUNCTION_NAME.fullmatch(choice))
        ):
            raise fail(
                "tool_choice",
                f"must be {_TOOL_CHOICE_NAMES} or a function name "
                f"({FUNCTION_NAME.rule}; got {choice!r})",
            )
        if self.parallel_tool_calls is not None:
            CHECKS.boolean(self.parallel_tool_calls, "parallel_tool_calls")
        if self.reasoning_effort is not None:
            CHECKS.one_of(REASONING_EFFORTS)(self.reasoning_effort, "reasoning_effort")

    def _validate_tools(self) -> None:
        if not all(isinstance(server, McpServer) for server in self.mcp_servers):
            raise fail("mcp_servers", "must be McpServer(...) entries")
        labels = [server.server_label for server in self.mcp_servers]
        if len(set(labels)) != len(labels):
            raise fail("mcp_servers", "server labels must be unique")
        freeze(self, "mcp_servers", tuple(self.mcp_servers))
        timeout = self.tool_timeout
        if not is_number(timeout) or not 0 < timeout <= 3600:
            raise fail("tool_timeout", "must be between 0 and 3600 seconds")
