"""Session defaults, ``session.update`` and ``response.create`` validation rules."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from azure.ai.voicelive.models import (
    ResponseSession,
    ServerEventSessionCreated,
    ServerVad,
)

from videosdk_plugins_azure.emulator._session import (
    apply_session_update,
    default_session,
    validate_response_params,
)

from .conftest import assert_rejected, deserialize

BASE = default_session(
    session_id="sess_t", model="gpt-realtime", api_version="2026-07-15", now=1000.0
)
AGENT = {"name": "helper", "version": "3"}
FN = {"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}
MCP = {"type": "mcp", "server_label": "docs", "server_url": "https://mcp.example.com/sse"}


def update(patch: Any, current: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    kw.setdefault("audio_received", False)
    return apply_session_update(BASE if current is None else current, patch, **kw)


def merge(patch: Any, current: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    """:func:`update` under OpenAI-style merge semantics (Voice Live replaces)."""
    return update(patch, current, semantics="merge", **kw)


# -- default_session ------------------------------------------------------------------------


def test_default_session_deserializes_with_sdk() -> None:
    ResponseSession(BASE)
    event = deserialize({"type": "session.created", "event_id": "e1", "session": BASE})
    assert isinstance(event, ServerEventSessionCreated)
    assert isinstance(event.session.turn_detection, ServerVad)
    assert event.session.turn_detection.prefix_padding_ms == 400
    assert event.session.expires_at is not None
    assert event.session.expires_at.timestamp() == 1000 + 1800
    assert BASE["instructions"] == ""
    assert BASE["model"] == "gpt-realtime"


@pytest.mark.parametrize(
    ("api_version", "padding"), [("2025-10-01", 300), ("2026-04-10", 400), (None, 400)]
)
def test_default_prefix_padding_depends_on_api_version(
    api_version: str | None, padding: int
) -> None:
    session = default_session(session_id="s", model="m", api_version=api_version, now=0)
    assert session["turn_detection"]["prefix_padding_ms"] == padding


def test_agent_session_has_agent_and_no_instructions() -> None:
    session = default_session(session_id="s", model=None, api_version=None, agent=AGENT, now=0)
    assert "instructions" not in session
    event = deserialize({"type": "session.created", "event_id": "e", "session": session})
    assert event.session.agent.name == "helper"
    assert event.session.agent.agent_id == "helper:3"


# -- session.update: accepted values -----------------------------------------------------------

ACCEPTED: list[tuple[dict[str, Any], str, Any]] = [
    ({"voice": "alloy"}, "voice", "alloy"),
    ({"voice": {"type": "openai", "name": "marin"}}, "voice", {"type": "openai", "name": "marin"}),
    (
        {
            "voice": {
                "type": "azure-standard",
                "name": "en-US-AvaNeural",
                "temperature": 0.7,
                "rate": "1.2",
            }
        },
        "voice",
        {"type": "azure-standard", "name": "en-US-AvaNeural", "temperature": 0.7, "rate": "1.2"},
    ),
    ({"voice": {"type": "azure-standard", "name": "v", "rate": "+10%"}}, "voice.rate", "+10%"),
    ({"voice": {"type": "azure-standard", "name": "v", "rate": 0.5}}, "voice.rate", 0.5),
    (
        {"voice": {"type": "azure-custom", "name": "v", "endpoint_id": "e"}},
        "voice.endpoint_id",
        "e",
    ),
    (
        {"voice": {"type": "azure-personal", "name": "v", "model": "MAI-Voice-1"}},
        "voice.model",
        "MAI-Voice-1",
    ),
    ({"voice": {"type": "azure-realtime-native", "name": "ava"}}, "voice.name", "ava"),
    (
        {"voice": {"type": "avatar-voice-sync", "model": "DragonLatestNeural"}},
        "voice.type",
        "avatar-voice-sync",
    ),
    ({"modalities": ["text"]}, "modalities", ["text"]),
    ({"modalities": ["audio", "text", "animation"]}, "modalities", ["audio", "text", "animation"]),
    ({"instructions": "Be brief."}, "instructions", "Be brief."),
    ({"output_audio_format": "pcm16-16000hz"}, "output_audio_format", "pcm16-16000hz"),
    ({"output_audio_format": "pcm16_8000hz"}, "output_audio_format", "pcm16_8000hz"),
    ({"input_audio_sampling_rate": 16000}, "input_audio_sampling_rate", 16000),
    ({"input_audio_format": "g711_ulaw"}, "input_audio_sampling_rate", 8000),
    (
        {"turn_detection": {"type": "semantic_vad", "eagerness": "low"}},
        "turn_detection.eagerness",
        "low",
    ),
    (
        {
            "turn_detection": {
                "type": "azure_semantic_vad",
                "languages": ["en", "fr"],
                "end_of_utterance_detection": {
                    "model": "semantic_detection_v1",
                    "threshold_level": "high",
                    "timeout_ms": 800,
                },
            }
        },
        "turn_detection.end_of_utterance_detection.threshold_level",
        "high",
    ),
    (
        {"turn_detection": {"type": "azure_semantic_vad_en", "remove_filler_words": True}},
        "turn_detection.remove_filler_words",
        True,
    ),
    (
        {"turn_detection": {"type": "server_vad", "auto_truncate": True}},
        "turn_detection.auto_truncate",
        True,
    ),
    (
        {"input_audio_noise_reduction": {"type": "near_field"}},
        "input_audio_noise_reduction.type",
        "near_field",
    ),
    (
        {
            "input_audio_echo_cancellation": {
                "type": "server_echo_cancellation",
                "reference_source": "client",
                "channels": 2,
            }
        },
        "input_audio_echo_cancellation.channels",
        2,
    ),
    (
        {
            "input_audio_transcription": {
                "model": "azure-speech",
                "language": "en-US",
                "phrase_list": ["Contoso"],
                "custom_speech": {"en-US": "id"},
                "prompt": "names",
            }
        },
        "input_audio_transcription.model",
        "azure-speech",
    ),
    ({"output_audio_timestamp_types": ["word"]}, "output_audio_timestamp_types", ["word"]),
    ({"animation": {"outputs": ["viseme_id"]}}, "animation", {"outputs": ["viseme_id"]}),
    ({"avatar": {"character": "lisa", "style": "casual"}}, "avatar.character", "lisa"),
    (
        {"include": ["item.input_audio_transcription.logprobs"]},
        "include",
        ["item.input_audio_transcription.logprobs"],
    ),
    ({"metadata": {"k" * 64: "v" * 512}}, "metadata", {"k" * 64: "v" * 512}),
    ({"reasoning_effort": "xhigh"}, "reasoning_effort", "xhigh"),
    ({"parallel_tool_calls": False}, "parallel_tool_calls", False),
    (
        {"tools": [FN, MCP | {"require_approval": {"never": ["search"]}}]},
        "tools[1].require_approval",
        {"never": ["search"]},
    ),
    (
        {"tools": [FN], "tool_choice": {"type": "function", "name": "get_weather"}},
        "tool_choice.name",
        "get_weather",
    ),
    ({"tool_choice": "required"}, "tool_choice", "required"),
    ({"temperature": 0.6}, "temperature", 0.6),
    ({"temperature": 1.2}, "temperature", 1.2),
    ({"max_response_output_tokens": 4096}, "max_response_output_tokens", 4096),
    ({"max_response_output_tokens": "inf"}, "max_response_output_tokens", "inf"),
    (
        {
            "interim_response": {
                "type": "static_interim_response",
                "texts": ["One moment."],
                "triggers": ["tool"],
            }
        },
        "interim_response.texts",
        ["One moment."],
    ),
    (
        {"interim_response": {"type": "llm-interim-response", "max_completion_tokens": 20}},
        "interim_response.type",
        "llm_interim_response",
    ),
    ({"model": "gpt-realtime"}, "model", "gpt-realtime"),
]


def _dig(session: dict[str, Any], path: str) -> Any:
    value: Any = session
    for part in path.replace("[", ".").replace("]", "").split("."):
        value = value[int(part)] if part.isdigit() else value[part]
    return value


@pytest.mark.parametrize(("patch", "path", "expected"), ACCEPTED, ids=[c[1] for c in ACCEPTED])
def test_accepted_update(patch: dict[str, Any], path: str, expected: Any) -> None:
    assert _dig(update(patch), path) == expected


# -- session.update: rejected values -----------------------------------------------------------

LONG = "x" * 65
REJECTED: list[tuple[Any, str, str]] = [
    ("not an object", "invalid_value", "session"),
    ({"speed": 1}, "unknown_parameter", "session.speed"),
    ({"id": "sess_other"}, "invalid_value", "session.id"),
    ({"object": "realtime.session"}, "invalid_value", "session.object"),
    ({"expires_at": 5}, "invalid_value", "session.expires_at"),
    ({"agent": {}}, "invalid_value", "session.agent"),
    ({"model": "gpt-4o"}, "invalid_value", "session.model"),
    # voice
    ({"voice": "nova"}, "invalid_value", "session.voice"),
    ({"voice": None}, "invalid_value", "session.voice"),
    ({"voice": 3}, "invalid_value", "session.voice"),
    ({"voice": {"type": "elevenlabs", "name": "x"}}, "invalid_value", "session.voice.type"),
    ({"voice": {"name": "alloy"}}, "missing_required_parameter", "session.voice.type"),
    ({"voice": {"type": "openai"}}, "missing_required_parameter", "session.voice.name"),
    ({"voice": {"type": "openai", "name": "ava"}}, "invalid_value", "session.voice.name"),
    ({"voice": {"type": "azure-standard"}}, "missing_required_parameter", "session.voice.name"),
    (
        {"voice": {"type": "azure-custom", "name": "v"}},
        "missing_required_parameter",
        "session.voice.endpoint_id",
    ),
    (
        {"voice": {"type": "azure-personal", "name": "v"}},
        "missing_required_parameter",
        "session.voice.model",
    ),
    (
        {"voice": {"type": "azure-personal", "name": "v", "model": "Dragon"}},
        "invalid_value",
        "session.voice.model",
    ),
    (
        {"voice": {"type": "azure-standard", "name": "v", "temperature": 1.5}},
        "invalid_value",
        "session.voice.temperature",
    ),
    (
        {"voice": {"type": "azure-standard", "name": "v", "rate": "2.0"}},
        "invalid_value",
        "session.voice.rate",
    ),
    (
        {"voice": {"type": "azure-standard", "name": "v", "rate": 0.1}},
        "invalid_value",
        "session.voice.rate",
    ),
    (
        {"voice": {"type": "azure-standard", "name": "v", "rate": True}},
        "invalid_value",
        "session.voice.rate",
    ),
    (
        {"voice": {"type": "azure-standard", "name": "v", "speed": 1}},
        "unknown_parameter",
        "session.voice.speed",
    ),
    (
        {"voice": {"type": "azure-realtime-native", "name": "bob"}},
        "invalid_value",
        "session.voice.name",
    ),
    (
        {"voice": {"type": "azure-realtime-native", "name": "ava", "rate": "1"}},
        "unknown_parameter",
        "session.voice.rate",
    ),
    # modalities / instructions
    ({"modalities": ["audio"]}, "invalid_value", "session.modalities"),
    ({"modalities": []}, "invalid_value", "session.modalities"),
    ({"modalities": "text"}, "invalid_value", "session.modalities"),
    ({"modalities": ["text", "video"]}, "invalid_value", "session.modalities[1]"),
    ({"modalities": None}, "invalid_value", "session.modalities"),
    ({"instructions": 5}, "invalid_value", "session.instructions"),
    # audio formats
    ({"input_audio_format": "opus"}, "invalid_value", "session.input_audio_format"),
    ({"output_audio_format": "mp3"}, "invalid_value", "session.output_audio_format"),
    ({"input_audio_sampling_rate": 44100}, "invalid_value", "session.input_audio_sampling_rate"),
    ({"input_audio_sampling_rate": "24000"}, "invalid_value", "session.input_audio_sampling_rate"),
    (
        {"input_audio_format": "g711_alaw", "input_audio_sampling_rate": 16000},
        "invalid_value",
        "session.input_audio_sampling_rate",
    ),
    # turn detection
    ({"turn_detection": {"type": "webrtc_vad"}}, "invalid_value", "session.turn_detection.type"),
    ({"turn_detection": {}}, "missing_required_parameter", "session.turn_detection.type"),
    ({"turn_detection": "server_vad"}, "invalid_value", "session.turn_detection"),
    (
        {"turn_detection": {"type": "server_vad", "threshold": 1.5}},
        "invalid_value",
        "session.turn_detection.threshold",
    ),
    (
        {"turn_detection": {"type": "server_vad", "threshold": "0.5"}},
        "invalid_value",
        "session.turn_detection.threshold",
    ),
    (
        {"turn_detection": {"type": "server_vad", "prefix_padding_ms": -1}},
        "invalid_value",
        "session.turn_detection.prefix_padding_ms",
    ),
    (
        {"turn_detection": {"type": "server_vad", "silence_duration_ms": 20000}},
        "invalid_value",
        "session.turn_detection.silence_duration_ms",
    ),
    (
        {"turn_detection": {"type": "server_vad", "silence_duration_ms": 500.5}},
        "invalid_value",
        "session.turn_detection.silence_duration_ms",
    ),
    (
        {"turn_detection": {"type": "server_vad", "create_response": "yes"}},
        "invalid_value",
        "session.turn_detection.create_response",
    ),
    (
        {
            "turn_detection": {
                "type": "server_vad",
                "auto_truncate": True,
                "interrupt_response": False,
            }
        },
        "invalid_value",
        "session.turn_detection.auto_truncate",
    ),
    (
        {
            "turn_detection": {
                "type": "server_vad",
                "end_of_utterance_detection": {"model": "eou_v9"},
            }
        },
        "invalid_value",
        "session.turn_detection.end_of_utterance_detection.model",
    ),
    (
        {
            "turn_detection": {
                "type": "azure_semantic_vad",
                "end_of_utterance_detection": {
                    "model": "semantic_detection_v1",
                    "threshold_level": "max",
                },
            }
        },
        "invalid_value",
        "session.turn_detection.end_of_utterance_detection.threshold_level",
    ),
    (
        {
            "turn_detection": {
                "type": "azure_semantic_vad",
                "end_of_utterance_detection": {"model": "semantic_detection_v1", "timeout_ms": 0},
            }
        },
        "invalid_value",
        "session.turn_detection.end_of_utterance_detection.timeout_ms",
    ),
    (
        {"turn_detection": {"type": "azure_semantic_vad_en", "languages": ["en"]}},
        "unknown_parameter",
        "session.turn_detection.languages",
    ),
    (
        {"turn_detection": {"type": "azure_semantic_vad", "languages": "en"}},
        "invalid_value",
        "session.turn_detection.languages",
    ),
    (
        {"turn_detection": {"type": "server_vad", "remove_filler_words": True}},
        "unknown_parameter",
        "session.turn_detection.remove_filler_words",
    ),
    (
        {"turn_detection": {"type": "server_vad", "eagerness": "low"}},
        "unknown_parameter",
        "session.turn_detection.eagerness",
    ),
    (
        {"turn_detection": {"type": "semantic_vad", "eagerness": "fast"}},
        "invalid_value",
        "session.turn_detection.eagerness",
    ),
    # audio processing
    (
        {"input_audio_noise_reduction": {"type": "heavy"}},
        "invalid_value",
        "session.input_audio_noise_reduction.type",
    ),
    (
        {"input_audio_noise_reduction": {}},
        "missing_required_parameter",
        "session.input_audio_noise_reduction.type",
    ),
    (
        {"input_audio_echo_cancellation": {"type": "aec"}},
        "invalid_value",
        "session.input_audio_echo_cancellation.type",
    ),
    (
        {"input_audio_echo_cancellation": {"type": "server_echo_cancellation", "channels": 3}},
        "invalid_value",
        "session.input_audio_echo_cancellation.channels",
    ),
    (
        {"input_audio_echo_cancellation": {"type": "server_echo_cancellation", "channels": 2}},
        "invalid_value",
        "session.input_audio_echo_cancellation.channels",
    ),
    (
        {
            "input_audio_echo_cancellation": {
                "type": "server_echo_cancellation",
                "reference_source": "mic",
            }
        },
        "invalid_value",
        "session.input_audio_echo_cancellation.reference_source",
    ),
    (
        {"input_audio_transcription": {}},
        "missing_required_parameter",
        "session.input_audio_transcription.model",
    ),
    (
        {"input_audio_transcription": {"model": "whisper-2"}},
        "invalid_value",
        "session.input_audio_transcription.model",
    ),
    (
        {"input_audio_transcription": {"model": "whisper-1", "phrase_list": [1]}},
        "invalid_value",
        "session.input_audio_transcription.phrase_list[0]",
    ),
    (
        {"input_audio_transcription": {"model": "whisper-1", "diarize": True}},
        "unknown_parameter",
        "session.input_audio_transcription.diarize",
    ),
    (
        {"output_audio_timestamp_types": ["sentence"]},
        "invalid_value",
        "session.output_audio_timestamp_types[0]",
    ),
    ({"animation": {"outputs": ["emotions"]}}, "invalid_value", "session.animation.outputs[0]"),
    ({"avatar": "lisa"}, "invalid_value", "session.avatar"),
    ({"include": ["usage"]}, "invalid_value", "session.include[0]"),
    ({"metadata": {str(i): "v" for i in range(17)}}, "invalid_value", "session.metadata"),
    ({"metadata": {LONG: "v"}}, "invalid_value", f"session.metadata.{LONG}"),
    ({"metadata": {"k": "v" * 513}}, "invalid_value", "session.metadata.k"),
    ({"metadata": {"k": 5}}, "invalid_value", "session.metadata.k"),
    ({"reasoning_effort": "max"}, "invalid_value", "session.reasoning_effort"),
    ({"parallel_tool_calls": "true"}, "invalid_value", "session.parallel_tool_calls"),
    # tools
    ({"tools": FN}, "invalid_value", "session.tools"),
    ({"tools": [{"type": "code_interpreter"}]}, "invalid_value", "session.tools[0].type"),
    ({"tools": [{"type": "function"}]}, "missing_required_parameter", "session.tools[0].name"),
    (
        {"tools": [{"type": "function", "name": "get weather"}]},
        "invalid_value",
        "session.tools[0].name",
    ),
    ({"tools": [{"type": "function", "name": "f" * 65}]}, "invalid_value", "session.tools[0].name"),
    (
        {"tools": [{"type": "function", "name": "f", "strict": True}]},
        "unknown_parameter",
        "session.tools[0].strict",
    ),
    (
        {"tools": [{"type": "function", "name": "f", "parameters": {"type": "array"}}]},
        "invalid_value",
        "session.tools[0].parameters.type",
    ),
    (
        {"tools": [{"type": "function", "name": "f", "description": 1}]},
        "invalid_value",
        "session.tools[0].description",
    ),
    ({"tools": [FN, FN]}, "invalid_value", "session.tools[1].name"),
    ({"tools": [MCP | {"server_url": "ftp://x"}]}, "invalid_value", "session.tools[0].server_url"),
    (
        {"tools": [MCP | {"server_label": "my docs"}]},
        "invalid_value",
        "session.tools[0].server_label",
    ),
    (
        {"tools": [{"type": "mcp", "server_label": "d"}]},
        "missing_required_parameter",
        "session.tools[0].server_url",
    ),
    (
        {"tools": [MCP | {"require_approval": "sometimes"}]},
        "invalid_value",
        "session.tools[0].require_approval",
    ),
    (
        {"tools": [MCP | {"require_approval": {"maybe": []}}]},
        "unknown_parameter",
        "session.tools[0].require_approval.maybe",
    ),
    (
        {"tools": [MCP | {"headers": {"X-Key": 1}}]},
        "invalid_value",
        "session.tools[0].headers.X-Key",
    ),
    (
        {"tools": [MCP | {"allowed_tools": "search"}]},
        "invalid_value",
        "session.tools[0].allowed_tools",
    ),
    ({"tool_choice": "any"}, "invalid_value", "session.tool_choice"),
    (
        {"tool_choice": {"type": "function", "name": "missing"}},
        "invalid_value",
        "session.tool_choice.name",
    ),
    ({"tool_choice": {"type": "mcp", "name": "x"}}, "invalid_value", "session.tool_choice.type"),
    # generation
    ({"temperature": 0.5}, "invalid_value", "session.temperature"),
    ({"temperature": 1.3}, "invalid_value", "session.temperature"),
    ({"temperature": "hot"}, "invalid_value", "session.temperature"),
    ({"temperature": True}, "invalid_value", "session.temperature"),
    ({"max_response_output_tokens": 0}, "invalid_value", "session.max_response_output_tokens"),
    ({"max_response_output_tokens": 4097}, "invalid_value", "session.max_response_output_tokens"),
    (
        {"max_response_output_tokens": "infinite"},
        "invalid_value",
        "session.max_response_output_tokens",
    ),
    ({"max_response_output_tokens": 1.5}, "invalid_value", "session.max_response_output_tokens"),
    ({"interim_response": {"type": "canned"}}, "invalid_value", "session.interim_response.type"),
    (
        {"interim_response": {"type": "static_interim_response"}},
        "missing_required_parameter",
        "session.interim_response.texts",
    ),
    (
        {"interim_response": {"type": "static_interim_response", "texts": []}},
        "invalid_value",
        "session.interim_response.texts",
    ),
    (
        {
            "interim_response": {
                "type": "static-interim-response",
                "texts": ["a"],
                "triggers": ["silence"],
            }
        },
        "invalid_value",
        "session.interim_response.triggers[0]",
    ),
    (
        {"interim_response": {"type": "llm_interim_response", "latency_threshold_ms": -1}},
        "invalid_value",
        "session.interim_response.latency_threshold_ms",
    ),
    (
        {"interim_response": {"type": "llm_interim_response", "max_completion_tokens": 0}},
        "invalid_value",
        "session.interim_response.max_completion_tokens",
    ),
    (
        {"interim_response": {"type": "llm_interim_response", "texts": ["a"]}},
        "unknown_parameter",
        "session.interim_response.texts",
    ),
    ({"tools": None}, "invalid_value", "session.tools"),
    ({"temperature": None}, "invalid_value", "session.temperature"),
]


@pytest.mark.parametrize(("patch", "code", "param"), REJECTED, ids=[c[2] for c in REJECTED])
def test_rejected_update(patch: Any, code: str, param: str) -> None:
    assert_rejected(lambda: update(patch), code, param)


# -- session.update: merge semantics (asked for; replace is the default) ---------------------


@pytest.mark.parametrize(
    "key",
    [
        "turn_detection",
        "input_audio_noise_reduction",
        "input_audio_echo_cancellation",
        "input_audio_transcription",
        "animation",
        "avatar",
        "interim_response",
    ],
)
def test_null_clears_nullable_key(key: str) -> None:
    assert update({key: None})[key] is None


def test_only_present_keys_change_and_current_is_not_mutated() -> None:
    before = copy.deepcopy(BASE)
    merged = merge({"instructions": "hi"})
    assert merged["instructions"] == "hi"
    assert {k: v for k, v in merged.items() if k != "instructions"} == {
        k: v for k, v in BASE.items() if k != "instructions"
    }
    merged["turn_detection"]["threshold"] = 0.9
    assert before == BASE


def test_rejected_update_is_all_or_nothing() -> None:
    before = copy.deepcopy(BASE)
    assert_rejected(
        lambda: update({"instructions": "hi", "voice": {"type": "nope"}}),
        "invalid_value",
        "session.voice.type",
    )
    assert before == BASE


def test_turn_detection_is_replaced_and_defaults_filled() -> None:
    azure = update({"turn_detection": {"type": "azure_semantic_vad", "remove_filler_words": True}})
    assert azure["turn_detection"] == {
        "type": "azure_semantic_vad",
        "threshold": 0.5,
        "prefix_padding_ms": 420,
        "silence_duration_ms": 500,
        "speech_duration_ms": 80,
        "remove_filler_words": True,
        "create_response": True,
        "interrupt_response": True,
        "auto_truncate": False,
    }
    server = update({"turn_detection": {"type": "server_vad", "silence_duration_ms": 800}}, azure)
    assert "remove_filler_words" not in server["turn_detection"]
    assert server["turn_detection"]["silence_duration_ms"] == 800
    assert server["turn_detection"]["prefix_padding_ms"] == 400
    legacy = update({"turn_detection": {"type": "server_vad"}}, api_version="2025-10-01")
    assert legacy["turn_detection"]["prefix_padding_ms"] == 300


def test_instructions_rejected_in_agent_mode() -> None:
    agent_session = default_session(
        session_id="s", model=None, api_version=None, agent=AGENT, now=0
    )
    assert_rejected(
        lambda: update({"instructions": "x"}, agent_mode=True),
        "invalid_value",
        "session.instructions",
    )
    assert_rejected(
        lambda: update({"instructions": "x"}, agent_session),
        "invalid_value",
        "session.instructions",
    )
    assert update({"voice": "echo"}, agent_session)["voice"] == "echo"


@pytest.mark.parametrize(
    ("patch", "param"),
    [
        ({"input_audio_format": "g711_ulaw"}, "session.input_audio_format"),
        ({"input_audio_sampling_rate": 16000}, "session.input_audio_sampling_rate"),
    ],
)
def test_input_format_frozen_after_audio(patch: dict[str, Any], param: str) -> None:
    assert_rejected(lambda: update(patch, audio_received=True), "invalid_value", param)
    same = {"input_audio_format": "pcm16", "input_audio_sampling_rate": 24000}
    assert update(same, audio_received=True)["input_audio_sampling_rate"] == 24000


def test_sampling_rate_checked_on_merged_session() -> None:
    g711 = merge({"input_audio_format": "g711_alaw"})
    assert g711["input_audio_sampling_rate"] == 8000
    assert_rejected(
        lambda: merge({"input_audio_sampling_rate": 16000}, g711),
        "invalid_value",
        "session.input_audio_sampling_rate",
    )
    both = merge({"input_audio_format": "pcm16", "input_audio_sampling_rate": 16000}, g711)
    assert (both["input_audio_format"], both["input_audio_sampling_rate"]) == ("pcm16", 16000)
    assert merge({"input_audio_format": "pcm16"}, g711)["input_audio_sampling_rate"] == 24000


@pytest.mark.parametrize(
    ("model", "temperature", "ok"),
    [
        ("gpt-4.1", 1.8, True),
        ("gpt-4.1", 0.1, True),
        ("gpt-4.1", 2.5, False),
        (None, 0.5, True),  # an agent: its model decides; the wide range applies
        (None, 0.7, True),
    ],
)
def test_temperature_range_depends_on_model(
    model: str | None, temperature: float, ok: bool
) -> None:
    current = default_session(session_id="s", model=model, api_version=None, now=0)
    if ok:
        assert update({"temperature": temperature}, current)["temperature"] == temperature
    else:
        assert_rejected(
            lambda: update({"temperature": temperature}, current),
            "invalid_value",
            "session.temperature",
        )


def test_updated_session_still_deserializes() -> None:
    merged = update(
        {
            "turn_detection": {"type": "azure_semantic_vad_multilingual"},
            "tools": [FN, MCP],
            "voice": {"type": "azure-standard", "name": "en-US-AvaNeural"},
        }
    )
    event = deserialize({"type": "session.updated", "event_id": "e", "session": merged})
    assert event.session.turn_detection.type == "azure_semantic_vad_multilingual"
    assert event.session.tools[1].server_label == "docs"


# -- response.create -----------------------------------------------------------------------------

TOOLED = update({"tools": [FN]})
ASSISTANT_TEXT = {
    "type": "message",
    "role": "assistant",
    "content": [{"type": "text", "text": "Hello!"}],
}


def respond(params: Any, session: dict[str, Any] = TOOLED, **kw: Any) -> dict[str, Any]:
    return validate_response_params(params, session, **kw)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (None, {}),
        ({}, {}),
        ({"instructions": None, "modalities": ["text"]}, {"modalities": ["text"]}),
        (
            {
                "voice": "coral",
                "temperature": 0.9,
                "max_output_tokens": "inf",
                "conversation": "none",
            },
            {
                "voice": "coral",
                "temperature": 0.9,
                "max_output_tokens": "inf",
                "conversation": "none",
            },
        ),
        (
            {"tool_choice": {"type": "function", "name": "get_weather"}},
            {"tool_choice": {"type": "function", "name": "get_weather"}},
        ),
        (
            {"commit": True, "cancel_previous": False, "invoke_input": {"a": [1]}},
            {"commit": True, "cancel_previous": False, "invoke_input": {"a": [1]}},
        ),
        (
            {"pre_generated_assistant_message": ASSISTANT_TEXT},
            {"pre_generated_assistant_message": ASSISTANT_TEXT},
        ),
        (
            {
                "input_items": [
                    {
                        "type": "message",
                        "role": "user",
                        "content": [{"type": "input_text", "text": "hi"}],
                    }
                ]
            },
            {
                "input_items": [
                    {
                        "type": "message",
                        "role": "user",
                        "content": [{"type": "input_text", "text": "hi"}],
                    }
                ]
            },
        ),
    ],
)
def test_accepted_response_params(params: Any, expected: dict[str, Any]) -> None:
    assert respond(params) == expected


def _pregen(**changes: Any) -> dict[str, Any]:
    return {"pre_generated_assistant_message": ASSISTANT_TEXT | changes}


RESPONSE_REJECTED: list[tuple[Any, str, str]] = [
    ("go", "invalid_value", "response"),
    ({"speed": 2}, "unknown_parameter", "response.speed"),
    ({"voice": {"type": "robot"}}, "invalid_value", "response.voice.type"),
    ({"modalities": ["audio"]}, "invalid_value", "response.modalities"),
    ({"output_audio_format": "wav"}, "invalid_value", "response.output_audio_format"),
    ({"temperature": 0.1}, "invalid_value", "response.temperature"),
    ({"max_output_tokens": 0}, "invalid_value", "response.max_output_tokens"),
    ({"max_response_output_tokens": 5000}, "invalid_value", "response.max_response_output_tokens"),
    ({"conversation": "new"}, "invalid_value", "response.conversation"),
    ({"commit": "yes"}, "invalid_value", "response.commit"),
    ({"invoke_input": []}, "invalid_value", "response.invoke_input"),
    ({"metadata": {"k": 1}}, "invalid_value", "response.metadata.k"),
    ({"reasoning_effort": "huge"}, "invalid_value", "response.reasoning_effort"),
    (
        {"interim_response": {"type": "static_interim_response"}},
        "missing_required_parameter",
        "response.interim_response.texts",
    ),
    ({"tools": [FN, FN]}, "invalid_value", "response.tools[1].name"),
    (
        {"tool_choice": {"type": "function", "name": "lookup"}},
        "invalid_value",
        "response.tool_choice.name",
    ),
    (
        {"tools": [], "tool_choice": {"type": "function", "name": "get_weather"}},
        "invalid_value",
        "response.tool_choice.name",
    ),
    (
        {"input_items": [{"type": "message", "role": "bot", "content": []}]},
        "invalid_value",
        "response.input_items[0].role",
    ),
    ({"append_input_items": "x"}, "invalid_value", "response.append_input_items"),
    (_pregen(role="user"), "invalid_value", "response.pre_generated_assistant_message.role"),
    (
        _pregen(type="function_call"),
        "invalid_value",
        "response.pre_generated_assistant_message.type",
    ),
    (
        _pregen(content=[{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]),
        "invalid_value",
        "response.pre_generated_assistant_message.content",
    ),
    (
        _pregen(content=[{"type": "audio", "transcript": "a"}]),
        "invalid_value",
        "response.pre_generated_assistant_message.content[0].type",
    ),
    (
        _pregen(content=[{"type": "output_text", "text": "  "}]),
        "invalid_value",
        "response.pre_generated_assistant_message.content[0].text",
    ),
]


@pytest.mark.parametrize(
    ("params", "code", "param"), RESPONSE_REJECTED, ids=[c[2] for c in RESPONSE_REJECTED]
)
def test_rejected_response_params(params: Any, code: str, param: str) -> None:
    assert_rejected(lambda: respond(params), code, param)


def test_response_tool_choice_targets() -> None:
    lookup = {"tool_choice": {"type": "function", "name": "lookup"}}
    assert respond(lookup, tool_names={"lookup"}) == lookup
    own_tools = {"tools": [FN | {"name": "lookup"}], **lookup}
    assert respond(own_tools, BASE)["tools"][0]["name"] == "lookup"


def test_response_instructions_rejected_for_agent() -> None:
    agent_session = default_session(
        session_id="s", model=None, api_version=None, agent=AGENT, now=0
    )
    assert_rejected(
        lambda: respond({"instructions": "x"}, agent_session),
        "invalid_value",
        "response.instructions",
    )
