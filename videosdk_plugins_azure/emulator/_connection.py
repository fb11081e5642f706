"""The socket side of one Voice Live session.

:class:`ConnectionHandler` reads frames, hands each parsed client event to the
session's :class:`~._state.ServiceState`, and performs the actions it returns:
sending frames, streaming responses (the timed :class:`~._responses.ResponseGenerator`
in a task of its own), waiting for a cancelled response to finish, and the filler
timer. Everything that needs the socket or the clock lives here; every protocol
decision lives in the state.

Faults fire here too, since they act on the socket: each client event is checked
before it is handled, each server event after it is sent. Nothing a client sends
can crash the loop: a rejected request is an ``error`` event (a frame too long or
nested too deep included), and an unexpected failure is a ``server_error`` one, as
on the service. Nor can a client hold a socket by saying nothing: one that has not
configured its session within ``setup_timeout`` of the upgrade, or that goes
``idle_timeout`` without a frame after that, is closed (1008).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
from aiohttp import WSMsgType, web

from ..protocol.events import ServerEvent, wire_type
from . import _speech
from ._actions import (
    Action,
    CancelResponse,
    Send,
    StartFillerTimer,
    StartResponse,
    StopFillerTimer,
)
from ._context import ConnectionContext, EmulatorSettings
from ._conversation import Conversation
from ._errors import ProtocolError
from ._faults import FaultRule
from ._limits import timeout_or_none
from ._plan import ActiveResponse
from ._response_stream import SocketGone
from ._responses import ResponseGenerator, ResponseRun
from ._state import ServiceState
from ._wire import client_event_id, error_event, parse_client_frame

__all__ = ["ConnectionHandler"]

log = logging.getLogger("videosdk_plugins_azure.emulator")

_SERVER_ERROR = ProtocolError("server_error", "The server had an error.", error_type="server_error")
_SESSION_EXPIRED = ProtocolError(
    "session_expired", "Your session hit the maximum duration and has expired."
)


class ConnectionHandler:
    """Serves one accepted WebSocket until it closes.

    It is the :class:`~._record.ConnectionControls` of its record and the
    :class:`~._responses.ResponseHost` of its responses.
    """

    def __init__(
        self, ctx: ConnectionContext, ws: web.WebSocketResponse, request: web.Request
    ) -> None:
        self._ctx = ctx
        self._ws = ws
        self._request = request
        self.record = ctx.record
        self.state = ServiceState(ctx, clock=self._now)
        self._send_lock = asyncio.Lock()
        self._events_sent = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._runs: dict[str, ResponseRun] = {}
        self._aborted = False
        self._closed_with: int | None = None
        """The close code this side sent, when it closed first (the peer's echo may differ)."""
        self._filler_timer: asyncio.Task[None] | None = None
        self.record.attach(self)

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    # -- ResponseHost -------------------------------------------------------------------

    @property
    def conversation(self) -> Conversation:
        return self.state.conversation

    @property
    def settings(self) -> EmulatorSettings:
        return self._ctx.settings

    @property
    def session(self) -> Mapping[str, Any]:
        return self.state.session

    def new_id(self, prefix: str) -> str:
        return self._ctx.new_id(prefix)

    async def synthesize(self, text: str, sample_rate: int) -> npt.NDArray[np.int16]:
        """Speech for a reply, made in the emulator's speech pool, never on the loop."""
        settings = self._ctx.settings
        return await _speech.synthesize(
            text,
            sample_rate,
            engine=settings.tts,
            executor=self._ctx.speech,
            max_chars=settings.limits.max_reply_chars,
        )

    # -- sending ------------------------------------------------------------------------

    def _gone(self) -> bool:
        return self.state.closed or self._ws.closed

    async def send(self, event: dict[str, Any]) -> None:
        """Send, record and fault-check one server event."""
        if self._gone():
            raise SocketGone
        event.setdefault("event_id", self._ctx.new_id("event"))
        data = json.dumps(event, separators=(",", ":"))
        async with self._send_lock:
            if self._gone():
                raise SocketGone
            try:
                await self._ws.send_str(data)
            except (ConnectionError, RuntimeError) as exc:
                raise SocketGone from exc
            self._events_sent += 1
        if event["type"] == ServerEvent.RESPONSE_AUDIO_DELTA:
            self.record.stats.output_audio_bytes += len(event["delta"]) * 3 // 4
        await self.record._record("server", event, len(data))
        for rule in self._ctx.settings.faults.rules:
            if rule.matches_server(event, self._events_sent):
                await self._fire(rule)

    async def _fire(self, rule: FaultRule) -> None:
        rule.fired += 1
        log.info("fault: %s on connection %d", rule.action, self.record.index)
        if rule.action == "drop":
            await self.drop()
        else:
            if rule.error_code:
                error = ProtocolError(rule.error_code, f"Injected fault: {rule.error_code}")
                with contextlib.suppress(SocketGone):
                    await self.send(error_event(error))
            await self.close(rule.close_code)
        raise SocketGone

    # -- ConnectionControls -------------------------------------------------------------

    async def send_event(self, event: dict[str, Any]) -> None:
        if isinstance(event.get("type"), str):  # an SDK enum member records as its value
            event["type"] = wire_type(event["type"])
        await self.send(event)

    async def send_raw(self, data: str | bytes) -> None:
        async with self._send_lock:
            if isinstance(data, bytes):
                await self._ws.send_bytes(data)
            else:
                await self._ws.send_str(data)

    async def drop(self) -> None:
        """Close the TCP connection under the WebSocket: no close frame."""
        self.state.close()
        self._aborted = True
        transport = self._request.transport
        if transport is not None:
            transport.abort()

    async def close(self, code: int, reason: str = "") -> None:
        self.state.close()
        if self._closed_with is None and not self._ws.closed:
            self._closed_with = code
        with contextlib.suppress(Exception):
            await self._ws.close(code=code, message=reason.encode())

    async def expire(self) -> None:
        with contextlib.suppress(SocketGone):
            await self.send(error_event(_SESSION_EXPIRED))
        await self.close(1001)

    # -- the loop -----------------------------------------------------------------------

    async def run(self) -> None:
        expiry = self._ctx.settings.faults.take_expiry()
        if expiry is not None:
            self._spawn(self._expire_after(expiry))
        try:
            await self._perform_all(self.state.opened())
            await self._read_frames()
        except SocketGone:
            pass
        finally:
            for task in list(self._tasks):
                task.cancel()
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            code = 1006 if self._aborted else self._closed_with or self._ws.close_code
            await self.record._mark_closed(code)

    async def _read_frames(self) -> None:
        """Serve frames until the socket closes or the client has been silent too long.

        The setup deadline runs from the upgrade (frames that configure nothing do
        not extend it, and a client that never stops sending is still closed once
        it has passed); the idle one restarts with each frame.
        """
        limits = self._ctx.settings.limits
        loop = asyncio.get_running_loop()
        setup_deadline = loop.time() + limits.setup_timeout
        while True:
            if self.state.configured:
                wait, reason = limits.idle_timeout, "idle timeout"
            else:
                wait, reason = setup_deadline - loop.time(), "setup timeout"
            try:
                if wait <= 0:
                    raise TimeoutError
                message = await self._ws.receive(timeout=timeout_or_none(wait))
            except TimeoutError:
                log.info("closing connection %d: %s", self.record.index, reason)
                await self.close(1008, reason)
                return
            if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                return
            await self._receive(message.data)

    def _spawn(self, coro: Awaitable[None]) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) and not isinstance(exc, SocketGone):
            log.error("emulator task failed", exc_info=exc)

    async def _expire_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        await self.expire()

    async def _receive(self, data: str | bytes) -> None:
        limits = self._ctx.settings.limits
        try:
            event = parse_client_frame(
                data, max_length=limits.max_frame_bytes, max_depth=limits.max_json_depth
            )
        except ProtocolError as error:
            await self.send(error_event(error))
            return
        await self.record._record("client", event, len(data))
        event_type = event.get("type")
        if isinstance(event_type, str):
            for rule in self._ctx.settings.faults.rules:
                if rule.matches_client(event_type):
                    await self._fire(rule)
        try:
            await self._perform_all(self.state.receive(event))
        except SocketGone:
            raise
        except Exception:
            log.exception("emulator failed on %s", event_type)
            await self.send(error_event(_SERVER_ERROR, client_event_id(event)))

    # -- performing the state's actions -------------------------------------------------

    async def _perform_all(self, actions: Iterable[Action]) -> None:
        for action in actions:
            await self._perform(action)

    async def _perform(self, action: Action) -> None:
        match action:
            case Send(event=event):
                await self.send(event)
            case StartResponse(response=response):
                await self._start_run(response)
            case CancelResponse(response=response):
                await self._await_cancel(response)
            case StartFillerTimer():
                self._arm_filler(action)
            case StopFillerTimer():
                self._disarm_filler()

    async def _start_run(self, response: ActiveResponse) -> None:
        """Start streaming ``response``; return once its ``response.created`` is sent.

        The service answers ``response.create`` before it reads the next client
        event, so a client that sends something right after sees the response
        already created (and can cancel it).
        """
        run = ResponseRun(response)
        self._runs[response.id] = run
        self._spawn(self._run_response(run))
        await run.started.wait()

    async def _run_response(self, run: ResponseRun) -> None:
        try:
            await ResponseGenerator(self, run).run()
        finally:
            run.started.set()
            run.finished.set()
            self._runs.pop(run.response.id, None)
            follow_ups = self.state.finish_response(run.response)
        await self._perform_all(follow_ups)

    async def _await_cancel(self, response: ActiveResponse) -> None:
        """Wake a cancelled response's pacing sleep and wait for its ``response.done``."""
        run = self._runs.get(response.id)
        if run is None:
            return
        if response.is_cancelled:
            run.wake.set()
        await run.finished.wait()

    # -- interim responses --------------------------------------------------------------

    def _arm_filler(self, timer: StartFillerTimer) -> None:
        self._disarm_filler()
        self._filler_timer = self._spawn(self._filler_after(timer))

    def _disarm_filler(self) -> None:
        timer, self._filler_timer = self._filler_timer, None
        if timer is not None and timer is not asyncio.current_task():
            timer.cancel()

    async def _filler_after(self, timer: StartFillerTimer) -> None:
        await asyncio.sleep(timer.delay)
        self._filler_timer = None
        await self._perform_all(self.state.filler_due(timer.turn, timer.texts))
