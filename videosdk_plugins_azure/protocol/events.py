"""Voice Live event type names, read from the SDK's enums instead of typed out.

A misspelt ``"type"`` literal fails silently: a dispatch table never matches it and
the peer never recognises the frame. Naming events through
``azure.ai.voicelive.models.ServerEventType`` / ``ClientEventType`` (SDK 1.3.1) turns
a typo into an ``AttributeError`` at import time and keeps the plugin, the emulator
and the SDK that parses the frames on one spelling.

The enums subclass ``str``, so a member compares and hashes like its value and can
key a table that is looked up with the raw ``type`` of a received event. But
``str()`` of a member is its *name* (``ServerEventType.RESPONSE_AUDIO_DELTA``), so
code that builds a frame or a record goes through :func:`wire_type` or
:func:`event`, which always produce the plain value: frames on the wire and event
records stay exactly what the service sends.

``ServerEvent`` / ``ClientEvent`` are short aliases of the two enums. They are not
the SDK's ``models.ServerEvent`` model class (the base of the parsed events), which
this module does not touch.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType
from typing import Any, Final, TypeAlias

from azure.ai.voicelive.models import ClientEventType, ServerEventType

__all__ = [
    "AUDIO_PAYLOAD_FIELDS",
    "CLIENT_EVENT_TYPES",
    "MEDIA_PAYLOAD_FIELDS",
    "RATE_LIMITS_UPDATED",
    "SERVER_EVENT_TYPES",
    "ClientEvent",
    "ClientEventType",
    "EventType",
    "ServerEvent",
    "ServerEventType",
    "event",
    "wire_type",
]

ServerEvent = ServerEventType
ClientEvent = ClientEventType

EventType: TypeAlias = ServerEventType | ClientEventType | str
"""An event type as code names it: an SDK enum member, or a plain string for the
few documented events the SDK enum lacks."""

RATE_LIMITS_UPDATED: Final = "rate_limits.updated"
"""Sent by the service right after ``response.created`` (documented in the Voice Live
reference) but missing from ``ServerEventType`` in SDK 1.3.1, which parses it as a
plain ``ServerEvent``. Defined here once so nobody spells it by hand."""

SERVER_EVENT_TYPES: Final[frozenset[str]] = frozenset(
    {member.value for member in ServerEventType} | {RATE_LIMITS_UPDATED}
)
"""Every ``type`` the service may send: what a client can expect to recognise."""

CLIENT_EVENT_TYPES: Final[frozenset[str]] = frozenset(member.value for member in ClientEventType)
"""Every ``type`` a client may send; anything else the service answers with ``error``."""

AUDIO_PAYLOAD_FIELDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        ClientEventType.INPUT_AUDIO_BUFFER_APPEND.value: "audio",
        ServerEventType.RESPONSE_AUDIO_DELTA.value: "delta",
    }
)
"""Event type → the field holding base64 audio.

These two events are most of the traffic by volume; logs and event records keep the
payload's size instead of the payload, which this table lets them find.
"""

MEDIA_PAYLOAD_FIELDS: Final[Mapping[str, str]] = MappingProxyType(
    {**AUDIO_PAYLOAD_FIELDS, ServerEventType.RESPONSE_VIDEO_DELTA.value: "delta"}
)
"""Event type → the field holding base64 media: the audio events and the avatar's video.

Event records keep each payload's size, not the payload, unless asked to keep
audio: an avatar's video is larger still than its voice."""


def wire_type(kind: EventType) -> str:
    """The exact string that goes in a frame's ``type`` for ``kind``."""
    if isinstance(kind, Enum):
        value: str = kind.value
        return value
    return kind


def event(kind: EventType, /, **fields: Any) -> dict[str, Any]:
    """A wire-shaped event: ``{"type": <plain value>, **fields}``.

    The dict goes straight to ``json.dumps`` and into records, so its ``type`` must
    be the plain string, never the enum member (whose ``str()`` is its name).
    """
    return {"type": wire_type(kind), **fields}
