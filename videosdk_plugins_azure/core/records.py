"""The records the call keeps about its responses: plain data, no decisions.

Split from :mod:`.responses` (which decides) so that what a response *is* — its
ids, audio, transcript, calls and what the caller heard of it — reads on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["AudioDecision", "CreateRequest", "Cut", "Response", "ToolBatch"]

AudioDecision = Literal["drop", "first", "play"]


@dataclass
class CreateRequest:
    """A ``response.create`` the plugin wants to send, tagged for correlation."""

    request_id: str
    params: dict[str, Any]


@dataclass
class Response:
    """One server response and what became of it on this side."""

    id: str
    request_id: str | None = None
    item_id: str | None = None
    audio_bytes: int = 0
    transcript: str = ""
    final_text: str | None = None
    done: bool = False
    status: str | None = None
    dropped: bool = False
    """Interrupted: its remaining audio is discarded."""
    heard_ms: float | None = None
    """What the caller heard, once known (interruption); None while unknown."""
    start_sample: int | None = None
    """Where this response's audio begins on the speaker's timeline (samples played)."""
    synthesis_marked: bool = False
    transcript_emitted: bool = False
    has_audio: bool = False
    text_started: bool = False
    """A text-only answer's first words went out (its "speech" started)."""
    calls: dict[str, str | None] = field(default_factory=dict)
    """Function calls made by this response: ``call_id`` → output once the tool ran."""
    calls_answered: bool = False
    user_turn: int = 0
    """How many times the caller had started speaking when this response began."""

    @property
    def awaiting_tools(self) -> bool:
        return bool(self.calls) and not self.calls_answered

    def audio_ms(self, bytes_per_ms: float) -> float:
        return self.audio_bytes / bytes_per_ms

    @property
    def samples(self) -> int:
        return self.audio_bytes // 2


@dataclass(frozen=True)
class ToolBatch:
    """All outputs of one response's function calls, ready to send together."""

    response: Response
    outputs: list[tuple[str, str]]
    """``(call_id, output)`` in the order the model made the calls."""
    follow_up: bool
    """Ask for an answer after them; not when the caller has spoken since the calls,
    because their new turn gets its own answer and sees these outputs too."""


@dataclass(frozen=True)
class Cut:
    """What to do to an interrupted assistant item on the server."""

    action: Literal["truncate", "delete", "none"]
    item_id: str | None
    audio_end_ms: int = 0
