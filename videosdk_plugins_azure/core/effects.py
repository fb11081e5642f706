"""What the call core asks its adapter to do: plain data, carried out in order.

The core never touches a socket, a task or the framework. Each of its methods
returns a list of these effects, and :class:`~videosdk_plugins_azure.voice_live.AzureVoiceLive`
performs them one by one, in the order given, because order is meaning here
(a tools update must reach the socket before the ``response.create`` it serves;
``agent_speech_started`` must be emitted before the audio it announces plays).

The data the adapter hands the core is here too: the :class:`Speaker` port, and
the light form of the few server events that arrive many times a second
(:data:`HotEvent`), which the receive path builds without the SDK's models.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol, TypeAlias

from ..protocol.events import ServerEvent, wire_type
from .fields import ident, text

__all__ = [
    "HOT_EVENTS",
    "AskApproval",
    "AudioDelta",
    "Boundary",
    "BusEmit",
    "CloseSocket",
    "Effect",
    "Emit",
    "FinishPlayback",
    "FrameworkEvent",
    "HotEvent",
    "Metric",
    "ModelEvent",
    "Play",
    "Reconnect",
    "ResumeSpeaker",
    "Send",
    "SendAudio",
    "SendFrames",
    "Settled",
    "Speaker",
    "StartTool",
    "SyncAgent",
    "TextDelta",
    "VideoPiece",
]


FrameworkEvent = Literal[
    "user_speech_started",
    "user_speech_ended",
    "agent_speech_started",
    "agent_speech_ended",
    "realtime_model_transcription",
    "realtime_model_function_executed",
    "llm_text_output",
]
"""The realtime-model events the framework's pipeline listens to."""

ModelEvent = Literal[
    FrameworkEvent,
    "error",
    "first_audio_latency",
    "word_timestamp",
    "viseme",
    "mcp_list_tools",
    "mcp_call",
    "mcp_approval",
    "session_reconnected",
]
"""Every event the model emits: the framework's, plus this plugin's own."""


class Speaker(Protocol):
    """The core's read-only view of the speaker, plus the one write it must measure.

    A barge-in must know where the speaker's timeline ends *after* the flush (the
    fade-out still plays), so flushing is a call that answers, not an effect.
    """

    def present(self) -> bool:
        """Whether audio goes to a speaker at all (text-only calls have none)."""
        ...

    def position(self) -> int:
        """Samples played since the call began plus samples still queued."""
        ...

    def flush(self) -> int:
        """Drop queued audio (with a short fade); returns the position where the fade ends."""
        ...


@dataclass(frozen=True)
class Send:
    """Queue a client event on the outbox; ``urgent`` goes before queued audio."""

    event: dict[str, Any]
    urgent: bool = False


@dataclass(frozen=True)
class SendAudio:
    """Queue a block of caller audio (pcm16 at the declared input rate)."""

    pcm: bytes


@dataclass(frozen=True)
class Emit:
    """Emit a framework event on the model."""

    name: ModelEvent
    payload: Any


@dataclass(frozen=True)
class BusEmit:
    """Emit on the framework's global event bus (which its console and hooks read)."""

    name: str
    payload: Any


@dataclass(frozen=True)
class Metric:
    """Call ``metrics_collector.<method>(**kwargs)``."""

    method: str
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Play:
    """Write agent audio to the speaker."""

    pcm: bytes


@dataclass(frozen=True)
class FinishPlayback:
    """Tell the speaker that no more audio of the current answer comes."""


@dataclass(frozen=True)
class ResumeSpeaker:
    """Re-arm the speaker after an interrupt, for the next answer."""


@dataclass(frozen=True)
class StartTool:
    """Run one function call (its output comes back through ``CallCore.tool_finished``)."""

    call_id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class AskApproval:
    """Ask the app whether a server-side MCP call may run."""

    request: Any


@dataclass(frozen=True)
class SendFrames:
    """Encode video frames as images and hand them back (``CallCore.frames_encoded``)."""

    frames: tuple[Any, ...]
    text: str | None
    respond: bool
    """Ask for an answer after them (``reply(frames=...)``), not for meeting video."""


@dataclass(frozen=True)
class SyncAgent:
    """Check whether the agent's instructions or tools changed: the framework tells nobody."""


@dataclass(frozen=True)
class Settled:
    """The configuring ``session.update`` was answered, or the socket died during setup."""


@dataclass(frozen=True)
class Boundary:
    """A turn boundary: a waiting rotation may check whether the call is idle now."""


@dataclass(frozen=True)
class Reconnect:
    """Replace the connection, carrying the conversation over."""

    cause: str
    error: bool
    """Whether the pipeline is told (a drop) or not (a planned rotation)."""


@dataclass(frozen=True)
class CloseSocket:
    """Close the current socket without recovering (after a fatal error)."""


@dataclass(frozen=True, slots=True)
class VideoPiece:
    """A piece of the avatar's MP4 stream for the decoder (see :mod:`.avatar`)."""

    data: bytes
    response_id: str | None
    """The answer being generated when the piece arrived (``None``: no answer)."""
    stream: int
    """Which connection's stream (each connection's video starts a new MP4)."""


Effect: TypeAlias = (
    Send
    | SendAudio
    | Emit
    | BusEmit
    | Metric
    | Play
    | FinishPlayback
    | ResumeSpeaker
    | StartTool
    | SendFrames
    | AskApproval
    | SyncAgent
    | Settled
    | Boundary
    | Reconnect
    | CloseSocket
    | VideoPiece
)


# -- server events in their light form -----------------------------------------------


@dataclass(frozen=True, slots=True)
class AudioDelta:
    """A ``response.audio.delta``: the fields the core reads, the audio decoded.

    Building the SDK's model for each delta and decoding it through its property
    costs several times the JSON parse and base64 decode themselves, at tens of
    deltas a second per call; the core needs only these three fields.
    """

    type: ClassVar[str] = wire_type(ServerEvent.RESPONSE_AUDIO_DELTA)
    response_id: str | None
    item_id: str | None
    pcm: bytes
    """Empty when the frame's ``delta`` was not base64: the delta is then ignored."""

    @classmethod
    def read(cls, event: Mapping[str, Any]) -> AudioDelta:
        """From a parsed frame or a typed SDK event alike: both map names to JSON values."""
        delta = event.get("delta")
        try:
            pcm = binascii.a2b_base64(delta) if isinstance(delta, str) else b""
        except ValueError:  # not base64, or not ASCII (binascii.Error is a ValueError)
            pcm = b""
        return cls(ident(event, "response_id"), ident(event, "item_id"), pcm)


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A ``response.audio_transcript.delta`` or ``response.text.delta``: the agent's words."""

    type: str
    response_id: str | None
    delta: str

    @classmethod
    def read(cls, event: Mapping[str, Any]) -> TextDelta:
        return cls(text(event, "type"), ident(event, "response_id"), text(event, "delta"))


HotEvent: TypeAlias = AudioDelta | TextDelta
"""A server event in the form the core handles it, built without the SDK's models."""

HOT_EVENTS: Mapping[str, Callable[[Mapping[str, Any]], HotEvent]] = {
    AudioDelta.type: AudioDelta.read,
    wire_type(ServerEvent.RESPONSE_AUDIO_TRANSCRIPT_DELTA): TextDelta.read,
    wire_type(ServerEvent.RESPONSE_TEXT_DELTA): TextDelta.read,
}
"""Event type → its light form: the events that come many times a second per call."""
