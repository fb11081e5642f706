"""Service error codes, and where an ``error`` event goes: one table, not an if-chain.

An error's route is decided by two facts only: its code, and the kind of our
client event that provoked it (read back from the echoed ``event_id``, see
:mod:`.ids`). :func:`route` looks both up in tables, so adding a case is a row.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType

from .ids import IdKind, parse

__all__ = [
    "ACTIVE_RESPONSE",
    "BENIGN_ERROR_CODES",
    "FATAL_ERROR_CODES",
    "ErrorRoute",
    "route",
]

ACTIVE_RESPONSE = "conversation_already_has_active_response"
"""A ``response.create`` met a live response (typically the server VAD's own)."""

BENIGN_ERROR_CODES = frozenset({"response_cancel_not_active", "item_already_truncated"})
"""Races every realtime client hits; logged at debug, never surfaced."""

FATAL_ERROR_CODES = frozenset(
    {
        "invalid_api_key",
        "unauthorized",
        "forbidden",
        "insufficient_quota",
        "model_not_found",
        "invalid_model",
        "agent_not_found",
        "deployment_not_found",
    }
)
"""Service error codes after which reconnecting cannot help (the next attempt fails too)."""


class ErrorRoute(Enum):
    """What the call does with a server ``error``."""

    BENIGN = "benign"
    """A known race: debug log only."""
    CREATE_RACED = "create_raced"
    """Our ``response.create`` met a live response: queue it again behind that one."""
    CUT_REJECTED = "cut_rejected"
    """A truncate/delete the server could not apply: nothing to repair."""
    REPLAY_REJECTED = "replay_rejected"
    """A replayed item was refused: carry the history in the instructions instead."""
    SETUP_REJECTED = "setup_rejected"
    """The configuring ``session.update`` was refused (only while not yet live)."""
    FATAL = "fatal"
    """Reconnecting cannot help: give up and tell the pipeline."""
    REPORT = "report"
    """Anything else: tell the pipeline, keep the call."""


_BY_CODE: Mapping[str, ErrorRoute] = MappingProxyType(
    {
        **dict.fromkeys(BENIGN_ERROR_CODES, ErrorRoute.BENIGN),
        **dict.fromkeys(FATAL_ERROR_CODES, ErrorRoute.FATAL),
    }
)
_BY_ORIGIN: Mapping[tuple[IdKind, str | None], ErrorRoute] = MappingProxyType(
    {
        (IdKind.REQUEST, ACTIVE_RESPONSE): ErrorRoute.CREATE_RACED,
        (IdKind.CUT, None): ErrorRoute.CUT_REJECTED,
        (IdKind.REPLAY, None): ErrorRoute.REPLAY_REJECTED,
        (IdKind.SESSION, None): ErrorRoute.SETUP_REJECTED,
    }
)
"""``(origin kind, code)`` → route; a ``None`` code matches any code of that origin."""


def route(code: str, origin_event_id: object, *, configuring: bool) -> ErrorRoute:
    """Where an error with ``code``, provoked by ``origin_event_id``, goes.

    A rejected ``session.update`` only fails the setup while the connection is
    being configured; a later one (a tools update) is reported like any error.
    """
    by_code = _BY_CODE.get(code)
    if by_code is ErrorRoute.BENIGN:
        return by_code
    origin = parse(origin_event_id)
    if origin is not None:
        kind = origin[0]
        found = _BY_ORIGIN.get((kind, code)) or _BY_ORIGIN.get((kind, None))
        if found is ErrorRoute.SETUP_REJECTED and not configuring:
            found = None
        if found is not None:
            return found
    return by_code or ErrorRoute.REPORT
