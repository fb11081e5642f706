"""How much one client may ask of the emulator, and for how long it may say nothing.

The emulator is a server other people run (a shared development endpoint, a CI
service, a benchmark target), so nothing a client sends, or fails to send, may stall
the other connections or grow the process without bound. Every such bound is here,
with a default generous enough for any real Voice Live client; tests that exercise
a bound pass :class:`ServerLimits` with small values to
:class:`~._server.VoiceLiveEmulator`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

__all__ = [
    "MAX_JSON_DEPTH",
    "MAX_REPLY_CHARS",
    "MAX_REPLY_CHARS_CEILING",
    "ServerLimits",
    "timeout_or_none",
]

MAX_REPLY_CHARS: Final = 4_000
"""Characters of one reply spoken by default: about 4.3 minutes of the synthetic voice
(65 ms a character) and a few seconds of CPU. A 100 KB reply, uncapped, took ~50 s of
CPU and over 2 GB of memory to synthesize."""

MAX_JSON_DEPTH: Final = 64
"""Nesting levels a client event may have. The deepest legitimate event (a tool's JSON
schema inside ``session.update``) is far shallower; deeper input only costs recursion."""

MAX_REPLY_CHARS_CEILING: Final = 100_000
"""The most :attr:`ServerLimits.max_reply_chars` may be raised to."""


@dataclass(frozen=True)
class ServerLimits:
    """Timeouts and size bounds, per connection unless a field says otherwise.

    A timeout of ``math.inf`` disables it.
    """

    handshake_timeout: float = 10.0
    """Seconds a new TCP connection has to finish its HTTP upgrade request. A client
    that trickles its headers (Slowloris) or sends nothing is dropped after this."""
    setup_timeout: float = 120.0
    """Seconds an upgraded socket may wait before its first valid ``session.update``;
    then it is closed (1008, ``setup timeout``). Voice Live clients configure first."""
    idle_timeout: float = 1800.0
    """Seconds a configured session may go without any client frame; then it is closed
    (1008, ``idle timeout``). A live call streams audio all the time."""
    max_frame_bytes: int = 16 * 1024 * 1024
    """Length of a client frame (characters of a text frame, bytes of a binary one)
    the emulator reads. A longer one is answered with an ``error`` (code
    ``message_too_large``) and the socket stays open; one over twice this is not
    even buffered: the socket is closed with 1009, as RFC 6455 says."""
    max_json_depth: int = MAX_JSON_DEPTH
    """Nesting levels of a client event; deeper JSON is answered with an ``error``
    (code ``invalid_json``)."""
    max_reply_chars: int = MAX_REPLY_CHARS
    """Characters of one reply. A longer reply is cut at a word boundary before this
    and its response ends ``incomplete`` (reason ``max_output_tokens``), as an output
    cap ends it on the service: speech costs CPU and memory in proportion."""
    speech_workers: int = 2
    """Threads that synthesize speech, shared by every connection."""
    max_record_events: int = 10_000
    """Events of each side an :class:`~._record.EmulatorConnection` keeps; the oldest
    are dropped (and counted) past this, unless the emulator keeps records."""
    max_record_bytes: int = 2 * 1024 * 1024
    """Bytes of JSON of each side a record keeps, in the same way."""
    max_closed_records: int = 100
    """Records of closed connections kept in ``VoiceLiveEmulator.connections``; the
    oldest closed one is forgotten past this, unless the emulator keeps records."""

    def __post_init__(self) -> None:
        """Refuse limits that could not work, when the emulator is built."""
        for name in ("handshake_timeout", "setup_timeout", "idle_timeout"):
            value = getattr(self, name)
            if math.isnan(value) or value <= 0:
                raise ValueError(f"{name} must be > 0 (math.inf disables it)")
        for name in (
            "max_frame_bytes",
            "max_json_depth",
            "speech_workers",
            "max_record_events",
            "max_record_bytes",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        if self.max_closed_records < 0:
            raise ValueError("max_closed_records must be >= 0")
        if not 1 <= self.max_reply_chars <= MAX_REPLY_CHARS_CEILING:
            raise ValueError(f"max_reply_chars must be between 1 and {MAX_REPLY_CHARS_CEILING}")

    @property
    def hard_frame_bytes(self) -> int:
        """The frame length past which aiohttp closes the socket instead of reading on."""
        return 2 * self.max_frame_bytes


def timeout_or_none(seconds: float) -> float | None:
    """``seconds`` as asyncio and aiohttp take a timeout: None for never."""
    return None if math.isinf(seconds) else seconds
