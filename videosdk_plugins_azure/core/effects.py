"""What the call core asks its adapter to do: plain data, carried out in order.

The core never touches a socket, a task or the framework. Each of its methods
returns a list of these effects, and :class:`~videosdk_plugins_azure.voice_live.AzureVoiceLive`
performs them one by one, in the order given, because order is meaning here
(a tools update must reach the socket before the ``response.create`` it serves;
``agent_speech_started`` must be emitted before the audio it announces plays).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeAlias

__all__ = [
    "AskApproval",
    "Boundary",
    "BusEmit",
    "CloseSocket",
    "Effect",
    "Emit",
    "FinishPlayback",
    "FrameworkEvent",
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
)
