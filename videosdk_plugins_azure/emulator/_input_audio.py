"""The input audio buffer and the session's audio timeline, with no socket and no clock.

``audio_start_ms`` / ``audio_end_ms`` are positions on the session's timeline of
received input audio, counted in samples, so they are exact and reproducible
however the client chunked its appends. The VAD runs on that timeline; a VAD built
after some audio arrived (turn detection switched on mid-session) starts at an
offset so its positions stay session-relative.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from . import _codec
from ._errors import ProtocolError
from ._vad import EnergyVad, VadEvent

__all__ = ["MAX_APPEND_BYTES", "MIN_COMMIT_MS", "InputAudio", "decode_append"]

MAX_APPEND_BYTES = 15 * 1024 * 1024
"""The service's limit on the decoded audio of one ``input_audio_buffer.append``."""

MIN_COMMIT_MS = 100
"""The shortest buffer ``input_audio_buffer.commit`` accepts."""


def decode_append(event: Mapping[str, Any]) -> bytes:
    """The audio bytes of an ``input_audio_buffer.append``, checked as the service does."""
    audio = event.get("audio")
    if not isinstance(audio, str):
        raise ProtocolError("invalid_value", "'audio' must be a base64 string.", param="audio")
    if len(audio) > MAX_APPEND_BYTES * 4 // 3 + 4:
        raise ProtocolError(
            "invalid_value", "An append may carry at most 15 MiB of audio.", param="audio"
        )
    try:
        return base64.b64decode(audio, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProtocolError("invalid_value", "'audio' is not valid base64.", param="audio") from exc


def _input_format(session: Mapping[str, Any]) -> str:
    return str(session.get("input_audio_format", "pcm16"))


def input_rate(session: Mapping[str, Any]) -> int:
    """Samples per second of the session's input audio."""
    return _codec.input_rate(_input_format(session), session.get("input_audio_sampling_rate"))


def _vad_settings(turn_detection: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "threshold": float(turn_detection.get("threshold", 0.5)),
        "prefix_padding_ms": int(turn_detection.get("prefix_padding_ms", 300)),
        "silence_duration_ms": int(turn_detection.get("silence_duration_ms", 500)),
        "min_speech_ms": int(turn_detection.get("speech_duration_ms") or 80),
    }


class InputAudio:
    """Buffered input audio, the session timeline, and the server VAD over it."""

    def __init__(self) -> None:
        self.received = False
        """Some audio arrived: from now on the input format and rate are fixed."""
        self._odd_byte = b""
        self._buffer_samples = 0
        self._total_samples = 0
        self._vad: EnergyVad | None = None
        self._vad_offset_ms = 0
        self.speech_item_id: str | None = None
        """The item id announced by ``speech_started``, until its turn is committed."""
        self.speech_started_ms = 0

    def configure(self, session: Mapping[str, Any]) -> None:
        """Follow the session's ``turn_detection`` (``None`` switches the VAD off)."""
        td = session.get("turn_detection")
        if td is None:
            self._vad = None
            return
        settings = _vad_settings(td)
        if self._vad is None or not self.received:
            # Built anew until audio flows: the input rate may still change.
            self._vad = EnergyVad(input_rate(session), **settings)
            self._vad_offset_ms = self._clock_ms(session)
        else:
            self._vad.reconfigure(**settings)

    def append(self, raw: bytes, session: Mapping[str, Any]) -> list[VadEvent]:
        """Buffer ``raw`` and return the turn boundaries it completes, on the session timeline."""
        if not raw:
            return []
        self.received = True
        fmt = _input_format(session)
        if fmt == "pcm16":
            raw = self._odd_byte + raw
            self._odd_byte = raw[-1:] if len(raw) % 2 else b""
        samples = _codec.decode(raw, fmt)
        if self._vad is None and session.get("turn_detection") is not None:
            self.configure(session)
        self._total_samples += len(samples)
        self._buffer_samples += len(samples)
        if self._vad is None:
            return []
        offset = self._vad_offset_ms
        return [
            VadEvent(event.kind, event.audio_ms + offset, event.onset_ms + offset)
            for event in self._vad.feed(samples)
        ]

    def buffered_ms(self, session: Mapping[str, Any]) -> float:
        """Milliseconds of audio waiting in the buffer (not yet committed or cleared)."""
        return self._buffer_samples * 1000 / input_rate(session)

    def take_commit(self, session: Mapping[str, Any]) -> float:
        """Milliseconds committed by ``input_audio_buffer.commit``; too little is an error."""
        duration_ms = self.buffered_ms(session)
        if duration_ms < MIN_COMMIT_MS:
            raise ProtocolError(
                "input_audio_buffer_commit_empty",
                f"Error committing input audio buffer: buffer too small. Expected at least "
                f"{MIN_COMMIT_MS}ms of audio, but buffer only has {duration_ms:.2f}ms of audio.",
            )
        self.reset_vad()
        return duration_ms

    def start_speech(self, item_id: str, audio_start_ms: int) -> None:
        self.speech_item_id = item_id
        self.speech_started_ms = audio_start_ms

    def take_speech_item(self) -> str | None:
        """The announced item id, if any, now claimed by the turn being committed."""
        item_id, self.speech_item_id = self.speech_item_id, None
        return item_id

    def committed(self) -> None:
        """The buffer became a user item: start a fresh one."""
        self._buffer_samples = 0

    def reset_vad(self) -> None:
        if self._vad is not None:
            self._vad.reset()

    def clear(self) -> None:
        """``input_audio_buffer.clear``: drop the buffer and any turn in progress."""
        self._buffer_samples = 0
        self._odd_byte = b""
        self.speech_item_id = None
        self.reset_vad()

    def _clock_ms(self, session: Mapping[str, Any]) -> int:
        """Milliseconds of input audio received in this session."""
        return int(self._total_samples * 1000 / input_rate(session))
