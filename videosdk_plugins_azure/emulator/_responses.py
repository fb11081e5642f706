"""One assistant response, streamed event by event as the service does.

A response is a spoken/text message, a set of function calls, or MCP calls the
service runs itself followed by the message (or, when a call needs the client's
approval, the approval requests alone). Its events
follow the sequences in ``voicelive-protocol.md`` §8 exactly, including the
finishing events the service still sends when a response is cancelled
(``audio.done``, ``audio_transcript.done``, ``content_part.done``,
``output_item.done`` with status ``incomplete``, then ``response.done``).

Cancellation is cooperative: a cancel sets a flag and wakes the pacing sleep, and
the generator sends the finishing events itself. Nothing is interrupted halfway
through a frame, and the canceller can wait for ``response.done`` to be on the
wire before it handles the next client event.
"""

from __future__ import annotations

import asyncio
import base64
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from . import _codec, _speech
from ._conversation import Conversation
from ._mcp import McpStep
from ._scenario import FunctionCall, McpCall

CancelReason = Literal["turn_detected", "client_cancelled"]

MCP_CALL_SECONDS = 0.25
"""How long the fake MCP server takes per call, at ``speed`` 1 (none when unpaced).

Long enough that a paced test can cancel while a call runs, as it could on the
service, where the tool's own latency sits between ``in_progress`` and ``completed``.
"""


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
    cancel_reason: CancelReason | None = None
    item_id: str | None = None
    audio_item_id: str | None = None
    generated_ms: float = 0.0
    first_delta_at: float | None = None
    output: list[dict[str, Any]] = field(default_factory=list)
    approval_requests: dict[str, McpCall] = field(default_factory=dict)
    """``mcp_approval_request`` item id → the call it asks about, as they go out."""
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    status: str = "in_progress"

    def cancel(self, reason: CancelReason) -> None:
        if self.cancel_reason is None and not self.finished.is_set():
            self.cancel_reason = reason
            self.cancelled.set()

    @property
    def is_cancelled(self) -> bool:
        return self.cancel_reason is not None


class ResponseHost(Protocol):
    """What the generator needs from its connection."""

    conversation: Conversation

    async def send(self, event: dict[str, Any]) -> None: ...

    def new_id(self, prefix: str) -> str: ...

    @property
    def speed(self) -> float: ...

    @property
    def chunk_ms(self) -> int: ...

    @property
    def tts_engine(self) -> str: ...

    @property
    def model_latency(self) -> float: ...

    @property
    def emit_word_timestamps(self) -> bool: ...

    @property
    def emit_visemes(self) -> bool: ...


class _Cancelled(Exception):
    """Internal: the response was cancelled; unwind to the finishing events."""


def _usage(input_tokens: int, text: str, audio_ms: float) -> dict[str, Any]:
    """Token usage in the service's shape; the counts are a documented estimate."""
    text_tokens = max(1, math.ceil(len(text) / 4)) if text else 0
    audio_tokens = math.ceil(audio_ms / 50)
    output = text_tokens + audio_tokens
    return {
        "total_tokens": input_tokens + output,
        "input_tokens": input_tokens,
        "output_tokens": output,
        "input_token_details": {
            "cached_tokens": 0,
            "text_tokens": input_tokens,
            "audio_tokens": 0,
            "image_tokens": 0,
            "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0, "image_tokens": 0},
        },
        "output_token_details": {"text_tokens": text_tokens, "audio_tokens": audio_tokens},
    }


def _limit_words(text: str, max_tokens: int | None) -> tuple[str, bool]:
    """Cut a reply at ``max_tokens`` words (one word ≈ one token here)."""
    if max_tokens is None:
        return text, False
    words = text.split()
    if len(words) <= max_tokens:
        return text, False
    return " ".join(words[:max_tokens]), True


class ResponseGenerator:
    """Streams one :class:`ActiveResponse` through its host connection."""

    def __init__(self, host: ResponseHost, response: ActiveResponse) -> None:
        self._host = host
        self._r = response
        self._send: Callable[[dict[str, Any]], Awaitable[None]] = host.send
        self._status_details: dict[str, Any] | None = None
        self._spoken = ""
        self._audio_ms_total = 0.0

    # -- helpers ----------------------------------------------------------------------

    def _check(self) -> None:
        if self._r.is_cancelled:
            raise _Cancelled

    async def _wait(self, delay: float) -> None:
        """Sleep for ``delay`` seconds unless cancelled first; always yields."""
        if delay <= 0:
            await asyncio.sleep(0)
        else:
            try:
                async with asyncio.timeout(delay):
                    await self._r.cancelled.wait()
            except TimeoutError:
                pass
        self._check()

    def _response_object(self, status: str) -> dict[str, Any]:
        plan = self._r.plan
        done = status != "in_progress"
        return {
            "id": self._r.id,
            "object": "realtime.response",
            "status": status,
            "status_details": self._status_details if done else None,
            "output": list(self._r.output) if done else [],
            "usage": _usage(plan.input_tokens, self._spoken, self._audio_ms_total)
            if done
            else None,
            "modalities": list(plan.modalities),
            "output_audio_format": plan.output_audio_format,
            "voice": plan.voice,
            "temperature": plan.temperature,
            "max_output_tokens": plan.max_output_tokens,
            "metadata": plan.metadata,
        }

    async def _add_item(self, item: dict[str, Any], output_index: int) -> dict[str, Any]:
        """``output_item.added`` then ``conversation.item.created`` for a new output item."""
        conv = self._host.conversation
        previous = conv.last_id
        if self._r.plan.in_conversation:
            item, previous = conv.add(item)
        else:
            item = {**item, "id": self._host.new_id("item")}
        await self._send(
            {
                "type": "response.output_item.added",
                "response_id": self._r.id,
                "output_index": output_index,
                "item": dict(item),
            }
        )
        if self._r.plan.in_conversation:
            await self._send(
                {
                    "type": "conversation.item.created",
                    "previous_item_id": previous,
                    "item": dict(item),
                }
            )
        return item

    # -- the response ------------------------------------------------------------------

    async def run(self) -> None:
        r = self._r
        await self._send(
            {"type": "response.created", "response": self._response_object("in_progress")}
        )
        await self._send(
            {
                "type": "rate_limits.updated",
                "rate_limits": [
                    {"name": "requests", "limit": 1000, "remaining": 999, "reset_seconds": 60.0},
                    {"name": "tokens", "limit": 100000, "remaining": 99000, "reset_seconds": 60.0},
                ],
            }
        )
        try:
            await self._wait(self._host.model_latency)
            for step in r.plan.mcp:
                await self._MCP_STEPS[step.kind](self, step)
            if r.plan.calls:
                await self._run_calls()
            elif r.plan.speak:
                await self._run_message()
            status = "completed"
            if self._status_details is not None:
                status = "incomplete"
        except _Cancelled:
            status = "cancelled"
            self._status_details = {"type": "cancelled", "reason": r.cancel_reason}
        r.status = status
        await self._send({"type": "response.done", "response": self._response_object(status)})

    async def _run_calls(self) -> None:
        for call in self._r.plan.calls:
            self._check()
            index = len(self._r.output)
            call_id = call.call_id or self._host.new_id("call")
            arguments = call.arguments_json()
            item = await self._add_item(
                {
                    "type": "function_call",
                    "object": "realtime.item",
                    "status": "in_progress",
                    "name": call.name,
                    "call_id": call_id,
                    "arguments": "",
                },
                index,
            )
            ids = {
                "response_id": self._r.id,
                "item_id": item["id"],
                "output_index": index,
                "call_id": call_id,
            }
            await self._stream_arguments("response.function_call_arguments", ids, item, arguments)
            await self._send(
                {
                    "type": "response.function_call_arguments.done",
                    **ids,
                    "name": call.name,
                    "arguments": arguments,
                }
            )
            await self._complete_item({**item, "status": "completed", "arguments": arguments})

    async def _stream_arguments(
        self, prefix: str, ids: dict[str, Any], item: dict[str, Any], arguments: str
    ) -> None:
        """``<prefix>.delta`` events carrying ``arguments`` in two pieces.

        A cancel on the way finishes the item as ``incomplete`` (no ``.done``
        event), as the service does, then unwinds the response.
        """
        try:
            half = len(arguments) // 2
            for piece in (arguments[:half], arguments[half:]):
                if piece:
                    await self._wait(0)
                    await self._send({"type": f"{prefix}.delta", **ids, "delta": piece})
            self._check()
        except _Cancelled:
            await self._complete_item({**item, "status": "incomplete"})
            raise

    async def _complete_item(self, done: dict[str, Any]) -> None:
        """Store the final version of an item and announce it with ``output_item.done``.

        Also for items cut short by a cancel, so the stored copy never stays
        ``in_progress`` after its response is over.
        """
        if self._r.plan.in_conversation:
            self._host.conversation.replace(done)
        await self._finish_item(done, len(self._r.output))

    # -- MCP ---------------------------------------------------------------------------

    async def _ask_approval(self, step: McpStep) -> None:
        """An ``mcp_approval_request`` item; the client answers it in a later turn."""
        self._check()
        call = step.call
        item = await self._add_item(
            {
                "type": "mcp_approval_request",
                "object": "realtime.item",
                "server_label": call.server_label,
                "name": call.name,
                "arguments": call.arguments_json(),
            },
            len(self._r.output),
        )
        self._r.approval_requests[item["id"]] = call
        await self._complete_item(dict(item))

    async def _run_mcp_call(self, step: McpStep) -> None:
        """An ``mcp_call`` item the service runs itself, from arguments to result."""
        self._check()
        call = step.call
        index = len(self._r.output)
        arguments = call.arguments_json()
        item = await self._add_item(
            {
                "type": "mcp_call",
                "object": "realtime.item",
                "status": "in_progress",
                "server_label": call.server_label,
                "name": call.name,
                "arguments": "",
                "output": None,
                "error": None,
                "approval_request_id": step.approval_request_id,
            },
            index,
        )
        ids = {"response_id": self._r.id, "item_id": item["id"], "output_index": index}
        await self._stream_arguments("response.mcp_call_arguments", ids, item, arguments)
        await self._send(
            {"type": "response.mcp_call_arguments.done", **ids, "arguments": arguments}
        )
        progress = {"item_id": item["id"], "output_index": index}
        await self._send({"type": "response.mcp_call.in_progress", **progress})
        try:
            speed = self._host.speed
            await self._wait(MCP_CALL_SECONDS / speed if math.isfinite(speed) else 0)
        except _Cancelled:
            await self._complete_item({**item, "status": "incomplete", "arguments": arguments})
            raise
        failed = step.error is not None
        outcome = "response.mcp_call.failed" if failed else "response.mcp_call.completed"
        await self._send({"type": outcome, **progress})
        await self._complete_item(
            {
                **item,
                "status": "failed" if failed else "completed",
                "arguments": arguments,
                "output": step.output,
                "error": step.error,
            }
        )

    _MCP_STEPS: dict[str, Callable[[ResponseGenerator, McpStep], Awaitable[None]]] = {
        "run": _run_mcp_call,
        "ask": _ask_approval,
    }
    """MCP step kind → the method that streams it."""

    async def _finish_item(self, item: dict[str, Any], index: int) -> None:
        self._r.output.append(item)
        await self._send(
            {
                "type": "response.output_item.done",
                "response_id": self._r.id,
                "output_index": index,
                "item": item,
            }
        )

    async def _run_message(self) -> None:
        plan = self._r.plan
        text, cut = _limit_words(plan.text, plan.max_output_tokens)
        if cut:
            self._status_details = {"type": "incomplete", "reason": "max_output_tokens"}
        audio = "audio" in plan.modalities
        index = len(self._r.output)
        item = await self._add_item(
            {
                "type": "message",
                "object": "realtime.item",
                "role": "assistant",
                "status": "in_progress",
                "content": [],
            },
            index,
        )
        self._r.item_id = item["id"]
        ids = {
            "response_id": self._r.id,
            "item_id": item["id"],
            "output_index": index,
            "content_index": 0,
        }
        part: dict[str, Any] = (
            {"type": "audio", "transcript": ""} if audio else {"type": "text", "text": ""}
        )
        await self._send({"type": "response.content_part.added", **ids, "part": dict(part)})
        try:
            if audio:
                self._r.audio_item_id = item["id"]
                await self._stream_audio(text, ids)
            else:
                await self._stream_text(text, ids)
        except _Cancelled:
            await self._finish_message(item, part, ids, audio, status="incomplete")
            raise
        self._spoken = text
        await self._finish_message(item, part, ids, audio, status="completed")

    async def _finish_message(
        self,
        item: dict[str, Any],
        part: dict[str, Any],
        ids: dict[str, Any],
        audio: bool,
        *,
        status: str,
    ) -> None:
        said = self._spoken
        if audio:
            await self._send({"type": "response.audio.done", **ids})
            await self._send({"type": "response.audio_transcript.done", **ids, "transcript": said})
            if self._host.emit_word_timestamps:
                await self._send({"type": "response.audio_timestamp.done", **ids})
            if self._host.emit_visemes:
                await self._send({"type": "response.animation_viseme.done", **ids})
            final_part = {"type": "audio", "transcript": said}
        else:
            await self._send({"type": "response.text.done", **ids, "text": said})
            final_part = {"type": "text", "text": said}
        await self._send({"type": "response.content_part.done", **ids, "part": final_part})
        done = {**item, "status": status, "content": [final_part]}
        if self._r.plan.in_conversation:
            self._host.conversation.replace(done)
            if audio:
                self._host.conversation.set_audio_ms(item["id"], self._r.generated_ms)
        await self._finish_item(done, ids["output_index"])

    async def _stream_text(self, text: str, ids: dict[str, Any]) -> None:
        words = text.split(" ")
        for i, word in enumerate(words):
            await self._wait(0)
            delta = word if i == 0 else " " + word
            self._spoken += delta
            await self._send({"type": "response.text.delta", **ids, "delta": delta})

    async def _stream_audio(self, text: str, ids: dict[str, Any]) -> None:
        host, plan = self._host, self._r.plan
        encoding, rate = _codec.OUTPUT_FORMATS[plan.output_audio_format]
        samples = await _speech.synthesize(text, rate, engine=host.tts_engine)
        total_ms = len(samples) * 1000.0 / rate
        self._audio_ms_total = total_ms
        words = _speech.word_timings(text, total_ms)
        visemes = _speech.visemes(text, total_ms) if host.emit_visemes else []
        chunk = max(1, rate * host.chunk_ms // 1000)
        speed = host.speed
        loop = asyncio.get_running_loop()
        next_word = next_viseme = 0
        for k, start in enumerate(range(0, len(samples), chunk)):
            if k:
                due = (self._r.first_delta_at or loop.time()) + k * host.chunk_ms / 1000.0 / speed
                await self._wait(due - loop.time() if math.isfinite(speed) else 0)
            self._check()
            end = min(len(samples), start + chunk)
            end_ms = end * 1000.0 / rate
            while next_word < len(words) and words[next_word][1] < end_ms:
                word, offset, duration = words[next_word]
                delta = word if next_word == 0 else " " + word
                self._spoken += delta
                await self._send({"type": "response.audio_transcript.delta", **ids, "delta": delta})
                if host.emit_word_timestamps:
                    await self._send(
                        {
                            "type": "response.audio_timestamp.delta",
                            **ids,
                            "audio_offset_ms": int(offset),
                            "audio_duration_ms": int(duration),
                            "text": word,
                            "timestamp_type": "word",
                        }
                    )
                next_word += 1
            last_chunk = end == len(samples)
            while next_viseme < len(visemes) and (last_chunk or visemes[next_viseme][0] < end_ms):
                offset, viseme_id = visemes[next_viseme]
                await self._send(
                    {
                        "type": "response.animation_viseme.delta",
                        **ids,
                        "audio_offset_ms": int(offset),
                        "viseme_id": viseme_id,
                    }
                )
                next_viseme += 1
            payload = _codec.encode(samples[start:end], encoding)
            if self._r.first_delta_at is None:
                self._r.first_delta_at = loop.time()
            await self._send(
                {
                    "type": "response.audio.delta",
                    **ids,
                    "delta": base64.b64encode(payload).decode("ascii"),
                }
            )
            self._r.generated_ms = end_ms
            if plan.in_conversation:
                host.conversation.set_audio_ms(ids["item_id"], end_ms)
