"""Field tables of ``session.update`` and ``response.create``: one check per top-level key.

Each rule is an entry in a table (built from :mod:`._validate` checks); rules
spanning several fields (sampling rate vs. format, temperature vs. model,
``tool_choice`` vs. ``tools``, echo cancellation vs. modalities) run on the
resulting session in :mod:`._session`.

The keys a session may have at all are the SDK's ``RequestSession`` fields
(:data:`..protocol.session.SESSION_FIELDS`), not this module's list of rules: the
service rejects any other key (``voicelive-protocol.md`` §9, "strict object"), and
a field a newer SDK adds is a real field even before the emulator has a rule for it.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping
from typing import Any

from ..protocol.audio import (
    INPUT_AUDIO_FORMATS,
    INPUT_SAMPLING_RATES,
    PCM16,
    SERVICE_OUTPUT_AUDIO_FORMATS,
)
from ..protocol.models import TRANSCRIPTION_MODELS, temperature_range
from ..protocol.session import (
    ANIMATION_OUTPUTS,
    ECHO_CANCELLATION_TYPE,
    ECHO_CHANNELS,
    ECHO_REFERENCE_SOURCES,
    INCLUDE_OPTIONS,
    INTERIM_RESPONSE_ALIASES,
    INTERIM_TRIGGERS,
    MAX_OUTPUT_TOKENS,
    METADATA_LIMITS,
    NOISE_REDUCTIONS,
    REASONING_EFFORTS,
    RESPONSE_CONVERSATIONS,
    TIMESTAMP_TYPES,
)
from ..protocol.session import SESSION_FIELDS as SESSION_KEYS
from ._conversation import validate_item
from ._session_avatar import AVATAR
from ._session_tools import tool_choice, tools
from ._session_turns import TURN_DETECTION
from ._session_voice import modalities, voice
from ._validate import (
    SERVICE,
    Check,
    Shape,
    any_object,
    boolean,
    fail,
    in_range,
    integer,
    is_int,
    list_of,
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

__all__ = ["RESPONSE_FIELDS", "SESSION_FIELDS", "check_fields", "check_temperature"]


# -- audio processing ----------------------------------------------------------------


def _stereo_needs_client_reference(config: dict[str, Any], param: str) -> None:
    """Two channels carry the client's playback reference; server-side reference has none."""
    if config.get("channels") == 2 and config.get("reference_source") != "client":
        fail(
            f"{param}.channels",
            f"'{param}.channels' = 2 requires '{param}.reference_source' = 'client'.",
        )


_NOISE_REDUCTION = Shape({"type": one_of(NOISE_REDUCTIONS)}, frozenset({"type"}))
_ECHO_CANCELLATION = Shape(
    {
        "type": one_of({ECHO_CANCELLATION_TYPE}),
        "reference_source": one_of(ECHO_REFERENCE_SOURCES),
        "channels": one_of_ints(ECHO_CHANNELS),
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


# -- generation limits ---------------------------------------------------------------


def check_temperature(value: float, param: str, model: str | None) -> None:
    """The range depends on the session's model, so it is checked on the merged result."""
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
    aliases=INTERIM_RESPONSE_ALIASES,
)


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


# -- field tables --------------------------------------------------------------------

_SHARED_FIELDS: dict[str, Check] = {
    "modalities": modalities,
    "instructions": string,
    "voice": voice,
    "output_audio_format": one_of(SERVICE_OUTPUT_AUDIO_FORMATS),
    "tools": tools,
    "tool_choice": tool_choice,
    "temperature": number(),
    "reasoning_effort": one_of(REASONING_EFFORTS),
    "metadata": string_map(
        max_keys=METADATA_LIMITS.keys,
        max_key_len=METADATA_LIMITS.key_length,
        max_value_len=METADATA_LIMITS.value_length,
    ),
    "interim_response": _INTERIM_RESPONSE,
}
"""Fields ``session.update`` and ``response.create`` share, with identical rules."""

_SESSION_RULES: Mapping[str, Check] = {
    **_SHARED_FIELDS,
    "model": non_empty_string,
    "input_audio_format": one_of(INPUT_AUDIO_FORMATS),
    "input_audio_sampling_rate": one_of_ints(INPUT_SAMPLING_RATES[PCM16]),
    "turn_detection": TURN_DETECTION,
    "input_audio_noise_reduction": _NOISE_REDUCTION,
    "input_audio_echo_cancellation": _ECHO_CANCELLATION,
    "input_audio_transcription": _TRANSCRIPTION,
    "output_audio_timestamp_types": subset_of(TIMESTAMP_TYPES),
    "animation": _ANIMATION,
    "avatar": AVATAR,
    "include": subset_of(INCLUDE_OPTIONS),
    "parallel_tool_calls": boolean,
    "max_response_output_tokens": _max_tokens,
}


def _unchecked(value: Any, param: str) -> Any:
    """A field the SDK declares that has no rule here yet: accepted as sent (a copy)."""
    return copy.deepcopy(value)


SESSION_FIELDS: Mapping[str, Check] = {
    name: _SESSION_RULES.get(name, _unchecked) for name in sorted(SESSION_KEYS)
}
"""Every key ``session.update`` accepts, with its rule; any other key is ``unknown_parameter``."""

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
    "conversation": one_of(RESPONSE_CONVERSATIONS),
}


def check_fields(
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
        SERVICE.reject(SERVICE.wording.object, root)
    result: dict[str, Any] = {}
    for key, value in payload.items():
        param = f"{root}.{key}"
        if key in read_only:
            fail(param, f"'{param}' is read-only and cannot be updated.")
        check = table.get(key)
        if check is None:
            SERVICE.reject(SERVICE.wording.unknown, param, code="unknown_parameter")
        if value is None:
            if nullable is None:
                continue
            if key not in nullable:
                fail(param, f"'{param}' cannot be null.")
            result[key] = None
        else:
            result[key] = check(value, param)
    return result
