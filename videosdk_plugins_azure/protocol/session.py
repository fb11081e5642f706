"""Closed sets and limits of ``session.update`` and ``response.create`` fields.

Each value is written here once; the plugin's ``Literal`` types are the source of
the sets it validates against, and where the service accepts more than the plugin
sends, the service's set is built on top of the plugin's.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final, Literal, NamedTuple, TypeAlias, get_args

from azure.ai.voicelive.models import RequestSession

__all__ = [
    "ANIMATION_OUTPUTS",
    "DEFAULT_SESSION_SEMANTICS",
    "ECHO_CANCELLATION_TYPE",
    "ECHO_CHANNELS",
    "ECHO_REFERENCE_SOURCES",
    "EC_NOT_SUPPORTED",
    "FUNCTION_NAME",
    "INCLUDE_OPTIONS",
    "INTERIM_RESPONSE_ALIASES",
    "INTERIM_TRIGGERS",
    "MAX_OUTPUT_TOKENS",
    "MCP_APPROVAL_MODES",
    "MCP_LABEL",
    "MCP_URL",
    "METADATA_LIMITS",
    "MODALITIES",
    "NOISE_REDUCTIONS",
    "NULLABLE_SESSION_KEYS",
    "READ_ONLY_SESSION_KEYS",
    "REASONING_EFFORTS",
    "RESPONSE_CONVERSATIONS",
    "SESSION_FIELDS",
    "SESSION_NOT_CONFIGURED",
    "SESSION_SEMANTICS",
    "TIMESTAMP_TYPES",
    "TOOL_CHOICE_LITERALS",
    "TURN_DETECTION_TYPE_FIXED",
    "McpApprovalMode",
    "MetadataLimits",
    "NoiseReduction",
    "Pattern",
    "ReasoningEffort",
    "SessionSemantics",
    "ToolChoiceLiteral",
]

MODALITIES: Final = frozenset({"text", "audio", "animation", "avatar"})
"""Output modalities; every session must include ``text`` (audio-only is refused)."""

NoiseReduction: TypeAlias = Literal["azure_deep_noise_suppression", "near_field", "far_field"]
NOISE_REDUCTIONS: Final = frozenset(get_args(NoiseReduction))

ECHO_CANCELLATION_TYPE: Final = "server_echo_cancellation"
ECHO_REFERENCE_SOURCES: Final = frozenset({"server", "client"})
ECHO_CHANNELS: Final = frozenset({1, 2})
"""Two channels carry the client's playback reference next to the microphone."""

TIMESTAMP_TYPES: Final = frozenset({"word"})
ANIMATION_OUTPUTS: Final = frozenset({"blendshapes", "viseme_id"})
INCLUDE_OPTIONS: Final = frozenset(
    {
        "item.input_audio_transcription.logprobs",
        "item.input_audio_transcription.phrases",
        "file_search_call.results",
    }
)

ReasoningEffort: TypeAlias = Literal["none", "minimal", "low", "medium", "high", "xhigh"]
REASONING_EFFORTS: Final = frozenset(get_args(ReasoningEffort))

ToolChoiceLiteral: TypeAlias = Literal["auto", "none", "required"]
TOOL_CHOICE_LITERALS: Final = frozenset(get_args(ToolChoiceLiteral))

McpApprovalMode: TypeAlias = Literal["always", "never"]
MCP_APPROVAL_MODES: Final = frozenset(get_args(McpApprovalMode))


class Pattern(NamedTuple):
    """A full-match rule for a name on the wire, and how to explain it to whoever broke it."""

    regex: str
    rule: str


FUNCTION_NAME: Final = Pattern(r"[a-zA-Z0-9_-]{1,64}", "use 1-64 letters, digits, '_' or '-'")
MCP_LABEL: Final = Pattern(r"[a-zA-Z0-9_-]+", "use letters, digits, '_' or '-'")
MCP_URL: Final = Pattern(r"https?://\S+", "must be an http:// or https:// URL")

MAX_OUTPUT_TOKENS: Final = 4096
"""Largest ``max_response_output_tokens``; ``"inf"`` lifts the cap."""

INTERIM_TRIGGERS: Final = frozenset({"latency", "tool"})
INTERIM_RESPONSE_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "static-interim-response": "static_interim_response",
        "llm-interim-response": "llm_interim_response",
    }
)
"""The docs' dash spellings of the interim-response types -> the SDK's."""

RESPONSE_CONVERSATIONS: Final = frozenset({"auto", "none"})
"""``response.create`` ``conversation``: write the answer to the conversation or not."""


class MetadataLimits(NamedTuple):
    """Size caps of ``metadata``, a free-form string map the service stores with a session."""

    keys: int
    key_length: int
    value_length: int


METADATA_LIMITS: Final = MetadataLimits(keys=16, key_length=64, value_length=512)

READ_ONLY_SESSION_KEYS: Final = frozenset({"id", "object", "expires_at", "agent"})
NULLABLE_SESSION_KEYS: Final = frozenset(
    {
        "turn_detection",
        "input_audio_noise_reduction",
        "input_audio_echo_cancellation",
        "input_audio_transcription",
        "animation",
        "avatar",
        "interim_response",
        "reasoning_effort",
        "metadata",
        "include",
        "output_audio_timestamp_types",
    }
)
"""Keys a ``null`` in ``session.update`` switches off; ``null`` anywhere else is an error."""


def _declared_fields(model: type) -> frozenset[str]:
    names: set[str] = set()
    for cls in model.__mro__:
        names.update(getattr(cls, "__annotations__", {}))
    return frozenset(name for name in names if not name.startswith("_"))


SESSION_FIELDS: Final = _declared_fields(RequestSession)
"""The keys a ``session.update`` may carry: the SDK's ``RequestSession`` fields.

The service rejects any other key (``voicelive-protocol.md`` §9, "strict object"),
so this set, taken from the SDK rather than retyped, is what both the plugin's
``extra_session`` check and the emulator's ``session.update`` hold sessions to.
"""


SessionSemantics: TypeAlias = Literal["replace", "merge"]
"""How a ``session.update`` combines with the session it updates.

``"replace"`` is Voice Live's (``voicelive-protocol.md`` §9): the ``session`` object
*is* the new session and every field it leaves out falls back to its default.
``"merge"`` is the OpenAI Realtime reading: only the fields present change. The
emulator serves Voice Live's by default and keeps the other for OpenAI-style
clients that send partial updates.
"""
SESSION_SEMANTICS: Final = frozenset(get_args(SessionSemantics))
DEFAULT_SESSION_SEMANTICS: Final[SessionSemantics] = "replace"

EC_NOT_SUPPORTED: Final = "ec_not_supported"
"""Error code the service gives echo cancellation in a session that produces no audio (§9)."""
TURN_DETECTION_TYPE_FIXED: Final = "turn_detection_type_change_not_supported"
"""Error code for a ``turn_detection.type`` change mid-session (§9). The service's own
code was not recorded by the probes, so this one is the emulator's: it names the rule."""
SESSION_NOT_CONFIGURED: Final = "session_not_configured"
"""Error code for a client event sent before the session's first valid ``session.update``
(§9 "configure first"). The probes recorded the rule, not the code: this one is the
emulator's, and ``param`` is ``"type"`` (the event's type is what was out of order)."""
