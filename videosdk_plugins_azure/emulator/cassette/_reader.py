"""Reading a cassette file back into records, checking each line against the format.

Every problem names the file and the line, because a cassette is edited by hand
(a secret trimmed, a session cut) and a recording can be cut short by a crash.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, cast

from ...protocol.net import REALTIME_PATH
from ._format import (
    FORMAT_VERSION,
    Cassette,
    CassetteError,
    CassetteHeader,
    CassetteSession,
    Direction,
    EventRecord,
    InputAudio,
    SessionClose,
)

__all__ = ["read_lines"]

_DIRECTIONS: Final = frozenset({"client", "server"})
_INPUT_AUDIO: Final = frozenset({"store", "drop"})


def read_lines(lines: Iterable[str], source: str) -> Cassette:
    return _Reader(source).read(lines)


class _Reader:
    """Turns lines into a :class:`Cassette`, checking each against the format."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.line = 0
        self.header: CassetteHeader | None = None
        self.sessions: dict[int, CassetteSession] = {}
        self._kinds: dict[str, Callable[[Mapping[str, Any]], None]] = {
            "header": self._header,
            "session": self._session,
            "event": self._event,
            "close": self._close,
        }

    def fail(self, message: str) -> CassetteError:
        return CassetteError(f"{self.source}:{self.line}: {message}")

    def read(self, lines: Iterable[str]) -> Cassette:
        for self.line, text in enumerate(lines, start=1):
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except ValueError:
                raise self.fail("not valid JSON (a recording cut short?)") from None
            if not isinstance(obj, dict):
                raise self.fail("a line must be a JSON object")
            reader = self._kinds.get(obj.get("kind"))  # type: ignore[arg-type]
            if reader is None:
                raise self.fail(f"unknown kind {obj.get('kind')!r}")
            if self.header is None and reader != self._header:
                raise self.fail("the first line must be the header")
            reader(obj)
        if self.header is None:
            raise CassetteError(f"{self.source}: empty cassette (no header line)")
        ordered = [self.sessions[i] for i in sorted(self.sessions)]
        return Cassette(self.header, ordered, source=self.source)

    def _get(self, obj: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
        value = obj.get(key)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise self.fail(f"{key!r} is missing or of the wrong type")
        return value

    def _header(self, obj: Mapping[str, Any]) -> None:
        if self.header is not None:
            raise self.fail("a second header")
        version = self._get(obj, "format", int)
        if version > FORMAT_VERSION:
            raise self.fail(f"format {version} is newer than this reader ({FORMAT_VERSION})")
        audio = obj.get("input_audio", "drop")
        if audio not in _INPUT_AUDIO:
            raise self.fail(f"input_audio must be one of {sorted(_INPUT_AUDIO)}")
        self.header = CassetteHeader(
            recorded_at=str(obj.get("recorded_at", "")),
            model=obj.get("model"),
            api_version=obj.get("api_version"),
            query=dict(obj.get("query") or {}),
            upstream=obj.get("upstream"),
            input_audio=cast(InputAudio, audio),
            recorder=str(obj.get("recorder", "")),
            format=version,
        )

    def _session(self, obj: Mapping[str, Any]) -> None:
        index = self._get(obj, "session", int)
        if index in self.sessions:
            raise self.fail(f"session {index} begins twice")
        query = obj.get("query") or {}
        if not isinstance(query, dict):
            raise self.fail("'query' must be an object")
        self.sessions[index] = CassetteSession(
            index=index,
            path=str(obj.get("path", REALTIME_PATH)),
            query={str(k): str(v) for k, v in query.items()},
            auth=obj.get("auth"),
            at=float(obj.get("at", 0.0)),
            line=self.line,
        )

    def _owner(self, obj: Mapping[str, Any]) -> CassetteSession:
        index = self._get(obj, "session", int)
        session = self.sessions.get(index)
        if session is None:
            raise self.fail(f"session {index} has no 'session' line before it")
        if session.close is not None:
            raise self.fail(f"session {index} was already closed")
        return session

    def _time(self, obj: Mapping[str, Any]) -> float:
        t = self._get(obj, "t", (int, float))
        if t < 0:
            raise self.fail("'t' must be >= 0")
        return float(t)

    def _direction(self, obj: Mapping[str, Any], key: str) -> Direction:
        value = obj.get(key)
        if value not in _DIRECTIONS:
            raise self.fail(f"{key!r} must be 'client' or 'server'")
        return cast(Direction, value)

    def _event(self, obj: Mapping[str, Any]) -> None:
        session = self._owner(obj)
        event = obj.get("event")
        if event is not None and not (isinstance(event, dict) and "type" in event):
            raise self.fail("'event' must be an object with a 'type', or null")
        audio_bytes = obj.get("audio_bytes")
        if audio_bytes is not None and (not isinstance(audio_bytes, int) or audio_bytes < 0):
            raise self.fail("'audio_bytes' must be a byte count")
        raw = obj.get("raw")
        session.records.append(
            EventRecord(
                session=session.index,
                direction=self._direction(obj, "dir"),
                t=self._time(obj),
                event=event,
                audio_bytes=audio_bytes,
                raw=raw if isinstance(raw, str) else None,
                line=self.line,
            )
        )

    def _close(self, obj: Mapping[str, Any]) -> None:
        session = self._owner(obj)
        code = obj.get("code")
        if code is not None and not isinstance(code, int):
            raise self.fail("'code' must be an integer or null")
        session.close = SessionClose(
            session.index, self._time(obj), self._direction(obj, "by"), code, self.line
        )
