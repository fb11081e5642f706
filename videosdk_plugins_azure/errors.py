"""Errors the plugin raises and emits.

``VoiceLiveError`` doubles as the payload of the model's ``error`` event: the
framework only ``str()``-s it, but an app listening on the model gets the code, the
message and whether the session carries on (``recoverable``). Messages never carry
credentials.
"""

from __future__ import annotations

__all__ = ["VoiceLiveAuthError", "VoiceLiveConnectError", "VoiceLiveError"]


class VoiceLiveError(Exception):
    """A Voice Live failure with its service code and whether the call survives it."""

    def __init__(
        self, code: str, message: str, *, recoverable: bool = True, param: str | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.recoverable = recoverable
        self.param = param

    def __str__(self) -> str:
        where = f" (param {self.param})" if self.param else ""
        return f"[{self.code}] {self.message}{where}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, recoverable={self.recoverable})"


class VoiceLiveConnectError(VoiceLiveError):
    """``connect()`` could not open a session."""

    def __init__(self, code: str, message: str, *, recoverable: bool) -> None:
        super().__init__(code, message, recoverable=recoverable)


class VoiceLiveAuthError(VoiceLiveConnectError):
    """The service refused the credentials (HTTP 401/403). Retrying will not help."""

    def __init__(self, message: str) -> None:
        super().__init__("unauthorized", message, recoverable=False)
