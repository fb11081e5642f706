"""Fixtures of the live suite: the real service, the network it needs, cassettes.

Every test here is marked ``live``; the default run deselects them, and
``pytest -m live`` runs them when :mod:`._target` finds an endpoint and a way
to sign in (otherwise each one skips, saying what to set).

``--record DIR`` (registered in the root conftest, since pytest only reads
options from there) routes each test's connection through the cassette
``RecordingProxy`` to the same endpoint, writing ``DIR/<test name>.jsonl`` (the
caller's audio is left out: ``input_audio="drop"``).
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from videosdk_plugins_azure import AzureVoiceLive, AzureVoiceLiveConfig, ReconnectPolicy

from ._target import MISSING, LiveTarget, read_target
from ._wire import WireTap

_CONNECT = socket.socket.connect
_CONNECT_EX = socket.socket.connect_ex
"""The real methods, taken at import (collection), before any test's guard replaces them."""

RECONNECT = ReconnectPolicy(max_attempts=4, initial_backoff=0.2, max_backoff=2.0)
"""Quick retries: a live test waits for one reconnect, not for the default give-up time."""


@pytest.fixture(autouse=True)
def no_network(no_network: None, request: pytest.FixtureRequest, monkeypatch: Any) -> None:
    """The root guard stays, except for tests marked ``live``: they need the service."""
    if request.node.get_closest_marker("live") is not None:
        monkeypatch.setattr(socket.socket, "connect", _CONNECT)
        monkeypatch.setattr(socket.socket, "connect_ex", _CONNECT_EX)


@pytest.fixture(scope="session")
def live_target() -> LiveTarget:
    target = read_target(os.environ)
    if target is None:
        pytest.skip(MISSING)
    return target


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> WireTap:
    """Everything the SDK sends and receives during the test."""
    tap = WireTap()
    tap.install(monkeypatch)
    return tap


def _cassette_name(node: pytest.Item) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", node.name)


@pytest.fixture
async def endpoint(live_target: LiveTarget, request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """The target's endpoint, or a recording proxy in front of it under ``--record``."""
    out = request.config.getoption("--record", default=None)
    if out is None:
        yield live_target.endpoint
        return
    try:
        from videosdk_plugins_azure.emulator.cassette import RecordingProxy
    except ImportError as exc:
        raise pytest.UsageError(
            f"--record needs videosdk_plugins_azure.emulator.cassette ({exc})"
        ) from None
    path = Path(out) / f"{_cassette_name(request.node)}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    async with RecordingProxy(live_target.endpoint, path, input_audio="drop") as proxy:
        yield proxy.endpoint


ModelFactory = Callable[..., AzureVoiceLive]


@pytest.fixture
async def make_model(live_target: LiveTarget, endpoint: str) -> AsyncIterator[ModelFactory]:
    """``make_model(**config)``: an ``AzureVoiceLive`` for the target, signed in as it says.

    Under Entra each model gets its own ``DefaultAzureCredential``, closed here
    after the test (the plugin closes only credentials it created itself).
    """
    credentials: list[Any] = []

    def make(**config: Any) -> AzureVoiceLive:
        auth: dict[str, Any] = {"api_key": live_target.api_key}
        if live_target.use_entra:
            from azure.identity.aio import DefaultAzureCredential

            credential = DefaultAzureCredential()
            credentials.append(credential)
            auth = {"credential": credential}
        return AzureVoiceLive(
            model=live_target.model,
            endpoint=endpoint,
            config=AzureVoiceLiveConfig(**config),
            reconnect=RECONNECT,
            **auth,
        )

    yield make
    for credential in credentials:
        await credential.close()
