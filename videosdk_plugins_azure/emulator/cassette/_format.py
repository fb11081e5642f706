"""The cassette file: JSON lines, one record a line, read and written only here.

A cassette is what a :class:`~._proxy.RecordingProxy` saw of one or more Voice
Live connections, in the order it saw it::

    {"kind":"header","format":1,"recorded_at":"…","model":"gpt-realtime","api_version":"…",…}
    {"kind":"session","session":0,"at":0.0,"path":"/voice-live/realtime","query":{…},"auth":"api-key"}
    {"kind":"event","session":0,"dir":"server","t":0.004,"event":{"type":"session.created",…}}
    {"kind":"event","session":0,"dir":"client","t":0.031,"event":{…},"audio_bytes":1920}
    {"kind":"close","session":0,"t":9.87,"by":"client","code":1000}

Lines, not one JSON document, so a recording is written as it happens (a crash
loses at most the last line, and the loader names it) and so two cassettes diff
line by line. ``t`` is seconds since that session's upgrade on a monotonic clock;
``at`` is when the session began, in seconds since the first one. Every
``input_audio_buffer.append`` carries ``audio_bytes``, the decoded length of its
audio, whether the audio itself was stored or dropped: replay gates on it.
A frame that was not a JSON object is kept as ``"event": null`` with its (scrubbed,
cut) text in ``raw``.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, Final, Literal

from ...protocol.events import AUDIO_PAYLOAD_FIELDS, ClientEvent
from ...protocol.net import REALTIME_PATH

__all__ = [
    "APPEND",
    "DROPPED_AUDIO",
    "FORMAT_VERSION",
    "Cassette",
    "CassetteError",
    "CassetteHeader",
    "CassetteSession",
    "Direction",
    "EventRecord",
    "InputAudio",
    "SessionClose",
    "audio_field",
    "b64_length",
    "close_line",
    "event_line",
    "header_line",
    "session_line",
]

FORMAT_VERSION: Final = 1
"""Bumped when a reader of the old format would misread a new file."""

APPEND: Final[str] = ClientEvent.INPUT_AUDIO_BUFFER_APPEND.value
DROPPED_AUDIO: Final = "<dropped>"
"""What replaces the audio of an append recorded with ``input_audio="drop"``."""

Direction = Literal["client", "server"]
InputAudio = Literal["store", "drop"]


class CassetteError(ValueError):
    """A cassette that cannot be read: names the file and line."""


@dataclass(frozen=True)
class CassetteHeader:
    """What the whole recording shares (model and query are the first session's)."""

    recorded_at: str
    model: str | None = None
    api_version: str | None = None
    query: Mapping[str, str] = field(default_factory=dict)
    upstream: str | None = None
    input_audio: InputAudio = "drop"
    recorder: str = ""
    format: int = FORMAT_VERSION


@dataclass(frozen=True)
class EventRecord:
    """One frame, as it passed through the proxy (scrubbed)."""

    session: int
    direction: Direction
    t: float
    event: Mapping[str, Any] | None
    audio_bytes: int | None = None
    raw: str | None = None
    line: int = 0

    @property
    def type(self) -> str | None:
        kind = self.event.get("type") if self.event is not None else None
        return kind if isinstance(kind, str) else None


@dataclass(frozen=True)
class SessionClose:
    """How a session ended: which side closed first, and the close code (1006: a drop)."""

    session: int
    t: float
    by: Direction
    code: int | None
    line: int = 0


@dataclass
class CassetteSession:
    """One WebSocket connection of the recording."""

    index: int
    path: str = REALTIME_PATH
    query: dict[str, str] = field(default_factory=dict)
    auth: str | None = None
    at: float = 0.0
    records: list[EventRecord] = field(default_factory=list)
    close: SessionClose | None = None
    line: int = 0

    @property
    def model(self) -> str | None:
        return self.query.get("model")

    def events(
        self, direction: Direction | None = None, kind: str | None = None
    ) -> list[Mapping[str, Any]]:
        """The recorded events, optionally of one side and of one ``type`` (``kind``)."""
        return [
            r.event
            for r in self.records
            if r.event is not None
            and (direction is None or r.direction == direction)
            and (kind is None or r.type == kind)
        ]


@dataclass
class Cassette:
    """A recording: its header and its sessions, in the order they were opened."""

    header: CassetteHeader
    sessions: list[CassetteSession] = field(default_factory=list)
    source: str = "<cassette>"

    @classmethod
    def load(cls, path: str | PathLike[str]) -> Cassette:
        """Read a cassette file; :class:`CassetteError` says what is wrong and where."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise CassetteError(f"{os.fspath(path)}: not UTF-8 text ({exc.reason})") from None
        return cls.loads(text, source=os.fspath(path))

    @classmethod
    def loads(cls, text: str, *, source: str = "<cassette>") -> Cassette:
        from ._reader import read_lines  # the reader builds these records: imported late

        return read_lines(text.splitlines(), source)

    def dumps(self) -> str:
        return "".join(line + "\n" for line in self.lines())

    def lines(self) -> Iterator[str]:
        yield header_line(self.header)
        for session in self.sessions:
            yield session_line(session)
            for record in session.records:
                yield event_line(record)
            if session.close is not None:
                yield close_line(session.close)

    def save(self, path: str | PathLike[str]) -> None:
        """Write the cassette whole, replacing ``path`` only once it is written."""
        target = Path(path)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
                out.write(self.dumps())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


# -- writing: one function per line kind, shared by Cassette.dumps and the recorder ---------


def _dumps(obj: Mapping[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def header_line(header: CassetteHeader) -> str:
    return _dumps(
        {
            "kind": "header",
            "format": header.format,
            "recorded_at": header.recorded_at,
            "model": header.model,
            "api_version": header.api_version,
            "query": dict(header.query),
            "upstream": header.upstream,
            "input_audio": header.input_audio,
            "recorder": header.recorder,
        }
    )


def session_line(session: CassetteSession) -> str:
    return _dumps(
        {
            "kind": "session",
            "session": session.index,
            "at": round(session.at, 6),
            "path": session.path,
            "query": session.query,
            "auth": session.auth,
        }
    )


def event_line(record: EventRecord) -> str:
    line: dict[str, Any] = {
        "kind": "event",
        "session": record.session,
        "dir": record.direction,
        "t": round(record.t, 6),
        "event": record.event,
    }
    if record.audio_bytes is not None:
        line["audio_bytes"] = record.audio_bytes
    if record.raw is not None:
        line["raw"] = record.raw
    return _dumps(line)


def close_line(close: SessionClose) -> str:
    return _dumps(
        {
            "kind": "close",
            "session": close.session,
            "t": round(close.t, 6),
            "by": close.by,
            "code": close.code,
        }
    )


def b64_length(data: str) -> int:
    """Decoded length of base64 ``data``, without decoding it."""
    size = len(data)
    padding = 2 if data.endswith("==") else 1 if data.endswith("=") else 0
    return max(0, size * 3 // 4 - padding)


def audio_field(event: Mapping[str, Any] | None) -> str | None:
    """The key holding base64 audio in ``event``, if it is an audio event."""
    kind = event.get("type") if event is not None else None
    return AUDIO_PAYLOAD_FIELDS.get(kind) if isinstance(kind, str) else None
