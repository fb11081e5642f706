"""The rules the real Voice Live service enforces (``voicelive-protocol.md`` §9).

Each rule is tested on :func:`apply_session_update` directly, and the ones a
client meets first (replace semantics, strict keys, echo cancellation) also
through the real SDK over a socket, since that is where a plugin meets them.
"Configure first" and the fixed detector span events, so they are tested over
the socket only, under both session semantics.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import pytest
from azure.ai.voicelive import models as m

from videosdk_plugins_azure.emulator import VoiceLiveEmulator
from videosdk_plugins_azure.emulator._session import apply_session_update, default_session
from videosdk_plugins_azure.emulator._session_fields import SESSION_FIELDS as SESSION_RULES
from videosdk_plugins_azure.protocol.session import (
    DEFAULT_SESSION_SEMANTICS,
    EC_NOT_SUPPORTED,
    SESSION_FIELDS,
    SESSION_NOT_CONFIGURED,
    TURN_DETECTION_TYPE_FIXED,
    SessionSemantics,
)

from .conftest import KEY, assert_rejected, recv_until, sdk, types

BASE = default_session(session_id="sess_r", model="gpt-realtime", api_version=None, now=1000.0)
AGENT = default_session(
    session_id="sess_a", model=None, api_version=None, agent={"name": "helper"}, now=1000.0
)
FN = {"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}
EC = {"type": "server_echo_cancellation"}
SEMANTIC = {"type": "azure_semantic_vad"}
CONFIGURED = {
    "instructions": "Be brief.",
    "voice": "alloy",
    "tools": [FN],
    "temperature": 0.6,
    "metadata": {"call": "42"},
    "input_audio_noise_reduction": {"type": "near_field"},
}


def update(patch: Any, current: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    kw.setdefault("audio_received", False)
    return apply_session_update(BASE if current is None else current, patch, **kw)


def rejected_unchanged(
    call: Callable[[dict[str, Any]], Any], current: dict[str, Any], code: str, param: str
) -> None:
    """The rule answers with ``code`` at ``param`` and leaves ``current`` as it was."""
    before = copy.deepcopy(current)
    assert_rejected(lambda: call(current), code, param)
    assert current == before


# -- session.update replaces ------------------------------------------------------------------


def test_update_replaces_the_session_and_left_out_fields_return_to_defaults() -> None:
    assert DEFAULT_SESSION_SEMANTICS == "replace"
    configured = update(CONFIGURED)
    replaced = update({"voice": "echo"}, configured)
    assert replaced == {**BASE, "voice": "echo"}  # metadata gone, the rest at its defaults
    assert (replaced["id"], replaced["expires_at"], replaced["model"]) == (
        "sess_r",
        BASE["expires_at"],
        "gpt-realtime",
    )
    agent = update({"voice": "echo"}, update({"voice": "alloy"}, AGENT))
    assert agent == {**AGENT, "voice": "echo"}  # the agent stays, and still no instructions


def test_merge_is_an_option_for_openai_style_clients() -> None:
    merged = update({"voice": "echo"}, update(CONFIGURED), semantics="merge")
    assert merged == {**update(CONFIGURED), "voice": "echo"}
    with pytest.raises(ValueError, match="semantics"):
        update({}, semantics="patch")


def test_a_reset_input_format_counts_as_a_change_after_audio() -> None:
    g711 = update({"input_audio_format": "g711_ulaw"})
    assert g711["input_audio_sampling_rate"] == 8000
    rejected_unchanged(
        lambda current: update({"instructions": "x"}, current, audio_received=True),
        g711,
        "invalid_value",
        "session.input_audio_format",
    )
    kept = update({"input_audio_format": "g711_ulaw"}, g711, audio_received=True)
    assert kept["input_audio_sampling_rate"] == 8000


async def test_replace_over_the_socket(emu: VoiceLiveEmulator) -> None:
    async with sdk(emu) as conn:
        await recv_until(conn, "session.created")
        await conn.session.update(session={"instructions": "Be brief.", "temperature": 0.6})
        first = (await recv_until(conn, "session.updated"))[-1].session
        assert (first.instructions, first.temperature) == ("Be brief.", pytest.approx(0.6))
        await conn.session.update(session={"voice": "echo"})
        second = (await recv_until(conn, "session.updated"))[-1].session
        assert (second.instructions, second.temperature) == ("", pytest.approx(0.8))
        assert (second.voice, second.id) == ("echo", first.id)


# -- strict object ----------------------------------------------------------------------------


def test_unknown_session_fields_are_rejected() -> None:
    assert set(SESSION_RULES) == SESSION_FIELDS  # exactly the SDK's RequestSession fields
    rejected_unchanged(
        lambda current: update({"voice": "echo", "model_provider": "openai"}, current),
        update(CONFIGURED),
        "unknown_parameter",
        "session.model_provider",
    )


async def test_unknown_field_over_the_socket(emu: VoiceLiveEmulator) -> None:
    async with sdk(emu) as conn:
        await recv_until(conn, "session.created")
        await conn.session.update(session={"model_provider": "openai"}, event_id="evt-x")
        error = (await recv_until(conn, "error"))[-1].error
        assert (error.code, error.param, error.event_id) == (
            "unknown_parameter",
            "session.model_provider",
            "evt-x",
        )


# -- echo cancellation needs audio ------------------------------------------------------------


@pytest.mark.parametrize("semantics", ["replace", "merge"])
def test_echo_cancellation_without_audio_is_ec_not_supported(semantics: str) -> None:
    text_only = {"modalities": ["text"], "input_audio_echo_cancellation": EC}
    rejected_unchanged(
        lambda current: update(text_only, current, semantics=semantics),
        update(CONFIGURED),
        EC_NOT_SUPPORTED,
        "session.input_audio_echo_cancellation",
    )
    assert update({"modalities": ["text"]})["input_audio_echo_cancellation"] is None
    assert update({"input_audio_echo_cancellation": EC})["input_audio_echo_cancellation"] == EC


def test_echo_cancellation_left_on_by_merge_blocks_text_only() -> None:
    with_ec = update({"input_audio_echo_cancellation": EC})
    rejected_unchanged(
        lambda current: update({"modalities": ["text"]}, current, semantics="merge"),
        with_ec,
        EC_NOT_SUPPORTED,
        "session.input_audio_echo_cancellation",
    )
    assert update({"modalities": ["text"]}, with_ec)["input_audio_echo_cancellation"] is None


async def test_ec_not_supported_over_the_socket(emu: VoiceLiveEmulator) -> None:
    async with sdk(emu) as conn:
        await recv_until(conn, "session.created")
        await conn.session.update(session={"instructions": "kept"})
        await recv_until(conn, "session.updated")
        text_only = {"modalities": ["text"], "input_audio_echo_cancellation": EC}
        await conn.session.update(session=text_only, event_id="evt-ec")
        error = (await recv_until(conn, "error"))[-1].error
        assert (error.code, error.param, error.event_id) == (
            EC_NOT_SUPPORTED,
            "session.input_audio_echo_cancellation",
            "evt-ec",
        )
    assert emu.last_connection is not None
    assert emu.last_connection.session["instructions"] == "kept"  # the rejected update is void
    assert emu.last_connection.session["modalities"] == ["text", "audio"]


# -- turn detection type is fixed -------------------------------------------------------------


def test_the_first_update_picks_the_detector() -> None:
    first = update({"turn_detection": SEMANTIC}, configured=False)
    assert first["turn_detection"]["type"] == "azure_semantic_vad"


@pytest.mark.parametrize(
    ("patch", "semantics"),
    [
        ({"turn_detection": {"type": "server_vad"}}, "replace"),
        ({"turn_detection": {"type": "server_vad"}}, "merge"),
        ({"instructions": "left turn_detection out"}, "replace"),  # resets to server_vad
    ],
)
def test_a_later_detector_change_is_rejected(patch: dict[str, Any], semantics: str) -> None:
    semantic = update({"turn_detection": SEMANTIC})
    rejected_unchanged(
        lambda current: update(patch, current, semantics=semantics, configured=True),
        semantic,
        TURN_DETECTION_TYPE_FIXED,
        "session.turn_detection.type",
    )


def test_the_same_detector_may_be_retuned_and_switched_off() -> None:
    semantic = update({"turn_detection": SEMANTIC})
    tuned = update(
        {"turn_detection": SEMANTIC | {"silence_duration_ms": 800}}, semantic, configured=True
    )
    assert tuned["turn_detection"]["silence_duration_ms"] == 800
    kept = update({"instructions": "x"}, semantic, semantics="merge", configured=True)
    assert kept["turn_detection"] == semantic["turn_detection"]
    off = update({"turn_detection": None}, semantic, configured=True)
    assert off["turn_detection"] is None
    assert update({"voice": "echo"}, BASE, configured=True)["turn_detection"]["type"] == (
        "server_vad"
    )


async def test_the_fixed_detector_holds_over_the_socket(emu: VoiceLiveEmulator) -> None:
    async with sdk(emu) as conn:
        await recv_until(conn, "session.created")
        await conn.session.update(session={"turn_detection": SEMANTIC})
        await recv_until(conn, "session.updated")
        await conn.session.update(session={"instructions": "no detector"}, event_id="evt-td")
        error = (await recv_until(conn, "error"))[-1].error
        assert (error.code, error.param, error.event_id) == (
            TURN_DETECTION_TYPE_FIXED,
            "session.turn_detection.type",
            "evt-td",
        )
        await conn.session.update(session={"turn_detection": SEMANTIC, "instructions": "kept"})
        assert (await recv_until(conn, "session.updated"))[-1].session.instructions == "kept"


# -- configure first --------------------------------------------------------------------------


@pytest.fixture(params=["replace", "merge"])
async def either(request: pytest.FixtureRequest) -> Any:
    """An emulator under each session semantics: the rule holds in both."""
    semantics: SessionSemantics = request.param
    async with VoiceLiveEmulator(
        api_key=KEY,
        speed=math.inf,
        tts="synthetic",
        model_latency=0,
        session_semantics=semantics,
    ) as emulator:
        yield emulator


async def test_events_before_the_first_session_update_are_refused(
    either: VoiceLiveEmulator,
) -> None:
    async with sdk(either) as conn:
        await recv_until(conn, "session.created")
        await conn.response.create(event_id="evt-early")
        await conn.input_audio_buffer.append(audio="AAAA", event_id="evt-audio")
        item = m.UserMessageItem(content=[m.InputTextContentPart(text="hi")])
        await conn.conversation.item.create(item=item, event_id="evt-item")
        errors = [(await recv_until(conn, "error"))[-1].error for _ in range(3)]
        assert [(e.code, e.param, e.event_id) for e in errors] == [
            (SESSION_NOT_CONFIGURED, "type", "evt-early"),
            (SESSION_NOT_CONFIGURED, "type", "evt-audio"),
            (SESSION_NOT_CONFIGURED, "type", "evt-item"),
        ]
        assert "response.create" in errors[0].message
        await conn.session.update(session={"instructions": "now"})
        await recv_until(conn, "session.updated")
        await conn.response.create()
        events = await recv_until(conn, "response.done")
    assert "error" not in types(events)
    record = either.last_connection
    assert record.input_audio_bytes == 0  # the refused audio never reached the buffer
    created = record.events("conversation.item.created", source="server")
    assert [e["item"]["role"] for e in created] == ["assistant"]  # the refused item never was
    assert [e["type"] for e in record.events(source="server")].count("response.created") == 1


async def test_a_rejected_first_update_does_not_configure(either: VoiceLiveEmulator) -> None:
    async with sdk(either) as conn:
        await recv_until(conn, "session.created")
        await conn.session.update(session={"model_provider": "openai"})
        assert (await recv_until(conn, "error"))[-1].error.code == "unknown_parameter"
        await conn.response.create()
        assert (await recv_until(conn, "error"))[-1].error.code == SESSION_NOT_CONFIGURED
        await conn.session.update(session={"turn_detection": SEMANTIC})  # may pick any detector
        updated = (await recv_until(conn, "session.updated"))[-1].session
        assert updated.turn_detection.type == "azure_semantic_vad"
