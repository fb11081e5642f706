"""Hostile server events against the core: no crash, no hang, the call still answers.

Hypothesis builds events of every type the core handles (and some it does not)
with fields of the wrong shape: wrong JSON types, missing keys, nested junk,
unknown ids, base64 that is not, lone surrogates. Each goes through the SDK's
own deserialisation, as ``recv()`` does, then into ``CallCore.receive``.
"""

from __future__ import annotations

import base64
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from videosdk_plugins_azure.core.handlers import HANDLERS

from .conftest import make_core, server_event

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
FIELDS = st.sampled_from(
    [
        "response_id",
        "item_id",
        "call_id",
        "name",
        "arguments",
        "delta",
        "transcript",
        "text",
        "response",
        "item",
        "error",
        "session",
        "audio_offset_ms",
        "viseme_id",
        "output_index",
        "content_index",
        "event_id",
    ]
)
IDS = st.sampled_from(["r1", "a1", "u1", "c1", None, 7, "", "\ud800"])
VALUES = JSON | IDS | st.just(base64.b64encode(b"\x01\x00" * 240).decode())
TYPES = st.sampled_from([*sorted(HANDLERS), "response.unknown", "", "x" * 300])
EVENTS = st.builds(
    lambda kind, fields: {"type": kind, **fields},
    TYPES,
    st.dictionaries(FIELDS, VALUES, max_size=6),
)


def _deliver(call: Any, payload: dict[str, Any]) -> None:
    try:
        event = server_event(payload)
    except (TypeError, ValueError, AttributeError):
        return  # the SDK itself refuses it; the transport logs and skips such frames
    call.run(call.core.receive(event))


@settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(EVENTS, min_size=1, max_size=25))
def test_hostile_events_never_break_the_call(events: list[dict[str, Any]]) -> None:
    call = make_core()
    call.connect()
    for payload in events:
        _deliver(call, payload)
    # a normal answer still flows afterwards
    call.event("response.done", response={"id": "r1", "status": "completed"})
    call.clear()
    call.run(call.core.user_text("Still there?"))
    call.answer("r_final", "a_final", text="Yes.")
    call.run(call.core.playout_finished())
    finals = [p["text"] for p in call.emitted("realtime_model_transcription") if p["is_final"]]
    assert "Yes." in finals
