"""Where the call connects and as whom, settled as late as ``connect()``.

Users keep their endpoint and key in ``.env``, and the framework loads it only at
``ctx.connect()``: after a typical entrypoint has already built the model. So
what the constructor is given explicitly is checked there (a bad value fails
where it was written), and what it is not given is looked up again at connect:
an endpoint, or a key that turns up in the environment after all (it then
replaces the Entra ID credential that was the fallback).
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from typing import Any

from azure.core.credentials import AzureKeyCredential

from . import _redact
from .config import AzureVoiceLiveConfig
from .connection import (
    DEFAULT_MODEL,
    ENDPOINT_ENV,
    MODEL_ENV,
    AgentTarget,
    ConnectTarget,
    first_env,
    resolve_endpoint,
)
from .credentials import API_KEY_ENV, default_credential, normalize_credential

__all__ = ["Binding"]

log = logging.getLogger("videosdk_plugins_azure")


@dataclass(frozen=True)
class _Where:
    endpoint: str | None
    allow_insecure: bool
    api_version: str | None
    agent: AgentTarget | None
    handshake_timeout: float


class Binding:
    """The endpoint, model and credential of one model instance; it owns what it creates."""

    def __init__(
        self,
        *,
        model: str | None,
        endpoint: str | None,
        allow_insecure: bool,
        api_key: str | None,
        credential: Any,
        api_version: str | None,
        agent: AgentTarget | None,
        handshake_timeout: float,
        config: AzureVoiceLiveConfig,
    ) -> None:
        self.model = (
            f"agent:{agent.agent_name}"
            if agent is not None
            else model or os.environ.get(MODEL_ENV) or DEFAULT_MODEL
        )
        given = endpoint or first_env(ENDPOINT_ENV)
        self._where = _Where(
            resolve_endpoint(given, allow_insecure=allow_insecure) if given else None,
            allow_insecure,
            api_version,
            agent,
            handshake_timeout,
        )
        if api_key is not None and credential is not None:
            log.warning("both api_key and credential were given; the credential is used")
            api_key = None
        normalized, self.owns_credential = normalize_credential(api_key, credential)
        self.fallback = normalized is None
        """No key and no credential: Entra ID, unless a key turns up before connect."""
        self.credential: Any = normalized if normalized is not None else default_credential()
        self._secrets = [_redact.protect(_redact.secrets_of(self.credential, config))]

    @property
    def endpoint(self) -> str | None:
        return self._where.endpoint

    @property
    def session_model(self) -> str | None:
        """The model the session runs; None in agent mode (the agent picks it)."""
        return None if self._where.agent is not None else self.model

    async def settle(self) -> ConnectTarget:
        """The target to connect to now; a key found in the environment since wins."""
        where = self._where
        endpoint = where.endpoint or resolve_endpoint(None, allow_insecure=where.allow_insecure)
        key = first_env(API_KEY_ENV) if self.fallback else None
        if key:
            await self._close_owned()
            self.credential = AzureKeyCredential(key)
            self.owns_credential = self.fallback = False
            self._secrets.append(_redact.protect([key]))
        return ConnectTarget(
            endpoint=endpoint,
            model=self.session_model,
            api_version=where.api_version,
            agent=where.agent,
            handshake_timeout=where.handshake_timeout,
        )

    async def aclose(self) -> None:
        await self._close_owned()
        for handle in self._secrets:
            _redact.release(handle)

    async def _close_owned(self) -> None:
        if not self.owns_credential:
            return
        self.owns_credential = False
        close = getattr(self.credential, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):
                await close()
