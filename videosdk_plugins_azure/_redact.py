"""Keep the plugin's secrets out of log records, including the SDK's own.

At DEBUG level, ``azure-ai-voicelive`` logs every frame it receives verbatim. A
``session.updated`` can carry an MCP server's ``authorization`` and ``headers``
back, so an app that turns on debug logging to chase a problem would write its
credentials to disk. The plugin registers the secrets it holds (API key, MCP
credentials) and a filter on the loggers that print payloads replaces them with
``***`` before any handler sees the record.

Logger filters are not inherited by child loggers, so the filter sits on the exact
loggers that emit payloads.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable
from typing import Any

__all__ = ["PAYLOAD_LOGGERS", "Protected", "protect", "release", "secrets_of"]

PAYLOAD_LOGGERS = (
    "azure.ai.voicelive.aio._patch",
    "azure.ai.voicelive._patch",
    "videosdk_plugins_azure",
)
_MIN_SECRET_LENGTH = 6
_MASK = "***"


class _SecretFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self._secrets: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, secrets: Iterable[str]) -> None:
        with self._lock:
            self._secrets.update(s for s in secrets if len(s) >= _MIN_SECRET_LENGTH)

    def remove(self, secrets: Iterable[str]) -> None:
        with self._lock:
            self._secrets.subtract(s for s in secrets if len(s) >= _MIN_SECRET_LENGTH)
            self._secrets = +self._secrets

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = list(self._secrets)
        if not secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not ours to fix
            return True
        if any(secret in message for secret in secrets):
            for secret in sorted(secrets, key=len, reverse=True):
                message = message.replace(secret, _MASK)
            record.msg = message
            record.args = None
        return True


_FILTER = _SecretFilter()
for _name in PAYLOAD_LOGGERS:
    logging.getLogger(_name).addFilter(_FILTER)


class Protected:
    """A handle on registered secrets; its repr never shows them."""

    __slots__ = ("_secrets",)

    def __init__(self, secrets: tuple[str, ...]) -> None:
        self._secrets = secrets

    def __repr__(self) -> str:
        return f"<{len(self._secrets)} protected secret(s)>"


def protect(secrets: Iterable[str | None]) -> Protected:
    """Start masking ``secrets`` in log records; pass the handle to :func:`release`."""
    held = tuple(s for s in secrets if isinstance(s, str) and s)
    _FILTER.add(held)
    return Protected(held)


def release(handle: Protected) -> None:
    """Stop masking (once per :func:`protect`; later calls do nothing)."""
    secrets, handle._secrets = handle._secrets, ()
    _FILTER.remove(secrets)


def secrets_of(credential: object, config: Any) -> list[str | None]:
    """Everything secret the plugin holds: the key, and each MCP server's authorization."""
    servers = getattr(config, "mcp_servers", ())
    return [
        getattr(credential, "key", None),
        *(server.authorization for server in servers),
        *(value for server in servers for value in (server.headers or {}).values()),
    ]
