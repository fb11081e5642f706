"""Scripts written for the vendor plugin (``videosdk-plugins-azure`` 1.0.30) run here.

Configs are built with the vendor's keyword sets (its docstring, its docs' example,
its enums from ``azure.ai.voicelive.models``), only the import line changed, and the
assertions are on the wire JSON ``build_session`` produces: the vendor's values must
arrive under this plugin's fields, each old spelling must warn once with its
replacement, and nothing may be stored under the old names.
"""

from __future__ import annotations

import dataclasses
import inspect
import warnings
from typing import Any

import pytest
from azure.ai.voicelive.models import InputAudioFormat, Modality, OutputAudioFormat, ServerVad

from videosdk_plugins_azure.config import (
    DEFAULT_VOICE,
    VENDOR_FIELDS,
    AzureVoiceLiveConfig,
    TurnDetection,
    build_session,
)

VENDOR_1_0_30_FIELDS = (
    "voice",
    "modalities",
    "input_audio_format",
    "output_audio_format",
    "turn_detection_threshold",
    "turn_detection_prefix_padding_ms",
    "turn_detection_silence_duration_ms",
    "temperature",
    "max_completion_tokens",
)
"""Every field of the vendor's ``AzureVoiceLiveConfig`` dataclass, in its order."""


def vendor_config(**kwargs: Any) -> AzureVoiceLiveConfig:
    """Build quietly; the warnings themselves are asserted in their own tests."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return AzureVoiceLiveConfig(**kwargs)


def wire(config: AzureVoiceLiveConfig, input_rate: int = 24000) -> dict[str, Any]:
    session = build_session(config, model="gpt-realtime", instructions=None, input_rate=input_rate)
    return session.as_dict()


def test_every_vendor_field_is_accepted() -> None:
    parameters = inspect.signature(AzureVoiceLiveConfig).parameters
    assert [name for name in VENDOR_1_0_30_FIELDS if name not in parameters] == []
    ours = {field.name for field in dataclasses.fields(AzureVoiceLiveConfig)}
    assert set(VENDOR_FIELDS) == set(VENDOR_1_0_30_FIELDS) - ours


def test_vendor_docstring_keyword_set_maps_onto_the_session() -> None:
    config = vendor_config(
        voice="en-US-AvaNeural",
        modalities=[Modality.TEXT, Modality.AUDIO],
        input_audio_format=InputAudioFormat.PCM16,
        output_audio_format=InputAudioFormat.PCM16,
        turn_detection_threshold=0.5,
        turn_detection_prefix_padding_ms=300,
        turn_detection_silence_duration_ms=500,
        temperature=0.8,
        max_completion_tokens=1024,
    )
    session = wire(config)
    assert session["modalities"] == ["text", "audio"]
    assert all(type(modality) is str for modality in session["modalities"])
    assert session["voice"] == {"name": "en-US-AvaNeural", "type": "azure-standard"}
    assert session["input_audio_format"] == "pcm16"
    assert session["output_audio_format"] == "pcm16"
    detection = session["turn_detection"]
    assert detection["type"] == "azure_semantic_vad"
    assert (detection["threshold"], detection["prefix_padding_ms"]) == (0.5, 300)
    assert detection["silence_duration_ms"] == 500
    assert session["temperature"] == 0.8
    assert session["max_response_output_tokens"] == 1024


def test_vendor_docs_example_maps_onto_the_session() -> None:
    config = vendor_config(
        voice="en-US-AvaNeural",
        temperature=0.7,
        turn_detection_threshold=0.6,
        turn_detection_silence_duration_ms=800,
    )
    detection = wire(config)["turn_detection"]
    assert (detection["threshold"], detection["silence_duration_ms"]) == (0.6, 800)
    assert "prefix_padding_ms" not in detection  # not given: the service's default applies


@pytest.mark.parametrize(
    ("modalities", "expected"),
    [
        ([Modality.TEXT, Modality.AUDIO], ("text", "audio")),
        ([Modality.TEXT], ("text",)),
        (("audio", Modality.TEXT), ("audio", "text")),
    ],
)
def test_modality_enums_become_plain_strings(modalities: list[Any], expected: tuple[str]) -> None:
    config = AzureVoiceLiveConfig(voice="alloy", modalities=modalities)
    assert config.modalities == expected
    assert [type(modality) for modality in config.modalities] == [str] * len(expected)
    assert config == AzureVoiceLiveConfig(voice="alloy", modalities=expected)
    assert wire(config)["modalities"] == list(expected)


def test_vendor_modalities_outside_the_service_rules_are_still_refused() -> None:
    with pytest.raises(ValueError, match=r"modalities must be .* \(got \['audio'\]\)"):
        AzureVoiceLiveConfig(modalities=[Modality.AUDIO])
    with pytest.raises(ValueError, match="modalities must be"):
        AzureVoiceLiveConfig(modalities=[Modality.TEXT, Modality.AUDIO, Modality.AVATAR])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (InputAudioFormat.PCM16, "pcm16"),
        (OutputAudioFormat.PCM16, "pcm16"),
        (OutputAudioFormat.PCM16_8000_HZ, "pcm16_8000hz"),
    ],
)
def test_output_format_enums_become_plain_strings(value: Any, expected: str) -> None:
    config = AzureVoiceLiveConfig(output_audio_format=value)
    assert config.output_audio_format == expected
    assert type(config.output_audio_format) is str
    assert wire(config, input_rate=8000)["output_audio_format"] == expected


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        (
            {"turn_detection_threshold": 0.4},
            r"turn_detection_threshold=.*deprecated; use turn_detection=TurnDetection\(threshold=",
        ),
        (
            {"turn_detection_prefix_padding_ms": 200},
            r"turn_detection_prefix_padding_ms=.*use turn_detection=TurnDetection\("
            r"prefix_padding_ms=",
        ),
        (
            {"turn_detection_silence_duration_ms": 700},
            r"turn_detection_silence_duration_ms=.*use turn_detection=TurnDetection\("
            r"silence_duration_ms=",
        ),
        (
            {"max_completion_tokens": 200},
            r"max_completion_tokens=.*deprecated; use max_response_output_tokens",
        ),
        (
            {"input_audio_format": InputAudioFormat.PCM16},
            r"input_audio_format=.*deprecated; remove it: input is always pcm16",
        ),
        ({"input_audio_format": "pcm16"}, r"input_audio_format=.*remove it"),
    ],
)
def test_each_vendor_field_warns_once_naming_its_replacement(
    kwargs: dict[str, Any], pattern: str
) -> None:
    with pytest.warns(DeprecationWarning, match=pattern) as record:
        AzureVoiceLiveConfig(**kwargs)
    ours = [w for w in record if issubclass(w.category, DeprecationWarning)]
    assert len(ours) == 1
    assert ours[0].filename == __file__  # points at the line that used the old name


def test_all_vendor_fields_warn_once_each() -> None:
    with pytest.warns(DeprecationWarning, match="videosdk-plugins-azure spelling") as record:
        AzureVoiceLiveConfig(
            turn_detection_threshold=0.5,
            turn_detection_prefix_padding_ms=300,
            turn_detection_silence_duration_ms=500,
            max_completion_tokens=100,
            input_audio_format="pcm16",
        )
    named = sorted(str(w.message).split("(")[1].split("=")[0] for w in record)
    assert named == sorted(VENDOR_FIELDS)


def test_fields_kept_from_the_vendor_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        AzureVoiceLiveConfig(
            voice="en-US-AvaNeural",
            modalities=[Modality.TEXT, Modality.AUDIO],
            output_audio_format=InputAudioFormat.PCM16,
            temperature=0.8,
        )


def test_vendor_spelling_equals_the_canonical_config_and_stores_nothing_old() -> None:
    old = vendor_config(
        turn_detection_threshold=0.6,
        turn_detection_silence_duration_ms=900,
        max_completion_tokens=512,
        input_audio_format="pcm16",
    )
    new = AzureVoiceLiveConfig(
        turn_detection=TurnDetection(threshold=0.6, silence_duration_ms=900),
        max_response_output_tokens=512,
    )
    assert old == new
    assert repr(old) == repr(new)
    assert "max_completion_tokens" not in vars(old)


def test_replace_on_a_vendor_config_neither_rewarns_nor_reapplies() -> None:
    old = vendor_config(turn_detection_threshold=0.6, max_completion_tokens=512)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        warmer = dataclasses.replace(old, temperature=0.9)
        server = dataclasses.replace(old, turn_detection=TurnDetection("server_vad"))
    assert warmer.turn_detection == TurnDetection(threshold=0.6)
    assert warmer.max_response_output_tokens == 512
    assert server.turn_detection == TurnDetection("server_vad")


def test_vendor_defaults_do_not_carry_over() -> None:
    """Only given fields map; everything else is this plugin's default (documented)."""
    config = vendor_config(voice="en-US-AvaNeural", max_completion_tokens=300)
    assert config.turn_detection == TurnDetection()  # not the vendor's server_vad 0.5/300/500
    assert AzureVoiceLiveConfig().voice == DEFAULT_VOICE  # not the vendor's en-US-AvaNeural
    assert wire(config)["turn_detection"] == {
        "type": "azure_semantic_vad",
        "create_response": True,
        "interrupt_response": True,
        "auto_truncate": False,
    }


def test_vendor_turn_values_merge_into_a_given_turn_detection() -> None:
    config = vendor_config(
        turn_detection=TurnDetection("server_vad", threshold=0.7),
        turn_detection_threshold=0.7,
        turn_detection_prefix_padding_ms=250,
    )
    assert config.turn_detection == TurnDetection(
        "server_vad", threshold=0.7, prefix_padding_ms=250
    )
    assert wire(config)["turn_detection"]["type"] == "server_vad"


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        (
            {"turn_detection": None, "turn_detection_threshold": 0.5},
            r"turn_detection_threshold cannot be used with turn_detection=None",
        ),
        (
            {"turn_detection": ServerVad(threshold=0.5), "turn_detection_silence_duration_ms": 500},
            r"turn_detection_silence_duration_ms cannot be combined with an SDK turn_detection",
        ),
        (
            {"turn_detection": TurnDetection(threshold=0.3), "turn_detection_threshold": 0.6},
            r"turn_detection_threshold conflicts with turn_detection.threshold=0.3",
        ),
        (
            {"max_response_output_tokens": 100, "max_completion_tokens": 200},
            r"max_completion_tokens conflicts with max_response_output_tokens=100",
        ),
        ({"turn_detection_threshold": 1.5}, r"turn_detection_threshold must be between 0 and 1"),
        (
            {"turn_detection_prefix_padding_ms": -1},
            r"turn_detection_prefix_padding_ms must be an integer between 0 and 5000",
        ),
        (
            {"turn_detection_silence_duration_ms": 0.5},
            r"turn_detection_silence_duration_ms must be an integer",
        ),
        ({"max_completion_tokens": 0}, r"max_completion_tokens must be an integer between 1"),
        ({"max_completion_tokens": True}, r"max_completion_tokens must be an integer"),
        (
            {"input_audio_format": InputAudioFormat.G711_ULAW},
            r"input_audio_format 'g711_ulaw' is not supported: the plugin sends pcm16 and "
            r"declares the call leg's rate",
        ),
        ({"input_audio_format": "g711_alaw"}, r"input_audio_format 'g711_alaw' is not supported"),
        ({"input_audio_format": "mp3"}, r"input_audio_format must be 'pcm16' \(got 'mp3'\)"),
    ],
)
def test_vendor_values_are_validated_under_their_own_names(
    kwargs: dict[str, Any], pattern: str
) -> None:
    with pytest.raises(ValueError, match=pattern):
        vendor_config(**kwargs)


def test_equal_values_given_both_ways_are_not_a_conflict() -> None:
    config = vendor_config(
        turn_detection=TurnDetection(threshold=0.5),
        turn_detection_threshold=0.5,
        max_response_output_tokens=64,
        max_completion_tokens=64,
    )
    assert config.turn_detection == TurnDetection(threshold=0.5)
    assert config.max_response_output_tokens == 64


def test_openai_voice_the_vendor_passed_as_a_bare_name() -> None:
    """The vendor sent a dash-less name as a bare string (an OpenAI voice); same voice here."""
    config = vendor_config(voice="alloy", modalities=[Modality.TEXT, Modality.AUDIO])
    assert wire(config)["voice"] == {"name": "alloy", "type": "openai"}


def test_text_only_vendor_config_carries_no_voice() -> None:
    config = vendor_config(modalities=[Modality.TEXT], turn_detection_threshold=0.5)
    session = wire(config)
    assert session["modalities"] == ["text"]
    assert "voice" not in session
    assert session["turn_detection"]["threshold"] == 0.5


async def test_a_vendor_style_script_runs_through_the_pipeline_with_a_new_import() -> None:
    """The body below is written as for videosdk-plugins-azure 1.0.30; only the import differs."""
    import math

    from azure.ai.voicelive.models import Modality
    from videosdk.agents import Agent, Pipeline

    from videosdk_plugins_azure import AzureVoiceLive, AzureVoiceLiveConfig
    from videosdk_plugins_azure.emulator import Scenario as _Scenario
    from videosdk_plugins_azure.emulator import Turn, VoiceLiveEmulator
    from videosdk_plugins_azure.testing import LocalRoom

    class Receptionist(Agent):
        def __init__(self) -> None:
            super().__init__(instructions="You are a helpful receptionist.")

        async def on_enter(self) -> None:
            return None

        async def on_exit(self) -> None:
            return None

    scenario = _Scenario([Turn(reply="Welcome to Contoso.")])
    async with VoiceLiveEmulator(
        api_key="vendor-key", speed=math.inf, tts="synthetic", model_latency=0, scenario=scenario
    ) as emu:
        with pytest.warns(DeprecationWarning, match="TurnDetection"):
            model = AzureVoiceLive(
                api_key="vendor-key",
                endpoint=emu.endpoint,
                model="gpt-realtime",
                config=AzureVoiceLiveConfig(
                    voice="en-US-AvaNeural",
                    modalities=[Modality.TEXT, Modality.AUDIO],
                    temperature=0.8,
                    turn_detection_threshold=0.6,
                    turn_detection_prefix_padding_ms=300,
                    turn_detection_silence_duration_ms=600,
                    max_completion_tokens=200,
                ),
            )
        async with LocalRoom(Receptionist(), Pipeline(llm=model)) as room:
            await room.session.reply(instructions="Greet the caller.")
            await room.wait_for(
                lambda: ("assistant", "Welcome to Contoso.") in room.chat_items(), timeout=20
            )
        session = emu.last_connection.session
    assert session["turn_detection"]["threshold"] == 0.6
    assert session["turn_detection"]["silence_duration_ms"] == 600
    assert session["max_response_output_tokens"] == 200
    assert session["modalities"] == ["text", "audio"]
