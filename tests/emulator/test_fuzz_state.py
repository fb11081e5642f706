"""Fuzzing the client-event handling of the pure server state (:class:`ServiceState`).

Whatever a client sends, the state answers with actions and never raises: a bad
event is an ``error`` event, every event it sends serialises to JSON with a known
server event type, and afterwards a valid ``session.update`` still gets
``session.updated``. The socket layer plays no part here: a started response is
"streamed" by finishing it when the run says so (:data:`FINISH`), a filler timer
fires at once. ``test_fuzz_socket.py`` does the same over a real socket.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import given, settings

from videosdk_plugins_azure.emulator import (
    EmulatorConnection,
    EmulatorSettings,
    Faults,
    FunctionCall,
    McpCall,
    Scenario,
    ToolTurnRegistry,
    Turn,
)
from videosdk_plugins_azure.emulator._actions import (
    CancelResponse,
    Send,
    StartFillerTimer,
    StartResponse,
)
from videosdk_plugins_azure.emulator._context import ConnectionContext
from videosdk_plugins_azure.emulator._errors import ProtocolError
from videosdk_plugins_azure.emulator._plan import ActiveResponse
from videosdk_plugins_azure.emulator._state import ServiceState
from videosdk_plugins_azure.emulator._wire import parse_client_frame
from videosdk_plugins_azure.protocol.events import SERVER_EVENT_TYPES

from .client_events import FINISH, FUZZ_SETTINGS, JUNK_FRAMES, STEPS, reconfigure

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

SCRIPT = [
    Turn(user="weather?", calls=[FunctionCall("get_weather", {"city": "Paris"})]),
    Turn(user="docs?", calls=[McpCall("docs", "search", {"q": "x"}, output="found")]),
    Turn(user="hello", reply="Hello \ud800 there"),
]


class Driver:
    """Plays the socket layer's part for one :class:`ServiceState`, checking what it sends."""

    def __init__(self) -> None:
        counter = itertools.count(1)
        record = EmulatorConnection(
            0, path="/voice-live/realtime", query={"model": "gpt-realtime"}, headers={}, auth="x"
        )
        ctx = ConnectionContext(
            new_id=lambda prefix: f"{prefix}_{next(counter):04d}",
            settings=EmulatorSettings(Scenario(SCRIPT), Faults()),
            tool_turns=ToolTurnRegistry(),
            record=record,
        )
        self.state = ServiceState(ctx, clock=lambda: 100.0)
        self.running: ActiveResponse | None = None
        self.sent: list[dict[str, Any]] = []

    def step(self, client_event: Any) -> list[dict[str, Any]]:
        """Feed one client event (or :data:`FINISH`); return the events sent for it."""
        start = len(self.sent)
        if client_event == FINISH:
            self._finish("completed")
        else:
            self._perform(list(self.state.receive(client_event)))
        return self.sent[start:]

    def _perform(self, actions: list[Any]) -> None:
        for action in actions:
            if isinstance(action, Send):
                self._check(action.event)
                self.sent.append(action.event)
            elif isinstance(action, StartResponse):
                assert self.running is None or self.running.done, "two responses at once"
                self.running = action.response
            elif isinstance(action, CancelResponse):
                if action.response is self.running:
                    self._finish("cancelled")
            elif isinstance(action, StartFillerTimer):
                self._perform(list(self.state.filler_due(action.turn, action.texts)))

    def _finish(self, status: str) -> None:
        response, self.running = self.running, None
        if response is not None and not response.done:
            response.status = "cancelled" if response.is_cancelled else status
            self._perform(list(self.state.finish_response(response)))

    @staticmethod
    def _check(event: dict[str, Any]) -> None:
        assert event["type"] in SERVER_EVENT_TYPES, event["type"]
        json.dumps(event)  # what the socket layer sends must serialise
        if event["type"] == "error":
            assert event["error"]["event_id"] is None or isinstance(event["error"]["event_id"], str)


def still_serves(driver: Driver) -> None:
    driver.step(FINISH)
    answer = driver.step(reconfigure(driver.state.session))
    assert [e["type"] for e in answer][:1] == ["session.updated"], answer


def fuzz_state(steps: list[Any]) -> None:
    driver = Driver()
    driver.step({"type": "session.update", "session": {}})
    for client_event in steps:
        driver.step(client_event)
    still_serves(driver)


@settings(max_examples=300, **FUZZ_SETTINGS)
@given(STEPS)
def test_fuzzed_client_events_never_break_the_state(steps: list[Any]) -> None:
    fuzz_state(steps)


@pytest.mark.slow
@pytest.mark.timeout(1800)
@settings(max_examples=10_000, **FUZZ_SETTINGS)
@given(STEPS)
def test_fuzzed_client_events_never_break_the_state_10k(steps: list[Any]) -> None:
    fuzz_state(steps)


@settings(max_examples=200, **FUZZ_SETTINGS)
@given(JUNK_FRAMES)
def test_any_frame_parses_to_an_event_or_a_protocol_error(frame: str | bytes) -> None:
    code = None
    try:
        assert isinstance(parse_client_frame(frame), dict)
    except ProtocolError as error:
        code = error.code
    assert code in {None, "invalid_json", "invalid_value", "message_too_large"}
