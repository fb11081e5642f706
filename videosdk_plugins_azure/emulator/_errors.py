"""The one error type the emulator's pure protocol code raises.

Voice Live answers a bad client event with an ``error`` server event and keeps the
socket open. Pure modules (session validation, conversation store) raise
:class:`ProtocolError`; the connection layer turns it into that event, adding the
offending client ``event_id``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ProtocolError"]


class ProtocolError(Exception):
    """A client request the service would reject with an ``error`` event."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        param: str | None = None,
        error_type: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param
        self.error_type = error_type

    def to_error(self, client_event_id: str | None = None) -> dict[str, Any]:
        """The ``error`` object of an ``error`` server event."""
        return {
            "type": self.error_type,
            "code": self.code,
            "message": self.message,
            "param": self.param,
            "event_id": client_event_id,
        }
