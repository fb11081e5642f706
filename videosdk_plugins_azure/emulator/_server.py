"""The emulator's HTTP side: handshake, auth, and the lifetime of the server.

It answers ``GET <base>/voice-live/realtime`` like the service: credentials are
checked before the upgrade (:mod:`._handshake`), then each accepted socket gets its
own :class:`~._connection.ConnectionHandler`. It listens as the cassette servers do
(:mod:`._loopback`: loopback only unless told otherwise, because it accepts any
credential you configure and serves anyone who can reach it; the handshake
timeout).

It also owns what its connections share that must be bounded (:mod:`._limits`):
the thread pool speech is synthesized in (shut down on :meth:`~VoiceLiveEmulator.stop`)
and how many records of closed connections are kept.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from os import PathLike

from aiohttp import web

from ..protocol.session import DEFAULT_SESSION_SEMANTICS, SessionSemantics
from ._connection import ConnectionHandler
from ._context import ConnectionContext, EmulatorSettings
from ._delegate import Delegated
from ._event_log import LogBounds
from ._faults import Faults
from ._handshake import Credentials, agent_from_query, error_body
from ._latency import DEFAULT_LATENCY_JITTER, DEFAULT_MODEL_LATENCY, DEFAULT_SEED
from ._limits import ServerLimits
from ._loopback import LoopbackServer, LoopbackService
from ._record import EmulatorConnection, EventObserver
from ._scenario import Scenario
from ._turns import ToolTurnRegistry

__all__ = ["VoiceLiveEmulator"]

log = logging.getLogger("videosdk_plugins_azure.emulator")


class VoiceLiveEmulator(LoopbackService):
    """A local Azure Voice Live service for tests, benchmarks and offline demos.

    Use it as an async context manager::

        async with VoiceLiveEmulator(api_key="test-key") as emu:
            async with connect(endpoint=emu.endpoint, credential=AzureKeyCredential("test-key"),
                               model="gpt-realtime") as conn:
                ...

    ``api_key`` / ``token`` set the accepted credentials (``api-key`` header or query
    parameter, ``Authorization: Bearer``). With neither set, any non-empty credential
    is accepted, but a missing one is still refused. ``speed`` paces audio deltas at
    ``speed`` × real time (``math.inf`` sends them unpaced). ``tts`` picks the voice:
    ``"espeak"`` (espeak-ng), ``"synthetic"`` (a deterministic speech-like signal) or
    ``"auto"`` (espeak-ng when installed).

    The service's rules hold by default: ``session_semantics="replace"`` (each
    ``session.update`` is the whole session; ``"merge"`` serves OpenAI-style clients
    that send partial updates) and a model that thinks ``model_latency`` ±
    ``latency_jitter`` wall-clock seconds before a response's first output, jittered
    from ``seed``; tests that don't measure latency pass ``model_latency=0``.
    ``tls_cert``/``tls_key`` (PEM files) serve ``wss://``, and :attr:`endpoint` is then
    ``https://…``.

    ``limits`` (a :class:`ServerLimits`) bounds what a client may ask and how long it
    may stay silent: handshake, setup and idle timeouts, frame size and JSON depth,
    reply length, speech threads, and how much of each connection is recorded. The
    defaults suit any real client. Records are bounded by default (the newest
    events of each connection, the last ``max_closed_records`` closed connections);
    ``keep_records=True`` keeps every event of every connection, for tests.
    """

    settings: EmulatorSettings
    """What every connection shares, live. The ``scenario``, ``faults``, ``speed``,
    ``chunk_ms``, ``tts``, ``session_semantics``, ``model_latency``,
    ``latency_jitter`` and ``seed`` attributes are views of it (a new ``seed``
    seeds the connections accepted after the change)."""

    scenario: Delegated[Scenario] = Delegated("settings")
    faults: Delegated[Faults] = Delegated("settings")
    speed: Delegated[float] = Delegated("settings")
    chunk_ms: Delegated[int] = Delegated("settings")
    tts: Delegated[str] = Delegated("settings")
    session_semantics: Delegated[SessionSemantics] = Delegated("settings")
    model_latency: Delegated[float] = Delegated("settings")
    latency_jitter: Delegated[float] = Delegated("settings")
    seed: Delegated[int] = Delegated("settings")

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        token: str | None = None,
        scenario: Scenario | None = None,
        speed: float = 1.0,
        chunk_ms: int = 100,
        tts: str = "auto",
        faults: Faults | None = None,
        allow_remote: bool = False,
        record_audio: bool = False,
        session_semantics: SessionSemantics = DEFAULT_SESSION_SEMANTICS,
        model_latency: float = DEFAULT_MODEL_LATENCY,
        latency_jitter: float = DEFAULT_LATENCY_JITTER,
        seed: int = DEFAULT_SEED,
        tls_cert: str | PathLike[str] | None = None,
        tls_key: str | PathLike[str] | None = None,
        limits: ServerLimits | None = None,
        keep_records: bool = False,
    ) -> None:
        self._credentials = Credentials(api_key, token)
        self.settings = EmulatorSettings(
            scenario=scenario if scenario is not None else Scenario(),
            faults=faults if faults is not None else Faults(),
            speed=speed,
            chunk_ms=chunk_ms,
            tts=tts,
            session_semantics=session_semantics,
            model_latency=model_latency,
            latency_jitter=latency_jitter,
            seed=seed,
            limits=limits if limits is not None else ServerLimits(),
        )
        self._server = LoopbackServer(
            self._handle,
            name="the emulator",
            host=host,
            port=port,
            allow_remote=allow_remote,
            limits=lambda: self.settings.limits,
            tls_cert=tls_cert,
            tls_key=tls_key,
        )
        self.record_audio = record_audio
        self.keep_records = keep_records
        self.connections: list[EmulatorConnection] = []
        """Records of the open and the last closed connections (all, with ``keep_records``),
        in the order accepted; a record's ``index`` counts every connection accepted."""
        self.accepted = 0
        self.tool_turns = ToolTurnRegistry()
        """``call_id`` → the scripted turn waiting for that call's output, across
        connections: a client that reconnects sends outputs on a new socket."""
        self._ids: dict[str, itertools.count[int]] = {}
        self._new_connection = asyncio.Condition()
        self._speech: ThreadPoolExecutor | None = None
        self._observers: list[EventObserver] = []

    def observe(self, observer: EventObserver) -> Callable[[], None]:
        """Have ``observer`` told of every event either side sends, on every connection.

        A server event is recorded once its frame is handed to the socket, and a client
        event once it is parsed, so an observer that reads the clock stamps the write
        and the arrival. It runs inside the emulator's send path: it must be quick and
        must not raise. Returns the function that stops it.
        """
        self._observers.append(observer)
        return lambda: self._observers.remove(observer)

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        await self._server.start()
        self._speech = ThreadPoolExecutor(
            max_workers=self.settings.limits.speech_workers,
            thread_name_prefix="voicelive-emulator-speech",
        )
        log.info("Voice Live emulator listening on %s", self.endpoint)

    async def stop(self) -> None:
        """Close every socket, then the speech pool (waiting, off the loop, for the
        syntheses already running: queued ones are cancelled)."""
        await self._server.stop()
        speech, self._speech = self._speech, None
        if speech is not None:
            await asyncio.to_thread(speech.shutdown, wait=True, cancel_futures=True)

    # -- what callers read ---------------------------------------------------------------

    @property
    def unpaced(self) -> bool:
        return math.isinf(self.speed)

    def new_id(self, prefix: str) -> str:
        """Ids unique across all connections, like the service's."""
        counter = self._ids.setdefault(prefix, itertools.count(1))
        return f"{prefix}_{next(counter):04d}"

    async def wait_for_connection(
        self, count: int = 1, *, timeout: float = 10.0
    ) -> EmulatorConnection:
        """Wait until ``count`` connections were accepted; return the last of them.

        ``LookupError`` if its record was already forgotten (see ``keep_records``).
        """
        async with asyncio.timeout(timeout), self._new_connection:
            while self.accepted < count:
                await self._new_connection.wait()
        for record in reversed(self.connections):
            if record.index == count - 1:
                return record
        raise LookupError(f"the record of connection {count - 1} was already forgotten")

    @property
    def last_connection(self) -> EmulatorConnection:
        if not self.connections:
            raise LookupError("no connection yet")
        return self.connections[-1]

    # -- the handshake ---------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self.faults.handshake_delay > 0:
            await asyncio.sleep(self.faults.handshake_delay)
        auth = self._admit(request)
        if not isinstance(auth, str):
            return auth
        ws = await self._server.upgrade(request)
        if not isinstance(ws, web.WebSocketResponse):
            return ws
        record = self._new_record(request, auth)
        ctx = ConnectionContext(
            new_id=self.new_id,
            settings=self.settings,
            tool_turns=self.tool_turns,
            record=record,
            agent=agent_from_query(request.query),
            speech=self._speech,
        )
        handler = ConnectionHandler(ctx, ws, request)
        async with self._new_connection:
            self._new_connection.notify_all()
        with self._server.tracking(ws):
            await handler.run()
        return ws

    def _admit(self, request: web.Request) -> str | web.Response:
        """How the request authenticated, or the HTTP error it gets instead of an upgrade."""
        rejected = self.faults.take_auth_rejection()
        if rejected is not None:
            return error_body(
                rejected,
                "invalid_api_key" if rejected == 401 else "forbidden",
                "Access denied (injected).",
            )
        auth = self._credentials.authenticate(request)
        if auth is None:
            return error_body(
                401,
                "invalid_api_key",
                "Access denied due to invalid subscription key or wrong API endpoint.",
            )
        query = request.query
        if "model" not in query and "agent-name" not in query:
            return error_body(400, "missing_model", "Either 'model' or 'agent-name' is required.")
        if ("agent-name" in query) != ("agent-project-name" in query):
            return error_body(
                400, "invalid_agent", "'agent-name' and 'agent-project-name' go together."
            )
        return auth

    def _new_record(self, request: web.Request, auth: str) -> EmulatorConnection:
        limits = self.settings.limits
        bounds = (
            None
            if self.keep_records
            else LogBounds(limits.max_record_events, limits.max_record_bytes)
        )
        record = EmulatorConnection(
            self.accepted,
            path=request.path,
            query=dict(request.query),
            headers=dict(request.headers),
            auth=auth,
            keep_audio=self.record_audio,
            bounds=bounds,
            on_closed=self._forget_closed,
            observers=self._observers,
        )
        self.accepted += 1
        self.connections.append(record)
        return record

    def _forget_closed(self, _record: EmulatorConnection | None = None) -> None:
        """Keep the records of only the last ``max_closed_records`` closed connections.

        Called as each record closes, so a test that awaited a close sees the result.
        """
        if self.keep_records:
            return
        closed = [record for record in self.connections if record.closed]
        excess = len(closed) - self.settings.limits.max_closed_records
        if excess > 0:
            forgotten = {id(record) for record in closed[:excess]}
            self.connections[:] = [r for r in self.connections if id(r) not in forgotten]
