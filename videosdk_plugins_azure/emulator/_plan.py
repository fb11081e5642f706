"""What a response will do, and how far it has got: plain data, no I/O.

The server state decides a :class:`ResponsePlan` the moment a response starts
(what to say, which calls to make), so the timed generator that streams it never
consults the script. :class:`ActiveResponse` is the progress both sides read: the
generator fills it in as events go out, and the state reads it to answer a cancel,
to truncate at the playback position, or to see what the turn now waits for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ._mcp import McpStep
from ._scenario import FunctionCall, McpCall

__all__ = ["ActiveResponse", "CancelReason", "ResponsePlan"]

CancelReason = Literal["turn_detected", "client_cancelled"]


@dataclass
class ResponsePlan:
    """What a response will say or call, decided before it starts."""

    text: str = ""
    calls: Sequence[FunctionCall] = ()
    mcp: Sequence[McpStep] = ()
    """MCP items, before the message (or the function calls)."""
    speak: bool = True
    """False when the response ends after its MCP approval requests."""
    modalities: Sequence[str] = ("text", "audio")
    output_audio_format: str = "pcm16"
    voice: Any = None
    temperature: float | None = None
    max_output_tokens: int | None = None
    in_conversation: bool = True
    metadata: dict[str, str] | None = None
    input_tokens: int = 0


@dataclass
class ActiveResponse:
    """A response being generated, and what of it has gone out so far."""

    id: str
    plan: ResponsePlan
    latency: float = 0.0
    """Wall-clock seconds the model thinks before the first output item, drawn when
    the response starts (see :mod:`._latency`)."""
    cancel_reason: CancelReason | None = None
    item_id: str | None = None
    audio_item_id: str | None = None
    generated_ms: float = 0.0
    first_delta_at: float | None = None
    """Clock reading when the first audio delta went out: where live playback began."""
    output: list[dict[str, Any]] = field(default_factory=list)
    approval_requests: dict[str, McpCall] = field(default_factory=dict)
    """``mcp_approval_request`` item id → the call it asks about, as they go out."""
    status: str = "in_progress"
    done: bool = False
    """Set once ``response.done`` was attempted; a cancel after that is a no-op."""

    def cancel(self, reason: CancelReason) -> bool:
        """Ask the response to stop; False when it already stopped or was asked to."""
        if self.cancel_reason is not None or self.done:
            return False
        self.cancel_reason = reason
        return True

    @property
    def is_cancelled(self) -> bool:
        return self.cancel_reason is not None
