"""What a test sees of one emulated connection: its handshake, every event, and controls.

Tests assert on what the client really sent, so every client event is recorded as
parsed JSON. Audio payloads are replaced by their decoded size unless the
emulator was told to keep them: an hour-long soak would otherwise keep hundreds of
megabytes of base64.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal

Source = Literal["client", "server"]

_REDACTED_HEADERS = frozenset({"api-key", "authorization", "ocp-apim-subscription-key"})
_AUDIO_FIELDS = {"input_audio_buffer.append": "audio", "response.audio.delta": "delta"}


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Handshake headers with credentials masked, safe to keep and print."""
    return {k: ("<redacted>" if k.lower() in _REDACTED_HEADERS else v) for k, v in headers.items()}


def slim(event: Mapping[str, Any], *, keep_audio: bool) -> dict[str, Any]:
    """A copy of ``event`` fit for the record (audio replaced by its size)."""
    copy = dict(event)
    field = _AUDIO_FIELDS.get(str(copy.get("type")))
    if field and not keep_audio and isinstance(copy.get(field), str):
        copy[field] = f"<{len(copy[field]) * 3 // 4} bytes>"
    return copy


class EmulatorConnection:
    """One client connection: its handshake, its recorded events, and fault controls."""

    def __init__(
        self,
        index: int,
        *,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        auth: str,
        keep_audio: bool = False,
    ) -> None:
        self.index = index
        self.path = path
        self.query: dict[str, str] = dict(query)
        self.headers = redact_headers(headers)
        self.auth = auth
        """How the client authenticated: ``api-key``, ``bearer`` or ``query``."""
        self.client_events: list[dict[str, Any]] = []
        self.server_events: list[dict[str, Any]] = []
        self.session: dict[str, Any] = {}
        """The effective session, as last reported to the client."""
        self.close_code: int | None = None
        self.input_audio_bytes = 0
        self.output_audio_bytes = 0
        self._keep_audio = keep_audio
        self._changed = asyncio.Condition()
        self._closed = asyncio.Event()
        self._control: _Control | None = None

    # -- recording (called by the connection handler) -----------------------------

    async def _record(self, source: Source, event: Mapping[str, Any]) -> None:
        target = self.client_events if source == "client" else self.server_events
        target.append(slim(event, keep_audio=self._keep_audio))
        async with self._changed:
            self._changed.notify_all()

    async def _mark_closed(self, code: int | None) -> None:
        self.close_code = code
        self._closed.set()
        async with self._changed:
            self._changed.notify_all()

    # -- what tests read ---------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def events(
        self, event_type: str | None = None, *, source: Source = "client"
    ) -> list[dict[str, Any]]:
        """Recorded events of one side, optionally of one type, in order."""
        events = self.client_events if source == "client" else self.server_events
        return [e for e in events if event_type is None or e.get("type") == event_type]

    def types(self, *, source: Source = "server") -> list[str]:
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
        async with asyncio.timeout(timeout):
            await self._closed.wait()
        return self.close_code

    # -- controls ------------------------------------------------------------------------

    def _attach(self, control: _Control) -> None:
        self._control = control

    def _require_control(self) -> _Control:
        if self._control is None or self.closed:
            raise ConnectionError(f"connection {self.index} is not open")
        return self._control

    async def send_event(self, event: Mapping[str, Any]) -> None:
        """Send a server event as the service would (an ``event_id`` is added if absent)."""
        await self._require_control().send_event(dict(event))

    async def send_raw(self, data: str | bytes) -> None:
        """Send one frame exactly as given: malformed JSON, an empty frame, anything."""
        await self._require_control().send_raw(data)

    async def drop(self) -> None:
        """Vanish without a close frame (the client sees an abnormal closure)."""
        await self._require_control().drop()

    async def close(self, code: int = 1000) -> None:
        await self._require_control().close(code)

    def __repr__(self) -> str:
        state = f"closed {self.close_code}" if self.closed else "open"
        return f"<EmulatorConnection #{self.index} {self.path} {state}>"


class _Control:
    """The handler side of the controls; set by the connection handler."""

    def __init__(
        self,
        send_event: Callable[[dict[str, Any]], Awaitable[None]],
        send_raw: Callable[[str | bytes], Awaitable[None]],
        drop: Callable[[], Awaitable[None]],
        close: Callable[[int], Awaitable[None]],
    ) -> None:
        self.send_event = send_event
        self.send_raw = send_raw
        self.drop = drop
        self.close = close
