"""``RecordingProxy``: a Voice Live endpoint that forwards to the real one and records.

Point any Voice Live client (the SDK, this plugin) at :attr:`RecordingProxy.endpoint`
instead of the service. Each upgrade request is opened on ``upstream`` with the same
path and query and the client's credentials (``api-key``, ``Authorization``, and the
SDK's ``User-Agent`` / ``x-ms-*`` headers), *before* the client's own upgrade is
answered: a key the service refuses is the same HTTP status for the client, as
without the proxy. Then frames are relayed both ways unchanged, each one written to
the cassette (scrubbed, see :mod:`._scrub`) before it is forwarded, and a close on
either side is passed to the other with its code (a dropped upstream drops the
client's TCP connection too, so the client sees what it would have seen).

Every connection is a session of the same cassette, so a client's reconnects are
recorded as they happen.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from os import PathLike
from pathlib import Path
from typing import Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aiohttp
from aiohttp import WSMsgType, web

from ...connection import check_endpoint
from .._handshake import Credentials, error_body
from .._limits import ServerLimits
from .._loopback import LoopbackServer, LoopbackService
from ._format import Direction, InputAudio
from ._writer import CassetteWriter, SessionRecorder

__all__ = ["RecordingProxy"]

log = logging.getLogger("videosdk_plugins_azure.emulator.cassette")

_FORWARDED: Final = frozenset({"api-key", "authorization", "user-agent"})
_FORWARDED_PREFIX: Final = "x-ms-"
_UNSENDABLE: Final = frozenset({1005, 1006, 1015})
"""Close codes that describe a close but may not be sent in a close frame (RFC 6455 §7.4.1)."""
_DROPPED: Final = 1006
_HEARTBEAT: Final = 30.0
"""Seconds between pings to the upstream, as the SDK pings the service itself."""


class _CassetteUnwritable(Exception):
    """The cassette file failed (disk full, removed): the recording cannot go on."""


class RecordingProxy(LoopbackService):
    """Records the Voice Live sessions of any client pointed at :attr:`endpoint`.

    ::

        async with RecordingProxy("https://<resource>.services.ai.azure.com", "call.jsonl") as rec:
            model = AzureVoiceLive(endpoint=rec.endpoint, api_key=key, ...)

    ``input_audio="drop"`` (the default) keeps each ``input_audio_buffer.append`` with
    its byte length but not its audio, which is all replay needs; ``"store"`` keeps
    the caller's audio too. ``overwrite=False`` refuses an existing ``out`` (the
    command line's default, so a real call is not recorded over by accident). A
    plain-text ``upstream`` (``http``/``ws``) is refused off loopback unless
    ``allow_insecure_upstream``; ``upstream_ssl`` is the TLS context for a ``wss``
    upstream (default: the system's trust store).
    """

    def __init__(
        self,
        upstream: str,
        out: str | PathLike[str],
        *,
        input_audio: InputAudio = "drop",
        overwrite: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        allow_remote: bool = False,
        allow_insecure_upstream: bool = False,
        upstream_ssl: ssl.SSLContext | None = None,
        connect_timeout: float = 15.0,
        limits: ServerLimits | None = None,
    ) -> None:
        self.upstream = check_endpoint(upstream, allow_insecure=allow_insecure_upstream)
        self.out = Path(out)
        self.limits = limits or ServerLimits()
        self.connect_timeout = connect_timeout
        self._ssl: ssl.SSLContext | bool = upstream_ssl if upstream_ssl is not None else True
        self._writer = CassetteWriter(
            self.out, input_audio=input_audio, upstream=self.upstream, overwrite=overwrite
        )
        self._server = LoopbackServer(
            self._handle,
            name="the recording proxy",
            host=host,
            port=port,
            allow_remote=allow_remote,
            limits=lambda: self.limits,
        )
        self._http: aiohttp.ClientSession | None = None
        self._credentials = Credentials(None, None)

    # -- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        self._writer.open()
        self._http = aiohttp.ClientSession(trust_env=False)
        try:
            await super().start()
        except BaseException:
            await self._http.close()
            self._writer.close()
            raise
        log.info("recording proxy on %s", self.endpoint)

    async def stop(self) -> None:
        """Close every relayed connection (1001), then finish the cassette file."""
        await super().stop()
        http, self._http = self._http, None
        if http is not None:
            await http.close()
        self._writer.close()

    @property
    def sessions(self) -> int:
        """Connections recorded so far."""
        return self._writer.sessions

    # -- one connection ---------------------------------------------------------------

    def upstream_url(self, request: web.Request) -> str:
        """The service URL for ``request``: the upstream's base path, the request's path,
        the request's query (as sent) plus any of the upstream's own parameters."""
        base = urlsplit(self.upstream)
        scheme = {"https": "wss", "http": "ws"}.get(base.scheme, base.scheme)
        query = request.query_string
        own = [(k, v) for k, v in parse_qsl(base.query) if k not in request.query]
        if own:
            query = "&".join(part for part in (query, urlencode(own)) if part)
        return urlunsplit((scheme, base.netloc, base.path.rstrip("/") + request.path, query, ""))

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self._http is None:
            return error_body(503, "unavailable", "The recording proxy is stopping.")
        upstream = await self._open_upstream(request)
        if isinstance(upstream, web.Response):
            return upstream
        try:
            ws = await self._server.upgrade(request)
            if not isinstance(ws, web.WebSocketResponse):
                return ws
            loop = asyncio.get_running_loop()
            recorder = self._writer.begin(
                request.path,
                dict(request.query),
                dict(request.headers),
                self._credentials.authenticate(request),
                loop.time(),
            )
            with self._server.tracking(ws):
                await _Relay(ws, upstream, recorder, request).run()
            return ws
        finally:
            await upstream.close()

    async def _open_upstream(
        self, request: web.Request
    ) -> aiohttp.ClientWebSocketResponse | web.Response:
        """The upstream socket, or the HTTP answer the client gets instead.

        Errors never quote the URL: its query may carry a key.
        """
        assert self._http is not None
        headers = {
            name: value
            for name, value in request.headers.items()
            if name.lower() in _FORWARDED or name.lower().startswith(_FORWARDED_PREFIX)
        }
        try:
            async with asyncio.timeout(self.connect_timeout):
                return await self._http.ws_connect(
                    self.upstream_url(request),
                    headers=headers,
                    max_msg_size=self.limits.hard_frame_bytes,
                    autoping=True,
                    heartbeat=_HEARTBEAT,
                    ssl=self._ssl,
                    timeout=aiohttp.ClientWSTimeout(ws_close=5.0),
                )
        except aiohttp.WSServerHandshakeError as exc:
            log.warning("the upstream refused the upgrade: HTTP %s", exc.status)
            message = f"The upstream refused the connection (HTTP {exc.status})."
            return error_body(exc.status, "upstream_refused", message)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning("the upstream is unreachable: %s", type(exc).__name__)
            return error_body(502, "upstream_unreachable", "The upstream could not be reached.")


class _Relay:
    """Copies frames both ways until one side closes, then closes the other alike."""

    def __init__(
        self,
        client: web.WebSocketResponse,
        upstream: aiohttp.ClientWebSocketResponse,
        recorder: SessionRecorder,
        request: web.Request,
    ) -> None:
        self._client = client
        self._upstream = upstream
        self._recorder = recorder
        self._request = request
        self._loop = asyncio.get_running_loop()

    async def run(self) -> None:
        pumps: dict[asyncio.Future[None], Direction] = {
            asyncio.ensure_future(self._pump(self._client, self._upstream, "client")): "client",
            asyncio.ensure_future(self._pump(self._upstream, self._client, "server")): "server",
        }
        try:
            done, _ = await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in pumps:
                task.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
        first = next(iter(done))
        failure = None if first.cancelled() else first.exception()
        if isinstance(failure, _CassetteUnwritable):
            log.error("recording stopped: the cassette could not be written (%s)", failure)
            await self._client.close(code=1011)
            return
        if failure is not None:
            raise failure
        await self._close_other(pumps[first])

    async def _pump(
        self,
        source: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
        sink: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
        direction: Direction,
    ) -> None:
        while True:
            message = await source.receive()
            if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                return
            try:
                self._recorder.frame(direction, message.data, self._loop.time())
            except OSError as exc:
                raise _CassetteUnwritable(exc.strerror or type(exc).__name__) from exc
            try:
                if message.type is WSMsgType.TEXT:
                    await sink.send_str(message.data)
                else:
                    await sink.send_bytes(message.data)
            except (ConnectionError, RuntimeError):
                return  # the sink is gone: its own pump reports how

    async def _close_other(self, ended: Direction) -> None:
        """``ended`` closed (or dropped) first: do the same to the other side and record it."""
        if ended == "client":
            code = self._client.close_code
            await self._upstream.close(code=1001 if code in _UNSENDABLE or not code else code)
        else:
            code = self._upstream.close_code
            if code is None or code in _UNSENDABLE:
                code = _DROPPED
                transport = self._request.transport
                if transport is not None:
                    transport.abort()
            else:
                await self._client.close(code=code)
        self._recorder.closed(ended, code if code is not None else _DROPPED, self._loop.time())
