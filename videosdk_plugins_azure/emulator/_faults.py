"""Fault injection: the ways a real Voice Live connection goes wrong.

Reconnect logic is only as good as the failures it was tested against, so the
emulator can reproduce each of them on demand: a socket that vanishes (no close
frame, the client sees 1006), a close with a chosen code, the service's
``session_expired`` sequence, a slow handshake, a slow model and rejected auth.
The model's ordinary think time is a setting of the emulator (``model_latency``,
see :mod:`._latency`); the fault here overrides it.

Rules are consumed: ``times=1`` (the default) fires once in the emulator's
lifetime, so a test can drop the first connection and let the reconnect succeed.
``times=None`` fires on every match.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ..protocol.events import ClientEvent, ServerEvent, wire_type

__all__ = ["PHASES", "FaultAction", "FaultRule", "Faults", "Phase"]

FaultAction = Literal["drop", "close"]
Phase = Literal["session_update", "user_speech", "response_audio", "tool_call", "between_turns"]


def _output_types(event: Mapping[str, Any]) -> set[str]:
    output = (event.get("response") or {}).get("output") or []
    return {str(item.get("type")) for item in output}


def _calls_tools(event: Mapping[str, Any]) -> bool:
    return "function_call" in _output_types(event)


def _answered(event: Mapping[str, Any]) -> bool:
    """A completed response that leaves nothing for the client to do.

    A response that ends on MCP approval requests is not an answer yet: the
    turn goes on once the client approves or denies.
    """
    response = event.get("response") or {}
    waiting = _output_types(event) & {"function_call", "mcp_approval_request"}
    return response.get("status") == "completed" and not waiting


_RESPONSE_DONE = wire_type(ServerEvent.RESPONSE_DONE)

PHASES: dict[str, dict[str, Any]] = {
    "session_update": {"on_client": wire_type(ClientEvent.SESSION_UPDATE)},
    "user_speech": {"after_server": wire_type(ServerEvent.INPUT_AUDIO_BUFFER_SPEECH_STARTED)},
    "response_audio": {"after_server": wire_type(ServerEvent.RESPONSE_AUDIO_DELTA)},
    "tool_call": {"after_server": _RESPONSE_DONE, "where": _calls_tools},
    "between_turns": {"after_server": _RESPONSE_DONE, "where": _answered},
}
"""The phases of a call a test can break, as triggers.

``tool_call`` fires once a response that called tools is done, while the client
runs them; ``between_turns`` once an answer is complete.
"""


def _triggers(
    during: str | None, after_server: str | None, on_client: str | None, after_events: int | None
) -> dict[str, Any]:
    explicit = {"after_server": after_server, "on_client": on_client, "after_events": after_events}
    given = {k: v for k, v in explicit.items() if v is not None}
    if during is not None:
        if given:
            raise ValueError("give either 'during' or an explicit trigger, not both")
        if during not in PHASES:
            raise ValueError(f"unknown phase {during!r}; one of {sorted(PHASES)}")
        return dict(PHASES[during])
    return given


@dataclass
class FaultRule:
    """One trigger and what happens when it matches.

    Exactly one trigger is set: ``after_server`` (right after the first server
    event of that type is sent), ``on_client`` (when a client event of that type
    arrives, before it is handled) or ``after_events`` (after that many server
    events on one connection).
    """

    action: FaultAction
    after_server: str | None = None
    on_client: str | None = None
    after_events: int | None = None
    where: Callable[[Mapping[str, Any]], bool] | None = None
    """Optional extra condition on the matching server event."""
    close_code: int = 1011
    error_code: str | None = None
    """With ``close``: send an ``error`` event with this code before closing."""
    times: int | None = 1
    fired: int = 0

    @property
    def active(self) -> bool:
        return self.times is None or self.fired < self.times

    def matches_server(self, event: Mapping[str, Any], events_sent: int) -> bool:
        if not self.active:
            return False
        if self.after_server is not None:
            return self.after_server == event.get("type") and (
                self.where is None or self.where(event)
            )
        return self.after_events is not None and events_sent >= self.after_events

    def matches_client(self, event_type: str) -> bool:
        return self.active and self.on_client == event_type


@dataclass
class Faults:
    """The emulator's fault settings; mutable while it runs."""

    handshake_delay: float = 0.0
    """Seconds to wait before answering the WebSocket upgrade."""
    model_latency: float | None = None
    """While set, every response waits exactly this many seconds (no jitter) between
    ``response.created`` and its first output, instead of the emulator's own
    ``model_latency``: a slow model, or with ``0`` an instant one, on demand."""
    reject_auth_status: int | None = None
    """Answer every handshake with this HTTP status (401 or 403) while set."""
    reject_auth_times: int | None = None
    """How many handshakes to reject; None means all while the status is set."""
    expire_after: float | None = None
    """Seconds after connect when the service ends the session with ``session_expired``."""
    expire_times: int | None = 1
    rules: list[FaultRule] = field(default_factory=list)

    def drop(
        self,
        *,
        during: Phase | None = None,
        after_server: str | None = None,
        on_client: str | None = None,
        after_events: int | None = None,
        times: int | None = 1,
    ) -> FaultRule:
        """Vanish without a close frame at the given point (or ``during`` a phase)."""
        return self._add(
            FaultRule(
                "drop",
                times=times,
                **_triggers(during, after_server, on_client, after_events),
            )
        )

    def close(
        self,
        code: int,
        *,
        during: Phase | None = None,
        after_server: str | None = None,
        on_client: str | None = None,
        after_events: int | None = None,
        error_code: str | None = None,
        times: int | None = 1,
    ) -> FaultRule:
        """Close with ``code`` at the given point, optionally after an ``error`` event."""
        return self._add(
            FaultRule(
                "close",
                close_code=code,
                error_code=error_code,
                times=times,
                **_triggers(during, after_server, on_client, after_events),
            )
        )

    def expire(self, after: float, *, times: int | None = 1) -> None:
        """End sessions like the service's duration cap: ``session_expired``, then close 1001."""
        self.expire_after = after
        self.expire_times = times

    def reject_auth(self, status: int = 401, *, times: int | None = None) -> None:
        self.reject_auth_status = status
        self.reject_auth_times = times

    def clear(self) -> None:
        self.handshake_delay = 0.0
        self.model_latency = None
        self.reject_auth_status = None
        self.reject_auth_times = None
        self.expire_after = None
        self.rules.clear()

    def take_auth_rejection(self) -> int | None:
        """The status to reject this handshake with, consuming one use."""
        if self.reject_auth_status is None:
            return None
        status = self.reject_auth_status
        if self.reject_auth_times is not None:
            self.reject_auth_times -= 1
            if self.reject_auth_times <= 0:
                self.reject_auth_status = None
                self.reject_auth_times = None
        return status

    def take_expiry(self) -> float | None:
        """The expiry delay for a new connection, consuming one use."""
        if self.expire_after is None:
            return None
        after = self.expire_after
        if self.expire_times is not None:
            self.expire_times -= 1
            if self.expire_times <= 0:
                self.expire_after = None
        return after

    def _add(self, rule: FaultRule) -> FaultRule:
        triggers = [rule.after_server, rule.on_client, rule.after_events]
        if sum(t is not None for t in triggers) != 1:
            raise ValueError("a fault needs exactly one of after_server, on_client, after_events")
        self.rules.append(rule)
        return rule
