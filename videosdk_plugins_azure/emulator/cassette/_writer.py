"""Writing a recording to its cassette as the frames pass, scrubbed on the way.

The file is written line by line while the call runs, not at the end, so a long
call is never held in memory and a crash keeps what came before it. The header
waits for the first connection, because the model and api-version it records come
from that connection's query. Lines are flushed at each session's start and end.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from os import PathLike
from pathlib import Path
from typing import IO, Any, Final

from ...version import __version__
from ._format import (
    APPEND,
    DROPPED_AUDIO,
    CassetteHeader,
    CassetteSession,
    Direction,
    EventRecord,
    InputAudio,
    SessionClose,
    b64_length,
    close_line,
    event_line,
    header_line,
    session_line,
)
from ._scrub import Scrubber

__all__ = ["CassetteWriter", "SessionRecorder"]

RECORDER: Final = f"videosdk-plugins-azure {__version__}"
_MAX_RAW_CHARS: Final = 4096
"""A frame that is not a JSON object is kept for diagnosis, cut to this length."""


class CassetteWriter:
    """Owns the cassette file and the scrubber every session of the recording shares.

    Secrets learnt on one connection are scrubbed from all that follow (a reconnect
    presents the same key).
    """

    def __init__(
        self,
        path: str | PathLike[str],
        *,
        input_audio: InputAudio,
        upstream: str,
        overwrite: bool = True,
    ) -> None:
        if input_audio not in ("store", "drop"):
            raise ValueError("input_audio must be 'store' or 'drop'")
        self.path = Path(path)
        self.overwrite = overwrite
        self.input_audio: InputAudio = input_audio
        self.scrubber = Scrubber()
        self._upstream = upstream
        self._file: IO[str] | None = None
        self._header_written = False
        self._first_at: float | None = None
        self.sessions = 0
        self.events = 0

    def open(self) -> None:
        """Create the file; an existing one is kept unless ``overwrite`` (a real call
        recorded once cannot be recorded again)."""
        try:
            self._file = self.path.open(
                "w" if self.overwrite else "x", encoding="utf-8", newline="\n"
            )
        except FileExistsError:
            raise FileExistsError(
                f"{self.path} exists; pass overwrite=True (--overwrite) to replace it"
            ) from None

    def close(self) -> None:
        file, self._file = self._file, None
        if file is None:
            return
        try:
            if not self._header_written:
                self._write_header(file, {})
        finally:
            file.close()

    def _write_header(self, file: IO[str], query: Mapping[str, str]) -> None:
        header = CassetteHeader(
            recorded_at=datetime.now(UTC).isoformat(timespec="seconds"),
            model=query.get("model"),
            api_version=query.get("api-version"),
            query=query,
            upstream=self.scrubber.url(self._upstream),
            input_audio=self.input_audio,
            recorder=RECORDER,
        )
        file.write(header_line(header) + "\n")
        self._header_written = True

    def write(self, line: str, *, flush: bool = False) -> None:
        if self._file is None:
            raise RuntimeError("the cassette is not open")
        self._file.write(line + "\n")
        if flush:
            self._file.flush()

    def begin(
        self,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        auth: str | None,
        now: float,
    ) -> SessionRecorder:
        """Start recording a connection whose upgrade arrived at ``now``."""
        if self._file is None:
            raise RuntimeError("the cassette is not open")
        self.scrubber.learn_handshake(headers, query)
        clean = self.scrubber.query(query)
        if not self._header_written:
            self._write_header(self._file, clean)
        if self._first_at is None:
            self._first_at = now
        session = CassetteSession(
            index=self.sessions, path=path, query=clean, auth=auth, at=now - self._first_at
        )
        self.sessions += 1
        self.write(session_line(session), flush=True)
        return SessionRecorder(self, session.index, now)


class SessionRecorder:
    """Records the frames of one connection, in the order the proxy relays them."""

    def __init__(self, writer: CassetteWriter, index: int, started: float) -> None:
        self._writer = writer
        self.index = index
        self._started = started

    def frame(self, direction: Direction, data: str | bytes, now: float) -> None:
        text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
        event = _parse(text)
        scrubber = self._writer.scrubber
        if event is None:
            raw = scrubber.text(text[:_MAX_RAW_CHARS])
            record = EventRecord(self.index, direction, now - self._started, None, raw=raw)
        else:
            scrubber.learn_event(event)
            record = self._event_record(direction, scrubber.event(event), now)
        self._writer.write(event_line(record))
        self._writer.events += 1

    def _event_record(self, direction: Direction, event: dict[str, Any], now: float) -> EventRecord:
        audio_bytes = None
        if direction == "client" and event.get("type") == APPEND:
            audio = event.get("audio")
            audio_bytes = b64_length(audio) if isinstance(audio, str) else 0
            if self._writer.input_audio == "drop":
                event["audio"] = DROPPED_AUDIO
        return EventRecord(self.index, direction, now - self._started, event, audio_bytes)

    def closed(self, by: Direction, code: int | None, now: float) -> None:
        close = SessionClose(self.index, now - self._started, by, code)
        self._writer.write(close_line(close), flush=True)


def _parse(text: str) -> dict[str, Any] | None:
    """The frame as an event, or None for anything that is not a JSON object with a type."""
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if isinstance(parsed, dict) and isinstance(parsed.get("type"), str):
        return parsed
    return None
