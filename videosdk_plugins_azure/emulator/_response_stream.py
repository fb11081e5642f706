"""The building blocks of a streamed response: pacing, cancellation, output items.

A response is streamed by the socket layer, in a task of its own, from the plan the
server state made. This module holds what every part of that stream shares: how
the generator waits (a sleep that a cancel cuts short, see :class:`ResponseRun`),
how it learns it was cancelled (:class:`Cancelled`), and how an output item is
added to and completed in the conversation. The sequences themselves are in
:mod:`._responses`.

Slow work a response waits on (speech synthesis) goes through
:meth:`ResponseStream._interruptible`, so a cancel is answered at once rather than
when the work is done.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from ..protocol.events import ServerEvent, event
from . import _response_events
from ._context import EmulatorSettings
from ._conversation import Conversation
from ._plan import ActiveResponse
from ._wire import item_created

__all__ = ["Cancelled", "Ids", "ResponseHost", "ResponseRun", "ResponseStream", "SocketGone"]

T = TypeVar("T")


class SocketGone(Exception):
    """The socket is gone (a fault fired or the peer left): stop sending.

    :meth:`ResponseHost.send` raises it; a response lets it through, as there is
    no one left to tell, and the connection ends.
    """


class ResponseHost(Protocol):
    """What a streamed response needs from its connection (the socket handler)."""

    @property
    def conversation(self) -> Conversation: ...

    @property
    def settings(self) -> EmulatorSettings: ...

    @property
    def session(self) -> Mapping[str, Any]:
        """The live session: output options may change while a response streams."""
        ...

    async def send(self, event: dict[str, Any]) -> None:
        """Send one server event; :class:`SocketGone` once the socket is."""
        ...

    def new_id(self, prefix: str) -> str: ...

    async def synthesize(self, text: str, sample_rate: int) -> npt.NDArray[np.int16]:
        """The reply's speech (off the event loop: it may take seconds)."""
        ...


class ResponseRun:
    """The asyncio side of an :class:`ActiveResponse` while it streams."""

    def __init__(self, response: ActiveResponse) -> None:
        self.response = response
        self.wake = asyncio.Event()
        """Set on cancel: ends the pacing sleep at once."""
        self.started = asyncio.Event()
        """Set once ``response.created`` was sent (or the generator stopped before)."""
        self.finished = asyncio.Event()
        """Set once the generator stopped (``response.done`` sent, or the socket gone)."""


class Cancelled(Exception):
    """The response was cancelled: unwind to its finishing events."""


Ids = dict[str, Any]


class ResponseStream:
    """The primitives a response is streamed with.

    :class:`~._responses.ResponseGenerator` composes them into the service's
    event sequences.

    Pacing sleeps end early on a cancel, and every output item goes through
    :meth:`_add_item` / :meth:`_complete_item`, so the conversation's copy and what
    the client was told never disagree.
    """

    def __init__(self, host: ResponseHost, run: ResponseRun) -> None:
        self._host = host
        self._run = run
        self._r = run.response
        self._send: Callable[[dict[str, Any]], Awaitable[None]] = host.send
        self._status_details: dict[str, Any] | None = None
        self._spoken = ""
        self._audio_ms_total = 0.0
        self._open_item: dict[str, Any] | None = None
        """The output item added and not yet done, for a response that fails midway."""

    def _check(self) -> None:
        if self._r.is_cancelled:
            raise Cancelled

    async def _wait(self, delay: float) -> None:
        """Sleep for ``delay`` seconds unless cancelled first; always yields."""
        if delay <= 0:
            await asyncio.sleep(0)
        else:
            try:
                async with asyncio.timeout(delay):
                    await self._run.wake.wait()
            except TimeoutError:
                pass
        self._check()

    async def _interruptible(self, work: Awaitable[T]) -> T:
        """Await ``work`` unless the response is cancelled first.

        A cancel abandons the work: a synthesis still queued in the executor is
        cancelled with it, one already running finishes unobserved.
        """
        task = asyncio.ensure_future(work)
        waker = asyncio.ensure_future(self._run.wake.wait())
        try:
            await asyncio.wait({task, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waker.cancel()
            if not task.done():
                task.cancel()
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: a failure a cancel made moot is not reported
        self._check()
        return task.result()

    def _response_object(self, status: str) -> dict[str, Any]:
        return _response_events.response_object(
            self._r,
            status,
            status_details=self._status_details,
            spoken=self._spoken,
            audio_ms=self._audio_ms_total,
        )

    async def _add_item(self, item: dict[str, Any], output_index: int) -> dict[str, Any]:
        """``output_item.added`` then ``conversation.item.created`` for a new output item."""
        conv = self._host.conversation
        previous = conv.last_id
        if self._r.plan.in_conversation:
            item, previous = conv.add(item)
        else:
            item = {**item, "id": self._host.new_id("item")}
        await self._send(
            event(
                ServerEvent.RESPONSE_OUTPUT_ITEM_ADDED,
                response_id=self._r.id,
                output_index=output_index,
                item=dict(item),
            )
        )
        self._open_item = item
        if self._r.plan.in_conversation:
            await self._send(item_created(item, previous))
        return item

    async def _stream_arguments(
        self, delta_type: ServerEvent, ids: Ids, item: dict[str, Any], arguments: str
    ) -> None:
        """``delta_type`` events carrying ``arguments`` in two pieces.

        A cancel on the way finishes the item as ``incomplete`` (no ``.done``
        event), as the service does, then unwinds the response.
        """
        try:
            half = len(arguments) // 2
            for piece in (arguments[:half], arguments[half:]):
                if piece:
                    await self._wait(0)
                    await self._send(event(delta_type, **ids, delta=piece))
            self._check()
        except Cancelled:
            await self._complete_item({**item, "status": "incomplete"})
            raise

    async def _complete_item(self, done: dict[str, Any]) -> None:
        """Store the final version of an item and announce it with ``output_item.done``.

        Also for items cut short by a cancel, so the stored copy never stays
        ``in_progress`` after its response is over.
        """
        if self._r.plan.in_conversation:
            self._host.conversation.replace(done)
        await self._finish_item(done, len(self._r.output))

    async def _finish_item(self, item: dict[str, Any], index: int) -> None:
        self._open_item = None
        self._r.output.append(item)
        await self._send(
            event(
                ServerEvent.RESPONSE_OUTPUT_ITEM_DONE,
                response_id=self._r.id,
                output_index=index,
                item=item,
            )
        )
