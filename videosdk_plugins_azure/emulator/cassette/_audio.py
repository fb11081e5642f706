"""Input audio as replay gates on it: an amount of time, and whether a voice was heard.

Replay never compares input audio sample by sample: a live caller says the same
thing with other bytes. It needs two things. *How much* audio the client has
streamed, in milliseconds of the session's input format (so an 8 kHz G.711
client and a 24 kHz pcm16 one are measured alike), which it compares with what
the recorded client had streamed. And *whether the live caller has spoken* since
the last cause, heard by the emulator's own :class:`~.._vad.EnergyVad` on the live
audio, so a recorded ``speech_started`` is not released into line noise (for
example while the agent's greeting still plays, which the recorded byte count
cannot know about).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from .. import _codec
from .._vad import EnergyVad

__all__ = ["DEFAULT_FORMAT", "AudioFormat", "LiveAudio"]

_VOICE_THRESHOLD: Final = 0.5
"""The emulator VAD's default: voiced above -40 dBFS, far above a line's noise floor."""


@dataclass(frozen=True)
class AudioFormat:
    """The wire format of a session's input audio."""

    encoding: str = _codec.PCM16
    rate: int = 24000

    @classmethod
    def of_session(cls, session: object) -> AudioFormat:
        """The input format a ``session.update``'s session sets (the defaults if unreadable)."""
        fields: Mapping[str, Any] = session if isinstance(session, Mapping) else {}
        fmt = fields.get("input_audio_format") or _codec.PCM16
        declared = fields.get("input_audio_sampling_rate")
        try:
            rate = _codec.input_rate(str(fmt), declared if isinstance(declared, int) else None)
            return cls(_codec.encoding_of(str(fmt)), rate)
        except ValueError:
            return DEFAULT_FORMAT

    def ms(self, nbytes: int) -> float:
        width = 2 if self.encoding == _codec.PCM16 else 1
        return nbytes * 1000.0 / (self.rate * width)


DEFAULT_FORMAT: Final = AudioFormat()


class LiveAudio:
    """The live client's audio since the last cause: its length, and whether it held a voice."""

    def __init__(self) -> None:
        self.format = DEFAULT_FORMAT
        self._vad = EnergyVad(self.format.rate, threshold=_VOICE_THRESHOLD)
        self._odd = b""
        self.ms = 0.0
        """Milliseconds of audio since :meth:`restart`."""
        self.heard = False
        """Whether the caller was speaking at, or began speaking after, :meth:`restart`."""

    def configure(self, session: object) -> None:
        fmt = AudioFormat.of_session(session)
        if fmt != self.format:
            self.format = fmt
            self._vad = EnergyVad(fmt.rate, threshold=_VOICE_THRESHOLD)
            self._odd = b""

    def feed(self, audio: object) -> None:
        """Take one append's base64 ``audio``; audio that is not base64 counts as silence."""
        if not isinstance(audio, str):
            return
        try:
            data = base64.b64decode(audio, validate=True)
        except (binascii.Error, ValueError):
            return
        self.ms += self.format.ms(len(data))
        if self.format.encoding == _codec.PCM16:
            data, self._odd = self._odd + data, b""
            if len(data) % 2:
                data, self._odd = data[:-1], data[-1:]
        events = self._vad.feed(_codec.decode(data, self.format.encoding))
        if any(event.kind == "start" for event in events):
            self.heard = True

    def restart(self) -> None:
        """A cause happened (a client event, an audio-driven server event): count anew."""
        self.ms = 0.0
        self.heard = self._vad.speaking
