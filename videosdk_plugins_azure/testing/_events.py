"""What a :class:`~._room.LocalRoom` records of the session, and how its waiters wake.

A test asserts on what the framework *did* (an event, a state change, audio
out), so the room keeps a timestamped log of it and wakes anyone waiting the
moment something new arrives, instead of making tests poll with sleeps.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any, get_args

from ..core.effects import FrameworkEvent
from ._framework import listen

__all__ = [
    "BUS_EVENTS",
    "MODEL_EVENTS",
    "PIPELINE_EVENTS",
    "SESSION_EVENTS",
    "Event",
    "EventLog",
]

Event = tuple[float, str, Any]
"""``(time.monotonic(), name, payload)`` as recorded by :class:`LocalRoom`."""

MODEL_EVENTS: tuple[str, ...] = get_args(FrameworkEvent)
"""Recorded from the realtime model itself.

The model is the one emitter that carries all of them: the pipeline emits
``agent_speech_ended`` *on the model* from the track's last-byte callback, and it
only re-emits transcriptions/function calls on itself after ``start()``, so
listening on the pipeline would miss whatever ``on_enter`` triggers.
"""

PIPELINE_EVENTS: tuple[str, ...] = ("error",)
"""Recorded from the pipeline: its ``error`` is the model's (or any component's)
error already wrapped as ``{"source": ..., "error": str}``."""

SESSION_EVENTS: tuple[str, ...] = ("agent_state_changed", "user_state_changed")
"""``AgentSession``'s own state events (payload ``{"state": <value>}``)."""

BUS_EVENTS: tuple[str, ...] = (
    "AGENT_STARTED",
    "TURN_METRICS_ADDED",
    "USER_TRANSCRIPT_ADDED",
    "AGENT_TRANSCRIPT_ADDED",
    "text_response",
)
"""Recorded from the per-session event bus (metrics and captions land here)."""


class EventLog:
    """The events and state changes recorded from the session's emitters, oldest first.

    :meth:`notify` is also called for anything else a waiter may be watching
    (the room calls it for every output frame), so :meth:`changed` is the one
    place waiters sleep.
    """

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.agent_states: list[tuple[float, str]] = []
        self.user_states: list[tuple[float, str]] = []
        self._subscriptions: list[tuple[Any, str, Callable[..., None]]] = []
        self._waiters: set[asyncio.Future[None]] = set()

    def follow(self, emitter: Any, names: Iterable[str]) -> None:
        """Record the events ``names`` of ``emitter`` until :meth:`close`."""
        for name in names:

            def record(payload: Any, name: str = name) -> None:
                self.record(name, payload)

            self._subscriptions.append((emitter, name, listen(emitter, name, record)))

    def record(self, name: str, payload: Any) -> None:
        now = time.monotonic()
        self.events.append((now, name, payload))
        if name in SESSION_EVENTS and isinstance(payload, dict):
            state = str(payload.get("state"))
            target = self.agent_states if name == "agent_state_changed" else self.user_states
            target.append((now, state))
        self.notify()

    def notify(self) -> None:
        """Wake every :meth:`changed` waiter."""
        waiters, self._waiters = self._waiters, set()
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def changed(self, timeout: float) -> None:
        """Return at the next :meth:`notify`, or after ``timeout`` seconds."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(fut)
        try:
            await asyncio.wait({fut}, timeout=timeout)
        finally:
            self._waiters.discard(fut)
            if not fut.done():
                fut.cancel()

    def close(self) -> None:
        """Stop recording, and wake waiters so they see the room is gone."""
        for emitter, name, handler in self._subscriptions:
            emitter.off(name, handler)
        self._subscriptions.clear()
        self.notify()

    def named(self, name: str) -> list[Event]:
        """Recorded events called ``name``, oldest first."""
        return [e for e in self.events if e[1] == name]

    def payloads(self, name: str) -> list[Any]:
        """Payloads of the recorded events called ``name``, oldest first."""
        return [e[2] for e in self.events if e[1] == name]
