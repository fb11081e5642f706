"""Where the plugin connects and with what: endpoint, credentials, and the handshake.

Two problems live here so that the transport never sees them (credentials are
normalised in :mod:`.credentials`):

* **Endpoints.** A plain-text ``http://``/``ws://`` endpoint would send the key in
  the clear, so it is refused unless it points at this machine (the emulator) or
  the caller explicitly opts in.
* **The handshake.** The SDK ignores ``handshake_timeout`` and, when its
  ``__aenter__`` is cancelled mid-handshake, leaks its aiohttp ``ClientSession``
  (azure-ai-voicelive 1.3.1 closes it only on ``ClientError``). :func:`open_session`
  applies the timeout itself and closes that orphaned session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from azure.ai.voicelive.aio import ConnectionError as SdkConnectionError
from azure.ai.voicelive.aio import VoiceLiveConnection, connect
from azure.core.credentials import AzureKeyCredential
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import ClientAuthenticationError

from .errors import VoiceLiveAuthError, VoiceLiveConnectError
from .protocol.net import is_loopback

__all__ = [
    "DEFAULT_HANDSHAKE_TIMEOUT",
    "DEFAULT_MODEL",
    "ENDPOINT_ENV",
    "MODEL_ENV",
    "AgentTarget",
    "ConnectTarget",
    "OpenSession",
    "ReconnectPolicy",
    "agent_target",
    "check_endpoint",
    "check_timeouts",
    "first_env",
    "open_session",
    "resolve_endpoint",
]

log = logging.getLogger("videosdk_plugins_azure")

ENDPOINT_ENV = ("AZURE_VOICE_LIVE_ENDPOINT", "AZURE_COGNITIVE_SERVICES_ENDPOINT")
MODEL_ENV = "AZURE_VOICE_LIVE_MODEL"
DEFAULT_MODEL = "gpt-realtime"
DEFAULT_HANDSHAKE_TIMEOUT = 15.0


_SCHEMES = frozenset({"https", "wss", "http", "ws"})
_PLAINTEXT = frozenset({"http", "ws"})


def first_env(names: tuple[str, ...]) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def check_endpoint(endpoint: str, *, allow_insecure: bool = False) -> str:
    """Validate an endpoint URL; refuse plain text to anything but this machine."""
    parts = urlsplit(endpoint.strip())
    if parts.scheme not in _SCHEMES or not parts.hostname:
        raise ValueError(
            f"endpoint {endpoint!r} must be a URL such as "
            "'https://<resource>.services.ai.azure.com' (https, wss, or http/ws on loopback)"
        )
    if parts.scheme in _PLAINTEXT and not is_loopback(parts.hostname) and not allow_insecure:
        raise ValueError(
            f"refusing plain-text endpoint {parts.scheme}://{parts.hostname}: credentials would "
            "travel unencrypted. Use https/wss, or pass allow_insecure=True if you really mean it."
        )
    return endpoint.strip()


def resolve_endpoint(endpoint: str | None, *, allow_insecure: bool = False) -> str:
    value = endpoint or first_env(ENDPOINT_ENV)
    if not value:
        raise ValueError(
            "no Voice Live endpoint: pass endpoint=... or set "
            + " or ".join(ENDPOINT_ENV)
            + " (e.g. https://<resource>.services.ai.azure.com)"
        )
    return check_endpoint(value, allow_insecure=allow_insecure)


@dataclass(frozen=True)
class ReconnectPolicy:
    """How hard to try when a live connection drops (or the first one cannot be opened).

    Attempt ``n`` waits ``min(max_backoff, initial_backoff * 2**(n-2))`` seconds,
    jittered by ±``jitter``; the first retry after a drop is immediate. No retry
    starts once ``give_up_after`` seconds have passed since the drop (so the call
    gives up within that plus one attempt's handshake and session timeouts).
    Sessions that die within ``young_session`` seconds of going live count as
    failed attempts: their backoff grows instead of starting over, and after
    ``max_attempts`` of them in a row the call gives up.
    ``max_attempts=0`` disables reconnecting.
    """

    max_attempts: int = 6
    initial_backoff: float = 0.5
    max_backoff: float = 8.0
    jitter: float = 0.25
    give_up_after: float = 60.0
    young_session: float = 2.0

    def __post_init__(self) -> None:
        values = (
            self.max_attempts,
            self.initial_backoff,
            self.max_backoff,
            self.give_up_after,
            self.young_session,
        )
        if any(value < 0 for value in values):
            raise ValueError("reconnect policy values must not be negative")
        if not 0 <= self.jitter < 1:
            raise ValueError("reconnect jitter must be in [0, 1)")

    def delay(self, attempt: int, rand: float) -> float:
        """Seconds before ``attempt`` (1-based); ``rand`` in [0, 1) spreads the herd."""
        if attempt <= 1:
            return 0.0
        base = min(self.max_backoff, self.initial_backoff * 2.0 ** (attempt - 2))
        return float(base * (1 - self.jitter + 2 * self.jitter * rand))


@dataclass(frozen=True)
class AgentTarget:
    """A Foundry agent to talk to instead of a model."""

    agent_name: str
    project_name: str
    agent_version: str | None = None
    conversation_id: str | None = None
    authentication_identity_client_id: str | None = None
    foundry_resource_override: str | None = None

    def connect_kwargs(self) -> dict[str, str]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def agent_target(
    model: str | None, agent_name: str | None, project_name: str | None, **extra: str | None
) -> AgentTarget | None:
    """Foundry agent mode, when asked for: it replaces the model."""
    if agent_name is None and project_name is None:
        if any(v is not None for v in extra.values()):
            raise ValueError("agent options need agent_name and project_name")
        return None
    if not agent_name or not project_name:
        raise ValueError("Foundry agent mode needs both agent_name and project_name")
    if model is not None:
        raise ValueError("pass model or agent_name, not both: the agent picks its model")
    return AgentTarget(agent_name=agent_name, project_name=project_name, **extra)


@dataclass(frozen=True)
class ConnectTarget:
    """Everything needed to open a session; holds no secret of its own."""

    endpoint: str
    model: str | None
    api_version: str | None = None
    agent: AgentTarget | None = None
    handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT
    query: Mapping[str, str] = field(default_factory=dict)

    def sdk_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"endpoint": self.endpoint}
        if self.model is not None:
            kwargs["model"] = self.model
        if self.api_version is not None:
            kwargs["api_version"] = self.api_version
        if self.agent is not None:
            kwargs.update(self.agent.connect_kwargs())
        if self.query:
            kwargs["query"] = dict(self.query)
        return kwargs


class OpenSession:
    """An open SDK connection and the context manager that owns it."""

    def __init__(self, manager: Any, connection: VoiceLiveConnection) -> None:
        self._manager = manager
        self.connection = connection
        self._closed = False

    async def close(self) -> None:
        """Idempotent; a close interrupted by cancellation is redone by the next call."""
        if self._closed:
            return
        with contextlib.suppress(Exception):
            await self._manager.__aexit__(None, None, None)
        self._closed = True

    async def __aenter__(self) -> OpenSession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


async def _close_orphaned_sessions(exc: BaseException) -> None:
    """Close the ``ClientSession`` a cancelled SDK handshake left behind.

    The session is a local of the SDK's ``__aenter__``; the cancellation's traceback
    still references that frame, which is the only handle left to it.
    """
    tb = exc.__traceback__
    while tb is not None:
        session = tb.tb_frame.f_locals.get("session")
        if isinstance(session, aiohttp.ClientSession) and not session.closed:
            await session.close()
        tb = tb.tb_next


def _classify(exc: SdkConnectionError, target: ConnectTarget) -> VoiceLiveConnectError:
    """Turn the SDK's stringly handshake errors into errors a user can act on."""
    text = str(exc)
    host = urlsplit(target.endpoint).hostname or target.endpoint
    if "401" in text:
        return VoiceLiveAuthError(
            f"Voice Live at {host} rejected the credentials (HTTP 401): check "
            "AZURE_VOICE_LIVE_API_KEY or the credential"
        )
    if "403" in text:
        return VoiceLiveAuthError(
            f"Voice Live at {host} refused access (HTTP 403): the identity lacks the "
            "'Cognitive Services User' role, or the key belongs to another resource"
        )
    for status, code in (("404", "not_found"), ("400", "bad_request")):
        if f"{status}," in text or f"{status} " in text:
            return VoiceLiveConnectError(
                code,
                f"Voice Live at {host} answered HTTP {status}: check the endpoint, the model "
                "or agent name, and api_version",
                recoverable=False,
            )
    cause = exc.__cause__
    if isinstance(cause, aiohttp.ClientConnectorError | aiohttp.ClientOSError | OSError):
        return VoiceLiveConnectError(
            "unreachable", f"cannot reach Voice Live at {host}: {cause}", recoverable=True
        )
    return VoiceLiveConnectError(
        "connect_failed", f"could not connect to Voice Live at {host}", recoverable=True
    )


async def open_session(
    target: ConnectTarget, credential: AzureKeyCredential | AsyncTokenCredential
) -> OpenSession:
    """Open one SDK connection within ``target.handshake_timeout``.

    Raises :class:`VoiceLiveConnectError` (or its auth subclass); never leaks the
    SDK's HTTP session, whether the handshake fails, times out or is cancelled.
    """
    manager = connect(credential=credential, **target.sdk_kwargs())
    handshake: asyncio.Task[VoiceLiveConnection] = asyncio.ensure_future(manager.__aenter__())
    try:
        done, _ = await asyncio.wait({handshake}, timeout=target.handshake_timeout)
    finally:
        if not handshake.done():
            handshake.cancel()
            try:
                await handshake
            except asyncio.CancelledError as cancelled:
                await _close_orphaned_sessions(cancelled)
            except Exception as failed:
                log.debug("abandoned handshake failed: %r", failed)
    if not done:
        host = urlsplit(target.endpoint).hostname
        raise VoiceLiveConnectError(
            "handshake_timeout",
            f"Voice Live at {host} did not answer within {target.handshake_timeout:g}s",
            recoverable=True,
        )
    try:
        connection = handshake.result()
    except VoiceLiveConnectError:
        raise
    except SdkConnectionError as exc:
        raise _classify(exc, target) from None
    except ClientAuthenticationError as exc:
        raise VoiceLiveAuthError(
            f"could not get an Entra ID token for Voice Live ({type(exc).__name__}): sign in "
            "(az login), or set AZURE_VOICE_LIVE_API_KEY"
        ) from None
    except (aiohttp.ClientError, OSError) as exc:
        raise VoiceLiveConnectError(
            "unreachable", f"cannot reach Voice Live: {exc}", recoverable=True
        ) from None
    return OpenSession(manager, connection)


def check_timeouts(handshake: float, session: float, max_session: float | None) -> None:
    """Fail at construction for timeouts that would make every connect fail."""
    if handshake <= 0 or session <= 0:
        raise ValueError("handshake_timeout and session_timeout must be positive")
    if max_session is not None and max_session <= 0:
        raise ValueError("max_session_duration must be positive (or None to never rotate)")
