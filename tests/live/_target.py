"""Where the live suite connects, read from the environment once.

The suite runs only when a maintainer points it somewhere: the endpoint, and
either a key or an explicit opt-in to Entra ID (azure-identity's
``DefaultAzureCredential``: ``az login``, a managed identity, …). The opt-in is
explicit so a stale ``az login`` on a laptop never turns a plain ``pytest -m
live`` into calls billed to whatever subscription it happens to reach.

Any endpoint works, so the suite can prove itself against the local emulator
(``tests/test_live_suite.py`` does): the assertions hold for a real model and
for the emulator's scripted or echoed answers alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from videosdk_plugins_azure.connection import DEFAULT_MODEL, ENDPOINT_ENV, MODEL_ENV
from videosdk_plugins_azure.credentials import API_KEY_ENV

__all__ = ["ENTRA_ENV", "MISSING", "LiveTarget", "read_target"]

ENTRA_ENV = "AZURE_VOICE_LIVE_USE_ENTRA"
"""Set to 1 to sign in with ``DefaultAzureCredential`` instead of a key."""

_YES = frozenset({"1", "true", "yes", "on"})

MISSING = (
    f"live tests need {ENDPOINT_ENV[0]} and either {API_KEY_ENV[0]} "
    f"or {ENTRA_ENV}=1 (DefaultAzureCredential)"
)
"""The skip reason, naming exactly what to set."""


@dataclass(frozen=True)
class LiveTarget:
    """One Voice Live endpoint and how to sign in to it; the key never shows in repr."""

    endpoint: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    use_entra: bool = False


def read_target(env: Mapping[str, str]) -> LiveTarget | None:
    """The target ``env`` names, or None when the suite must skip.

    With both a key and the Entra opt-in, Entra wins: the opt-in is the explicit choice.
    """
    endpoint = next((env[name] for name in ENDPOINT_ENV if env.get(name)), None)
    use_entra = env.get(ENTRA_ENV, "").strip().lower() in _YES
    api_key = None if use_entra else next((env[n] for n in API_KEY_ENV if env.get(n)), None)
    if not endpoint or not (use_entra or api_key):
        return None
    model = env.get(MODEL_ENV) or DEFAULT_MODEL
    return LiveTarget(endpoint=endpoint, model=model, api_key=api_key, use_entra=use_entra)
