"""What crossed the socket in a live test, seen from the client, and a way to cut it.

Against the real service there is no emulator record to read, so the suite taps
the SDK itself: every event ``VoiceLiveConnection.send`` sent and ``recv``
returned is kept, per connection, with audio payloads replaced by their size.
The tap passes everything through unchanged; it only watches. It is the one
place the suite reaches below the plugin, and :func:`drop_from_client` the one
place it reaches below the SDK.
"""

from __future__ import annotations

import base64
import binascii
import json
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import pytest
from azure.ai.voicelive.aio import VoiceLiveConnection

from videosdk_plugins_azure.protocol.errors import BENIGN_ERROR_CODES
from videosdk_plugins_azure.protocol.events import AUDIO_PAYLOAD_FIELDS, ServerEvent

__all__ = ["CLIENT", "SERVER", "TappedConnection", "WireTap", "drop_from_client"]

CLIENT = "client"
SERVER = "server"

Record = tuple[float, str, dict[str, Any]]
"""``(time.monotonic(), CLIENT | SERVER, event)``."""

Timed = list[tuple[float, dict[str, Any]]]
"""Events with the ``time.monotonic()`` they crossed the socket at, oldest first."""


def _json_default(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict):
        return as_dict()
    raise TypeError(f"cannot record a {type(value).__name__}")


def _plain(event: Any) -> dict[str, Any]:
    """A JSON-shaped copy of an SDK event (model or mapping), audio kept as a byte count."""
    if not isinstance(event, Mapping):
        event = event.as_dict()
    data: dict[str, Any] = json.loads(json.dumps(dict(event), default=_json_default))
    audio_field = AUDIO_PAYLOAD_FIELDS.get(str(data.get("type")))
    if audio_field is not None and isinstance(data.get(audio_field), str):
        try:
            data[f"{audio_field}_bytes"] = len(base64.b64decode(data.pop(audio_field)))
        except (binascii.Error, ValueError):
            data[f"{audio_field}_bytes"] = -1
    return data


@dataclass
class TappedConnection:
    """One SDK connection and everything it carried, oldest first."""

    connection: VoiceLiveConnection
    records: list[Record] = field(default_factory=list)

    def events(self, kind: str, source: str) -> list[dict[str, Any]]:
        return [e for _, s, e in self.records if s == source and e.get("type") == kind]

    def timed(self, kind: str, source: str, since: float = 0.0) -> Timed:
        return [
            (t, e)
            for t, s, e in self.records
            if t >= since and s == source and e.get("type") == kind
        ]


class WireTap:
    """Records the SDK's traffic for one test; :meth:`install` it with a monkeypatch."""

    def __init__(self) -> None:
        self._by_id: dict[int, TappedConnection] = {}
        self.connections: list[TappedConnection] = []

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real_send = VoiceLiveConnection.send
        real_recv = VoiceLiveConnection.recv
        tap = self

        async def send(self: VoiceLiveConnection, event: Any) -> None:
            await real_send(self, event)
            tap._keep(self, CLIENT, event)

        async def recv(self: VoiceLiveConnection) -> Any:
            event = await real_recv(self)
            tap._keep(self, SERVER, event)
            return event

        monkeypatch.setattr(VoiceLiveConnection, "send", send)
        monkeypatch.setattr(VoiceLiveConnection, "recv", recv)

    def _keep(self, connection: VoiceLiveConnection, source: str, event: Any) -> None:
        tapped = self._by_id.get(id(connection))
        if tapped is None or tapped.connection is not connection:
            tapped = TappedConnection(connection)
            self._by_id[id(connection)] = tapped
            self.connections.append(tapped)
        tapped.records.append((time.monotonic(), source, _plain(event)))

    # -- reading -------------------------------------------------------------------------

    @property
    def latest(self) -> TappedConnection:
        if not self.connections:
            raise AssertionError("the plugin never opened a connection")
        return self.connections[-1]

    def all_records(self) -> Iterator[Record]:
        for tapped in self.connections:
            yield from tapped.records

    def timed(self, kind: str, source: str, since: float = 0.0) -> Timed:
        """Events of ``kind`` from ``source`` at or after ``since``, across connections."""
        return sorted(
            (r for tapped in self.connections for r in tapped.timed(kind, source, since)),
            key=lambda r: r[0],
        )

    def first(
        self,
        kind: str,
        source: str,
        since: float = 0.0,
        where: Callable[[dict[str, Any]], bool] = lambda _e: True,
    ) -> tuple[float, dict[str, Any]] | None:
        """The oldest matching event, or None: a predicate for ``room.wait_for``."""
        return next(((t, e) for t, e in self.timed(kind, source, since) if where(e)), None)

    def audio_ms(self, item_id: str, rate: int) -> float:
        """Milliseconds of pcm16 audio the service sent for ``item_id``."""
        kind = ServerEvent.RESPONSE_AUDIO_DELTA.value
        sent = sum(
            int(e.get("delta_bytes", 0))
            for _, e in self.timed(kind, SERVER)
            if e.get("item_id") == item_id
        )
        return 1000 * sent / (2 * rate)

    def server_errors(self) -> list[dict[str, Any]]:
        """The service's ``error`` events, apart from the races every client hits."""
        return [
            e.get("error") or {}
            for _, e in self.timed(ServerEvent.ERROR.value, SERVER)
            if (e.get("error") or {}).get("code") not in BENIGN_ERROR_CODES
        ]


def drop_from_client(tapped: TappedConnection) -> None:
    """Cut the TCP connection under the SDK, as a network failure would: no close frame.

    ``shutdown`` (not ``close``) leaves the descriptor to aiohttp, which then sees
    end-of-stream like any dead link, and the plugin's receive loop sees the SDK's
    ``ConnectionClosed``. The SDK keeps its aiohttp WebSocket in ``_connection``.
    """
    ws = tapped.connection._connection
    sock = ws.get_extra_info("socket")
    if sock is None:
        raise AssertionError("the SDK connection has no socket to cut (already closed?)")
    sock.shutdown(socket.SHUT_RDWR)
