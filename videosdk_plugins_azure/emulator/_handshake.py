"""What the emulator decides from the HTTP upgrade request, before any WebSocket.

Credentials are checked before the upgrade, as the service does: a bad or missing
one is an HTTP 401, which the SDK reports as a failed handshake. Anything a client
can put in a header is handled here without raising, because an exception in the
handshake is a 500 for the client and a traceback in the server's log: a header
that is not valid UTF-8 (aiohttp hands it over with surrogate escapes) is a
credential that does not match, not a server error.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from aiohttp import web

__all__ = ["Credentials", "agent_from_query", "error_body"]


def error_body(status: int, code: str, message: str) -> web.Response:
    """An HTTP error in the service's JSON shape."""
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


class Credentials:
    """The accepted ``api-key`` and bearer token (with neither, any non-empty one)."""

    def __init__(self, api_key: str | None, token: str | None) -> None:
        self._api_key = api_key
        self._token = token

    def authenticate(self, request: web.Request) -> str | None:
        """How the request authenticated (``api-key``, ``query``, ``bearer``), or None."""
        key = request.headers.get("api-key")
        kind = "api-key"
        if key is None and request.query.get("api-key"):
            key, kind = request.query["api-key"], "query"
        if key is not None:
            return kind if self._accepts(key, self._api_key) else None
        authorization = (
            request.headers.get("Authorization") or request.query.get("authorization") or ""
        )
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return "bearer" if self._accepts(token.strip(), self._token) else None
        return None

    def _accepts(self, presented: str, expected: str | None) -> bool:
        if not presented:
            return False
        if expected is None:
            return self._api_key is None and self._token is None
        try:
            given = presented.encode("utf-8")
        except UnicodeEncodeError:  # undecodable header bytes, surrogate-escaped
            return False
        return hmac.compare_digest(given, expected.encode("utf-8"))


def agent_from_query(query: Mapping[str, str]) -> dict[str, Any] | None:
    """The agent a handshake names (``agent-name`` and friends), for agent sessions."""
    name = query.get("agent-name")
    if name is None:
        return None
    return {
        "type": "agent",
        "name": name,
        "agent_id": f"{name}:{query.get('agent-version', 'latest')}",
        "project_name": query.get("agent-project-name"),
        "version": query.get("agent-version"),
        "conversation_id": query.get("conversation-id"),
    }
