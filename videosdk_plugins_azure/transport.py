"""Moving the call's bytes: connect with retries, the two socket loops, recovery, rotation.

This is the only module that awaits the network. It asks the core
(:class:`~videosdk_plugins_azure.core.CallCore`) every question — what to send on
a new connection, whether to retry and when, whether it may rotate now — and
hands every server event to the adapter, which feeds the core and performs its
effects. One outbox, drained by one sender task, keeps the framework's hooks
from ever waiting on the socket; caller audio skips it (and the task's wake-up)
while it is empty, sent at once by :meth:`Transport.send_audio`. The hot events
are read and written below the SDK's models (:mod:`._fast_events`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from azure.ai.voicelive import models as m
from azure.ai.voicelive.aio import ConnectionClosed
from azure.ai.voicelive.aio import ConnectionError as SdkConnectionError

from ._fast_events import EventReader, EventWriter, run_eagerly
from ._outbox import Outbox, Outgoing
from .connection import ConnectTarget, OpenSession, open_session
from .core import CallCore, Effect
from .core.effects import HotEvent
from .credentials import guarded
from .errors import VoiceLiveConnectError, VoiceLiveError

__all__ = ["OUTBOX_AUDIO_MS", "Transport", "TransportHost"]

log = logging.getLogger("videosdk_plugins_azure")

OUTBOX_AUDIO_MS = 5000
"""Caller audio the outbox holds behind a slow socket before dropping the oldest."""


class TransportHost(Protocol):
    """What the transport needs from the adapter."""

    async def deliver(self, event: m.ServerEvent | HotEvent) -> None:
        """Feed one server event to the core and perform its effects."""
        ...

    def perform(self, effects: list[Effect]) -> None:
        """Carry out effects that need no waiting."""
        ...


class Transport:
    """The socket side of one call; its tasks all end in :meth:`aclose`."""

    def __init__(
        self,
        core: CallCore,
        host: TransportHost,
        *,
        session_timeout: float,
        max_session_duration: float | None,
    ) -> None:
        self.core = core
        self.host = host
        self.target: ConnectTarget | None = None
        self.credential: Any = None
        self.session_timeout = session_timeout
        self.max_session_duration = max_session_duration
        self.outbox = Outbox(max_audio_bytes=48 * OUTBOX_AUDIO_MS)
        self.session: OpenSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._sender: asyncio.Task[None] | None = None
        self._writer: EventWriter | None = None
        """The live connection's writer, for audio sent at once; None while not live."""
        self._waiting = 0
        """Sends waiting for a backed-up socket: while any does, audio queues behind it."""
        self._inline: asyncio.Task[None] | None = None
        self._rotation: asyncio.Task[None] | None = None
        self._settled = asyncio.Event()
        self._boundary = asyncio.Event()

    # -- tasks ------------------------------------------------------------------------

    def spawn(self, coro: Awaitable[None]) -> asyncio.Task[None]:
        """Every task of the call is kept here, so that :meth:`aclose` can end it."""
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def aclose(self) -> None:
        self._writer = None
        tasks = [t for t in self._tasks if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self.session is not None:
            await self.session.close()
            self.session = None

    def bind(self, target: ConnectTarget, credential: Any) -> None:
        """Where and as whom every connection of this call goes (set at ``connect()``)."""
        self.target = target
        self.credential = guarded(credential)

    def settle(self) -> None:
        self._settled.set()

    def boundary(self) -> None:
        self._boundary.set()

    def close_socket(self) -> None:
        if self.session is not None:
            self.spawn(self.session.close())

    # -- connecting ---------------------------------------------------------------------

    async def establish(self, rand: Callable[[], float] = random.random) -> None:
        """Open and configure a session, retrying what a retry can fix.

        The error that ends the retries says how many attempts took how long, so a
        per-attempt figure ("within 10s") is never mistaken for the whole wait.
        """
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._open_once()
                return
            except VoiceLiveError as exc:
                elapsed = time.monotonic() - started
                delay = self.core.retry_delay(exc, attempt, rand(), elapsed)
                if delay is None:
                    if attempt > 1:
                        exc.message += f" (gave up after {attempt} attempts in {elapsed:.1f}s)"
                    raise
                log.warning(
                    "Voice Live %s (attempt %d/%d); retrying in %.1fs",
                    exc.code,
                    attempt,
                    self.core.policy.max_attempts + 1,
                    delay,
                )
                await asyncio.sleep(delay)

    async def _open_once(self) -> None:
        if self.target is None:
            raise RuntimeError("Transport.bind() comes before establish()")
        update = self.core.connecting()
        self._settled.clear()
        try:
            opened = await open_session(self.target, self.credential)
        except BaseException:
            self.core.setup_failed()
            raise
        self.core.opened()
        receiver = self.spawn(self._receive_loop(opened))
        try:
            await self._configure(opened, update)
        except BaseException as exc:
            receiver.cancel()
            await opened.close()
            self.core.setup_failed()
            raise _setup_failure(exc, self.session_timeout) from None
        self.session = opened
        self._writer = EventWriter(opened.connection)
        self._sender = self.spawn(self._send_loop(self._writer))
        self.host.perform(self.core.live())
        self._arm_rotation()
        spec = self.core.spec
        log.info(
            "Voice Live session ready: model=%s input=%d Hz output=%s",
            spec.model or "agent",
            spec.input_rate,
            spec.output_format,
        )

    async def _configure(self, opened: OpenSession, update: dict[str, Any]) -> None:
        """Send the session, wait for its answer, then replay the conversation."""
        await opened.connection.send(update)
        async with asyncio.timeout(self.session_timeout):
            await self._settled.wait()
        self._raise_setup_error()
        replay = self.core.replay_events()
        for event in replay:
            await opened.connection.send(event)
        if replay:
            log.info("replayed %d conversation item(s)", len(replay))
        self._raise_setup_error()

    def _raise_setup_error(self) -> None:
        if self.core.setup_error is not None:
            raise self.core.setup_error

    # -- the live connection ------------------------------------------------------------

    def send_audio(self, pcm: bytes) -> None:
        """Caller audio: onto the socket at once when nothing waits before it, else queued.

        At once means without the sender task's wake-up, and only when the order
        cannot change: the outbox is empty and no send waits for the socket. It
        never waits itself; a send the socket holds up is finished by a task.
        """
        writer = self._writer
        if writer is None or self.outbox or self._waiting or len(pcm) > self.outbox.max_audio_bytes:
            self.outbox.put_audio(pcm)  # the bound trims what is too much to send
            return
        try:
            rest = run_eagerly(writer.send(pcm))
        except SdkConnectionError:
            self.outbox.put_audio(pcm)  # the sender sees the connection gone, and keeps it
            return
        if rest is not None:
            self._waiting += 1
            self._inline = self.spawn(self._finish_inline(rest))

    async def _finish_inline(self, rest: Awaitable[None]) -> None:
        try:
            await rest
        except SdkConnectionError as exc:
            log.warning("Voice Live send failed (%s); the connection is gone", type(exc).__name__)
        finally:
            self._waiting -= 1

    async def _send_loop(self, writer: EventWriter) -> None:
        while True:
            item = await self.outbox.get()
            self._waiting += 1
            try:
                await writer.send(item)
            except SdkConnectionError as exc:
                if _kind(item) != "response.create":  # requests are re-issued by the core
                    self.outbox.put_back(item)
                log.warning(
                    "Voice Live send failed (%s); the connection is gone", type(exc).__name__
                )
                return
            finally:
                self._waiting -= 1
            if isinstance(item, dict) and item.get("type") == "conversation.item.create":
                self.core.item_sent(item["item"])

    async def _receive_loop(self, session: OpenSession) -> None:
        """A ``recv()`` loop: unlike ``async for``, it sees the close code."""
        reader = EventReader(session.connection)
        while True:
            try:
                event = await reader.recv()
            except ConnectionClosed as closed:
                self.host.perform(self.core.socket_closed(closed.code))
                return
            except SdkConnectionError as exc:
                log.warning("ignoring an unreadable server event: %s", exc)
                continue
            except (AttributeError, TypeError, ValueError) as exc:
                log.warning("ignoring a malformed server event (%s)", type(exc).__name__)
                continue
            try:
                await self.host.deliver(event)
            except Exception:
                log.exception("error handling Voice Live event %r", getattr(event, "type", None))

    # -- recovery and rotation ----------------------------------------------------------

    def recover(self, cause: str, *, error: bool) -> None:
        """Start the one recovery the core asked for (it allows one at a time)."""
        self.spawn(self._recover(cause, error=error))

    async def _recover(self, cause: str, *, error: bool) -> None:
        started = time.monotonic()
        self._writer = None
        for task in (self._sender, self._inline):
            if task is not None:
                task.cancel()
        if self.session is not None:
            await self.session.close()  # still reachable by aclose() if this is cancelled
            self.session = None
        self.outbox.discard("response.create")  # the core re-issues what is pending
        self.host.perform(self.core.connection_reset(cause, error=error))
        await asyncio.sleep(self.core.recovery_delay(random.random()))  # noqa: S311 - jitter
        try:
            await self.establish()
        except VoiceLiveError as exc:
            self.host.perform(
                self.core.give_up(f"could not reconnect after {cause}: {exc.message}")
            )
            return
        self.host.perform(self.core.recovered(cause, time.monotonic() - started))

    def _arm_rotation(self) -> None:
        if self._rotation is not None and not self._rotation.done():
            self._rotation.cancel()
        if self.max_session_duration is not None:
            self._rotation = self.spawn(self._rotate_later(self.max_session_duration))

    async def _rotate_later(self, after: float) -> None:
        """Move to a fresh session before the service's cap, at a turn boundary.

        This is also how calls outlive their Entra token: each connect fetches a new one.
        """
        await asyncio.sleep(after)
        while not self.core.idle:
            self._boundary.clear()
            await self._boundary.wait()
        self.host.perform(self.core.rotate())


def _kind(item: Outgoing) -> str | None:
    return item.get("type") if isinstance(item, dict) else None


def _setup_failure(exc: BaseException, session_timeout: float) -> BaseException:
    """What a failed configure step raises: timeouts and dead sockets are retryable."""
    if isinstance(exc, TimeoutError):
        return VoiceLiveConnectError(
            "session_timeout",
            f"Voice Live did not confirm the session within {session_timeout:g}s",
            recoverable=True,
        )
    if isinstance(exc, SdkConnectionError):
        return VoiceLiveConnectError(
            "connection_closed", "Voice Live closed the connection during setup", recoverable=True
        )
    return exc
