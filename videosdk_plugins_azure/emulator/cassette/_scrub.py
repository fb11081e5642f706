"""What never reaches a cassette: keys, tokens, and credentials carried in events.

Two passes, because a secret can hide in two ways. By *field*: an MCP tool's
``authorization`` and ``headers`` in ``session.update``, and anywhere the service
echoes them (``session.updated``), are redacted by name wherever they appear. By
*value*: every secret the scrubber has seen (the handshake's ``api-key`` or bearer
token, the query's secrets, the MCP credentials it redacted) is also replaced
wherever its text turns up later, in either direction, including inside longer
strings such as an error message that quotes it. Query parameters whose names look
like credentials are redacted too.

The scrubber learns before it writes: each client event is read for secrets first,
so the line that carries a credential is already clean.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ._format import audio_field

__all__ = ["REDACTED", "Scrubber", "secret_query_key"]

REDACTED: Final = "<redacted>"

_SECRET_FIELDS: Final = frozenset(
    {
        "authorization",
        "api_key",
        "api-key",
        "apikey",
        "access_token",
        "client_secret",
        "password",
        "secret",
        "token",
    }
)
"""Event fields whose value is a credential, wherever they appear."""
_HEADERS_FIELD: Final = "headers"
"""A map of HTTP headers (an MCP server's): names kept, every value redacted."""
_SECRET_QUERY: Final = re.compile(r"key|token|secret|sig|auth|password|credential", re.IGNORECASE)
_MIN_SUBSTRING: Final = 6
"""Shorter secrets are redacted only as whole values: as substrings they would mangle text."""


def secret_query_key(name: str) -> bool:
    """Whether a query parameter's name says its value is a credential."""
    return bool(_SECRET_QUERY.search(name))


class Scrubber:
    """Learns the secrets of a recording and removes them from everything written."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._substrings: list[str] = []

    def learn(self, value: object) -> None:
        """Treat ``value`` (and, for ``Bearer x``, ``x``) as a secret from now on."""
        if not isinstance(value, str) or not value.strip():
            return
        values = {value, value.strip()}
        scheme, _, rest = value.strip().partition(" ")
        if scheme.lower() == "bearer" and rest.strip():
            values.add(rest.strip())
        for secret in values - self._secrets:
            self._secrets.add(secret)
            if len(secret) >= _MIN_SUBSTRING:
                self._substrings.append(secret)
        self._substrings.sort(key=len, reverse=True)

    def learn_handshake(self, headers: Mapping[str, str], query: Mapping[str, str]) -> None:
        for name, value in headers.items():
            if name.lower() in _SECRET_FIELDS or name.lower() == "ocp-apim-subscription-key":
                self.learn(value)
        for name, value in query.items():
            if secret_query_key(name):
                self.learn(value)

    def learn_event(self, event: object) -> None:
        """Learn every credential an event carries by field."""
        stack = [event]
        while stack:
            node = stack.pop()
            if isinstance(node, Mapping):
                for key, value in node.items():
                    if isinstance(key, str) and key.lower() in _SECRET_FIELDS:
                        self.learn(value)
                    elif key == _HEADERS_FIELD and isinstance(value, Mapping):
                        for header in value.values():
                            self.learn(header)
                    else:
                        stack.append(value)
            elif isinstance(node, list):
                stack.extend(node)

    # -- writing ------------------------------------------------------------------------

    def text(self, value: str) -> str:
        if value in self._secrets:
            return REDACTED
        for secret in self._substrings:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value

    def event(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """A scrubbed copy; the audio payload is left alone (base64 of PCM, and large)."""
        audio = audio_field(event)
        out: dict[str, Any] = {}
        for key, value in event.items():
            out[key] = value if key == audio else self._value(key, value)
        return out

    def _value(self, key: object, value: Any) -> Any:
        if isinstance(key, str) and key.lower() in _SECRET_FIELDS and value is not None:
            return REDACTED
        if key == _HEADERS_FIELD and isinstance(value, Mapping):
            return dict.fromkeys(value, REDACTED)
        if isinstance(value, Mapping):
            return {k: self._value(k, v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._value(None, v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def query(self, query: Mapping[str, str]) -> dict[str, str]:
        return {
            name: REDACTED if secret_query_key(name) else self.text(value)
            for name, value in query.items()
        }

    def url(self, url: str) -> str:
        """``url`` without user info, and with its query's secrets redacted."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        netloc = f"[{host}]" if ":" in host else host
        if parts.port is not None:
            netloc += f":{parts.port}"
        pairs = dict(parse_qsl(parts.query, keep_blank_values=True))
        query = urlencode(list(self.query(pairs).items()))
        return urlunsplit((parts.scheme, netloc, parts.path, query, ""))
