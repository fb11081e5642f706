"""One scheme for the ``event_id`` of every client event the plugin tags.

The service echoes a client event's ``event_id`` in the ``error`` it provokes, and
that is the only way to know which of our events failed. So each tagged event
carries its purpose in its id (``req_3``, ``cut_item_9``, ``replay_0``), minted
and parsed here and nowhere else; error routing reads the kind back with
:func:`parse`.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["SESSION_UPDATE_ID", "IdKind", "mint", "parse"]


class IdKind(StrEnum):
    """What a tagged client event was for."""

    REQUEST = "req"
    """A ``response.create`` the plugin asked for (queued and correlated by the core)."""
    CUT = "cut"
    """A truncate or delete of an interrupted assistant item."""
    REPLAY = "replay"
    """A conversation item re-created on a fresh session after a reconnect."""
    SESSION = "session"
    """The ``session.update`` that configures a new connection."""
    UPDATE = "update"
    """A mid-call ``session.update`` (instructions or tools changed)."""


_SEPARATOR = "_"
_BY_PREFIX = {kind.value: kind for kind in IdKind}


def mint(kind: IdKind, suffix: object) -> str:
    """The event id for ``kind``; ``suffix`` makes it unique within the kind."""
    return f"{kind.value}{_SEPARATOR}{suffix}"


def parse(event_id: object) -> tuple[IdKind, str] | None:
    """``(kind, suffix)`` of an id minted by :func:`mint`; None for anything else."""
    if not isinstance(event_id, str):
        return None
    prefix, separator, suffix = event_id.partition(_SEPARATOR)
    kind = _BY_PREFIX.get(prefix)
    if kind is None or not separator or not suffix:
        return None
    return kind, suffix


SESSION_UPDATE_ID = mint(IdKind.SESSION, "update_initial")
"""Every connection's configuring ``session.update`` carries this id."""
