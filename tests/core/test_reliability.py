"""Bounds and storms, against the core alone: each probe of the reliability issue."""

from __future__ import annotations

from videosdk_plugins_azure import ReconnectPolicy, VoiceLiveAuthError
from videosdk_plugins_azure.core import LinkState
from videosdk_plugins_azure.core import effects as fx
from videosdk_plugins_azure.errors import VoiceLiveConnectError

from .conftest import Driver, make_core


def test_identical_server_errors_are_collapsed(call: Driver) -> None:
    call.connect()
    for _ in range(1000):
        call.event("error", error={"type": "server_error", "code": "overloaded", "message": "busy"})
    call.event("error", error={"type": "server_error", "code": "other", "message": "x"})
    assert [e.code for e in call.emitted("error")] == ["overloaded", "other"]


def test_a_thousand_interrupts_send_one_cancel(call: Driver) -> None:
    call.connect()
    call.event("response.created", response={"id": "r1", "status": "in_progress"})
    for _ in range(1000):
        call.run(call.core.interrupt())
    assert len(call.sent("response.cancel")) == 1
    call.event("response.done", response={"id": "r1", "status": "cancelled"})
    call.event("response.created", response={"id": "r2", "status": "in_progress"})
    call.run(call.core.interrupt())
    assert len(call.sent("response.cancel")) == 2, "a new response can be cancelled again"


def test_a_response_that_never_ends_is_ended_by_the_watchdog() -> None:
    call = make_core()
    call.core.response_timeout = 3.0
    call.connect()
    call.event("response.created", response={"id": "r1", "status": "in_progress"})
    call.run(call.core.user_text("Are you there?"))
    assert call.sent("response.create") == [], "queued behind the live response"
    for _ in range(5):
        call.advance(0.5)
        assert call.core.tick() == []
    call.advance(0.5)
    effects = call.run(call.core.tick())
    assert any(isinstance(e, fx.Send) and e.event["type"] == "response.cancel" for e in effects)
    [error] = call.emitted("error")
    assert error.code == "response_timeout"
    assert error.recoverable
    assert call.core.calls.active is None
    assert len(call.sent("response.create")) == 1, "the queued request goes now"


def test_sessions_that_die_young_back_off_and_then_give_up() -> None:
    policy = ReconnectPolicy(max_attempts=3, initial_backoff=1.0, jitter=0.0, young_session=60.0)
    call = make_core(policy=policy)
    delays = []
    for _ in range(3):
        call.connect()
        assert call.core.socket_closed(1000) != []
        call.core.connection_reset("drop", error=True)
        delays.append(call.core.recovery_delay(0.0))
    assert delays == [1.0, 2.0, 4.0]
    call.connect()
    call.run(call.core.socket_closed(1000))
    assert call.core.link.state is LinkState.FAILED
    [error] = [e for e in call.emitted("error") if not e.recoverable]
    assert error.code == "connection_unstable"


def test_a_long_lived_session_resets_the_backoff() -> None:
    policy = ReconnectPolicy(initial_backoff=1.0, jitter=0.0, young_session=1.0)
    call = make_core(policy=policy)
    call.connect()
    call.core.socket_closed(1000)
    call.core.connection_reset("drop", error=True)
    call.connect()
    call.advance(2.0)
    call.core.socket_closed(1000)
    assert call.core.recovery_delay(0.0) == 0.0


def test_a_refused_credential_on_reconnect_is_tried_once_more() -> None:
    call = make_core()
    refused = VoiceLiveAuthError("401")
    assert call.core.retry_delay(refused, 1, 0.5) is None, "the first connect: fatal at once"
    call.connect()
    call.core.socket_closed(1006)
    assert call.core.retry_delay(refused, 1, 0.5) == 0.0
    assert call.core.retry_delay(refused, 2, 0.5) is None


def test_retries_stop_within_the_give_up_budget() -> None:
    policy = ReconnectPolicy(max_attempts=50, initial_backoff=1.0, max_backoff=8.0, jitter=0.0)
    call = make_core(policy=policy)
    transient = VoiceLiveConnectError("unreachable", "down", recoverable=True)
    elapsed, attempt = 0.0, 1
    while (delay := call.core.retry_delay(transient, attempt, 0.0, elapsed)) is not None:
        elapsed += delay
        attempt += 1
    assert elapsed <= policy.give_up_after
    assert attempt < 50
