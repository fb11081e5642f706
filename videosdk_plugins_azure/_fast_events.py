"""The hot events both ways without the SDK's models: audio deltas in, appends out.

Per received frame the SDK's ``recv()`` encodes the text to bytes (``recv_bytes``),
decodes it again, parses it, builds a typed model (``ServerEvent._deserialize``),
and the model's ``delta`` property decodes base64 through a serializer: three to
five times what parsing and decoding cost by themselves. Per sent event its
``send()`` runs ``json.dumps`` with a model-aware ``default``. At tens of audio
deltas and 25 appends a second per call, that adds up (``benchmarks/hotpath.py``
measures both ways). So:

* :class:`EventReader` reads frames off the SDK connection's aiohttp WebSocket;
  the types in :data:`~.core.effects.HOT_EVENTS` become the core's light records,
  every other frame becomes the SDK's typed event, made by the call ``recv()`` makes.
* :class:`EventWriter` writes ``input_audio_buffer.append`` as text built here
  (base64 needs no JSON escaping); every other event goes through the SDK's ``send()``.
* :func:`run_eagerly` runs a send at once, so an append needs no task wake-up.

Both reach below the SDK's public API (``VoiceLiveConnection._connection`` and
``ServerEvent._deserialize``). Each checks, per connection, that the SDK is a
version this was tested with (:data:`TESTED_SDK`) and that the internals are what
it expects, and otherwise uses the SDK's ``recv()`` and ``send()`` as they are.
They also step aside when ``recv`` or ``send`` was replaced (a wire tap, a test
double): going around it would hide the traffic from whoever replaced it.

Frames are parsed with the standard library's ``json``: orjson, measured on the
same frames, would save under 2 % of a call's CPU.
"""

from __future__ import annotations

import binascii
import json
import logging
import types
from collections.abc import Callable, Coroutine, Generator
from importlib import metadata
from typing import Any, Final, cast

import aiohttp
from azure.ai.voicelive import models as m
from azure.ai.voicelive.aio import ConnectionClosed, VoiceLiveConnection
from azure.ai.voicelive.aio import ConnectionError as SdkConnectionError

from ._outbox import Outgoing
from .core.effects import HOT_EVENTS, HotEvent
from .protocol.events import ClientEvent, wire_type

__all__ = [
    "SDK_VERSION",
    "TESTED_SDK",
    "EventReader",
    "EventWriter",
    "append_text",
    "fast_path_allowed",
    "replaced",
    "run_eagerly",
]

log = logging.getLogger("videosdk_plugins_azure")

TESTED_SDK: Final = ((1, 3), (1, 4))
"""``azure-ai-voicelive`` versions ``>= 1.3, < 1.4``: those whose internals this reads
were checked against (1.3.1). Any other version gets the SDK's own paths."""


def _installed_sdk() -> str:
    try:
        return metadata.version("azure-ai-voicelive")
    except metadata.PackageNotFoundError:
        return ""


SDK_VERSION = _installed_sdk()
"""The installed SDK's version, read once."""

_TYPED: Callable[[Any, list[Any]], Any] | None = getattr(m.ServerEvent, "_deserialize", None)
"""How the SDK's ``recv()`` makes a typed event of a parsed frame."""
_SDK_METHODS: Final = {"recv": VoiceLiveConnection.recv, "send": VoiceLiveConnection.send}
_APPEND: Final = wire_type(ClientEvent.INPUT_AUDIO_BUFFER_APPEND)
_APPEND_HEAD: Final = '{"type":' + json.dumps(_APPEND) + ',"audio":"'
_TEXT, _BINARY = aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY
_CLOSE_CODES: Final = {aiohttp.WSMsgType.CLOSED: 1000, aiohttp.WSMsgType.ERROR: 1006}
"""What the SDK's ``recv()`` reports for a message that is no frame (``CLOSE`` reads the
socket's code); any other kind it reports as 1006."""
_SEND_ERRORS: Final = (TypeError, ValueError, aiohttp.ClientError, RuntimeError)
"""What the SDK's ``send()`` turns into its ``ConnectionError``."""


def _tested(version: str) -> bool:
    try:
        release = tuple(int(part) for part in version.split(".")[:2])
    except ValueError:  # a pre-release or local tag: not what was tested
        return False
    low, high = TESTED_SDK
    return low <= release < high


def replaced(connection: Any, method: str) -> bool:
    """Whether the connection's ``recv`` or ``send`` is no longer the SDK's own.

    Checked at every call, not once: a tap may be put on a connection already open.
    """
    own = _SDK_METHODS[method]
    return method in vars(connection) or getattr(type(connection), method) is not own


def fast_path_allowed(connection: Any, method: str) -> aiohttp.ClientWebSocketResponse | None:
    """The connection's aiohttp WebSocket, when going around the SDK's ``method`` is safe.

    Safe means: a tested SDK version, a connection whose ``recv``/``send`` are the
    SDK's own, and the internals in place (the socket, the typed-event factory).
    """
    if not _tested(SDK_VERSION) or not isinstance(connection, VoiceLiveConnection):
        return None
    if replaced(connection, method) or not callable(_TYPED):
        return None
    socket = getattr(connection, "_connection", None)
    return socket if isinstance(socket, aiohttp.ClientWebSocketResponse) else None


class EventReader:
    """Server events from one connection: hot ones as light records, the rest typed."""

    __slots__ = ("_connection", "_socket")

    def __init__(self, connection: VoiceLiveConnection) -> None:
        self._connection = connection
        self._socket = fast_path_allowed(connection, "recv")
        if self._socket is None:
            log.debug("reading server events through the SDK's recv()")

    @property
    def fast(self) -> bool:
        """Whether the next event is read the fast way."""
        return self._socket is not None and not replaced(self._connection, "recv")

    async def recv(self) -> m.ServerEvent | HotEvent:
        """The next event; raises what the SDK's ``recv()`` raises, in the same cases."""
        socket = self._socket
        if socket is None or replaced(self._connection, "recv"):
            return await self._connection.recv()
        try:
            message = await socket.receive()
        except aiohttp.ClientError as exc:
            raise ConnectionClosed(getattr(exc, "code", 1006), str(exc)) from exc
        kind = message.type
        if kind is not _TEXT and kind is not _BINARY:
            raise ConnectionClosed(_close_code(socket, kind), "")
        if not message.data:
            raise ConnectionClosed(1006, "Empty WebSocket frame")
        return _parse(message.data)


def _close_code(socket: aiohttp.ClientWebSocketResponse, kind: aiohttp.WSMsgType) -> int:
    if kind is aiohttp.WSMsgType.CLOSE:
        return socket.close_code or 1000
    return _CLOSE_CODES.get(kind, 1006)


def _parse(data: str | bytes) -> m.ServerEvent | HotEvent:
    try:
        payload = json.loads(data)
        kind = payload.get("type") if type(payload) is dict else None
        read = HOT_EVENTS.get(kind) if type(kind) is str else None
        if read is not None:
            return read(payload)
        assert _TYPED is not None  # checked by fast_path_allowed()
        return cast("m.ServerEvent", _TYPED(payload, []))
    except (ValueError, TypeError) as exc:
        raise SdkConnectionError(f"Failed to parse message: {exc}") from exc


def append_text(pcm: bytes) -> str:
    """The ``input_audio_buffer.append`` frame for ``pcm``, built as text."""
    return _APPEND_HEAD + binascii.b2a_base64(pcm, newline=False).decode("ascii") + '"}'


class EventWriter:
    """Client events onto one connection: appends as built text, the rest via the SDK."""

    __slots__ = ("_connection", "_socket")

    def __init__(self, connection: VoiceLiveConnection) -> None:
        self._connection = connection
        self._socket = fast_path_allowed(connection, "send")

    @property
    def fast(self) -> bool:
        """Whether the next append is written the fast way."""
        return self._socket is not None and not replaced(self._connection, "send")

    def send(self, item: Outgoing) -> Coroutine[Any, Any, None]:
        """A coroutine that sends ``item``; it raises the SDK's ``ConnectionError``."""
        if not isinstance(item, bytes):
            return self._connection.send(item)
        if self._socket is None or replaced(self._connection, "send"):
            audio = binascii.b2a_base64(item, newline=False).decode("ascii")
            return self._connection.send({"type": _APPEND, "audio": audio})
        return _send_text(self._socket, append_text(item))


async def _send_text(socket: aiohttp.ClientWebSocketResponse, data: str) -> None:
    try:
        await socket.send_str(data)
    except _SEND_ERRORS as exc:
        raise SdkConnectionError(f"Failed to send event: {exc}") from exc


def run_eagerly(coro: Coroutine[Any, Any, None]) -> Coroutine[Any, Any, None] | None:
    """Run ``coro`` now, up to its end or the first time it waits.

    An aiohttp send writes its frame at once and waits only while the socket is
    backed up, so nearly always this finishes here: None. Otherwise the rest is
    returned, for a task to finish. What ``coro`` raises before waiting is raised.
    """
    try:
        waiting = coro.send(None)
    except StopIteration:
        return None
    return _finish(coro, waiting)


async def _finish(coro: Coroutine[Any, Any, None], waiting: Any) -> None:
    await _resume(coro, waiting)


@types.coroutine
def _resume(coro: Coroutine[Any, Any, None], waiting: Any) -> Generator[Any, Any, None]:
    """Drive ``coro`` on from where it first waited, as ``await coro`` would have."""
    while True:
        try:
            value = yield waiting
        except GeneratorExit:
            coro.close()
            raise
        except BaseException as exc:  # a cancellation: passed in, as a task passes it
            try:
                waiting = coro.throw(exc)
            except StopIteration:
                return
        else:
            try:
                waiting = coro.send(value)
            except StopIteration:
                return
