"""``videosdk_plugins_azure.config``: validation, and the wire JSON ``build_session`` produces.

Assertions are on ``RequestSession.as_dict()`` because that is exactly what the SDK
puts in ``session.update`` (only declared fields plus item-assigned keys survive, and
explicit ``None`` becomes ``null``). Representative sessions are also applied to the
emulator's ``session.update`` rules, which mirror what the service accepts.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
from azure.ai.voicelive import models as vl

from videosdk_plugins_azure.config import (
    DEFAULT_VOICE,
    OPENAI_VOICES,
    OUTPUT_RATES,
    REALTIME_NATIVE_VOICES,
    AzureVoiceLiveConfig,
    EndOfUtterance,
    TurnDetection,
    build_session,
    is_gpt_realtime_model,
    output_format_for_rate,
    resolve_transcription_model,
    resolve_voice_type,
    temperature_range,
)
from videosdk_plugins_azure.emulator._errors import ProtocolError
from videosdk_plugins_azure.emulator._session import apply_session_update, default_session

WEATHER_TOOL = vl.FunctionTool(
    name="get_weather",
    description="Weather for a city",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}},
)


def wire(
    config: AzureVoiceLiveConfig | None = None,
    *,
    model: str | None = "gpt-realtime",
    instructions: str | None = "Be brief.",
    tools: tuple[Any, ...] = (),
    input_rate: int = 24000,
    output_format: str | None = None,
    agent_mode: bool = False,
) -> dict[str, Any]:
    """The ``session`` JSON for ``config`` (default config when omitted)."""
    session = build_session(
        config or AzureVoiceLiveConfig(),
        model=model,
        instructions=instructions,
        tools=tools,
        input_rate=input_rate,
        output_format=output_format,
        agent_mode=agent_mode,
    )
    return session.as_dict()


def emulate(
    session: dict[str, Any], *, model: str | None, agent_mode: bool = False
) -> dict[str, Any]:
    """Apply ``session`` to a fresh emulator session; raises ``ProtocolError`` if rejected."""
    current = default_session(
        session_id="sess_test",
        model=model,
        api_version=None,
        agent={"name": "helper-agent"} if agent_mode else None,
        now=0.0,
    )
    return apply_session_update(current, session, audio_received=False, agent_mode=agent_mode)


# -- defaults ----------------------------------------------------------------------------


def test_default_session_is_complete_and_minimal() -> None:
    assert wire() == {
        "modalities": ["text", "audio"],
        "voice": {"type": "azure-standard", "name": DEFAULT_VOICE},
        "instructions": "Be brief.",
        "input_audio_format": "pcm16",
        "input_audio_sampling_rate": 24000,
        "output_audio_format": "pcm16",
        "turn_detection": {
            "type": "azure_semantic_vad",
            "create_response": True,
            "interrupt_response": True,
            "auto_truncate": False,
        },
        "input_audio_noise_reduction": {"type": "azure_deep_noise_suppression"},
        "input_audio_echo_cancellation": {"type": "server_echo_cancellation"},
        "input_audio_transcription": {"model": "whisper-1"},
    }


def test_build_session_returns_typed_sdk_models() -> None:
    session = build_session(
        AzureVoiceLiveConfig(), model="gpt-realtime", instructions=None, input_rate=24000
    )
    assert isinstance(session, vl.RequestSession)
    assert isinstance(session.voice, vl.AzureStandardVoice)
    assert isinstance(session.turn_detection, vl.AzureSemanticVad)
    assert isinstance(session.input_audio_noise_reduction, vl.AudioNoiseReduction)
    assert isinstance(session.input_audio_echo_cancellation, vl.AudioEchoCancellation)
    assert isinstance(session.input_audio_transcription, vl.AudioInputTranscriptionOptions)


def test_session_update_event_keeps_explicit_nulls() -> None:
    """What the SDK actually sends: nulls survive inside ``ClientEventSessionUpdate``."""
    config = AzureVoiceLiveConfig(turn_detection=None, noise_reduction=None)
    session = build_session(config, model="gpt-realtime", instructions=None, input_rate=24000)
    event = vl.ClientEventSessionUpdate(session=session).as_dict()
    assert event["session"]["turn_detection"] is None
    assert event["session"]["input_audio_noise_reduction"] is None


def test_config_is_frozen_and_freezes_sequences() -> None:
    config = AzureVoiceLiveConfig(
        modalities=["text", "audio"],
        voice_prefer_locales=["en-GB"],
        input_transcription_phrases=["Contoso"],
        turn_detection=TurnDetection(languages=["en", "fr"]),
    )
    assert config.modalities == ("text", "audio")
    assert config.voice_prefer_locales == ("en-GB",)
    assert config.input_transcription_phrases == ("Contoso",)
    assert isinstance(config.turn_detection, TurnDetection)
    assert config.turn_detection.languages == ("en", "fr")
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.voice = "alloy"  # type: ignore[misc]


# -- voices ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(OPENAI_VOICES))
def test_openai_voice_names_map_to_openai(name: str) -> None:
    config = AzureVoiceLiveConfig(voice=name)
    assert config.voice_kind == "openai"
    assert wire(config)["voice"] == {"type": "openai", "name": name}


@pytest.mark.parametrize(
    ("voice", "voice_type"),
    [
        ("en-US-AvaNeural", None),
        ("en-US-Ava:DragonHDLatestNeural", None),
        ("Ava", "azure-standard"),
        ("Ava", None),  # no dash, still never guessed to be anything else
        ("ava", None),  # a realtime-native name needs an explicit voice_type
        ("alloy", "azure-standard"),  # explicit voice_type wins over the OpenAI set
    ],
)
def test_azure_standard_voice_names(voice: str, voice_type: Any) -> None:
    config = AzureVoiceLiveConfig(voice=voice, voice_type=voice_type)
    assert config.voice_kind == "azure-standard"
    assert wire(config)["voice"] == {"type": "azure-standard", "name": voice}


def test_explicit_openai_voice_type() -> None:
    config = AzureVoiceLiveConfig(voice="marin", voice_type="openai")
    assert wire(config)["voice"] == {"type": "openai", "name": "marin"}


def test_azure_standard_voice_options() -> None:
    config = AzureVoiceLiveConfig(
        voice="en-US-Ava:DragonHDLatestNeural",
        voice_temperature=0.8,
        voice_rate="1.1",
        voice_pitch="+5%",
        voice_volume="loud",
        voice_style="cheerful",
        voice_locale="en-US",
        voice_prefer_locales=["en-GB", "es-ES"],
        voice_custom_lexicon_url="https://example.com/lexicon.xml",
    )
    assert wire(config)["voice"] == {
        "type": "azure-standard",
        "name": "en-US-Ava:DragonHDLatestNeural",
        "temperature": 0.8,
        "rate": "1.1",
        "pitch": "+5%",
        "volume": "loud",
        "style": "cheerful",
        "locale": "en-US",
        "prefer_locales": ["en-GB", "es-ES"],
        "custom_lexicon_url": "https://example.com/lexicon.xml",
    }


@pytest.mark.parametrize("rate", ["0.5", "1.5", "+10%", "-20%", "fast", "x-slow"])
def test_prosody_rate_accepts_keywords_percentages_and_multipliers(rate: str) -> None:
    config = AzureVoiceLiveConfig(voice="en-US-AvaNeural", voice_rate=rate)
    assert wire(config)["voice"]["rate"] == rate


def test_custom_voice_from_endpoint_id() -> None:
    config = AzureVoiceLiveConfig(
        voice="my-brand-voice", voice_endpoint_id="0000-endpoint", voice_style="calm"
    )
    assert config.voice_kind == "azure-custom"
    assert wire(config)["voice"] == {
        "type": "azure-custom",
        "name": "my-brand-voice",
        "endpoint_id": "0000-endpoint",
        "style": "calm",
    }


def test_personal_voice_from_model() -> None:
    config = AzureVoiceLiveConfig(
        voice="speaker-profile-id", voice_model="DragonLatestNeural", voice_temperature=0.3
    )
    assert config.voice_kind == "azure-personal"
    assert wire(config)["voice"] == {
        "type": "azure-personal",
        "name": "speaker-profile-id",
        "model": "DragonLatestNeural",
        "temperature": 0.3,
    }


@pytest.mark.parametrize("name", sorted(REALTIME_NATIVE_VOICES))
def test_realtime_native_voice(name: str) -> None:
    config = AzureVoiceLiveConfig(voice=name, voice_type="azure-realtime-native")
    assert wire(config, model="azure-realtime")["voice"] == {
        "type": "azure-realtime-native",
        "name": name,
    }


@pytest.mark.parametrize(
    "voice",
    [
        vl.OpenAIVoice(name="coral"),
        vl.AzureStandardVoice(
            name="en-US-JennyNeural", rate="1.2", custom_text_normalization_url="https://x"
        ),
        vl.AzureCustomVoice(name="brand", endpoint_id="ep"),
        vl.AzurePersonalVoice(name="spk", model="PhoenixLatestNeural"),
        vl.AzureRealtimeNativeVoice(name="andrew"),
        vl.AzureAvatarVoiceSyncVoice(model="DragonLatestNeural"),
    ],
    ids=lambda voice: voice["type"],
)
def test_sdk_voice_objects_pass_through(voice: Any) -> None:
    expected = voice.as_dict()
    config = AzureVoiceLiveConfig(voice=voice)
    assert config.voice_kind is None
    assert config.voice is voice
    assert wire(config)["voice"] == expected


def test_openai_voice_name_enum_passes_through_as_plain_string() -> None:
    config = AzureVoiceLiveConfig(voice=vl.OpenAIVoiceName.SHIMMER)
    assert config.voice_kind is None
    assert wire(config)["voice"] == "shimmer"


@pytest.mark.parametrize(
    ("voice", "voice_type", "endpoint_id", "model", "expected"),
    [
        ("alloy", None, None, None, "openai"),
        ("Alloy", None, None, None, "azure-standard"),
        ("en-US-AvaNeural", None, None, None, "azure-standard"),
        ("x", None, "ep", None, "azure-custom"),
        ("x", None, None, "DragonLatestNeural", "azure-personal"),
        ("ava", "azure-realtime-native", None, None, "azure-realtime-native"),
        (vl.OpenAIVoiceName.ALLOY, None, None, None, None),
    ],
)
def test_resolve_voice_type(
    voice: Any,
    voice_type: str | None,
    endpoint_id: str | None,
    model: str | None,
    expected: str | None,
) -> None:
    assert resolve_voice_type(voice, voice_type, endpoint_id=endpoint_id, model=model) == expected


def test_text_only_drops_the_voice() -> None:
    config = AzureVoiceLiveConfig(voice="alloy", modalities=["text"])
    session = wire(config)
    assert session["modalities"] == ["text"]
    assert "voice" not in session


def test_modalities_order_is_kept() -> None:
    assert wire(AzureVoiceLiveConfig(modalities=("audio", "text")))["modalities"] == [
        "audio",
        "text",
    ]


# -- turn detection --------------------------------------------------------------------

ALL_VAD_FIELDS: dict[str, Any] = {
    "threshold": 0.42,
    "prefix_padding_ms": 300,
    "silence_duration_ms": 650,
    "create_response": False,
    "interrupt_response": True,
    "auto_truncate": True,
}
AZURE_VAD_FIELDS: dict[str, Any] = {"speech_duration_ms": 120, "remove_filler_words": True}


@pytest.mark.parametrize(
    ("kind", "extra"),
    [
        ("server_vad", {}),
        ("azure_semantic_vad", {**AZURE_VAD_FIELDS, "languages": ["en", "es"]}),
        ("azure_semantic_vad_en", AZURE_VAD_FIELDS),
        ("azure_semantic_vad_multilingual", {**AZURE_VAD_FIELDS, "languages": ["de", "fr"]}),
    ],
)
def test_turn_detection_types_with_every_field(kind: Any, extra: dict[str, Any]) -> None:
    detection = TurnDetection(
        kind,
        end_of_utterance=EndOfUtterance(
            "semantic_detection_v1_multilingual", threshold_level="high", timeout_ms=1500
        ),
        **ALL_VAD_FIELDS,
        **extra,
    )
    assert wire(AzureVoiceLiveConfig(turn_detection=detection))["turn_detection"] == {
        "type": kind,
        **ALL_VAD_FIELDS,
        **extra,
        "end_of_utterance_detection": {
            "model": "semantic_detection_v1_multilingual",
            "threshold_level": "high",
            "timeout_ms": 1500,
        },
    }


@pytest.mark.parametrize(
    ("kind", "sdk_class"),
    [
        ("server_vad", vl.ServerVad),
        ("azure_semantic_vad", vl.AzureSemanticVad),
        ("azure_semantic_vad_en", vl.AzureSemanticVadEn),
        ("azure_semantic_vad_multilingual", vl.AzureSemanticVadMultilingual),
    ],
)
def test_turn_detection_uses_the_sdk_class(kind: Any, sdk_class: type[Any]) -> None:
    assert isinstance(TurnDetection(kind).to_sdk(), sdk_class)


@pytest.mark.parametrize(
    ("model", "sdk_class"),
    [
        ("semantic_detection_v1", vl.AzureSemanticDetection),
        ("semantic_detection_v1_en", vl.AzureSemanticDetectionEn),
        ("semantic_detection_v1_multilingual", vl.AzureSemanticDetectionMultilingual),
    ],
)
def test_end_of_utterance_models(model: Any, sdk_class: type[Any]) -> None:
    eou = EndOfUtterance(model)
    assert isinstance(eou.to_sdk(), sdk_class)
    detection = TurnDetection(end_of_utterance=eou)
    assert wire(AzureVoiceLiveConfig(turn_detection=detection))["turn_detection"][
        "end_of_utterance_detection"
    ] == {"model": model, "threshold_level": "default"}


def test_manual_turns_send_explicit_null() -> None:
    session = wire(AzureVoiceLiveConfig(turn_detection=None))
    assert "turn_detection" in session
    assert session["turn_detection"] is None


def test_sdk_turn_detection_passes_through() -> None:
    detection = vl.ServerVad(threshold=0.3, silence_duration_ms=800)
    config = AzureVoiceLiveConfig(turn_detection=detection)
    assert config.turn_detection is detection
    assert wire(config)["turn_detection"] == {
        "type": "server_vad",
        "threshold": 0.3,
        "silence_duration_ms": 800,
    }


# -- audio processing ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["azure_deep_noise_suppression", "near_field", "far_field"])
def test_noise_reduction_types(kind: Any) -> None:
    session = wire(AzureVoiceLiveConfig(noise_reduction=kind))
    assert session["input_audio_noise_reduction"] == {"type": kind}


def test_noise_reduction_and_echo_cancellation_off_send_null() -> None:
    session = wire(AzureVoiceLiveConfig(noise_reduction=None, echo_cancellation=False))
    assert session["input_audio_noise_reduction"] is None
    assert session["input_audio_echo_cancellation"] is None


def test_echo_cancellation_on() -> None:
    session = wire(AzureVoiceLiveConfig(echo_cancellation=True))
    assert session["input_audio_echo_cancellation"] == {"type": "server_echo_cancellation"}


# -- input transcription ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-realtime", "whisper-1"),
        ("gpt-realtime-mini", "whisper-1"),
        ("gpt-4o-realtime-preview", "whisper-1"),
        ("gpt-4o-mini-realtime-preview", "whisper-1"),
        ("GPT-Realtime", "whisper-1"),
        ("gpt-4.1", "azure-speech"),
        ("gpt-4.1-mini", "azure-speech"),
        ("gpt-5", "azure-speech"),
        ("phi4-mm-realtime", "azure-speech"),
        ("azure-realtime", "azure-speech"),
        (None, "azure-speech"),
    ],
)
def test_transcription_default_per_model_family(model: str | None, expected: str) -> None:
    config = AzureVoiceLiveConfig()
    assert resolve_transcription_model(config, model) == expected
    assert wire(config, model=model)["input_audio_transcription"] == {"model": expected}


def test_explicit_transcription_model_wins() -> None:
    config = AzureVoiceLiveConfig(input_transcription_model="gpt-4o-transcribe")
    assert resolve_transcription_model(config, "gpt-4.1") == "gpt-4o-transcribe"
    assert wire(config, model="gpt-4.1")["input_audio_transcription"] == {
        "model": "gpt-4o-transcribe"
    }


def test_transcription_disabled_sends_null() -> None:
    config = AzureVoiceLiveConfig(input_transcription_model=None)
    assert resolve_transcription_model(config, "gpt-realtime") is None
    session = wire(config)
    assert "input_audio_transcription" in session
    assert session["input_audio_transcription"] is None


def test_transcription_language_phrases_and_prompt() -> None:
    config = AzureVoiceLiveConfig(
        input_transcription_model="azure-speech",
        input_transcription_language="en-US,fr-FR",
        input_transcription_phrases=["Contoso", "Voice Live"],
        input_transcription_prompt="Product names: Contoso.",
    )
    assert wire(config)["input_audio_transcription"] == {
        "model": "azure-speech",
        "language": "en-US,fr-FR",
        "phrase_list": ["Contoso", "Voice Live"],
        "prompt": "Product names: Contoso.",
    }


# -- output extras ---------------------------------------------------------------------


def test_word_timestamps_and_visemes() -> None:
    session = wire(AzureVoiceLiveConfig(word_timestamps=True, visemes=True))
    assert session["output_audio_timestamp_types"] == ["word"]
    assert session["animation"] == {"outputs": ["viseme_id"]}


def test_word_timestamps_and_visemes_off_are_not_sent() -> None:
    session = wire()
    assert "output_audio_timestamp_types" not in session
    assert "animation" not in session


# -- generation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "temperature", "ok"),
    [
        ("gpt-realtime", 0.6, True),
        ("gpt-realtime", 1.2, True),
        ("gpt-realtime", 0.5, False),
        ("gpt-4o-realtime-preview", 1.3, False),
        ("gpt-4.1", 0.0, True),
        ("gpt-4.1", 0.3, True),
        ("gpt-5", 2.0, True),
        (None, 0.2, True),
    ],
)
def test_temperature_range_per_model_family(
    model: str | None, temperature: float, ok: bool
) -> None:
    config = AzureVoiceLiveConfig(temperature=temperature)
    if ok:
        assert wire(config, model=model)["temperature"] == temperature
    else:
        with pytest.raises(ValueError, match=r"^temperature must be between 0\.6 and 1\.2"):
            wire(config, model=model)


def test_model_family_helpers() -> None:
    assert is_gpt_realtime_model("gpt-realtime-2025-08-28")
    assert not is_gpt_realtime_model("gpt-4.1")
    assert not is_gpt_realtime_model(None)
    assert temperature_range("gpt-realtime") == (0.6, 1.2)
    assert temperature_range("gpt-4.1") == (0.0, 2.0)


@pytest.mark.parametrize("tokens", [1, 512, 4096, "inf"])
def test_max_response_output_tokens(tokens: Any) -> None:
    assert (
        wire(AzureVoiceLiveConfig(max_response_output_tokens=tokens))["max_response_output_tokens"]
        == tokens
    )


@pytest.mark.parametrize("choice", ["auto", "none", "required"])
def test_tool_choice_literals(choice: str) -> None:
    assert wire(AzureVoiceLiveConfig(tool_choice=choice))["tool_choice"] == choice


def test_tool_choice_function_name() -> None:
    session = wire(AzureVoiceLiveConfig(tool_choice="get_weather"), tools=(WEATHER_TOOL,))
    assert session["tool_choice"] == {"type": "function", "name": "get_weather"}
    assert session["tools"] == [WEATHER_TOOL.as_dict()]


def test_tool_choice_function_must_be_among_tools() -> None:
    with pytest.raises(ValueError, match=r"^tool_choice names function 'lookup'"):
        wire(AzureVoiceLiveConfig(tool_choice="lookup"), tools=(WEATHER_TOOL,))


def test_tools_and_generation_options() -> None:
    mcp = vl.MCPServer(server_label="docs", server_url="https://mcp.example.com")
    config = AzureVoiceLiveConfig(
        parallel_tool_calls=False, reasoning_effort="low", temperature=0.9
    )
    session = wire(config, tools=(WEATHER_TOOL, mcp))
    assert session["tools"] == [WEATHER_TOOL.as_dict(), mcp.as_dict()]
    assert session["parallel_tool_calls"] is False
    assert session["reasoning_effort"] == "low"
    assert session["temperature"] == 0.9


def test_unset_generation_options_are_not_sent() -> None:
    session = wire()
    for key in (
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "temperature",
        "max_response_output_tokens",
        "reasoning_effort",
        "interim_response",
    ):
        assert key not in session


@pytest.mark.parametrize(
    "interim",
    [
        {"type": "static_interim_response", "texts": ["One moment."], "triggers": ["tool"]},
        vl.StaticInterimResponseConfig(texts=["Let me check."]),
    ],
)
def test_interim_response_passes_through(interim: Any) -> None:
    expected = interim.as_dict() if isinstance(interim, vl.StaticInterimResponseConfig) else interim
    assert wire(AzureVoiceLiveConfig(interim_response=interim))["interim_response"] == expected


# -- connection facts ------------------------------------------------------------------


def test_instructions_sent_unless_agent_mode() -> None:
    assert wire(instructions="Hello")["instructions"] == "Hello"
    assert "instructions" not in wire(instructions=None)
    assert "instructions" not in wire(instructions="Hello", agent_mode=True, model=None)


@pytest.mark.parametrize("rate", [8000, 16000, 24000])
def test_input_rates(rate: int) -> None:
    session = wire(input_rate=rate)
    assert session["input_audio_sampling_rate"] == rate
    assert session["input_audio_format"] == "pcm16"


@pytest.mark.parametrize("rate", [44100, 48000, 22050, 0, True])
def test_unsupported_input_rate(rate: Any) -> None:
    with pytest.raises(ValueError, match=r"^input_rate must be one of 8000, 16000, 24000"):
        wire(input_rate=rate)


@pytest.mark.parametrize(
    ("configured", "leg", "expected"),
    [
        (None, None, "pcm16"),
        (None, "pcm16_8000hz", "pcm16_8000hz"),
        (None, "pcm16_16000hz", "pcm16_16000hz"),
        ("pcm16", "pcm16_8000hz", "pcm16"),
        ("pcm16_16000hz", None, "pcm16_16000hz"),
    ],
)
def test_output_format_selection(configured: Any, leg: str | None, expected: str) -> None:
    config = AzureVoiceLiveConfig(output_audio_format=configured)
    assert wire(config, output_format=leg)["output_audio_format"] == expected


def test_unknown_output_format_argument() -> None:
    with pytest.raises(ValueError, match=r"^output_format must be one of"):
        wire(output_format="mp3")


@pytest.mark.parametrize(
    ("rate", "expected"),
    [(8000, "pcm16_8000hz"), (16000, "pcm16_16000hz"), (24000, "pcm16"), (48000, "pcm16")],
)
def test_output_format_for_rate(rate: int, expected: str) -> None:
    assert output_format_for_rate(rate) == expected
    assert OUTPUT_RATES[expected] == (rate if rate != 48000 else 24000)


def test_output_rates_table() -> None:
    assert dict(OUTPUT_RATES) == {"pcm16": 24000, "pcm16_8000hz": 8000, "pcm16_16000hz": 16000}


# -- extra_session ---------------------------------------------------------------------


def test_extra_session_is_merged_last() -> None:
    config = AzureVoiceLiveConfig(
        turn_detection=None,
        temperature=0.8,
        extra_session={
            "include": ["item.input_audio_transcription.logprobs"],
            "metadata": {"room": "r1"},
            "turn_detection": {"type": "semantic_vad", "eagerness": "low"},
            "temperature": 1.0,
            "input_audio_echo_cancellation": None,
        },
    )
    session = wire(config)
    assert session["include"] == ["item.input_audio_transcription.logprobs"]
    assert session["metadata"] == {"room": "r1"}
    assert session["turn_detection"] == {"type": "semantic_vad", "eagerness": "low"}
    assert session["temperature"] == 1.0
    assert session["input_audio_echo_cancellation"] is None


def test_extra_session_can_add_undeclared_keys() -> None:
    session = wire(AzureVoiceLiveConfig(extra_session={"future_feature": {"on": True}}))
    assert session["future_feature"] == {"on": True}


def test_extra_session_is_copied() -> None:
    raw: dict[str, Any] = {"metadata": {"a": "b"}}
    config = AzureVoiceLiveConfig(extra_session=raw)
    raw["include"] = ["file_search_call.results"]
    assert "include" not in wire(config)


# -- validation errors -----------------------------------------------------------------

ERROR_CASES: list[tuple[str, dict[str, Any], str]] = [
    # (name, config kwargs, expected message start)
    ("voice empty", {"voice": ""}, "voice must be"),
    ("voice type", {"voice": 42}, "voice must be a voice name or an SDK voice object"),
    ("voice dict", {"voice": {"type": "openai", "name": "alloy"}}, "voice must be a voice name"),
    ("voice_type unknown", {"voice": "x", "voice_type": "robot"}, "voice_type must be one of"),
    ("openai name", {"voice": "nova", "voice_type": "openai"}, "voice 'nova' is not a openai"),
    (
        "native name",
        {"voice": "en-US-AvaNeural", "voice_type": "azure-realtime-native"},
        "voice 'en-US-AvaNeural' is not a azure-realtime-native",
    ),
    ("openai + temperature", {"voice": "alloy", "voice_temperature": 0.5}, "voice_temperature"),
    ("openai + rate", {"voice": "echo", "voice_rate": "1.1"}, "voice_rate is only supported"),
    ("openai + pitch", {"voice": "echo", "voice_pitch": "+1%"}, "voice_pitch is only supported"),
    ("openai + volume", {"voice": "echo", "voice_volume": "loud"}, "voice_volume"),
    ("openai + style", {"voice": "echo", "voice_style": "calm"}, "voice_style"),
    ("openai + locale", {"voice": "echo", "voice_locale": "en-US"}, "voice_locale"),
    ("openai + prefer", {"voice": "echo", "voice_prefer_locales": ["en"]}, "voice_prefer_locales"),
    (
        "openai + lexicon",
        {"voice": "echo", "voice_custom_lexicon_url": "u"},
        "voice_custom_lexicon",
    ),
    ("openai + endpoint", {"voice": "echo", "voice_endpoint_id": "e"}, "voice_endpoint_id"),
    ("openai + model", {"voice": "echo", "voice_model": "DragonLatestNeural"}, "voice_model"),
    (
        "native + style",
        {"voice": "ava", "voice_type": "azure-realtime-native", "voice_style": "calm"},
        "voice_style is only supported by Azure voices",
    ),
    (
        "custom without endpoint",
        {"voice": "x", "voice_type": "azure-custom"},
        "voice_endpoint_id is required",
    ),
    (
        "personal without model",
        {"voice": "x", "voice_type": "azure-personal"},
        "voice_model is required",
    ),
    (
        "endpoint on standard",
        {"voice": "x", "voice_type": "azure-standard", "voice_endpoint_id": "e"},
        "voice_endpoint_id is only supported for azure-custom",
    ),
    (
        "endpoint and model",
        {"voice": "x", "voice_endpoint_id": "e", "voice_model": "DragonLatestNeural"},
        "voice_model is only supported for azure-personal",
    ),
    ("endpoint empty", {"voice": "x", "voice_endpoint_id": " "}, "voice_endpoint_id must be"),
    ("voice temp high", {"voice": "x", "voice_temperature": 1.5}, "voice_temperature must be"),
    ("voice temp bool", {"voice": "x", "voice_temperature": True}, "voice_temperature must be"),
    ("voice rate low", {"voice": "x", "voice_rate": "0.2"}, "voice_rate must be between 0.5"),
    ("voice rate empty", {"voice": "x", "voice_rate": ""}, "voice_rate must be"),
    ("voice pitch empty", {"voice": "x", "voice_pitch": ""}, "voice_pitch must be"),
    ("prefer str", {"voice": "x", "voice_prefer_locales": "en-GB"}, "voice_prefer_locales must"),
    ("prefer empty", {"voice": "x", "voice_prefer_locales": []}, "voice_prefer_locales must"),
    (
        "sdk voice + extra",
        {"voice": vl.OpenAIVoice(name="alloy"), "voice_type": "openai"},
        "voice_type must be None when voice is an SDK voice object",
    ),
    (
        "sdk voice + rate",
        {"voice": vl.AzureStandardVoice(name="x"), "voice_rate": "1.1"},
        "voice_rate must be None",
    ),
    ("modalities audio only", {"modalities": ["audio"]}, "modalities must be"),
    ("modalities str", {"modalities": "text"}, "modalities must be"),
    ("modalities dup", {"modalities": ["text", "text"]}, "modalities must be"),
    ("modalities avatar", {"modalities": ["text", "audio", "avatar"]}, "modalities must be"),
    ("timestamps text-only", {"modalities": ["text"], "word_timestamps": True}, "word_timestamps"),
    ("visemes text-only", {"modalities": ["text"], "visemes": True}, "visemes needs audio"),
    ("turn detection dict", {"turn_detection": {"type": "server_vad"}}, "turn_detection must be"),
    ("noise unknown", {"noise_reduction": "studio"}, "noise_reduction must be one of"),
    ("noise list", {"noise_reduction": ["near_field"]}, "noise_reduction must be one of"),
    ("echo not bool", {"echo_cancellation": 1}, "echo_cancellation must be True or False"),
    ("timestamps not bool", {"word_timestamps": "yes"}, "word_timestamps must be True"),
    (
        "transcription model",
        {"input_transcription_model": "whisper-2"},
        "input_transcription_model",
    ),
    (
        "language without transcription",
        {"input_transcription_model": None, "input_transcription_language": "en"},
        "input_transcription_language needs input transcription",
    ),
    (
        "phrases without transcription",
        {"input_transcription_model": None, "input_transcription_phrases": ["x"]},
        "input_transcription_phrases needs input transcription",
    ),
    (
        "prompt without transcription",
        {"input_transcription_model": None, "input_transcription_prompt": "x"},
        "input_transcription_prompt needs input transcription",
    ),
    ("language empty", {"input_transcription_language": ""}, "input_transcription_language must"),
    ("phrases str", {"input_transcription_phrases": "Contoso"}, "input_transcription_phrases must"),
    ("phrase empty", {"input_transcription_phrases": ["ok", ""]}, "input_transcription_phrases"),
    ("prompt type", {"input_transcription_prompt": 3}, "input_transcription_prompt must be"),
    ("temperature negative", {"temperature": -0.1}, "temperature must be between 0 and 2"),
    ("temperature nan", {"temperature": float("nan")}, "temperature must be between"),
    ("tokens zero", {"max_response_output_tokens": 0}, "max_response_output_tokens must be"),
    ("tokens high", {"max_response_output_tokens": 4097}, "max_response_output_tokens must be"),
    ("tokens bool", {"max_response_output_tokens": True}, "max_response_output_tokens must be"),
    ("tokens str", {"max_response_output_tokens": "100"}, "max_response_output_tokens must be"),
    ("tool_choice spaces", {"tool_choice": "get weather"}, "tool_choice must be"),
    ("tool_choice empty", {"tool_choice": ""}, "tool_choice must be"),
    ("parallel not bool", {"parallel_tool_calls": "no"}, "parallel_tool_calls must be"),
    ("reasoning unknown", {"reasoning_effort": "max"}, "reasoning_effort must be one of"),
    ("output format", {"output_audio_format": "g711_ulaw"}, "output_audio_format must be one of"),
    ("interim type", {"interim_response": "static"}, "interim_response must be"),
    ("extra_session type", {"extra_session": [("a", 1)]}, "extra_session must be a mapping"),
    ("extra_session keys", {"extra_session": {1: "x"}}, "extra_session must be a mapping"),
]

TURN_DETECTION_ERRORS: list[tuple[str, dict[str, Any], str]] = [
    ("type", {"type": "semantic_vad"}, "turn_detection.type must be one of"),
    ("threshold high", {"threshold": 1.5}, "turn_detection.threshold must be between 0 and 1"),
    ("threshold low", {"threshold": -0.1}, "turn_detection.threshold must be between 0 and 1"),
    ("threshold bool", {"threshold": True}, "turn_detection.threshold must be between 0 and 1"),
    ("prefix negative", {"prefix_padding_ms": -1}, "turn_detection.prefix_padding_ms must be"),
    ("prefix float", {"prefix_padding_ms": 300.0}, "turn_detection.prefix_padding_ms must be"),
    ("prefix huge", {"prefix_padding_ms": 5001}, "turn_detection.prefix_padding_ms must be"),
    ("silence huge", {"silence_duration_ms": 60000}, "turn_detection.silence_duration_ms must"),
    ("speech negative", {"speech_duration_ms": -5}, "turn_detection.speech_duration_ms must be"),
    (
        "speech on server_vad",
        {"type": "server_vad", "speech_duration_ms": 100},
        "turn_detection.speech_duration_ms is only supported by the azure_semantic_vad",
    ),
    (
        "fillers on server_vad",
        {"type": "server_vad", "remove_filler_words": True},
        "turn_detection.remove_filler_words is only supported",
    ),
    (
        "languages on server_vad",
        {"type": "server_vad", "languages": ["en"]},
        "turn_detection.languages is only supported",
    ),
    (
        "languages on _en",
        {"type": "azure_semantic_vad_en", "languages": ["en"]},
        "turn_detection.languages is not supported by azure_semantic_vad_en",
    ),
    ("languages str", {"languages": "en"}, "turn_detection.languages must be a list"),
    ("languages empty", {"languages": []}, "turn_detection.languages must not be empty"),
    ("fillers not bool", {"remove_filler_words": 1}, "turn_detection.remove_filler_words must"),
    ("create not bool", {"create_response": None}, "turn_detection.create_response must"),
    (
        "auto_truncate without interrupt",
        {"auto_truncate": True, "interrupt_response": False},
        "turn_detection.auto_truncate requires turn_detection.interrupt_response",
    ),
    ("eou type", {"end_of_utterance": {"model": "x"}}, "turn_detection.end_of_utterance must be"),
]

EOU_ERRORS: list[tuple[str, dict[str, Any], str]] = [
    ("model", {"model": "semantic_detection_v2"}, "turn_detection.end_of_utterance.model must"),
    (
        "threshold level",
        {"threshold_level": "extreme"},
        "turn_detection.end_of_utterance.threshold_level must be one of",
    ),
    ("timeout zero", {"timeout_ms": 0}, "turn_detection.end_of_utterance.timeout_ms must be"),
    ("timeout huge", {"timeout_ms": 120000}, "turn_detection.end_of_utterance.timeout_ms must"),
]


def _cases(table: list[tuple[str, dict[str, Any], str]]) -> list[Any]:
    return [pytest.param(kwargs, message, id=name) for name, kwargs, message in table]


@pytest.mark.parametrize(("kwargs", "message"), _cases(ERROR_CASES))
def test_config_errors_name_the_field(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        AzureVoiceLiveConfig(**kwargs)


@pytest.mark.parametrize(("kwargs", "message"), _cases(TURN_DETECTION_ERRORS))
def test_turn_detection_errors_name_the_field(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        TurnDetection(**kwargs)


@pytest.mark.parametrize(("kwargs", "message"), _cases(EOU_ERRORS))
def test_end_of_utterance_errors_name_the_field(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        EndOfUtterance(**kwargs)


# -- the emulator accepts what we build -------------------------------------------------

EMULATOR_CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("defaults gpt-realtime", {}, {"model": "gpt-realtime"}),
    ("defaults cascade", {}, {"model": "gpt-4.1", "input_rate": 16000}),
    (
        "openai voice server_vad",
        {
            "voice": "alloy",
            "turn_detection": TurnDetection(
                "server_vad",
                threshold=0.6,
                prefix_padding_ms=200,
                silence_duration_ms=400,
                end_of_utterance=EndOfUtterance(threshold_level="low", timeout_ms=800),
            ),
            "noise_reduction": "near_field",
            "temperature": 0.7,
            "max_response_output_tokens": "inf",
        },
        {"model": "gpt-realtime"},
    ),
    (
        "azure multilingual everything",
        {
            "voice": "en-US-Ava:DragonHDLatestNeural",
            "voice_temperature": 0.7,
            "voice_rate": "1.2",
            "voice_pitch": "+2st",
            "voice_volume": "+10%",
            "voice_style": "friendly",
            "voice_locale": "en-US",
            "voice_prefer_locales": ["en-GB"],
            "voice_custom_lexicon_url": "https://example.com/lex.xml",
            "turn_detection": TurnDetection(
                "azure_semantic_vad_multilingual",
                threshold=0.3,
                speech_duration_ms=100,
                remove_filler_words=True,
                languages=["en", "fr"],
                auto_truncate=True,
                end_of_utterance=EndOfUtterance("semantic_detection_v1_multilingual"),
            ),
            "input_transcription_model": "azure-speech",
            "input_transcription_language": "en-US",
            "input_transcription_phrases": ["Contoso"],
            "word_timestamps": True,
            "visemes": True,
            "temperature": 0.2,
            "max_response_output_tokens": 1024,
            "tool_choice": "get_weather",
            "parallel_tool_calls": True,
            "reasoning_effort": "minimal",
            "interim_response": vl.StaticInterimResponseConfig(texts=["One moment."]),
        },
        {"model": "gpt-4.1", "tools": (WEATHER_TOOL,), "output_format": "pcm16_16000hz"},
    ),
    (
        "custom voice en vad",
        {
            "voice": "brand",
            "voice_endpoint_id": "ep-123",
            "turn_detection": TurnDetection(
                "azure_semantic_vad_en",
                end_of_utterance=EndOfUtterance(
                    "semantic_detection_v1_en", threshold_level="medium"
                ),
            ),
        },
        {"model": "gpt-5", "input_rate": 8000, "output_format": "pcm16_8000hz"},
    ),
    (
        "personal voice",
        {"voice": "spk", "voice_model": "DragonLatestNeural", "voice_rate": "+10%"},
        {"model": "gpt-4.1-mini"},
    ),
    (
        "realtime native",
        {"voice": "xiaoxiao", "voice_type": "azure-realtime-native"},
        {"model": "azure-realtime"},
    ),
    (
        "manual turns everything off, text only",
        {
            "modalities": ["text"],
            "turn_detection": None,
            "noise_reduction": None,
            "echo_cancellation": False,
            "input_transcription_model": None,
        },
        {"model": "gpt-realtime", "tools": (WEATHER_TOOL,)},
    ),
    (
        "whisper prompt",
        {"input_transcription_prompt": "Names: Contoso."},
        {"model": "gpt-realtime"},
    ),
    ("sdk voice", {"voice": vl.AzurePersonalVoice(name="s", model="PhoenixV2Neural")}, {}),
    ("agent mode", {"temperature": 0.9}, {"model": None, "agent_mode": True}),
    (
        "extra session",
        {"extra_session": {"include": ["item.input_audio_transcription.logprobs"]}},
        {"model": "gpt-realtime"},
    ),
]


@pytest.mark.parametrize(
    ("kwargs", "build"), [pytest.param(k, b, id=name) for name, k, b in EMULATOR_CASES]
)
def test_emulator_accepts_built_sessions(kwargs: dict[str, Any], build: dict[str, Any]) -> None:
    build = dict(build)
    model = build.pop("model", "gpt-realtime")
    agent_mode = build.get("agent_mode", False)
    session = wire(AzureVoiceLiveConfig(**kwargs), model=model, **build)
    effective = emulate(session, model=model, agent_mode=agent_mode)
    for key, value in session.items():
        if key != "turn_detection" or value is None:
            assert effective[key] == value, key
        else:
            assert effective[key].items() >= value.items()


def test_emulator_rejects_what_config_would_also_reject() -> None:
    """Sanity check that the emulator round-trip is a real check, not a no-op."""
    with pytest.raises(ProtocolError):
        emulate({"turn_detection": {"type": "server_vad", "threshold": 7}}, model="gpt-realtime")
