"""Mid-call session changes: always the whole session, never mid-answer (issue: §9 rules)."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest
from azure.ai.voicelive import models as m

from videosdk_plugins_azure import AzureVoiceLiveConfig, TurnDetection
from videosdk_plugins_azure.core import SessionSpec
from videosdk_plugins_azure.core import effects as fx
from videosdk_plugins_azure.protocol.ids import IdKind, parse

from .conftest import Driver, make_core

WEATHER = m.FunctionTool(name="get_weather", parameters={"type": "object", "properties": {}})


def updates(call: Driver) -> list[dict]:
    return call.sent("session.update")


def test_a_tools_change_while_idle_sends_the_whole_session_at_once(call: Driver) -> None:
    first = call.connect()["session"]
    call.clear()
    call.run(call.core.set_tools([WEATHER]))
    [update] = updates(call)
    assert parse(update["event_id"])[0] is IdKind.UPDATE
    session = update["session"]
    assert [t["name"] for t in session["tools"]] == ["get_weather"]
    for key in (
        "voice",
        "turn_detection",
        "input_audio_transcription",
        "input_audio_sampling_rate",
    ):
        assert session[key] == first[key], key
    assert session["instructions"] == "Be brief."


def test_an_unchanged_agent_sends_nothing(call: Driver) -> None:
    call.connect()
    call.run(call.core.set_tools([WEATHER]))
    call.clear()
    call.run(call.core.set_tools([WEATHER]))
    call.run(call.core.set_instructions("Be brief."))
    assert updates(call) == []


def test_a_change_during_an_answer_waits_for_the_playout(call: Driver) -> None:
    call.connect()
    call.event("response.created", response={"id": "r1", "status": "in_progress"})
    call.clear()
    call.run(call.core.set_instructions("Speak French."))
    assert updates(call) == []
    call.answer("r1", "a1", text="Bonjour.")
    assert updates(call) == [], "the answer is still playing"
    call.speaker.play_out()
    call.run(call.core.playout_finished())
    [update] = updates(call)
    assert update["session"]["instructions"] == "Speak French."


def test_a_change_while_the_caller_speaks_waits_for_them(call: Driver) -> None:
    call.connect()
    call.event("input_audio_buffer.speech_started", audio_start_ms=0, item_id="u1")
    call.clear()
    call.run(call.core.set_tools([WEATHER]))
    assert updates(call) == []
    call.event("input_audio_buffer.speech_stopped", audio_end_ms=500, item_id="u1")
    assert len(updates(call)) == 1


def test_a_reconnect_after_a_change_sends_the_current_instructions(call: Driver) -> None:
    call.connect()
    call.run(call.core.set_instructions("Speak French."))
    call.core.socket_closed(1006)
    call.core.connection_reset("drop", error=True)
    update = call.core.connecting()
    assert update["session"]["instructions"] == "Speak French."


def test_a_change_before_connecting_goes_in_the_first_update() -> None:
    call = make_core()
    call.run(call.core.set_tools([WEATHER]))
    assert updates(call) == []
    update = call.core.connecting()
    assert [t["name"] for t in update["session"]["tools"]] == ["get_weather"]


def test_a_different_turn_detection_type_moves_to_a_new_connection(call: Driver) -> None:
    call.connect()
    spec = call.core.spec
    spec.config = replace(spec.config, turn_detection=TurnDetection(type="server_vad"))
    spec.changed = True
    call.clear()
    call.core.push_session()
    effects = call.core.take()
    assert updates(call) == []
    assert effects == [fx.Reconnect("a session change needs a new connection", error=False)]


def test_a_text_only_session_sends_no_voice_and_no_echo_cancellation() -> None:
    spec = SessionSpec(AzureVoiceLiveConfig(modalities=("text",)), model="gpt-realtime")
    session = spec.update_event(context_instructions="Hi.", replaying=False)["session"]
    assert "voice" not in session
    assert "input_audio_echo_cancellation" not in session
    assert session["modalities"] == ["text"]


def test_hybrid_tts_drops_what_only_the_service_voice_has() -> None:
    """In HYBRID_TTS the framework's TTS speaks: no avatar, visemes or word timings."""
    from videosdk_plugins_azure.config import Avatar

    config = AzureVoiceLiveConfig(
        avatar=Avatar(character="lisa"), visemes=True, word_timestamps=True
    )
    spec = SessionSpec(config, model="gpt-realtime", text_only=True)
    session = spec.update_event(context_instructions="Hi.", replaying=False)["session"]
    assert session["modalities"] == ["text"]
    assert "avatar" not in session
    assert "animation" not in session
    assert "output_audio_timestamp_types" not in session


def test_unknown_extra_session_keys_are_named_once(caplog: pytest.LogCaptureFixture) -> None:
    config = AzureVoiceLiveConfig(extra_session={"model_provider": "x", "temperature": 0.8})
    with caplog.at_level(logging.WARNING, logger="videosdk_plugins_azure"):
        SessionSpec(config, model="gpt-realtime").validate()
    named = [r.getMessage() for r in caplog.records if "extra_session" in r.getMessage()]
    assert len(named) == 1
    assert "'model_provider'" in named[0]
