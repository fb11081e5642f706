"""Credentials: whatever the user holds, as one of the two things the SDK takes.

Users hold keys, async or sync token credentials, or just an async function that
returns a token. The SDK takes only an ``AzureKeyCredential`` or an
``AsyncTokenCredential``, and calls a sync credential's ``get_token`` on the event
loop, where it blocks every call in the process. Everything is normalised to one
of the two, with sync work moved to a thread. The SDK asks for a token on every
connect, so reconnects always carry a fresh one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import threading
from collections.abc import Awaitable, Callable
from typing import Any, cast

from azure.core.credentials import AccessToken, AzureKeyCredential
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import ClientAuthenticationError

from .connection import first_env
from .errors import VoiceLiveConnectError

__all__ = [
    "API_KEY_ENV",
    "TOKEN_TIMEOUT",
    "CredentialLike",
    "GuardedCredential",
    "default_credential",
    "guarded",
    "normalize_credential",
]

API_KEY_ENV = ("AZURE_VOICE_LIVE_API_KEY", "AZURE_COGNITIVE_SERVICES_KEY")
TOKEN_TIMEOUT = 10.0
"""Seconds a credential may take to return a token before the attempt fails."""

TokenCallable = Callable[[], Awaitable["AccessToken | str"]]
CredentialLike = Any
"""``AzureKeyCredential``, an async or sync TokenCredential, or an async callable."""


class _CredentialShim:
    """The rest of the ``AsyncTokenCredential`` protocol, for credentials the user owns."""

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> _CredentialShim:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class _ThreadedTokenCredential(_CredentialShim):
    """A sync TokenCredential whose ``get_token`` runs in a thread of its own.

    azure-identity's sync credentials do network I/O (and sometimes spawn the Azure
    CLI) inside ``get_token``; on the event loop that would freeze every call. The
    default executor is not used: a hung credential would strand one of its
    workers per attempt until the process's DNS lookups (which share it) starve.
    Here at most one fetch runs per credential; a later attempt joins it.
    """

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self._fetch: concurrent.futures.Future[AccessToken] | None = None

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        if self._fetch is None or self._fetch.done():
            self._fetch = _in_daemon_thread(self._inner.get_token, *scopes, **kwargs)
        # shielded: a caller's timeout must not cancel the fetch another attempt joins
        return await asyncio.shield(asyncio.wrap_future(self._fetch))

    def __repr__(self) -> str:
        return f"<thread-wrapped {type(self._inner).__name__}>"


def _in_daemon_thread(
    function: Callable[..., AccessToken], *args: Any, **kwargs: Any
) -> concurrent.futures.Future[AccessToken]:
    """Run ``function`` in a daemon thread, so a hang cannot block interpreter exit."""
    future: concurrent.futures.Future[AccessToken] = concurrent.futures.Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(function(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)

    threading.Thread(target=run, name="voicelive-token", daemon=True).start()
    return future


class GuardedCredential(_CredentialShim):
    """What the SDK is given: the user's token credential, bounded in time and in what
    it may raise.

    A credential that hangs becomes a timeout, and one that raises anything but
    ``ClientAuthenticationError`` becomes a retryable :class:`VoiceLiveConnectError`
    naming only the exception's type (its text could carry a token or a secret);
    the original stays attached as ``__cause__``.
    """

    def __init__(self, inner: AsyncTokenCredential, timeout: float | None = None) -> None:
        self._inner = inner
        self._timeout = TOKEN_TIMEOUT if timeout is None else timeout

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        try:
            async with asyncio.timeout(self._timeout):
                return await self._inner.get_token(*scopes, **kwargs)
        except ClientAuthenticationError:
            raise
        except TimeoutError:
            raise VoiceLiveConnectError(
                "credential_timeout",
                f"the credential did not return a token within {self._timeout:g}s",
                recoverable=True,
            ) from None
        except Exception as exc:
            raise VoiceLiveConnectError(
                "credential_failed",
                f"the credential failed to return a token ({type(exc).__name__})",
                recoverable=True,
            ) from exc

    def __repr__(self) -> str:
        return f"<guarded {self._inner!r}>"


def guarded(credential: Any) -> Any:
    """``credential`` as the SDK should get it: keys as they are, tokens guarded."""
    if isinstance(credential, AzureKeyCredential):
        return credential
    return GuardedCredential(credential)


class _AsyncCredentialAdapter(_CredentialShim):
    """An object with an async ``get_token`` but without ``close`` and friends."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        token: AccessToken = await self._inner.get_token(*scopes, **kwargs)
        return token

    def __repr__(self) -> str:
        return f"<async {type(self._inner).__name__}>"


class _CallableTokenCredential(_CredentialShim):
    """An async function returning a token (``str`` or ``AccessToken``), as a credential."""

    def __init__(self, provider: TokenCallable) -> None:
        self._provider = provider

    async def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        token = await self._provider()
        if isinstance(token, str):
            return AccessToken(token, 0)
        if isinstance(getattr(token, "token", None), str):
            return token
        raise TypeError("the token provider must return a str or an AccessToken")

    def __repr__(self) -> str:
        return "<token provider>"


def normalize_credential(
    api_key: str | None, credential: CredentialLike | None
) -> tuple[AzureKeyCredential | AsyncTokenCredential | None, bool]:
    """Map what the user gave to what the SDK takes; ``None`` means "use Entra ID".

    Returns the credential and whether the plugin owns it (and must close it):
    ``(None, True)`` asks for :func:`default_credential`.
    """
    if api_key is not None and credential is not None:
        raise ValueError("pass api_key or credential, not both")
    if credential is None:
        key = api_key if api_key is not None else first_env(API_KEY_ENV)
        if key is not None:
            if not isinstance(key, str) or not key.strip():
                raise ValueError("api_key must be a non-empty string")
            return AzureKeyCredential(key), False
        return None, True
    if isinstance(credential, AzureKeyCredential):
        return credential, False
    if isinstance(credential, str):
        raise TypeError(
            "credential must be an AzureKeyCredential, a TokenCredential or an async token "
            "provider; pass a key string as api_key=... instead"
        )
    get_token = getattr(credential, "get_token", None)
    if get_token is not None:
        if inspect.iscoroutinefunction(get_token):
            if isinstance(credential, AsyncTokenCredential):
                return credential, False
            return cast(AsyncTokenCredential, _AsyncCredentialAdapter(credential)), False
        return cast(AsyncTokenCredential, _ThreadedTokenCredential(credential)), False
    if callable(credential):
        return cast(AsyncTokenCredential, _CallableTokenCredential(credential)), False
    raise TypeError(
        f"unsupported credential {type(credential).__name__}: expected AzureKeyCredential, "
        "an async or sync TokenCredential, or an async function returning a token"
    )


def default_credential() -> AsyncTokenCredential:
    """Entra ID through the async ``DefaultAzureCredential`` (never the sync one)."""
    from azure.identity.aio import DefaultAzureCredential

    credential: AsyncTokenCredential = DefaultAzureCredential()
    return credential
