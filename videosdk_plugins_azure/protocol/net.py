"""Where the service listens, and which hosts count as this machine.

Both the plugin (plain-text endpoints are allowed only to loopback) and the
emulator (it binds to loopback unless told otherwise) draw the same line.
"""

from __future__ import annotations

import ipaddress

__all__ = ["REALTIME_PATH", "is_loopback"]

REALTIME_PATH = "/voice-live/realtime"
"""The WebSocket path under a resource's endpoint (the SDK appends it; servers match it)."""


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP literals; other names are not resolved,
    so a DNS answer cannot turn a remote host into a "local" one."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
