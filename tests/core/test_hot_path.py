"""The light records of the hot events drive the core exactly as the typed SDK events do.

The receive path builds :class:`AudioDelta` / :class:`TextDelta` from the parsed
frame and never makes the SDK's model; the fallback path (and every other event)
hands the core the SDK's typed event. Whatever the frames hold, malformed or not,
both must leave the same effects: the same audio played, the same transcripts,
the same truncation positions on a barge-in.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from videosdk_plugins_azure.core import effects as fx
from videosdk_plugins_azure.core.effects import HOT_EVENTS, AudioDelta, TextDelta
from videosdk_plugins_azure.protocol.events import ServerEvent, wire_type

from .conftest import Driver, FakeSpeaker, make_core, server_event

AUDIO = wire_type(ServerEvent.RESPONSE_AUDIO_DELTA)
TRANSCRIPT = wire_type(ServerEvent.RESPONSE_AUDIO_TRANSCRIPT_DELTA)
TEXT = wire_type(ServerEvent.RESPONSE_TEXT_DELTA)

IDS = st.sampled_from(["r1", "r2", "a1", "a2", "", None, 7, ["r1"]])
DELTAS = (
    st.binary(max_size=97).map(lambda b: base64.b64encode(b).decode())
    | st.binary(min_size=1, max_size=40).map(lambda b: base64.b64encode(b).decode().rstrip("="))
    | st.text(max_size=12)
    | st.sampled_from([None, 12, ["AAAA"], {"x": 1}, "AA AA\n", "\u00e9AAA", "\ud800"])
)
WORDS = st.text(max_size=8) | st.sampled_from([None, 3, ["hi"]])


def _step() -> st.SearchStrategy[tuple[Any, ...]]:
    return st.one_of(
        st.tuples(st.just("created"), st.sampled_from(["r1", "r2"])),
        st.tuples(st.just("item"), st.sampled_from(["r1", "r2"]), st.sampled_from(["a1", "a2"])),
        st.tuples(st.just(AUDIO), IDS, IDS, DELTAS),
        st.tuples(st.sampled_from([TRANSCRIPT, TEXT]), IDS, WORDS),
        st.tuples(st.just("play"), st.integers(0, 5000)),
        st.tuples(st.just("barge")),
        st.tuples(st.just("done"), st.sampled_from(["r1", "r2"])),
    )


def _payload(step: tuple[Any, ...]) -> dict[str, Any]:
    kind = step[0]
    if kind == "created":
        return {"type": "response.created", "response": {"id": step[1], "status": "in_progress"}}
    if kind == "item":
        item = {"id": step[2], "type": "message", "role": "assistant"}
        return {"type": "response.output_item.added", "response_id": step[1], "item": item}
    if kind == AUDIO:
        return {"type": AUDIO, "response_id": step[1], "item_id": step[2], "delta": step[3]}
    if kind in (TRANSCRIPT, TEXT):
        return {"type": kind, "response_id": step[1], "item_id": "a1", "delta": step[2]}
    if kind == "barge":
        return {"type": "input_audio_buffer.speech_started", "audio_start_ms": 0}
    return {"type": "response.done", "response": {"id": step[1], "status": "completed"}}


def _drive(call: Driver, steps: list[tuple[Any, ...]], *, light: bool) -> None:
    for step in steps:
        if step[0] == "play":
            call.speaker.play_out(step[1])
            continue
        payload = _payload(step)
        read = HOT_EVENTS.get(payload["type"]) if light else None
        event = read(payload) if read is not None else server_event(payload)
        call.run(call.core.receive(event))
        call.advance(0.01)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(_step(), max_size=30))
def test_light_records_and_typed_events_leave_the_same_effects(
    steps: list[tuple[Any, ...]],
) -> None:
    typed, light = make_core(FakeSpeaker(fade=48)), make_core(FakeSpeaker(fade=48))
    for call in (typed, light):
        call.connect()
        call.clear()
    _drive(typed, steps, light=False)
    _drive(light, steps, light=True)
    assert light.effects == typed.effects
    assert light.speaker.position() == typed.speaker.position()


def test_a_barge_in_cuts_at_the_same_place_on_either_path() -> None:
    """A fixed case of the above that must produce a truncation, so it cannot pass vacuously."""
    audio = base64.b64encode(b"\x01\x00" * 4800).decode()
    steps: list[tuple[Any, ...]] = [
        ("created", "r1"),
        ("item", "r1", "a1"),
        (AUDIO, "r1", "a1", audio),
        (TRANSCRIPT, "r1", "It is"),
        ("play", 2400),
        ("barge",),
    ]
    calls = []
    for light in (False, True):
        call = make_core()
        call.connect()
        _drive(call, steps, light=light)
        calls.append(call)
    typed, light_call = calls
    [cut] = typed.sent("conversation.item.truncate")
    assert cut["audio_end_ms"] == 100  # 2400 samples at 24 kHz had played
    assert light_call.sent("conversation.item.truncate") == [cut]
    assert [e.pcm for e in light_call.of(fx.Play)] == [b"\x01\x00" * 4800]
    assert light_call.emitted("realtime_model_transcription") == typed.emitted(
        "realtime_model_transcription"
    )


@settings(max_examples=300, deadline=None)
@given(delta=DELTAS)
def test_audio_is_decoded_as_the_sdk_decodes_it(delta: Any) -> None:
    typed = server_event({"type": AUDIO, "response_id": "r1", "item_id": "a1", "delta": delta})
    try:
        expected = typed.delta
    except (TypeError, ValueError):
        expected = b""
    if not isinstance(expected, bytes):
        expected = b""
    assert AudioDelta.read(typed).pcm == expected
    assert AudioDelta.read(typed) == AudioDelta.read(dict(typed))


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"response_id": "r1", "delta": "Hi"}, TextDelta(TEXT, "r1", "Hi")),
        ({"response_id": "", "delta": 3}, TextDelta(TEXT, None, "")),
        ({"response_id": ["r1"]}, TextDelta(TEXT, None, "")),
    ],
)
def test_text_deltas_read_fields_as_handlers_do(
    fields: dict[str, Any], expected: TextDelta
) -> None:
    payload = {"type": TEXT, **fields}
    assert TextDelta.read(payload) == expected
    assert TextDelta.read(server_event(payload)) == expected


def test_light_records_keep_the_watchdog_quiet() -> None:
    """A stream of light records is the service talking: the watchdog must see it."""
    call = make_core()
    call.connect()
    call.event("response.created", response={"id": "r1", "status": "in_progress"})
    limit = call.core.response_timeout
    assert limit is not None
    for _ in range(3):
        call.advance(limit * 0.6)
        call.run(call.core.receive(AudioDelta("r1", "a1", b"\x00\x00" * 240)))
        assert call.run(call.core.tick()) == []
    call.advance(limit * 1.1)
    assert not call.sent("response.cancel")
    call.run(call.core.tick())
    assert call.sent("response.cancel")
