"""Voice Live session state: the defaults the service reports and the rules of ``session.update``.

The emulator's value is catching plugin bugs before they hit the real service, so
``session.update`` and ``response.create`` are checked as strictly as the service
documents (protocol notes §4): closed enums, ranges, required keys, unknown keys.
Each rule is an entry in a field table (see :mod:`._validate`); rules spanning
several fields (sampling rate vs. format, temperature vs. model, ``tool_choice``
vs. ``tools``) run on the merged result.

An update is all-or-nothing: :func:`apply_session_update` builds and returns a new
session dict and never touches ``current``, so a rejected update leaves the
connection's state exactly as it was.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Collection, Mapping
from typing import Any

from .._protocol import (
    OPENAI_VOICES,
    PERSONAL_VOICE_MODELS,
    REALTIME_NATIVE_VOICES,
    TRANSCRIPTION_MODELS,
    temperature_range,
)
from ._conversation import validate_item
from ._validate import (
    Check,
    Shape,
    any_object,
    boolean,
    fail,
    in_range,
    integer,
    is_int,
    list_of,
    matches,
    non_empty_string,
    number,
    one_of,
    one_of_ints,
    string,
    string_list,
    string_map,
    subset_of,
    tagged,
)

SESSION_LIFETIME_S = 1800
"""``expires_at`` offset: GPT-realtime sessions end after 30 minutes (unverified for Voice Live)."""

PREFIX_PADDING_CHANGE_API_VERSION = "2026-04-10"
"""API versions before this one report ``prefix_padding_ms`` 300; later ones 400/420."""

DEFAULT_VOICE: dict[str, str] = {"type": "azure-standard", "name": "en-US-Ava:DragonHDLatestNeural"}

MODALITIES = frozenset({"text", "audio", "animation", "avatar"})
INPUT_AUDIO_FORMATS = frozenset({"pcm16", "g711_ulaw", "g711_alaw"})
OUTPUT_AUDIO_FORMATS = frozenset(
    {
        "pcm16",
        "pcm16_8000hz",
        "pcm16_16000hz",
        "pcm16-8000hz",
        "pcm16-16000hz",
        "g711_ulaw",
        "g711_alaw",
    }
)
INPUT_SAMPLING_RATES: Mapping[str, frozenset[int]] = {
    "pcm16": frozenset({8000, 16000, 24000}),
    "g711_ulaw": frozenset({8000}),
    "g711_alaw": frozenset({8000}),
}
DEFAULT_INPUT_SAMPLING_RATE: Mapping[str, int] = {
    "pcm16": 24000,
    "g711_ulaw": 8000,
    "g711_alaw": 8000,
}
EOU_MODELS = frozenset(
    {"semantic_detection_v1", "semantic_detection_v1_en", "semantic_detection_v1_multilingual"}
)
EOU_THRESHOLD_LEVELS = frozenset({"low", "medium", "high", "default"})
EAGERNESS_LEVELS = frozenset({"low", "medium", "high", "auto"})
NOISE_REDUCTION_TYPES = frozenset({"azure_deep_noise_suppression", "near_field", "far_field"})
ECHO_REFERENCE_SOURCES = frozenset({"server", "client"})
TIMESTAMP_TYPES = frozenset({"word"})
ANIMATION_OUTPUTS = frozenset({"blendshapes", "viseme_id"})
INCLUDE_OPTIONS = frozenset(
    {
        "item.input_audio_transcription.logprobs",
        "item.input_audio_transcription.phrases",
        "file_search_call.results",
    }
)
REASONING_EFFORTS = frozenset({"none", "minimal", "low", "medium", "high", "xhigh"})
TOOL_CHOICE_LITERALS = frozenset({"auto", "none", "required"})
MCP_APPROVAL_MODES = frozenset({"never", "always"})
INTERIM_TRIGGERS = frozenset({"latency", "tool"})
MAX_OUTPUT_TOKENS = 4096

READ_ONLY_SESSION_KEYS = frozenset({"id", "object", "expires_at", "agent"})
NULLABLE_SESSION_KEYS = frozenset(
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


# -- voice ---------------------------------------------------------------------------


def _prosody_rate(value: Any, param: str) -> str | float | int:
    """SSML ``rate``: a keyword/percentage string, or a multiplier in [0.5, 1.5]."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        fail(param, f"Invalid type for '{param}': expected a string or a number.")
    try:
        multiplier = float(value)
    except ValueError:
        return value
    if not math.isfinite(multiplier):
        fail(param, f"Invalid value {value!r} for '{param}'.")
    in_range(multiplier, param, 0.5, 1.5)
    return value


_AZURE_VOICE_OPTIONS: dict[str, Check] = {
    "temperature": number(0.0, 1.0),
    "custom_lexicon_url": string,
    "custom_text_normalization_url": string,
    "prefer_locales": string_list,
    "locale": string,
    "style": string,
    "pitch": string,
    "rate": _prosody_rate,
    "volume": string,
}
_VOICE_SHAPES: dict[str, Check] = {
    "openai": Shape({"name": one_of(OPENAI_VOICES)}, frozenset({"name"})),
    "azure-standard": Shape(
        {"name": non_empty_string, **_AZURE_VOICE_OPTIONS}, frozenset({"name"})
    ),
    "azure-custom": Shape(
        {"name": non_empty_string, "endpoint_id": non_empty_string, **_AZURE_VOICE_OPTIONS},
        frozenset({"name", "endpoint_id"}),
    ),
    "azure-personal": Shape(
        {
            "name": non_empty_string,
            "model": one_of(PERSONAL_VOICE_MODELS),
            **_AZURE_VOICE_OPTIONS,
        },
        frozenset({"name", "model"}),
    ),
    "avatar-voice-sync": Shape(
        {"model": one_of(PERSONAL_VOICE_MODELS), **_AZURE_VOICE_OPTIONS}, frozenset({"model"})
    ),
    "azure-realtime-native": Shape({"name": one_of(REALTIME_NATIVE_VOICES)}, frozenset({"name"})),
}
VOICE_TYPES = frozenset(_VOICE_SHAPES)
_VOICE_OBJECT = tagged(_VOICE_SHAPES)
_OPENAI_VOICE_NAME = one_of(OPENAI_VOICES)


def _voice(value: Any, param: str) -> Any:
    """A bare string is shorthand for an OpenAI voice; objects pick their kind by ``type``."""
    return (
        _OPENAI_VOICE_NAME(value, param) if isinstance(value, str) else _VOICE_OBJECT(value, param)
    )


# -- modalities ----------------------------------------------------------------------

_MODALITY_LIST = subset_of(MODALITIES, non_empty=True)


def _modalities(value: Any, param: str) -> list[str]:
    """The service always produces text; audio-only output is rejected."""
    modalities: list[str] = _MODALITY_LIST(value, param)
    if "text" not in modalities:
        fail(param, f"'{param}' must include 'text'; audio-only output is not supported.")
    return modalities


# -- turn detection ------------------------------------------------------------------


def _auto_truncate_needs_interrupt(config: dict[str, Any], param: str) -> None:
    """Auto-truncation happens on barge-in, which only exists when responses are interrupted."""
    if config.get("auto_truncate") is True and config.get("interrupt_response") is False:
        fail(
            f"{param}.auto_truncate",
            f"'{param}.auto_truncate' requires '{param}.interrupt_response' to be true.",
        )


_EOU_SHAPE = Shape(
    {"threshold_level": one_of(EOU_THRESHOLD_LEVELS), "timeout_ms": integer(1, 60000)}
)
_VAD_COMMON: dict[str, Check] = {
    "threshold": number(0.0, 1.0),
    "prefix_padding_ms": integer(0, 5000),
    "silence_duration_ms": integer(0, 10000),
    "create_response": boolean,
    "interrupt_response": boolean,
    "auto_truncate": boolean,
    "end_of_utterance_detection": tagged(dict.fromkeys(EOU_MODELS, _EOU_SHAPE), tag="model"),
}
_SPEECH_DURATION = integer(0, 10000)
_AZURE_VAD: dict[str, Check] = {
    **_VAD_COMMON,
    "speech_duration_ms": _SPEECH_DURATION,
    "remove_filler_words": boolean,
}
_TURN_DETECTION_SHAPES: dict[str, Check] = {
    "server_vad": Shape(
        {**_VAD_COMMON, "speech_duration_ms": _SPEECH_DURATION},
        post=_auto_truncate_needs_interrupt,
    ),
    "azure_semantic_vad": Shape(
        {**_AZURE_VAD, "languages": string_list}, post=_auto_truncate_needs_interrupt
    ),
    "azure_semantic_vad_en": Shape(_AZURE_VAD, post=_auto_truncate_needs_interrupt),
    "azure_semantic_vad_multilingual": Shape(
        {**_AZURE_VAD, "languages": string_list}, post=_auto_truncate_needs_interrupt
    ),
    "semantic_vad": Shape(
        {**_VAD_COMMON, "eagerness": one_of(EAGERNESS_LEVELS)},
        post=_auto_truncate_needs_interrupt,
    ),
}
TURN_DETECTION_TYPES = frozenset(_TURN_DETECTION_SHAPES)
_TURN_DETECTION = tagged(_TURN_DETECTION_SHAPES)


def _turn_detection_defaults(kind: str, api_version: str | None) -> dict[str, Any]:
    """Effective values the service reports for fields a client left out."""
    azure = kind.startswith("azure_")
    defaults: dict[str, Any] = {}
    if kind != "semantic_vad":
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


# -- audio processing ----------------------------------------------------------------


def _stereo_needs_client_reference(config: dict[str, Any], param: str) -> None:
    """Two channels carry the client's playback reference; server-side reference has none."""
    if config.get("channels") == 2 and config.get("reference_source") != "client":
        fail(
            f"{param}.channels",
            f"'{param}.channels' = 2 requires '{param}.reference_source' = 'client'.",
        )


_NOISE_REDUCTION = Shape({"type": one_of(NOISE_REDUCTION_TYPES)}, frozenset({"type"}))
_ECHO_CANCELLATION = Shape(
    {
        "type": one_of({"server_echo_cancellation"}),
        "reference_source": one_of(ECHO_REFERENCE_SOURCES),
        "channels": one_of_ints({1, 2}),
    },
    frozenset({"type"}),
    post=_stereo_needs_client_reference,
)
_TRANSCRIPTION = Shape(
    {
        "model": one_of(TRANSCRIPTION_MODELS),
        "language": string,
        "phrase_list": string_list,
        "custom_speech": any_object,
        "prompt": string,
    },
    frozenset({"model"}),
)
_ANIMATION = Shape({"model_name": string, "outputs": subset_of(ANIMATION_OUTPUTS)})


# -- tools ---------------------------------------------------------------------------


def _json_schema_object(value: Any, param: str) -> dict[str, Any]:
    """Function parameters are a JSON schema; the model only accepts object schemas."""
    schema = any_object(value, param)
    if "type" in schema and schema["type"] != "object":
        fail(f"{param}.type", f"'{param}.type' must be 'object'.")
    return schema


_MCP_APPROVAL_FILTER = Shape(dict.fromkeys(MCP_APPROVAL_MODES, string_list))
_MCP_APPROVAL_MODE = one_of(MCP_APPROVAL_MODES)


def _require_approval(value: Any, param: str) -> Any:
    return (
        _MCP_APPROVAL_MODE(value, param)
        if isinstance(value, str)
        else _MCP_APPROVAL_FILTER(value, param)
    )


_TOOL = tagged(
    {
        "function": Shape(
            {
                "name": matches(r"[a-zA-Z0-9_-]{1,64}", "use 1-64 letters, digits, '_' or '-'"),
                "description": string,
                "parameters": _json_schema_object,
            },
            frozenset({"name"}),
        ),
        "mcp": Shape(
            {
                "server_label": matches(r"[a-zA-Z0-9_-]+", "use letters, digits, '_' or '-'"),
                "server_url": matches(r"https?://\S+", "must be an http:// or https:// URL"),
                "authorization": string,
                "headers": string_map(),
                "allowed_tools": string_list,
                "require_approval": _require_approval,
            },
            frozenset({"server_label", "server_url"}),
        ),
    }
)
_TOOL_LIST = list_of(_TOOL)
_TOOL_KEY = {"function": "name", "mcp": "server_label"}


def _tools(value: Any, param: str) -> list[dict[str, Any]]:
    """Tools are addressed by name (functions) or label (MCP servers), so those must be unique."""
    tools: list[dict[str, Any]] = _TOOL_LIST(value, param)
    seen: set[tuple[str, str]] = set()
    for index, tool in enumerate(tools):
        key = _TOOL_KEY[tool["type"]]
        identity = (tool["type"], tool[key])
        if identity in seen:
            fail(f"{param}[{index}].{key}", f"Duplicate {tool['type']} tool {key} {tool[key]!r}.")
        seen.add(identity)
    return tools


def function_names(tools: Any) -> set[str]:
    """Names of the function tools in a (validated) tool list."""
    if not isinstance(tools, list):
        return set()
    return {
        tool["name"]
        for tool in tools
        if isinstance(tool, Mapping)
        and tool.get("type") == "function"
        and isinstance(tool.get("name"), str)
    }


_TOOL_CHOICE_OBJECT = tagged({"function": Shape({"name": non_empty_string}, frozenset({"name"}))})
_TOOL_CHOICE_LITERAL = one_of(TOOL_CHOICE_LITERALS)


def _tool_choice(value: Any, param: str) -> Any:
    return (
        _TOOL_CHOICE_LITERAL(value, param)
        if isinstance(value, str)
        else _TOOL_CHOICE_OBJECT(value, param)
    )


def _check_tool_choice_target(choice: Any, param: str, names: Collection[str]) -> None:
    """A forced function must exist, or the model could never satisfy the choice."""
    if isinstance(choice, Mapping) and choice["name"] not in names:
        fail(
            f"{param}.name",
            f"Tool choice function {choice['name']!r} is not among the configured tools.",
        )


# -- generation limits ---------------------------------------------------------------


def _check_temperature(value: float, param: str, model: str | None) -> None:
    in_range(value, param, *temperature_range(model))


_TOKEN_COUNT = integer(1, MAX_OUTPUT_TOKENS)


def _max_tokens(value: Any, param: str) -> int | str:
    if value == "inf":
        return "inf"
    if not is_int(value):
        fail(param, f"'{param}' must be an integer between 1 and {MAX_OUTPUT_TOKENS} or 'inf'.")
    count: int = _TOKEN_COUNT(value, param)
    return count


_INTERIM_COMMON: dict[str, Check] = {
    "triggers": subset_of(INTERIM_TRIGGERS),
    "latency_threshold_ms": integer(0),
}
_INTERIM_RESPONSE = tagged(
    {
        "static_interim_response": Shape(
            {**_INTERIM_COMMON, "texts": list_of(non_empty_string, non_empty=True)},
            frozenset({"texts"}),
        ),
        "llm_interim_response": Shape(
            {
                **_INTERIM_COMMON,
                "model": non_empty_string,
                "instructions": string,
                "max_completion_tokens": integer(1),
            }
        ),
    },
    aliases={
        "static-interim-response": "static_interim_response",
        "llm-interim-response": "llm_interim_response",
    },
)


# -- field tables --------------------------------------------------------------------

_SHARED_FIELDS: dict[str, Check] = {
    "modalities": _modalities,
    "instructions": string,
    "voice": _voice,
    "output_audio_format": one_of(OUTPUT_AUDIO_FORMATS),
    "tools": _tools,
    "tool_choice": _tool_choice,
    "temperature": number(),
    "reasoning_effort": one_of(REASONING_EFFORTS),
    "metadata": string_map(max_keys=16, max_key_len=64, max_value_len=512),
    "interim_response": _INTERIM_RESPONSE,
}
"""Fields ``session.update`` and ``response.create`` share, with identical rules."""

SESSION_FIELDS: Mapping[str, Check] = {
    **_SHARED_FIELDS,
    "model": non_empty_string,
    "input_audio_format": one_of(INPUT_AUDIO_FORMATS),
    "input_audio_sampling_rate": one_of_ints(INPUT_SAMPLING_RATES["pcm16"]),
    "turn_detection": _TURN_DETECTION,
    "input_audio_noise_reduction": _NOISE_REDUCTION,
    "input_audio_echo_cancellation": _ECHO_CANCELLATION,
    "input_audio_transcription": _TRANSCRIPTION,
    "output_audio_timestamp_types": subset_of(TIMESTAMP_TYPES),
    "animation": _ANIMATION,
    "avatar": any_object,
    "include": subset_of(INCLUDE_OPTIONS),
    "parallel_tool_calls": boolean,
    "max_response_output_tokens": _max_tokens,
}


def _pre_generated_message(value: Any, param: str) -> dict[str, Any]:
    """The service speaks this verbatim, so it must be exactly one non-empty assistant text.

    Kind and role are checked first so a wrong item gets a clear error rather
    than one about whichever of its fields does not fit an assistant message.
    """
    if isinstance(value, Mapping):
        if value.get("type", "message") != "message":
            fail(f"{param}.type", f"'{param}' must be a message item.")
        if value.get("role", "assistant") != "assistant":
            fail(f"{param}.role", f"'{param}.role' must be 'assistant'.")
    item = validate_item(value, param)
    content = item["content"]
    if len(content) != 1:
        fail(f"{param}.content", f"'{param}.content' must hold exactly one text part.")
    if content[0]["type"] not in {"text", "output_text"}:
        fail(f"{param}.content[0].type", f"'{param}.content[0]' must be a text part.")
    if not content[0]["text"].strip():
        fail(f"{param}.content[0].text", f"'{param}.content[0].text' must not be empty.")
    return item


RESPONSE_FIELDS: Mapping[str, Check] = {
    **_SHARED_FIELDS,
    "commit": boolean,
    "cancel_previous": boolean,
    "append_input_items": list_of(validate_item),
    "input_items": list_of(validate_item),
    "max_output_tokens": _max_tokens,
    "max_response_output_tokens": _max_tokens,
    "pre_generated_assistant_message": _pre_generated_message,
    "invoke_input": any_object,
    "conversation": one_of({"auto", "none"}),
}


def _check_fields(
    payload: Any,
    root: str,
    table: Mapping[str, Check],
    *,
    nullable: Collection[str] | None,
    read_only: Collection[str] = (),
) -> dict[str, Any]:
    """Validate each top-level key of ``payload`` through ``table``.

    ``nullable=None`` treats every ``null`` as "not given"; otherwise only the
    listed keys may be ``null`` (meaning "switch off") and any other ``null`` is
    rejected.
    """
    if not isinstance(payload, Mapping):
        fail(root, f"Invalid type for '{root}': expected an object.")
    result: dict[str, Any] = {}
    for key, value in payload.items():
        param = f"{root}.{key}"
        if key in read_only:
            fail(param, f"'{param}' is read-only and cannot be updated.")
        check = table.get(key)
        if check is None:
            fail(param, f"Unknown parameter: '{param}'.", "unknown_parameter")
        if value is None:
            if nullable is None:
                continue
            if key not in nullable:
                fail(param, f"'{param}' cannot be null.")
            result[key] = None
        else:
            result[key] = check(value, param)
    return result


# -- public API ----------------------------------------------------------------------


def _agent_config(agent: Mapping[str, Any], session_id: str) -> dict[str, Any]:
    """``AgentConfig`` from what the server knows about the agent (connect query or scenario)."""
    name = agent.get("name") or agent.get("agent_name")
    if not isinstance(name, str) or not name:
        raise ValueError("agent mapping needs a non-empty 'name' (or 'agent_name')")
    version = agent.get("version") or agent.get("agent_version")
    config: dict[str, Any] = {
        "type": "agent",
        "name": name,
        "agent_id": agent.get("agent_id") or (f"{name}:{version}" if version else name),
        "thread_id": agent.get("thread_id")
        or agent.get("conversation_id")
        or f"thread_{session_id}",
    }
    if agent.get("description") is not None:
        config["description"] = agent["description"]
    return config


def default_session(
    *,
    session_id: str,
    model: str | None,
    api_version: str | None,
    agent: Mapping[str, Any] | None = None,
    now: float,
) -> dict[str, Any]:
    """The full effective session announced in ``session.created``.

    Agent sessions carry the agent's configuration instead of ``instructions``
    (the agent owns its prompt). ``now`` is epoch seconds; ``expires_at`` is an
    int because SDK 1.3.1 parses it as epoch seconds.
    """
    session: dict[str, Any] = {
        "id": session_id,
        "object": "realtime.session",
        "model": model,
        "modalities": ["text", "audio"],
    }
    if agent is None:
        session["instructions"] = ""
    session |= {
        "voice": dict(DEFAULT_VOICE),
        "input_audio_format": "pcm16",
        "output_audio_format": "pcm16",
        "input_audio_sampling_rate": DEFAULT_INPUT_SAMPLING_RATE["pcm16"],
        "turn_detection": effective_turn_detection({"type": "server_vad"}, api_version),
        "input_audio_noise_reduction": None,
        "input_audio_echo_cancellation": None,
        "input_audio_transcription": None,
        "animation": None,
        "tools": [],
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "temperature": 0.8,
        "max_response_output_tokens": "inf",
    }
    if agent is not None:
        session["agent"] = _agent_config(agent, session_id)
    session["expires_at"] = int(now) + SESSION_LIFETIME_S
    return session


def _reconcile_input_audio(
    current: Mapping[str, Any],
    update: Mapping[str, Any],
    merged: dict[str, Any],
    *,
    audio_received: bool,
) -> None:
    """Keep input format and sampling rate consistent, and frozen once audio has flowed.

    Switching format without naming a rate picks that format's default rate, so
    ``{"input_audio_format": "g711_ulaw"}`` alone is a valid update.
    """
    old_format = current.get("input_audio_format", "pcm16")
    new_format = merged.get("input_audio_format", "pcm16")
    if "input_audio_sampling_rate" not in update and new_format != old_format:
        merged["input_audio_sampling_rate"] = DEFAULT_INPUT_SAMPLING_RATE[new_format]
    rate = merged.get("input_audio_sampling_rate", DEFAULT_INPUT_SAMPLING_RATE[new_format])
    if rate not in INPUT_SAMPLING_RATES[new_format]:
        blamed = (
            "input_audio_sampling_rate"
            if "input_audio_sampling_rate" in update
            else "input_audio_format"
        )
        fail(
            f"session.{blamed}",
            f"Sampling rate {rate} is not supported for {new_format!r}; "
            f"supported: {sorted(INPUT_SAMPLING_RATES[new_format])}.",
        )
    if audio_received:
        for key in ("input_audio_format", "input_audio_sampling_rate"):
            if key in update and merged.get(key) != current.get(key, merged.get(key)):
                fail(
                    f"session.{key}",
                    f"'session.{key}' cannot change after audio has been received.",
                )


def apply_session_update(
    current: Mapping[str, Any],
    update: Any,
    *,
    audio_received: bool,
    agent_mode: bool | None = None,
    api_version: str | None = None,
) -> dict[str, Any]:
    """Return the session that results from ``session.update``'s ``session`` object.

    Only keys present in ``update`` change; ``null`` switches off a nullable
    feature; ``turn_detection`` is replaced as a whole and completed with
    defaults (``api_version`` selects the ``prefix_padding_ms`` default).
    ``agent_mode`` defaults to "``current`` has an ``agent``". Raises
    :class:`ProtocolError` without side effects when anything is invalid.
    """
    changes = _check_fields(
        update,
        "session",
        SESSION_FIELDS,
        nullable=NULLABLE_SESSION_KEYS,
        read_only=READ_ONLY_SESSION_KEYS,
    )
    if agent_mode is None:
        agent_mode = current.get("agent") is not None
    if agent_mode and "instructions" in changes:
        fail("session.instructions", "Instructions are not supported for agent sessions.")
    if "model" in changes and changes["model"] != current.get("model"):
        fail("session.model", "The model cannot be changed during a session.")

    merged = copy.deepcopy(dict(current))
    merged.update(changes)
    if changes.get("turn_detection") is not None:
        merged["turn_detection"] = effective_turn_detection(changes["turn_detection"], api_version)
    _reconcile_input_audio(current, changes, merged, audio_received=audio_received)
    if "temperature" in changes:
        _check_temperature(changes["temperature"], "session.temperature", merged.get("model"))
    if "tool_choice" in changes:
        _check_tool_choice_target(
            changes["tool_choice"], "session.tool_choice", function_names(merged.get("tools"))
        )
    return merged


def validate_response_params(
    params: Any, session: Mapping[str, Any], *, tool_names: Collection[str] = ()
) -> dict[str, Any]:
    """Validate the ``response`` object of ``response.create`` against the session.

    Same per-field rules as ``session.update`` (param paths start ``response.``);
    ``null`` fields mean "use the session value" and are dropped. ``tool_names``
    adds names a forced ``tool_choice`` may target beyond the function tools in
    effect (the response's own ``tools`` if given, else the session's).
    """
    if params is None:
        return {}
    checked = _check_fields(params, "response", RESPONSE_FIELDS, nullable=None)
    if "instructions" in checked and session.get("agent") is not None:
        fail("response.instructions", "Instructions are not supported for agent sessions.")
    if "temperature" in checked:
        _check_temperature(checked["temperature"], "response.temperature", session.get("model"))
    if "tool_choice" in checked:
        tools = checked["tools"] if "tools" in checked else session.get("tools")
        _check_tool_choice_target(
            checked["tool_choice"], "response.tool_choice", function_names(tools) | set(tool_names)
        )
    return checked
