"""The connection's life as an explicit state machine.

Before this existed the state was five flags whose combinations nobody wrote
down. Here every state and every allowed move is one row of :data:`TRANSITIONS`;
a trigger that has no row in the current state changes nothing and says so
(``fire`` returns False), which is how late or duplicate signals (a close after
we gave up, a second drop during recovery) are absorbed instead of corrupting
the call.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType

__all__ = ["TRANSITIONS", "Link", "LinkState", "Trigger"]


class LinkState(Enum):
    IDLE = "idle"
    """Nothing opened yet."""
    CONNECTING = "connecting"
    """The WebSocket handshake is under way."""
    CONFIGURING = "configuring"
    """Open; the configuring ``session.update`` waits for its answer."""
    REPLAYING = "replaying"
    """Configured; the conversation so far is being re-created on the new session."""
    READY = "ready"
    """Live: audio and events flow."""
    RECOVERING = "recovering"
    """The live connection was lost (or is being rotated); a new one is on its way."""
    FAILED = "failed"
    """Gave up; the pipeline has been told once."""
    CLOSED = "closed"
    """``aclose()``: final."""


class Trigger(Enum):
    CONNECT = "connect"
    OPENED = "opened"
    CONFIGURED = "configured"
    LIVE = "live"
    SETUP_FAILED = "setup_failed"
    DROPPED = "dropped"
    ROTATE = "rotate"
    GIVE_UP = "give_up"
    CLOSE = "close"


S, T = LinkState, Trigger
_SETUP = (S.CONNECTING, S.CONFIGURING, S.REPLAYING)

TRANSITIONS: Mapping[tuple[LinkState, Trigger], LinkState] = MappingProxyType(
    {
        (S.IDLE, T.CONNECT): S.CONNECTING,
        (S.RECOVERING, T.CONNECT): S.CONNECTING,
        (S.CONNECTING, T.OPENED): S.CONFIGURING,
        (S.CONFIGURING, T.CONFIGURED): S.REPLAYING,
        (S.REPLAYING, T.LIVE): S.READY,
        **{(state, T.SETUP_FAILED): S.IDLE for state in _SETUP},
        (S.READY, T.DROPPED): S.RECOVERING,
        (S.READY, T.ROTATE): S.RECOVERING,
        **{(state, T.GIVE_UP): S.FAILED for state in (*_SETUP, S.IDLE, S.READY, S.RECOVERING)},
        **{(state, T.CLOSE): S.CLOSED for state in LinkState if state is not S.CLOSED},
    }
)
"""``(state, trigger)`` → next state. A failed setup returns to IDLE; the attempt that
follows fires CONNECT again, and the recovery that owns it remembers it is one."""


class Link:
    """The current :class:`LinkState` and whether this connection is a recovery."""

    def __init__(self) -> None:
        self.state = LinkState.IDLE
        self.recovering = False
        """Set from the drop until a new connection is live or the call gives up."""

    def fire(self, trigger: Trigger) -> bool:
        """Apply ``trigger``; False (and no change) when it has no row in this state."""
        nxt = TRANSITIONS.get((self.state, trigger))
        if nxt is None:
            return False
        self.state = nxt
        if trigger in (Trigger.DROPPED, Trigger.ROTATE):
            self.recovering = True
        elif nxt in (LinkState.READY, LinkState.FAILED, LinkState.CLOSED):
            self.recovering = False
        return True

    @property
    def ready(self) -> bool:
        return self.state is LinkState.READY

    @property
    def setting_up(self) -> bool:
        return self.state in _SETUP

    @property
    def ended(self) -> bool:
        return self.state in (LinkState.FAILED, LinkState.CLOSED)
