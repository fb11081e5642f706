"""Where server ``error`` events go: the routing table and what each route does."""

from __future__ import annotations

import pytest

from videosdk_plugins_azure.core import LinkState
from videosdk_plugins_azure.core import effects as fx
from videosdk_plugins_azure.protocol.errors import ErrorRoute, route
from videosdk_plugins_azure.protocol.ids import SESSION_UPDATE_ID, IdKind, mint, parse

from .conftest import Driver


@pytest.mark.parametrize(
    ("code", "origin", "configuring", "expected"),
    [
        ("response_cancel_not_active", None, False, ErrorRoute.BENIGN),
        ("item_already_truncated", "cut_item_1", False, ErrorRoute.BENIGN),
        ("conversation_already_has_active_response", "req_3", False, ErrorRoute.CREATE_RACED),
        ("conversation_already_has_active_response", None, False, ErrorRoute.REPORT),
        ("invalid_value", "cut_item_1", False, ErrorRoute.CUT_REJECTED),
        ("invalid_value", "replay_0", False, ErrorRoute.REPLAY_REJECTED),
        ("invalid_value", SESSION_UPDATE_ID, True, ErrorRoute.SETUP_REJECTED),
        ("invalid_value", SESSION_UPDATE_ID, False, ErrorRoute.REPORT),
        ("invalid_api_key", None, False, ErrorRoute.FATAL),
        ("session_expired", None, False, ErrorRoute.REPORT),
        ("whatever", "not_ours", False, ErrorRoute.REPORT),
    ],
)
def test_route(code: str, origin: str | None, configuring: bool, expected: ErrorRoute) -> None:
    assert route(code, origin, configuring=configuring) is expected


def test_ids_round_trip_and_foreign_ids_do_not_parse() -> None:
    for kind in IdKind:
        assert parse(mint(kind, "x_1")) == (kind, "x_1")
    for foreign in (None, 3, "", "req", "req_", "evt_1", "nope_1"):
        assert parse(foreign) is None


def error(call: Driver, code: str, origin: str | None = None) -> list[fx.Effect]:
    body = {"type": "invalid_request_error", "code": code, "message": f"{code}!"}
    if origin is not None:
        body["event_id"] = origin
    return call.event("error", error=body)


def test_a_raced_create_goes_again_after_the_live_response(call: Driver) -> None:
    call.connect()
    call.event("response.created", response={"id": "vad1", "status": "in_progress"})
    call.run(call.core.user_text("And tomorrow?"))
    assert not call.sent("response.create")
    call.event("response.done", response={"id": "vad1", "status": "completed"})
    [create] = call.sent("response.create")
    call.clear()
    # the server's VAD started vad2 just before our create arrived, which it refuses
    call.event("response.created", response={"id": "vad2", "status": "in_progress"})
    assert error(call, "conversation_already_has_active_response", create["event_id"]) == []
    call.event("response.done", response={"id": "vad2", "status": "completed"})
    [retry] = call.sent("response.create")
    assert retry["event_id"] == create["event_id"]


def test_benign_and_cut_errors_reach_nobody(call: Driver) -> None:
    call.connect()
    assert error(call, "response_cancel_not_active") == []
    assert error(call, "invalid_value", mint(IdKind.CUT, "item_4")) == []


def test_a_refused_setup_is_a_non_recoverable_setup_error(call: Driver) -> None:
    call.core.connecting()
    call.core.opened()
    effects = error(call, "invalid_value", SESSION_UPDATE_ID)
    assert effects == [fx.Settled()]
    assert call.core.setup_error is not None
    assert not call.core.setup_error.recoverable
    assert "rejected the session configuration" in call.core.setup_error.message


def test_a_fatal_error_gives_up_and_closes_the_socket(call: Driver) -> None:
    call.connect()
    effects = error(call, "insufficient_quota")
    assert call.core.link.state is LinkState.FAILED
    assert fx.CloseSocket() in effects
    [reported] = call.emitted("error")
    assert reported.code == "insufficient_quota"
    assert not reported.recoverable
    assert call.core.socket_closed(1000) == []


def test_other_errors_are_reported_and_the_call_goes_on(call: Driver) -> None:
    call.connect()
    error(call, "session_expired")
    [reported] = call.emitted("error")
    assert reported.recoverable
    assert call.core.ready
