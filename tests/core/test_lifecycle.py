"""Connect, drop, recover, replay and rotate, against the core alone (no socket)."""

from __future__ import annotations

import pytest

from videosdk_plugins_azure import ReconnectPolicy, VoiceLiveAuthError, VoiceLiveError
from videosdk_plugins_azure.core import LinkState
from videosdk_plugins_azure.core import effects as fx
from videosdk_plugins_azure.errors import VoiceLiveConnectError
from videosdk_plugins_azure.protocol.ids import SESSION_UPDATE_ID, IdKind, parse

from .conftest import Driver, make_core


def test_the_first_update_carries_the_context_and_the_call_goes_live(call: Driver) -> None:
    update = call.core.connecting()
    assert update["type"] == "session.update"
    assert update["event_id"] == SESSION_UPDATE_ID
    assert update["session"]["instructions"] == "Be brief. [with context]"
    assert call.core.link.state is LinkState.CONNECTING
    call.core.opened()
    assert not call.core.ready
    effects = call.event("session.updated", session=update["session"])
    assert any(isinstance(e, fx.Settled) for e in effects)
    assert call.core.setup_error is None
    assert call.core.replay_events() == []
    call.run(call.core.live())
    assert call.core.ready


def test_audio_before_the_session_is_live_is_held_then_sent_in_order(call: Driver) -> None:
    assert call.core.caller_audio(b"\x01\x00" * 960) == []
    call.connect()
    sent = b"".join(e.pcm for e in call.of(fx.SendAudio))
    assert sent == b"\x01\x00" * 960


def test_a_close_during_setup_fails_the_attempt_retryably(call: Driver) -> None:
    call.core.connecting()
    call.core.opened()
    effects = call.core.socket_closed(1006)
    assert any(isinstance(e, fx.Settled) for e in effects)
    error = call.core.setup_error
    assert isinstance(error, VoiceLiveConnectError)
    assert error.recoverable
    assert not any(isinstance(e, fx.Reconnect) for e in effects)
    call.core.setup_failed()
    assert call.core.link.state is LinkState.IDLE
    assert call.core.retry_delay(error, 1, 0.5) is not None


def test_retries_stop_at_the_policy_and_at_errors_a_retry_cannot_fix() -> None:
    call = make_core(policy=ReconnectPolicy(max_attempts=2, initial_backoff=1.0, jitter=0.0))
    transient = VoiceLiveConnectError("unreachable", "down", recoverable=True)
    assert call.core.retry_delay(transient, 1, 0.0) == 1.0
    assert call.core.retry_delay(transient, 2, 0.0) == 2.0
    assert call.core.retry_delay(transient, 3, 0.0) is None
    assert call.core.retry_delay(VoiceLiveAuthError("no"), 1, 0.0) is None
    fatal = VoiceLiveError("bad", "config", recoverable=False)
    assert call.core.retry_delay(fatal, 1, 0.0) is None


def test_a_drop_while_live_starts_one_recovery(call: Driver) -> None:
    call.connect()
    first = call.core.socket_closed(1006)
    assert first == [fx.Reconnect("connection closed (code 1006)", error=True)]
    assert not call.core.ready
    assert call.core.socket_closed(1000) == []


def test_recovery_ends_the_cut_answer_and_tells_the_pipeline(call: Driver) -> None:
    call.connect()
    call.event("response.created", response={"id": "r1", "status": "in_progress"})
    call.core.socket_closed(1011)
    call.clear()
    call.run(call.core.connection_reset("connection closed (code 1011)", error=True))
    assert call.of(fx.FinishPlayback)
    [error] = call.emitted("error")
    assert error.code == "connection_lost"
    assert call.core.calls.active is None


def test_recovery_replays_the_conversation_with_the_plain_instructions(call: Driver) -> None:
    call.connect()
    call.event(
        "conversation.item.input_audio_transcription.completed",
        item_id="u1",
        content_index=0,
        transcript="What time is it?",
    )
    call.answer("r1", "a1", text="It is noon.")
    call.run(call.core.playout_finished())
    call.core.socket_closed(1006)
    call.core.connection_reset("drop", error=True)
    update = call.core.connecting()
    assert update["session"]["instructions"] == "Be brief."
    call.core.opened()
    call.event("session.updated", session=update["session"])
    replay = call.core.replay_events()
    assert [parse(e["event_id"]) for e in replay] == [(IdKind.REPLAY, "0"), (IdKind.REPLAY, "1")]
    roles = [e["item"]["role"] for e in replay]
    assert roles == ["user", "assistant"]
    call.run(call.core.live())
    assert call.core.ready
    call.run(call.core.recovered("drop", 0.2))
    assert call.emitted("session_reconnected")[0]["reconnects"] == 1


def test_a_request_cut_off_by_a_drop_is_sent_again_on_the_new_connection(call: Driver) -> None:
    call.connect()
    call.run(call.core.user_text("Hello?"))
    [create] = call.sent("response.create")
    call.core.socket_closed(1006)
    call.core.connection_reset("drop", error=True)
    call.clear()
    call.connect()
    [again] = call.sent("response.create")
    assert again["event_id"] == create["event_id"]


def test_a_rejected_replay_folds_the_history_into_the_instructions_once(call: Driver) -> None:
    call.connect()
    call.answer("r1", "a1", text="Hi there.")
    call.run(call.core.playout_finished())
    call.core.socket_closed(1006)
    call.core.connection_reset("drop", error=True)
    call.connect()
    call.clear()
    for index in range(2):
        call.event(
            "error",
            error={
                "type": "invalid_request_error",
                "code": "bad_item",
                "event_id": f"replay_{index}",
            },
        )
    [update] = call.sent("session.update")
    first = call.core.spec.update_event(
        context_instructions="Be brief. [with context]", replaying=False
    )
    assert update["session"] == first["session"], "the whole session, not only the instructions"
    assert not call.emitted("error")
    call.core.socket_closed(1006)
    call.core.connection_reset("drop", error=True)
    assert call.core.connecting()["session"]["instructions"] == "Be brief. [with context]"
    assert call.core.replay_events() == []


def test_rotation_waits_for_an_idle_call_and_tells_nobody(call: Driver) -> None:
    call.connect()
    call.event("input_audio_buffer.speech_started", audio_start_ms=0, item_id="u1")
    assert call.core.rotate() == []
    call.event("input_audio_buffer.speech_stopped", audio_end_ms=900, item_id="u1")
    assert call.core.rotate() == [fx.Reconnect("session rotation", error=False)]
    call.clear()
    call.run(call.core.connection_reset("session rotation", error=False))
    assert not call.emitted("error")


def test_giving_up_tells_the_pipeline_once_and_drops_audio_afterwards(call: Driver) -> None:
    call.connect()
    call.core.socket_closed(1006)
    call.run(call.core.give_up("could not reconnect"))
    call.run(call.core.give_up("could not reconnect"))
    [error] = call.emitted("error")
    assert not error.recoverable
    assert call.core.link.state is LinkState.FAILED
    assert call.core.caller_audio(b"\x00\x00" * 480) == []
    assert call.core.socket_closed(1006) == []


@pytest.mark.parametrize("setting_up", [True, False])
def test_close_is_final(setting_up: bool) -> None:
    call = make_core()
    if setting_up:
        call.core.connecting()
    else:
        call.connect()
    call.core.close()
    assert call.core.link.state is LinkState.CLOSED
    assert call.core.socket_closed(1006) == [] or call.core.setup_error is not None
    assert call.core.rotate() == []


def test_an_answer_cut_off_before_the_caller_got_any_of_it_is_asked_again(call: Driver) -> None:
    call.connect()
    call.run(call.core.user_text("What time is it?"))
    call.event("response.created", response={"id": "r1", "status": "in_progress"})
    call.core.socket_closed(1001)
    call.core.connection_reset("drop", error=True)
    call.clear()
    call.connect()
    assert len(call.sent("response.create")) == 1, "asked again on the new connection"


def test_an_answer_the_caller_heard_part_of_is_not_asked_again(call: Driver) -> None:
    call.asked_and_answering("Tell me a story.")
    call.core.socket_closed(1006)
    call.core.connection_reset("drop", error=True)
    call.clear()
    call.connect()
    assert call.sent("response.create") == []
