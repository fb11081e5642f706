"""``CassetteReplay``: serve a recorded call back to a client, offline.

It answers the service's handshake (any non-empty ``api-key`` or bearer token, as
the emulator with no key set), then plays connection *n* from cassette session
*n*: recorded server events go out in order, each once the live client has done
what the recorded client had done before it (:mod:`._script`), with ids rewritten
into the live client's (:mod:`._match`). A client that does something else gets a
Voice Live ``error`` event (code ``cassette_mismatch``) naming the first divergent
event, its socket is closed (1008), the mismatch is logged and kept in
:attr:`CassetteReplay.mismatches`, and leaving the ``async with`` raises it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
from collections.abc import Callable, Mapping
from os import PathLike
from types import TracebackType
from typing import Any, Final

from aiohttp import WSMsgType, web

from .._errors import ProtocolError
from .._handshake import Credentials, error_body
from .._limits import ServerLimits, timeout_or_none
from .._loopback import LoopbackServer, LoopbackService
from .._wire import client_event_id, error_event, parse_client_frame
from ._format import Cassette
from ._replay_state import CassetteMismatch, ReplayState
from ._script import Script, Step, compile_session

__all__ = ["CassetteReplay"]

log = logging.getLogger("videosdk_plugins_azure.emulator.cassette")

MISMATCH_CODE: Final = "cassette_mismatch"
_MISMATCH_CLOSE: Final = 1008
_DROPPED: Final = 1006
_STALL_SECONDS: Final = 5.0


class CassetteReplay(LoopbackService):
    """A Voice Live endpoint that replays a cassette (see the module docs).

    ::

        async with CassetteReplay("tests/cassettes/call.jsonl", speed=math.inf) as replay:
            model = AzureVoiceLive(endpoint=replay.endpoint, api_key="any", ...)

    ``speed`` 1 keeps the recorded delays (model latency, audio pacing); ``math.inf``
    sends each event as soon as its gate opens. ``raise_on_mismatch=False`` leaves
    :attr:`mismatches` for the caller to inspect instead of raising on exit.
    """

    def __init__(
        self,
        cassette: Cassette | str | PathLike[str],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        speed: float = 1.0,
        raise_on_mismatch: bool = True,
        allow_remote: bool = False,
        tls_cert: str | PathLike[str] | None = None,
        tls_key: str | PathLike[str] | None = None,
        limits: ServerLimits | None = None,
    ) -> None:
        if math.isnan(speed) or speed <= 0:
            raise ValueError("speed must be > 0 (math.inf: unpaced)")
        self.cassette = cassette if isinstance(cassette, Cassette) else Cassette.load(cassette)
        self.speed = speed
        self.raise_on_mismatch = raise_on_mismatch
        self.limits = limits or ServerLimits()
        self._scripts = tuple(compile_session(s) for s in self.cassette.sessions)
        self._server = LoopbackServer(
            self._handle,
            name="the cassette replay",
            host=host,
            port=port,
            allow_remote=allow_remote,
            limits=lambda: self.limits,
            tls_cert=tls_cert,
            tls_key=tls_key,
        )
        self._credentials = Credentials(None, None)
        self.mismatches: list[CassetteMismatch] = []
        """Every divergence seen, first first."""
        self.accepted = 0
        """Connections upgraded so far (connection *n* plays session *n*)."""
        self._states: list[ReplayState] = []

    async def start(self) -> None:
        await super().start()
        log.info("replaying %s on %s", self.cassette.source, self.endpoint)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await super().__aexit__(exc_type, exc, tb)
        if exc is None and self.raise_on_mismatch and self.mismatches:
            raise self.mismatches[0]

    def assert_all_played(self) -> None:
        """Raise :class:`CassetteMismatch` unless every session was played to its end."""
        problems = [
            self._states[i].unplayed() if i < len(self._states) else f"session {i} never opened"
            for i in range(len(self._scripts))
        ]
        found = [p for p in problems if p]
        if found or self.mismatches:
            message = "; ".join(found) if found else self.mismatches[0].message
            raise CassetteMismatch(message, session=None)

    # -- connections ------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self._credentials.authenticate(request) is None:
            return error_body(401, "invalid_api_key", "An api-key or a bearer token is required.")
        ws = await self._server.upgrade(request)
        if not isinstance(ws, web.WebSocketResponse):
            return ws
        index, self.accepted = self.accepted, self.accepted + 1
        with self._server.tracking(ws):
            refusal = self._refusal(index, request.query)
            if refusal is not None:
                await _ReplayConnection.refuse(ws, refusal)
                return ws
            state = ReplayState(self._scripts[index], asyncio.get_running_loop().time())
            self._states.append(state)
            await _ReplayConnection(
                ws, request, state, self.speed, self.limits, self._mismatched
            ).run()
        return ws

    def _refusal(self, index: int, query: Mapping[str, str]) -> CassetteMismatch | None:
        """Why connection ``index`` cannot be played, if it cannot."""
        if self.mismatches:
            message = f"the replay stopped at an earlier mismatch: {self.mismatches[0].message}"
            log.warning("refusing connection %d: %s", index, message)
            return CassetteMismatch(message, session=None)
        if index >= len(self._scripts):
            message = (
                f"replay mismatch: connection #{index} has no recorded session "
                f"(the cassette holds {len(self._scripts)})"
            )
            return self._mismatched(CassetteMismatch(message, session=None))
        script: Script = self._scripts[index]
        for key, recorded in (("model", script.model), ("agent-name", script.agent)):
            if query.get(key) != recorded:
                message = (
                    f"replay mismatch at cassette session {index}, handshake: expected "
                    f"{key}={recorded!r}, got {key}={query.get(key)!r}"
                )
                return self._mismatched(CassetteMismatch(message, session=index))
        return None

    def _mismatched(self, mismatch: CassetteMismatch) -> CassetteMismatch:
        """Log a divergence and keep it, for the caller and for ``__aexit__``."""
        log.error("%s", mismatch.message)
        self.mismatches.append(mismatch)
        return mismatch


class _ReplayConnection:
    """Plays one session: a reader that matches client frames, a sender that releases steps."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        request: web.Request,
        state: ReplayState,
        speed: float,
        limits: ServerLimits,
        on_mismatch: Callable[[CassetteMismatch], CassetteMismatch],
    ) -> None:
        self._ws = ws
        self._request = request
        self._state = state
        self._speed = speed
        self._limits = limits
        self._on_mismatch = on_mismatch
        self._changed = asyncio.Event()
        self._send_lock = asyncio.Lock()

    @staticmethod
    async def refuse(ws: web.WebSocketResponse, mismatch: CassetteMismatch) -> None:
        error = error_event(ProtocolError(MISMATCH_CODE, mismatch.message))
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.send_str(json.dumps(error))
        await ws.close(code=_MISMATCH_CLOSE, message=b"cassette mismatch")

    async def run(self) -> None:
        sender = asyncio.ensure_future(self._send_steps())
        try:
            await self._read_frames()
        finally:
            sender.cancel()
            for result in await asyncio.gather(sender, return_exceptions=True):
                if isinstance(result, Exception):
                    log.error("replay sender failed", exc_info=result)

    async def _read_frames(self) -> None:
        loop = asyncio.get_running_loop()
        limits = self._limits
        while True:
            try:
                message = await self._ws.receive(timeout=timeout_or_none(limits.idle_timeout))
            except TimeoutError:
                await self._ws.close(code=1008, message=b"idle timeout")
                return
            if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                return
            event: dict[str, Any] | None
            try:
                event = parse_client_frame(
                    message.data, max_length=limits.max_frame_bytes, max_depth=limits.max_json_depth
                )
            except ProtocolError:
                event = None
            mismatch = self._state.receive(event, loop.time())
            self._changed.set()
            if mismatch is not None:
                await self._diverge(mismatch, event)
                return

    async def _diverge(self, mismatch: CassetteMismatch, event: Mapping[str, Any] | None) -> None:
        self._on_mismatch(mismatch)
        error = ProtocolError(MISMATCH_CODE, mismatch.message)
        echoed = client_event_id(event) if event is not None else None
        await self._send(error_event(error, echoed))
        await self._ws.close(code=_MISMATCH_CLOSE, message=b"cassette mismatch")

    async def _send_steps(self) -> None:
        loop = asyncio.get_running_loop()
        while (due := await self._next_due()) is not None:
            if due > loop.time():
                await asyncio.sleep(due - loop.time())
                if self._state.due_at(self._speed) is None:
                    continue  # a mismatch came while this step waited
            step = self._state.take(due)
            if step.close_code is not None:
                await self._close(step)
                return
            event = self._state.outgoing(step)
            if not await self._send(event if event is not None else step.raw or ""):
                return

    async def _next_due(self) -> float | None:
        """When the next step goes out, once its gate is open; None when none is left.

        A gate shut for :data:`_STALL_SECONDS` is logged once, saying what it waits for:
        a client that stopped short of the recording is otherwise silent.
        """
        warned = False
        while not self._state.finished:
            due = self._state.due_at(self._speed)
            if due is not None:
                return due
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), None if warned else _STALL_SECONDS)
            except TimeoutError:
                warned = True
                log.warning(
                    "replay of cassette session %d has waited %.0f s for %s",
                    self._state.script.session,
                    _STALL_SECONDS,
                    self._state.waiting_for(),
                )
        return None

    async def _send(self, event: Mapping[str, Any] | str) -> bool:
        """Send one frame; False once the socket is gone."""
        data = event if isinstance(event, str) else json.dumps(event, separators=(",", ":"))
        if not data:
            return True  # an empty frame ends the SDK's receive loop: never send one
        async with self._send_lock:
            if self._ws.closed:
                return False
            try:
                await self._ws.send_str(data)
            except (ConnectionError, RuntimeError):
                return False
        return True

    async def _close(self, step: Step) -> None:
        """The recorded server close: the same code, or a TCP drop for 1006."""
        if step.close_code == _DROPPED:
            transport = self._request.transport
            if transport is not None:
                transport.abort()
            return
        await self._ws.close(code=step.close_code or 1000)
