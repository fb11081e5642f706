"""Voice Live session state: the defaults the service reports and the rules of ``session.update``.

The emulator's value is catching plugin bugs before they hit the real service, so
``session.update`` and ``response.create`` are checked as strictly as the service
documents (protocol notes §4) and as it was seen to behave (§9): closed enums,
ranges, required keys, unknown keys, and the cross-field rules. Per-field rules
are tables in :mod:`._session_fields` (voices, turn detection and tools in their
own modules); the rules spanning several fields run here on the resulting session.

By default an update *replaces* the session, as Voice Live does: what it leaves out
falls back to the default :func:`default_session` reports. ``semantics="merge"``
keeps OpenAI Realtime's reading (only the keys present change) for clients written
against it.

An update is all-or-nothing: :func:`apply_session_update` builds and returns a new
session dict and never touches ``current``, so a rejected update leaves the
connection's state exactly as it was.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping
from typing import Any, Final

from ..protocol.audio import DEFAULT_INPUT_SAMPLING_RATE, INPUT_SAMPLING_RATES, PCM16
from ..protocol.session import (
    DEFAULT_SESSION_SEMANTICS,
    EC_NOT_SUPPORTED,
    NULLABLE_SESSION_KEYS,
    READ_ONLY_SESSION_KEYS,
    SESSION_SEMANTICS,
    TURN_DETECTION_TYPE_FIXED,
    SessionSemantics,
)
from ..protocol.voices import DEFAULT_VOICE as DEFAULT_VOICE_NAME
from ..protocol.voices import DEFAULT_VOICE_TYPE
from ._session_fields import RESPONSE_FIELDS, SESSION_FIELDS, check_fields, check_temperature
from ._session_tools import check_tool_choice_target, function_names
from ._session_turns import effective_turn_detection
from ._validate import fail

__all__ = [
    "DEFAULT_VOICE",
    "SESSION_LIFETIME_S",
    "SessionSemantics",
    "apply_session_update",
    "default_session",
    "effective_turn_detection",
    "function_names",
    "validate_response_params",
]

SESSION_LIFETIME_S: Final = 1800
"""``expires_at`` offset: GPT-realtime sessions end after 30 minutes (unverified for Voice Live)."""

DEFAULT_VOICE: Mapping[str, str] = {"type": DEFAULT_VOICE_TYPE, "name": DEFAULT_VOICE_NAME}
"""The voice a session has until the client picks one."""


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


def _default_fields(
    model: str | None, api_version: str | None, *, agent_mode: bool
) -> dict[str, Any]:
    """The settable fields of a fresh session: what a replacing update starts from.

    Agent sessions have no ``instructions`` (the agent owns its prompt).
    """
    fields: dict[str, Any] = {"model": model, "modalities": ["text", "audio"]}
    if not agent_mode:
        fields["instructions"] = ""
    return fields | {
        "voice": dict(DEFAULT_VOICE),
        "input_audio_format": PCM16,
        "output_audio_format": PCM16,
        "input_audio_sampling_rate": DEFAULT_INPUT_SAMPLING_RATE[PCM16],
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


def default_session(
    *,
    session_id: str,
    model: str | None,
    api_version: str | None,
    agent: Mapping[str, Any] | None = None,
    now: float,
) -> dict[str, Any]:
    """The full effective session announced in ``session.created``.

    Agent sessions carry the agent's configuration instead of ``instructions``.
    ``now`` is epoch seconds; ``expires_at`` is an int because SDK 1.3.1 parses
    it as epoch seconds.
    """
    session: dict[str, Any] = {"id": session_id, "object": "realtime.session"}
    session |= _default_fields(model, api_version, agent_mode=agent is not None)
    if agent is not None:
        session["agent"] = _agent_config(agent, session_id)
    session["expires_at"] = int(now) + SESSION_LIFETIME_S
    return session


def _reset(
    current: Mapping[str, Any], api_version: str | None, *, agent_mode: bool
) -> dict[str, Any]:
    """``current`` with every settable field back at its default: the base a replace
    builds on. The read-only keys and the connect-time model are the connection's,
    not the update's, so they carry over.
    """
    kept = {k: copy.deepcopy(v) for k, v in current.items() if k in READ_ONLY_SESSION_KEYS}
    leading = {k: kept.pop(k) for k in ("id", "object") if k in kept}
    fresh = _default_fields(current.get("model"), api_version, agent_mode=agent_mode)
    return leading | fresh | kept


def _derive_sampling_rate(
    base: Mapping[str, Any], update: Mapping[str, Any], result: dict[str, Any]
) -> None:
    """Switching format without naming a rate picks that format's default rate, so
    ``{"input_audio_format": "g711_ulaw"}`` alone is a valid update."""
    new_format = result.get("input_audio_format", PCM16)
    if "input_audio_sampling_rate" not in update and new_format != base.get(
        "input_audio_format", PCM16
    ):
        result["input_audio_sampling_rate"] = DEFAULT_INPUT_SAMPLING_RATE[new_format]


def _check_input_audio(
    current: Mapping[str, Any],
    update: Mapping[str, Any],
    result: Mapping[str, Any],
    *,
    audio_received: bool,
) -> None:
    """Keep input format and sampling rate consistent, and frozen once audio has flowed.

    The freeze compares with ``current``, not with what the update names: under
    replace semantics an update that leaves the format out resets it, and that is
    a change too.
    """
    new_format = result.get("input_audio_format", PCM16)
    rate = result.get("input_audio_sampling_rate", DEFAULT_INPUT_SAMPLING_RATE[new_format])
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
            if result.get(key) != current.get(key, result.get(key)):
                fail(
                    f"session.{key}",
                    f"'session.{key}' cannot change after audio has been received.",
                )


def _check_echo_cancellation(result: Mapping[str, Any]) -> None:
    """Echo cancellation subtracts the service's own playback, so it needs audio out (§9)."""
    if result.get("input_audio_echo_cancellation") is not None and "audio" not in result.get(
        "modalities", ()
    ):
        fail(
            "session.input_audio_echo_cancellation",
            "Echo cancellation is not supported without 'audio' in 'session.modalities'.",
            EC_NOT_SUPPORTED,
        )


def _check_turn_detection_type(
    current: Mapping[str, Any], result: Mapping[str, Any], *, configured: bool
) -> None:
    """The detector is chosen by the session's first update and then fixed (§9).

    Only a change between two detectors is refused: switching turn detection off
    (``null``) or back on is not a type change the probes recorded. Under replace
    semantics an update that leaves ``turn_detection`` out resets it to
    ``server_vad``, so it is refused in a session that runs another detector.
    """
    if not configured:
        return
    before, after = current.get("turn_detection"), result.get("turn_detection")
    if before is None or after is None or before.get("type") == after.get("type"):
        return
    fail(
        "session.turn_detection.type",
        f"'session.turn_detection.type' cannot change during a session "
        f"(from {before.get('type')!r} to {after.get('type')!r}); open a new connection.",
        TURN_DETECTION_TYPE_FIXED,
    )


def _combine(
    current: Mapping[str, Any],
    changes: Mapping[str, Any],
    *,
    semantics: SessionSemantics,
    agent_mode: bool,
    api_version: str | None,
) -> dict[str, Any]:
    """The session ``changes`` make of ``current`` before the cross-field rules run."""
    if semantics == "replace":
        base = _reset(current, api_version, agent_mode=agent_mode)
    else:
        base = copy.deepcopy(dict(current))
    result = base | copy.deepcopy(dict(changes))
    if changes.get("turn_detection") is not None:
        result["turn_detection"] = effective_turn_detection(changes["turn_detection"], api_version)
    _derive_sampling_rate(base, changes, result)
    return result


def apply_session_update(
    current: Mapping[str, Any],
    update: Any,
    *,
    audio_received: bool,
    agent_mode: bool | None = None,
    api_version: str | None = None,
    semantics: SessionSemantics = DEFAULT_SESSION_SEMANTICS,
    configured: bool = False,
) -> dict[str, Any]:
    """Return the session that results from ``session.update``'s ``session`` object.

    ``semantics`` is ``"replace"`` (Voice Live: fields left out go back to their
    defaults) or ``"merge"`` (OpenAI: only keys present change). Either way ``null``
    switches off a nullable feature, ``turn_detection`` is taken as a whole and
    completed with defaults (``api_version`` selects the ``prefix_padding_ms``
    default), and the read-only keys and the model stay the connection's.

    ``configured`` says a valid update was already applied to ``current``; the
    first one may pick any turn detector, later ones must keep it. ``agent_mode``
    defaults to "``current`` has an ``agent``". Raises :class:`ProtocolError`
    without side effects when anything is invalid.
    """
    if semantics not in SESSION_SEMANTICS:
        raise ValueError(f"semantics must be one of {sorted(SESSION_SEMANTICS)}, got {semantics!r}")
    changes = check_fields(
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
    result = _combine(
        current, changes, semantics=semantics, agent_mode=agent_mode, api_version=api_version
    )
    _check_input_audio(current, changes, result, audio_received=audio_received)
    _check_echo_cancellation(result)
    _check_turn_detection_type(current, result, configured=configured)
    if "temperature" in changes:
        check_temperature(changes["temperature"], "session.temperature", result.get("model"))
    if "tool_choice" in changes:
        check_tool_choice_target(
            changes["tool_choice"], "session.tool_choice", function_names(result.get("tools"))
        )
    return result


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
    checked = check_fields(params, "response", RESPONSE_FIELDS, nullable=None)
    if "instructions" in checked and session.get("agent") is not None:
        fail("response.instructions", "Instructions are not supported for agent sessions.")
    if "temperature" in checked:
        check_temperature(checked["temperature"], "response.temperature", session.get("model"))
    if "tool_choice" in checked:
        tools = checked["tools"] if "tools" in checked else session.get("tools")
        check_tool_choice_target(
            checked["tool_choice"], "response.tool_choice", function_names(tools) | set(tool_names)
        )
    return checked
