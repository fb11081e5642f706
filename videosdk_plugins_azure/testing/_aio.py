"""The two asyncio patterns the room needs at every boundary: a bounded await that says
what is stuck, and cancelling a task without mistaking its end for our own cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

__all__ = ["bounded", "cancel_and_wait"]

T = TypeVar("T")


async def bounded(awaitable: Awaitable[T], timeout: float, stuck: str) -> T:
    """``await awaitable`` for at most ``timeout`` seconds.

    Past the deadline the ``TimeoutError`` says ``stuck`` (which part hangs). A
    ``TimeoutError`` raised from inside, before the deadline, is someone else's
    (a model's own connect timeout): its message is the useful one, so it is
    left as it is.
    """
    deadline = asyncio.timeout(timeout)
    try:
        async with deadline:
            return await awaitable
    except TimeoutError as e:
        if not deadline.expired():
            raise
        raise TimeoutError(stuck) from e


async def cancel_and_wait(task: asyncio.Task[Any] | None) -> BaseException | None:
    """Cancel ``task`` and wait for it to finish; return its error, if it had one.

    ``asyncio.wait`` is used rather than ``await task`` so that the task's own
    cancellation is not mistaken for the caller's (which still propagates).
    """
    if task is None:
        return None
    if not task.done():
        task.cancel()
        await asyncio.wait({task})
    if task.cancelled():
        return None
    return task.exception()
