"""What a test sees of one emulated connection: its handshake, every event, and controls.

Tests assert on what the client really sent, so every client event is recorded as
parsed JSON. Audio payloads are replaced by their decoded size unless the
emulator was told to keep them: an hour-long soak would otherwise keep hundreds of
megabytes of base64. Each side's events are kept in an :class:`~._event_log.EventLog`,
bounded by count and bytes unless the emulator keeps records whole
(``VoiceLiveEmulator(keep_records=True)``).

The record is also how a test acts on a live connection (send a frame the service
never would, drop the socket, close with a code). Those controls work through
:class:`ConnectionControls`, which the server's socket handler implements and
attaches when the socket opens, so the record stays usable after the socket is
gone and never holds the socket itself.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from ..protocol.events import MEDIA_PAYLOAD_FIELDS
from ._delegate import Delegated
from ._event_log import EventLog, LogBounds

__all__ = [
    "ConnectionControls",
    "ConnectionStats",
    "EmulatorConnection",
    "EventObserver",
    "Source",
    "redact_headers",
    "slim",
]

Source = Literal["client", "server"]

EventObserver = Callable[["EmulatorConnection", Source, Mapping[str, Any]], None]
"""Told of every event as it is recorded: the connection, which side sent it, and the
event itself (audio included, whatever the record keeps)."""

_REDACTED_HEADERS = frozenset({"api-key", "authorization", "ocp-apim-subscription-key"})


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Handshake headers with credentials masked, safe to keep and print."""
    return {k: ("<redacted>" if k.lower() in _REDACTED_HEADERS else v) for k, v in headers.items()}


def slim(event: Mapping[str, Any], *, keep_audio: bool) -> dict[str, Any]:
    """A copy of ``event`` fit for the record (audio and video replaced by their size)."""
    copy = dict(event)
    kind = copy.get("type")
    field = MEDIA_PAYLOAD_FIELDS.get(kind) if isinstance(kind, str) else None
    if field and not keep_audio and isinstance(copy.get(field), str):
        copy[field] = f"<{len(copy[field]) * 3 // 4} bytes>"
    return copy


@dataclass
class ConnectionStats:
    """What the server reports about a connection while serving it.

    A plain object the server state writes and the record reads, so the state
    can keep these numbers current without knowing the record (or asyncio).
    """

    session: dict[str, Any] = field(default_factory=dict)
    """The effective session, as last reported to the client."""
    input_audio_bytes: int = 0
    """Decoded bytes of input audio the client appended."""
    output_audio_bytes: int = 0
    """Decoded bytes of assistant audio sent."""


class ConnectionControls(Protocol):
    """What can be done to a live connection from outside the protocol.

    The emulator's socket handler implements it; :meth:`EmulatorConnection.attach`
    connects one to a record. Each method acts on the socket at once, bypassing
    the session's own logic.
    """

    async def send_event(self, event: dict[str, Any]) -> None:
        """Send a server event, adding an ``event_id`` when it has none."""

    async def send_raw(self, data: str | bytes) -> None:
        """Send one frame exactly as given."""

    async def drop(self) -> None:
        """Abort the TCP connection: no close frame."""

    async def close(self, code: int) -> None:
        """Close the WebSocket with ``code``."""

    async def expire(self) -> None:
        """End the session as the service's duration cap does."""


class EmulatorConnection:
    """One client connection: its handshake, its recorded events, and its controls.

    Everything here stays readable after the connection closed; the controls
    (:meth:`send_event`, :meth:`send_raw`, :meth:`drop`, :meth:`close`,
    :meth:`expire`) raise ``ConnectionError`` once it has.
    """

    session: Delegated[dict[str, Any]] = Delegated("stats")
    """The effective session, as last reported to the client."""
    input_audio_bytes: Delegated[int] = Delegated("stats")
    """Decoded bytes of input audio the client appended."""
    output_audio_bytes: Delegated[int] = Delegated("stats")
    """Decoded bytes of assistant audio sent."""

    def __init__(
        self,
        index: int,
        *,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        auth: str,
        keep_audio: bool = False,
        bounds: LogBounds | None = None,
        on_closed: Callable[[EmulatorConnection], None] | None = None,
        observers: list[EventObserver] | None = None,
    ) -> None:
        self.index = index
        self.path = path
        self.query: dict[str, str] = dict(query)
        self.headers = redact_headers(headers)
        self.auth = auth
        """How the client authenticated: ``api-key``, ``bearer`` or ``query``."""
        self._logs: dict[Source, EventLog] = {
            "client": EventLog(bounds),
            "server": EventLog(bounds),
        }
        self.client_events: list[dict[str, Any]] = self._logs["client"].events
        """The client's events, oldest first (the newest ones, when the record is bounded)."""
        self.server_events: list[dict[str, Any]] = self._logs["server"].events
        self.stats = ConnectionStats()
        self.close_code: int | None = None
        self._keep_audio = keep_audio
        self._changed = asyncio.Condition()
        self._closed = asyncio.Event()
        self._controls: ConnectionControls | None = None
        self._on_closed = on_closed
        self._observers = observers if observers is not None else []

    # -- recording (package-internal: called by the socket handler) ---------------------

    async def _record(
        self, source: Source, event: Mapping[str, Any], size: int | None = None
    ) -> None:
        """Keep ``event``; ``size`` is its frame's length, when the caller has it."""
        kept = slim(event, keep_audio=self._keep_audio)
        if size is None:
            size = len(json.dumps(kept, default=str))
        else:
            size -= sum(len(event[k]) for k in kept if kept[k] is not event[k])
        self._logs[source].add(kept, max(size, 16))
        for observe in self._observers:
            observe(self, source, event)
        async with self._changed:
            self._changed.notify_all()

    async def _mark_closed(self, code: int | None) -> None:
        self.close_code = code
        self._closed.set()
        if self._on_closed is not None:  # before anyone waiting on the close runs
            self._on_closed(self)
        async with self._changed:
            self._changed.notify_all()

    # -- what tests read ---------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    @property
    def dropped_events(self) -> dict[Source, int]:
        """Events of each side dropped to keep the record within its bounds (0 when whole)."""
        return {source: log.dropped for source, log in self._logs.items()}

    def events(
        self, event_type: str | None = None, *, source: Source = "client"
    ) -> list[dict[str, Any]]:
        """Recorded events of one side, optionally of one type, in order."""
        events = self.client_events if source == "client" else self.server_events
        return [e for e in events if event_type is None or e.get("type") == event_type]

    def types(self, *, source: Source = "server") -> list[str]:
        """The ``type`` of each recorded event of one side (server by default), in order."""
        return [
            str(e.get("type"))
            for e in (self.server_events if source == "server" else self.client_events)
        ]

    async def wait_for(
        self,
        event_type: str,
        *,
        source: Source = "client",
        count: int = 1,
        timeout: float = 10.0,
        where: Callable[[dict[str, Any]], bool] | None = None,
    ) -> dict[str, Any]:
        """Wait until ``count`` matching events were recorded; return the last of them.

        Raises ``TimeoutError`` (never hangs) and fails fast when the socket closes
        before the event arrives.
        """

        def matching() -> list[dict[str, Any]]:
            return [e for e in self.events(event_type, source=source) if where is None or where(e)]

        async with asyncio.timeout(timeout), self._changed:
            while len(found := matching()) < count:
                if self.closed:
                    raise ConnectionError(
                        f"connection {self.index} closed before {count} {source} {event_type!r}"
                    )
                await self._changed.wait()
            return found[count - 1]

    async def wait_until(self, predicate: Callable[[], bool], *, timeout: float = 10.0) -> None:
        """Wait until ``predicate()`` holds; it is re-checked as each event is recorded."""
        async with asyncio.timeout(timeout), self._changed:
            while not predicate():
                if self.closed:
                    raise ConnectionError(f"connection {self.index} closed first")
                await self._changed.wait()

    async def wait_closed(self, timeout: float = 10.0) -> int | None:
        """Wait until the socket is closed; return its close code (1006 when dropped)."""
        async with asyncio.timeout(timeout):
            await self._closed.wait()
        return self.close_code

    # -- controls ------------------------------------------------------------------------

    def attach(self, controls: ConnectionControls) -> None:
        """Connect the record to the socket serving it.

        The server does this when it accepts the socket. Another transport, or a
        test double, can attach its own implementation to drive a record.
        """
        self._controls = controls

    @property
    def controls(self) -> ConnectionControls:
        """The live socket's controls; ``ConnectionError`` once the connection closed."""
        if self._controls is None or self.closed:
            raise ConnectionError(f"connection {self.index} is not open")
        return self._controls

    async def send_event(self, event: Mapping[str, Any]) -> None:
        """Send a server event as the service would (an ``event_id`` is added if absent).

        It goes through the same path as the emulator's own events: it is
        recorded, and fault rules can match it.
        """
        await self.controls.send_event(dict(event))

    async def send_raw(self, data: str | bytes) -> None:
        """Send one frame exactly as given: malformed JSON, an empty frame, anything.

        Not recorded: it is not an event.
        """
        await self.controls.send_raw(data)

    async def drop(self) -> None:
        """Vanish without a close frame (the client sees an abnormal closure)."""
        await self.controls.drop()

    async def close(self, code: int = 1000) -> None:
        """Close the WebSocket with ``code`` (the SDK reports it as ``ConnectionClosed.code``)."""
        await self.controls.close(code)

    async def expire(self) -> None:
        """End the session now as the service's duration cap does.

        An ``error`` event with code ``session_expired``, then close 1001: the
        sequence :meth:`~._faults.Faults.expire` schedules, on demand.
        """
        await self.controls.expire()

    def __repr__(self) -> str:
        state = f"closed {self.close_code}" if self.closed else "open"
        return f"<EmulatorConnection #{self.index} {self.path} {state}>"
