"""Settings helpers shared by the examples (loading ``.env``, checking what is missing)."""

from __future__ import annotations

from collections.abc import Mapping


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
