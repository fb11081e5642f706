"""Settings helpers shared by the examples (loading ``.env``, checking what is missing)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

__all__ = ["load_dotenv_here", "missing_room_settings", "room_settings_ready"]


def load_dotenv_here() -> None:
    """Read ``.env`` from the current directory (and up), if python-dotenv is installed.

    Called from ``main()`` only: importing an example never reads files or secrets.
    """
    try:
        from dotenv import find_dotenv, load_dotenv
    except ImportError:
        return
    path = find_dotenv(usecwd=True)
    if path:
        load_dotenv(path)


def missing_room_settings(env: Mapping[str, str]) -> list[str]:
    """What a room agent needs before joining; checked up front so nothing half-starts."""
    missing = []
    if not env.get("VIDEOSDK_AUTH_TOKEN") and not (
        env.get("VIDEOSDK_API_KEY") and env.get("VIDEOSDK_SECRET_KEY")
    ):
        missing.append("VIDEOSDK_AUTH_TOKEN (or VIDEOSDK_API_KEY and VIDEOSDK_SECRET_KEY)")
    if not env.get("VIDEOSDK_ROOM_ID"):
        missing.append("VIDEOSDK_ROOM_ID")
    if not (env.get("AZURE_VOICE_LIVE_ENDPOINT") or env.get("AZURE_COGNITIVE_SERVICES_ENDPOINT")):
        missing.append("AZURE_VOICE_LIVE_ENDPOINT")
    return missing


def room_settings_ready() -> bool:
    """Read ``.env``, then name on stderr whatever a room agent still lacks.

    For a room agent's ``main()``, which exits with status 2 when this is False,
    before anything connects.
    """
    load_dotenv_here()
    missing = missing_room_settings(os.environ)
    if missing:
        print(
            "error: missing setting(s): " + ", ".join(missing) + ". Set them in the "
            "environment or in a .env file in the current directory.",
            file=sys.stderr,
        )
    return not missing
