"""What the server state asks its socket layer to do.

:class:`~._state.ServiceState` never sends, sleeps or spawns. Each of its methods
returns these actions, in order, and the socket layer performs them: sending
frames, running the timed response generator, waiting for a cancelled response to
finish, arming the filler timer. They come as a lazy iterator on purpose: some
decisions must be taken only after an earlier action completed (a response is
planned only once the one it replaces has sent ``response.done``), and a
generator resumes exactly then.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from ._plan import ActiveResponse
from ._turns import PendingTurn

__all__ = [
    "Action",
    "Actions",
    "CancelResponse",
    "Send",
    "StartFillerTimer",
    "StartResponse",
    "StopFillerTimer",
]


@dataclass(frozen=True)
class Send:
    """Send this server event (the socket layer adds the ``event_id``)."""

    event: dict[str, Any]


@dataclass(frozen=True)
class StartResponse:
    """Start streaming this response; the state already holds it as the active one."""

    response: ActiveResponse


@dataclass(frozen=True)
class CancelResponse:
    """Stop this response, already marked cancelled, and wait for its ``response.done``."""

    response: ActiveResponse


@dataclass(frozen=True)
class StartFillerTimer:
    """After ``delay`` wall seconds, ask :meth:`~._state.ServiceState.filler_due`.

    Replaces any timer already armed.
    """

    delay: float
    turn: PendingTurn
    texts: Sequence[str]


@dataclass(frozen=True)
class StopFillerTimer:
    """Disarm the filler timer, if one is armed: the wait it covered is over."""


Action: TypeAlias = Send | StartResponse | CancelResponse | StartFillerTimer | StopFillerTimer
Actions: TypeAlias = Iterator[Action]
