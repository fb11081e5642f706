"""``session.avatar`` as the service checks it, and what the emulator reads from it.

The rules are :func:`..protocol.avatar.avatar_check`, bound to the service's
wording; the plugin's config checks an avatar with the same function. The readers
here answer what the response generator needs: whether the session streams avatar
video on this socket, and at what size.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..protocol.avatar import DEFAULT_RESOLUTION, SERVICE_OUTPUT_PROTOCOL, avatar_check
from ._validate import SERVICE

__all__ = ["AVATAR", "avatar_protocol", "video_size", "websocket_avatar"]

AVATAR = avatar_check(SERVICE)
"""The check of ``session.avatar`` (and its ``param`` paths)."""


def avatar_protocol(session: Mapping[str, Any]) -> str | None:
    """How the session's avatar streams (``None``: the session has no avatar)."""
    avatar = session.get("avatar")
    if not avatar:
        return None
    protocol: str = avatar.get("output_protocol") or SERVICE_OUTPUT_PROTOCOL
    return protocol


def websocket_avatar(session: Mapping[str, Any]) -> bool:
    """Whether responses carry ``response.video.delta`` events on this socket."""
    return avatar_protocol(session) == "websocket"


def video_size(session: Mapping[str, Any]) -> tuple[int, int]:
    """The avatar's width and height, even (H.264's 4:2:0 chroma needs even sizes)."""
    resolution = ((session.get("avatar") or {}).get("video") or {}).get("resolution")
    width, height = (
        (resolution["width"], resolution["height"]) if resolution else DEFAULT_RESOLUTION
    )
    return max(2, width - width % 2), max(2, height - height % 2)
