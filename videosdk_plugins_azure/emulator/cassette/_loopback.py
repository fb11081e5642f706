"""The HTTP side both cassette servers share: bind, serve the Voice Live path, stop.

The recording proxy and the replay server listen the way the emulator does, with
its pieces: loopback only unless told otherwise (:func:`~.._server.bindable_host`),
optional TLS from a PEM pair (:func:`~.._server.server_tls`), the service's URL
path, and the upgrade timeout as aiohttp's keep-alive timer. What differs is only
what happens to an upgraded socket, which the owner passes as ``handler``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from os import PathLike

from aiohttp import web

from ...protocol.net import REALTIME_PATH
from .._handshake import error_body
from .._limits import ServerLimits
from .._server import MAX_HTTP_BODY, NEVER, bindable_host, server_tls

__all__ = ["Handler", "LoopbackServer"]

log = logging.getLogger("videosdk_plugins_azure.emulator.cassette")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class LoopbackServer:
    """Serves ``GET <base>/voice-live/realtime`` with ``handler``; other paths get a 404."""

    def __init__(
        self,
        handler: Handler,
        *,
        host: str,
        port: int,
        allow_remote: bool,
        limits: ServerLimits,
        tls_cert: str | PathLike[str] | None = None,
        tls_key: str | PathLike[str] | None = None,
    ) -> None:
        self.host = bindable_host(host, allow_remote)
        self._requested_port = port
        self._handler = handler
        self._limits = limits
        self._tls = server_tls(tls_cert, tls_key)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self.sockets: set[web.WebSocketResponse] = set()
        """Upgraded sockets still open: closed (1001) on :meth:`stop`."""

    @property
    def running(self) -> bool:
        return self._runner is not None

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("already running")
        app = web.Application(client_max_size=MAX_HTTP_BODY)
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        runner = web.AppRunner(
            app,
            access_log=None,
            handle_signals=False,
            shutdown_timeout=1.0,
            keepalive_timeout=min(self._limits.handshake_timeout, NEVER),
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port, ssl_context=self._tls)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        sockets = getattr(site._server, "sockets", None) or []
        self._port = int(sockets[0].getsockname()[1]) if sockets else self._requested_port

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        for ws in list(self.sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=1001, message=b"server shutting down")
        await runner.cleanup()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the server is not running")
        return self._port

    @property
    def endpoint(self) -> str:
        """What a Voice Live client is pointed at, as for the emulator."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self._tls is not None else 'ws'}://{host}:{self.port}"

    def websocket(self) -> web.WebSocketResponse:
        """A server socket sized like the emulator's (autoping on, no heartbeat)."""
        return web.WebSocketResponse(
            max_msg_size=self._limits.hard_frame_bytes, autoping=True, heartbeat=None
        )

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if not request.path.rstrip("/").endswith(REALTIME_PATH):
            return error_body(404, "not_found", "Resource not found.")
        return await self._handler(request)

    @contextlib.contextmanager
    def tracking(self, ws: web.WebSocketResponse) -> Iterator[None]:
        """Keep ``ws`` among the sockets :meth:`stop` closes, while the block runs."""
        self.sockets.add(ws)
        try:
            yield
        finally:
            self.sockets.discard(ws)
