"""The gating rule, on the replay state alone: no socket, the clock passed in.

A recorded session is built record by record; the live client's events are fed
with the time they arrive, and the state says which recorded server event is due
and when.
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np
import pytest

from videosdk_plugins_azure.emulator.cassette import (
    Cassette,
    CassetteHeader,
    CassetteSession,
    SessionClose,
)
from videosdk_plugins_azure.emulator.cassette import EventRecord as R
from videosdk_plugins_azure.emulator.cassette._replay_state import ReplayState
from videosdk_plugins_azure.emulator.cassette._script import VOICE_GRACE_MS, compile_session

RATE = 24000
MS = RATE * 2 // 1000  # bytes of pcm16 per millisecond


def event(kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, **fields}


def client(t: float, kind: str, **fields: Any) -> R:
    return R(0, "client", t, event(kind, **fields))


def server(t: float, kind: str, **fields: Any) -> R:
    return R(0, "server", t, event(kind, **fields))


def append(t: float, ms: int) -> R:
    return R(0, "client", t, event("input_audio_buffer.append", audio="<dropped>"), ms * MS)


def state_for(*records: R) -> ReplayState:
    session = CassetteSession(0, query={"model": "gpt-realtime"}, records=list(records))
    tape = Cassette(CassetteHeader(recorded_at="now"), [session])
    return ReplayState(compile_session(Cassette.loads(tape.dumps()).sessions[0]), started=0.0)


def audio(ms: int, *, voiced: bool) -> dict[str, Any]:
    n = RATE * ms // 1000
    if voiced:
        t = np.arange(n) / RATE
        samples = (0.3 * 32767 * np.sin(2 * np.pi * 220 * t)).astype("<i2")
    else:
        samples = (np.random.default_rng(0).standard_normal(n) * 16).astype("<i2")
    return event("input_audio_buffer.append", audio=base64.b64encode(samples.tobytes()).decode())


UPDATE = client(0.01, "session.update", session={"input_audio_format": "pcm16"})
TURN = (
    server(0.0, "session.created"),
    UPDATE,
    server(0.02, "session.updated"),
    client(0.10, "response.create"),
    server(0.30, "response.created"),
    append(0.32, 300),
    server(0.40, "response.done"),
    append(1.00, 700),
    server(1.05, "input_audio_buffer.speech_started"),
    append(2.00, 800),
    server(2.10, "input_audio_buffer.speech_stopped"),
    server(2.60, "response.created"),
)


def drain(state: ReplayState, now: float, speed: float = math.inf) -> list[str]:
    """Take every step due by ``now``; their types."""
    sent = []
    while (due := state.due_at(speed)) is not None and due <= now:
        step = state.take(due)
        sent.append(step.event["type"] if step.event else "close")
    return sent


def test_a_response_waits_for_its_client_event_but_not_for_audio() -> None:
    state = state_for(*TURN)
    assert drain(state, 0.0) == ["session.created"]
    assert state.receive(UPDATE.event, 0.5) is None
    assert drain(state, 0.5) == ["session.updated"]
    assert drain(state, 9.0) == []  # the greeting waits for response.create
    assert state.receive(event("response.create"), 1.0) is None
    # the recorded 300 ms of audio between them does not hold the response back
    assert drain(state, 1.0) == ["response.created", "response.done"]


def test_speech_started_waits_for_the_recorded_audio_and_a_live_voice() -> None:
    state = state_for(*TURN)
    state.receive(UPDATE.event, 0.0)
    state.receive(event("response.create"), 0.0)
    drain(state, 0.0)
    state.receive(audio(900, voiced=False), 1.0)
    assert drain(state, 1.0) == []  # 900 ms < the recorded 1000 ms
    state.receive(audio(300, voiced=False), 1.3)
    assert drain(state, 1.3) == []  # enough audio, but only line noise: no caller yet
    state.receive(audio(200, voiced=True), 1.5)
    assert drain(state, 1.5) == ["input_audio_buffer.speech_started"]
    # speech_stopped: as much audio after speech_started as recorded (800 ms)
    state.receive(audio(700, voiced=True), 2.2)
    assert drain(state, 2.2) == []
    state.receive(audio(100, voiced=False), 2.3)
    assert drain(state, 2.3) == ["input_audio_buffer.speech_stopped", "response.created"]


def test_without_a_voice_speech_started_goes_after_the_grace() -> None:
    state = state_for(*TURN)
    state.receive(UPDATE.event, 0.0)
    state.receive(event("response.create"), 0.0)
    drain(state, 0.0)
    state.receive(audio(1000 + int(VOICE_GRACE_MS) - 100, voiced=False), 3.0)
    assert drain(state, 3.0) == []
    state.receive(audio(100, voiced=False), 3.1)
    assert drain(state, 3.1) == ["input_audio_buffer.speech_started"]


def test_at_speed_one_each_step_keeps_its_recorded_delay_after_its_cause() -> None:
    state = state_for(*TURN)
    assert state.due_at(1.0) == 0.0
    state.take(0.0)
    state.receive(UPDATE.event, 5.0)
    assert state.due_at(1.0) == pytest.approx(5.01)  # session.updated came 10 ms after
    state.take(5.01)
    state.receive(event("response.create"), 6.0)
    assert state.due_at(1.0) == pytest.approx(6.2)  # the model's recorded latency
    state.take(6.2)
    assert state.due_at(1.0) == pytest.approx(6.3)  # the gap to the event before it
    assert state.due_at(2.0) == pytest.approx(6.25)  # speed 2: half of it


def test_a_server_close_is_a_step_with_its_code() -> None:
    session = CassetteSession(0, records=[server(0.0, "session.created")])
    session.close = SessionClose(0, 1.5, "server", 1001)
    [_, close] = compile_session(session).steps
    assert (close.close_code, close.t) == (1001, 1.5)


def test_events_after_a_mismatch_are_refused_and_nothing_more_is_due() -> None:
    state = state_for(*TURN)
    mismatch = state.receive(event("response.create"), 0.0)
    assert mismatch is not None
    assert mismatch.index == 0
    assert "expected session.update" in mismatch.message
    assert state.due_at(math.inf) is None
    assert state.finished
    assert state.receive(UPDATE.event, 0.1) is mismatch


def test_a_shut_gate_says_what_it_waits_for() -> None:
    state = state_for(*TURN)
    drain(state, 0.0)
    assert state.waiting_for().startswith("client event #0: session.update(")
    state.receive(UPDATE.event, 0.0)
    state.receive(event("response.create"), 0.0)
    drain(state, 0.0)
    assert state.waiting_for() == "1000 ms more input audio"
    state.receive(audio(1000, voiced=False), 1.0)
    assert state.waiting_for().startswith("the caller's voice")
