"""A recorded session compiled into what replay waits for and what it sends.

**The gating rule.** Every recorded server event (and a server-side close) is a
:class:`Step`, sent in recorded order, once the live client has sent the client
events that preceded it in the recording (matched in order, see :mod:`._match`).
So a greeting goes out after its ``response.create``, a tool answer after the
``function_call_output`` and its ``response.create``.

Input audio is a stream: ``input_audio_buffer.append`` is never matched one to
one (neither the number of appends nor their bytes need be equal). The events it
causes, the server's ``input_audio_buffer.*`` (``speech_started``,
``speech_stopped``, ``committed`` …), also wait for *as much audio* (in
milliseconds) as the recorded client had streamed since the previous cause: its
last client event, or the audio-driven event before. ``speech_started`` also
waits for the live caller's *voice* (:mod:`._audio`), so it is never released
into line noise; if none is heard within :data:`VOICE_GRACE_MS` of audio past
the recorded amount it goes anyway, rather than stall the call. Everything after
an audio-driven event follows in order, so a server-VAD turn is answered once the
live caller has spoken as long as the recorded one. Other events do not wait for
audio: a response streams as recorded however fast the client's microphone runs.

**Pacing.** Each step keeps its recorded delay after its most recent cause in the
recording: the later of the record that opened its gate and the server event
before it. At ``speed`` 1 the replay waits as long after the live counterpart
(the model's latency, the service's audio pacing); ``speed=inf`` sends each step
as soon as its gate opens.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ...protocol.events import ClientEvent, ServerEvent
from ._audio import DEFAULT_FORMAT, AudioFormat
from ._format import APPEND, CassetteSession, EventRecord, b64_length
from ._match import Signature, signature

__all__ = ["VOICE_GRACE_MS", "Expected", "Script", "Step", "compile_session"]

_AUDIO_DRIVEN: Final = "input_audio_buffer."
"""Server events of this family are caused by the caller's audio (server VAD)."""
_SPEECH_STARTED: Final[str] = ServerEvent.INPUT_AUDIO_BUFFER_SPEECH_STARTED.value
_SESSION_UPDATE: Final[str] = ClientEvent.SESSION_UPDATE.value
VOICE_GRACE_MS: Final = 2000.0
"""Audio past the recorded amount after which ``speech_started`` goes without a live voice."""


@dataclass(frozen=True)
class Expected:
    """A recorded client event the replay waits to see."""

    index: int
    line: int
    event: Mapping[str, Any] | None
    signature: Signature


@dataclass(frozen=True)
class Step:
    """A recorded server event (or, with ``close_code``, the server's close) and its gate."""

    after_events: int
    """How many expected client events must have been matched."""
    gate_t: float
    """Recorded time of what opens the gate: that client event, or for an audio-driven
    step the last audio before it (0: the upgrade)."""
    t: float
    """Recorded time of this step."""
    line: int
    event: Mapping[str, Any] | None = None
    raw: str | None = None
    close_code: int | None = None
    audio_driven: bool = False
    """Caused by input audio: the live audio restarts counting once it is sent."""
    after_ms: float = 0.0
    """Milliseconds of input audio the client must have streamed since the previous cause."""
    needs_voice: bool = False
    """Wait for the live caller's voice as well (``speech_started``)."""


@dataclass(frozen=True)
class Script:
    session: int
    model: str | None
    agent: str | None
    expected: tuple[Expected, ...]
    steps: tuple[Step, ...]


def _audio_driven(event: Mapping[str, Any] | None) -> bool:
    kind = event.get("type") if event is not None else None
    return isinstance(kind, str) and kind.startswith(_AUDIO_DRIVEN)


class _Compiler:
    """Walks a session's records once, keeping what the gates are counted from."""

    def __init__(self) -> None:
        self.expected: list[Expected] = []
        self.steps: list[Step] = []
        self.format = DEFAULT_FORMAT
        self.audio_ms = 0.0
        self.event_t = 0.0
        """When the last client event was recorded."""
        self.audio_t = 0.0
        """When the last audio, or the last cause, was recorded."""

    def client(self, record: EventRecord) -> None:
        if record.type == APPEND:
            nbytes = record.audio_bytes
            if nbytes is None:
                audio = record.event.get("audio") if record.event is not None else None
                nbytes = b64_length(audio) if isinstance(audio, str) else 0
            self.audio_ms += self.format.ms(nbytes)
            self.audio_t = record.t
            return
        if record.type == _SESSION_UPDATE and record.event is not None:
            self.format = AudioFormat.of_session(record.event.get("session"))
        sig = signature(record.event)
        self.expected.append(Expected(len(self.expected), record.line, record.event, sig))
        self.audio_ms, self.event_t, self.audio_t = 0.0, record.t, record.t

    def server(self, record: EventRecord) -> None:
        count = len(self.expected)
        if not _audio_driven(record.event):
            step = Step(count, self.event_t, record.t, record.line, record.event, record.raw)
        else:
            step = Step(
                count,
                self.audio_t,
                record.t,
                record.line,
                record.event,
                record.raw,
                audio_driven=True,
                after_ms=self.audio_ms,
                needs_voice=record.type == _SPEECH_STARTED,
            )
            self.audio_ms, self.audio_t = 0.0, record.t
        self.steps.append(step)


def compile_session(session: CassetteSession) -> Script:
    compiler = _Compiler()
    for record in session.records:
        if record.direction == "server":
            compiler.server(record)
        else:
            compiler.client(record)
    close = session.close
    if close is not None and close.by == "server":
        code = close.code if close.code is not None else 1006
        compiler.steps.append(
            Step(len(compiler.expected), compiler.event_t, close.t, close.line, close_code=code)
        )
    return Script(
        session=session.index,
        model=session.query.get("model"),
        agent=session.query.get("agent-name"),
        expected=tuple(compiler.expected),
        steps=tuple(compiler.steps),
    )
