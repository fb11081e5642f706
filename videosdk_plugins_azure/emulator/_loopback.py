"""A local Voice Live endpoint's listener: bind, serve the service's path, stop.

The emulator, the recording proxy and the replay server listen alike, so they
share this piece. Loopback only unless told otherwise (:func:`bindable_host`),
because each serves anyone who can reach it; optional TLS from a PEM pair
(:func:`server_tls`), for clients that only speak ``wss://``; the service's URL
path (anything else is a 404); and the handshake timeout as aiohttp's keep-alive
timer, which runs from the moment a TCP connection opens until its first request
is complete, so a client that never finishes its upgrade request is dropped.
What differs between them is only what happens to a request on that path, which
the owner passes as ``handler``.

:class:`LoopbackService` is the owner's side (``async with``, :attr:`endpoint`),
and :func:`serve_until_signalled` how the command line runs any of them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import ssl
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from os import PathLike
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from ..protocol.net import REALTIME_PATH, is_loopback
from ._handshake import error_body
from ._limits import ServerLimits

__all__ = [
    "MAX_HTTP_BODY",
    "NEVER",
    "Handler",
    "LoopbackServer",
    "LoopbackService",
    "add_listen_flags",
    "bindable_host",
    "run_command",
    "serve_until_signalled",
    "server_tls",
]

MAX_HTTP_BODY = 1024 * 1024  # the handshake is a GET: no body is ever read
NEVER = 1e9  # seconds: aiohttp's timers take a number, not math.inf

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def bindable_host(host: str, allow_remote: bool) -> str:
    """``host``, unless it is not loopback and remote clients were not allowed."""
    if not allow_remote and not is_loopback(host):
        raise ValueError(
            f"refusing to bind the emulator to non-loopback host {host!r}; "
            "pass allow_remote=True (--allow-remote) if you really mean it"
        )
    return host


def server_tls(
    cert: str | PathLike[str] | None, key: str | PathLike[str] | None
) -> ssl.SSLContext | None:
    """The TLS context to serve with, or None for plain ``ws://``.

    Some clients only speak ``wss://`` (they rewrite any endpoint to it), so a
    server can serve TLS from a certificate the client is told to trust (for
    Python clients, ``SSL_CERT_FILE``). A bad file fails here, at construction,
    not on the first handshake.
    """
    if cert is None and key is None:
        return None
    if cert is None:
        raise ValueError("tls_key needs tls_cert: give both, or neither")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


class LoopbackServer:
    """Serves ``GET <base>/voice-live/realtime`` with ``handler``; other paths get a 404.

    ``limits`` is read when it is needed (at :meth:`start`, at each upgrade), so
    limits changed before then apply. ``name`` is what errors call the server.
    """

    def __init__(
        self,
        handler: Handler,
        *,
        name: str,
        host: str,
        port: int,
        allow_remote: bool,
        limits: Callable[[], ServerLimits],
        tls_cert: str | PathLike[str] | None = None,
        tls_key: str | PathLike[str] | None = None,
    ) -> None:
        self.host = bindable_host(host, allow_remote)
        self._name = name
        self._requested_port = port
        self._handler = handler
        self._limits = limits
        self._tls = server_tls(tls_cert, tls_key)
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._sockets: set[web.WebSocketResponse] = set()

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError(f"{self._name} is already running")
        app = web.Application(client_max_size=MAX_HTTP_BODY)
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        runner = web.AppRunner(
            app,
            access_log=None,
            handle_signals=False,
            shutdown_timeout=1.0,
            keepalive_timeout=min(self._limits().handshake_timeout, NEVER),
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
        """Close every tracked socket (1001), then the server."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=1001, message=b"server shutting down")
        await runner.cleanup()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError(f"{self._name} is not running")
        return self._port

    @property
    def tls(self) -> bool:
        return self._tls is not None

    @property
    def endpoint(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'ws'}://{host}:{self.port}"

    async def upgrade(self, request: web.Request) -> web.WebSocketResponse | web.Response:
        """The upgraded socket (autoping on, no heartbeat), or the 426 a plain request gets."""
        ws = web.WebSocketResponse(
            max_msg_size=self._limits().hard_frame_bytes, autoping=True, heartbeat=None
        )
        if not ws.can_prepare(request).ok:
            return error_body(426, "upgrade_required", "This endpoint speaks WebSocket only.")
        await ws.prepare(request)
        return ws

    @contextlib.contextmanager
    def tracking(self, ws: web.WebSocketResponse) -> Iterator[None]:
        """Keep ``ws`` among the sockets :meth:`stop` closes, while the block runs."""
        self._sockets.add(ws)
        try:
            yield
        finally:
            self._sockets.discard(ws)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if not request.path.rstrip("/").endswith(REALTIME_PATH):
            return error_body(404, "not_found", "Resource not found.")
        return await self._handler(request)


class LoopbackService:
    """What a server built on a :class:`LoopbackServer` shows its users.

    A subclass sets ``_server`` and extends :meth:`start` and :meth:`stop` with
    what it owns besides the listener.
    """

    _server: LoopbackServer

    async def start(self) -> None:
        await self._server.start()

    async def stop(self) -> None:
        await self._server.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def host(self) -> str:
        return self._server.host

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def tls(self) -> bool:
        """Whether it serves TLS (``wss://``)."""
        return self._server.tls

    @property
    def endpoint(self) -> str:
        """The endpoint to give the SDK (or the plugin): ``ws://HOST:PORT``, or
        ``https://HOST:PORT`` with TLS (the SDK turns ``https`` into ``wss``, as for
        the service's own endpoints)."""
        return self._server.endpoint


# -- from the shell: ``python -m videosdk_plugins_azure.emulator [record|replay]`` ------


def add_listen_flags(p: argparse.ArgumentParser, *, tls: bool = True) -> None:
    """The flags every server of the command line takes: where it binds, TLS, logging."""
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port (0 picks a free one)")
    if tls:
        p.add_argument("--tls-cert", metavar="PATH", help="PEM certificate: serve wss:// (TLS)")
        p.add_argument("--tls-key", metavar="PATH", help="PEM private key of --tls-cert")
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow binding a non-loopback interface (anyone who reaches it is served)",
    )
    p.add_argument("--log-level", default="WARNING")


async def serve_until_signalled(service: LoopbackService) -> None:
    """Serve until SIGINT or SIGTERM, after exactly one line on stdout, ``ready <endpoint>``,
    so a parent process reads the port that ``--port 0`` picked."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with service:
        print(f"ready {service.endpoint}", flush=True)
        await stop.wait()


def run_command(
    command: Callable[[argparse.Namespace], Coroutine[Any, Any, int]], args: argparse.Namespace
) -> int:
    """Run one parsed command, logging to stderr; a bad setting or an unusable port
    (``ValueError``, ``OSError``) is one line on stderr and exit status 2, not a traceback."""
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr)
    try:
        return asyncio.run(command(args))
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
