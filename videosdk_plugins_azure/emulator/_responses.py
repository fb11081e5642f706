"""One assistant response, streamed event by event as the service does.

This is the timed half of a response: the server state decided the
:class:`~._plan.ResponsePlan`; the generator here paces it onto the wire. A
response is a spoken/text message, a set of function calls, or MCP calls the
service runs itself followed by the message (or, when a call needs the client's
approval, the approval requests alone). Its events follow the sequences in
``voicelive-protocol.md`` §8 exactly, including the finishing events the service
still sends when a response is cancelled (``audio.done``,
``audio_transcript.done``, ``content_part.done``, ``output_item.done`` with
status ``incomplete``, then ``response.done``).

A response always ends. Any exception while it streams (other than the socket
going away) ends it with an ``error`` event (``server_error``) and a
``response.done`` with status ``failed``, as the service reports its own failures,
and the connection goes on serving: the next ``response.create`` works.

Cancellation is cooperative: a cancel marks the response and sets
:attr:`~._response_stream.ResponseRun.wake`, which ends the pacing sleep; the
generator then sends the finishing events itself. Nothing is interrupted halfway
through a frame, and the canceller can wait on
:attr:`~._response_stream.ResponseRun.finished` for ``response.done`` to be on the
wire before it handles the next client event.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from ..protocol.events import ServerEvent, event
from . import _codec, _response_events, _speech
from ._avatar_stream import ResponseVideo, response_video
from ._errors import ProtocolError
from ._mcp import McpStep
from ._response_stream import (
    Cancelled,
    Ids,
    ResponseHost,
    ResponseRun,
    ResponseStream,
    SocketGone,
)
from ._wire import error_event

__all__ = ["MCP_CALL_SECONDS", "ResponseGenerator", "ResponseHost", "ResponseRun"]

log = logging.getLogger("videosdk_plugins_azure.emulator")

_FAILED = ProtocolError(
    "server_error",
    "The server had an error while processing your request.",
    error_type="server_error",
)

MCP_CALL_SECONDS = 0.25
"""How long the fake MCP server takes per call, at ``speed`` 1 (none when unpaced).

Long enough that a paced test can cancel while a call runs, as it could on the
service, where the tool's own latency sits between ``in_progress`` and ``completed``.
"""


class ResponseGenerator(ResponseStream):
    """Streams one response: the service's event sequences for messages, calls and MCP."""

    # -- the response ------------------------------------------------------------------

    async def run(self) -> None:
        """Stream the whole response; whatever fails on the way, ``response.done`` ends it."""
        try:
            await self._stream()
        except SocketGone:
            raise
        except Exception:
            log.exception("emulator response %s failed", self._r.id)
            await self._fail()

    async def _stream(self) -> None:
        r = self._r
        await self._send(
            event(ServerEvent.RESPONSE_CREATED, response=self._response_object("in_progress"))
        )
        self._run.started.set()
        await self._send(_response_events.rate_limits_event())
        try:
            await self._wait(r.latency)
            for step in r.plan.mcp:
                await self._MCP_STEPS[step.kind](self, step)
            if r.plan.calls:
                await self._run_calls()
            elif r.plan.speak:
                await self._run_message()
            status = "completed" if self._status_details is None else "incomplete"
        except Cancelled:
            status = "cancelled"
            self._status_details = {"type": "cancelled", "reason": r.cancel_reason}
        r.status = status
        await self._send(event(ServerEvent.RESPONSE_DONE, response=self._response_object(status)))

    async def _fail(self) -> None:
        """End a response that raised: ``error``, then ``response.done`` (``failed``).

        The item it was streaming is stored as ``incomplete``, so the conversation
        never keeps an item ``in_progress`` after its response is over.
        """
        r = self._r
        r.status = "failed"
        self._status_details = {"type": "failed", "error": _FAILED.to_error()}
        item, self._open_item = self._open_item, None
        if item is not None:
            done = {**item, "status": "incomplete"}
            r.output.append(done)
            if r.plan.in_conversation:
                with contextlib.suppress(ProtocolError):  # the client may have deleted it
                    self._host.conversation.replace(done)
        await self._send(error_event(_FAILED))
        try:
            response = self._response_object("failed")
        except Exception:  # the failure may be in building the response object itself
            response = {"id": r.id, "object": "realtime.response", "status": "failed"}
            response["status_details"] = self._status_details
        await self._send(event(ServerEvent.RESPONSE_DONE, response=response))

    async def _run_calls(self) -> None:
        for call in self._r.plan.calls:
            self._check()
            index = len(self._r.output)
            call_id = call.call_id or self._host.new_id("call")
            arguments = call.arguments_json()
            item = await self._add_item(
                _response_events.function_call_item(call.name, call_id), index
            )
            ids = {
                "response_id": self._r.id,
                "item_id": item["id"],
                "output_index": index,
                "call_id": call_id,
            }
            await self._stream_arguments(
                ServerEvent.RESPONSE_FUNCTION_CALL_ARGUMENTS_DELTA, ids, item, arguments
            )
            await self._send(
                event(
                    ServerEvent.RESPONSE_FUNCTION_CALL_ARGUMENTS_DONE,
                    **ids,
                    name=call.name,
                    arguments=arguments,
                )
            )
            await self._complete_item({**item, "status": "completed", "arguments": arguments})

    # -- MCP ---------------------------------------------------------------------------

    async def _ask_approval(self, step: McpStep) -> None:
        """An ``mcp_approval_request`` item; the client answers it in a later turn."""
        self._check()
        request = _response_events.approval_request_item(step.call)
        item = await self._add_item(request, len(self._r.output))
        self._r.approval_requests[item["id"]] = step.call
        await self._complete_item(dict(item))

    async def _run_mcp_call(self, step: McpStep) -> None:
        """An ``mcp_call`` item the service runs itself, from arguments to result."""
        self._check()
        index = len(self._r.output)
        arguments = step.call.arguments_json()
        item = await self._add_item(_response_events.mcp_call_item(step), index)
        ids = {"response_id": self._r.id, "item_id": item["id"], "output_index": index}
        await self._stream_arguments(
            ServerEvent.RESPONSE_MCP_CALL_ARGUMENTS_DELTA, ids, item, arguments
        )
        await self._send(
            event(ServerEvent.RESPONSE_MCP_CALL_ARGUMENTS_DONE, **ids, arguments=arguments)
        )
        progress = {"item_id": item["id"], "output_index": index}
        await self._send(event(ServerEvent.RESPONSE_MCP_CALL_IN_PROGRESS, **progress))
        try:
            await self._wait(self._host.settings.wall_seconds(MCP_CALL_SECONDS))
        except Cancelled:
            await self._complete_item({**item, "status": "incomplete", "arguments": arguments})
            raise
        failed = step.error is not None
        outcome = (
            ServerEvent.RESPONSE_MCP_CALL_FAILED
            if failed
            else ServerEvent.RESPONSE_MCP_CALL_COMPLETED
        )
        await self._send(event(outcome, **progress))
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

    # -- the message -------------------------------------------------------------------

    async def _run_message(self) -> None:
        plan = self._r.plan
        text, cut = _response_events.limit_words(plan.text, plan.max_output_tokens)
        text, capped = _response_events.limit_chars(
            text, self._host.settings.limits.max_reply_chars
        )
        if cut or capped:
            self._status_details = {"type": "incomplete", "reason": "max_output_tokens"}
        audio = "audio" in plan.modalities
        index = len(self._r.output)
        item = await self._add_item(_response_events.assistant_message_item(), index)
        self._r.item_id = item["id"]
        ids = {
            "response_id": self._r.id,
            "item_id": item["id"],
            "output_index": index,
            "content_index": 0,
        }
        part = _response_events.content_part(audio, "")
        await self._send(event(ServerEvent.RESPONSE_CONTENT_PART_ADDED, **ids, part=dict(part)))
        try:
            if audio:
                self._r.audio_item_id = item["id"]
                await self._stream_audio(text, ids)
            else:
                await self._stream_text(text, ids)
        except Cancelled:
            await self._finish_message(item, ids, audio, status="incomplete")
            raise
        self._spoken = text
        await self._finish_message(item, ids, audio, status="completed")

    async def _finish_message(
        self, item: dict[str, Any], ids: Ids, audio: bool, *, status: str
    ) -> None:
        said = self._spoken
        session = self._host.session
        if audio:
            await self._send(event(ServerEvent.RESPONSE_AUDIO_DONE, **ids))
            await self._send(
                event(ServerEvent.RESPONSE_AUDIO_TRANSCRIPT_DONE, **ids, transcript=said)
            )
            if _response_events.word_timestamps_on(session):
                await self._send(event(ServerEvent.RESPONSE_AUDIO_TIMESTAMP_DONE, **ids))
            if _response_events.visemes_on(session):
                await self._send(event(ServerEvent.RESPONSE_ANIMATION_VISEME_DONE, **ids))
        else:
            await self._send(event(ServerEvent.RESPONSE_TEXT_DONE, **ids, text=said))
        final_part = _response_events.content_part(audio, said)
        await self._send(event(ServerEvent.RESPONSE_CONTENT_PART_DONE, **ids, part=final_part))
        done = {**item, "status": status, "content": [final_part]}
        if self._r.plan.in_conversation:
            self._host.conversation.replace(done)
            if audio:
                self._host.conversation.set_audio_ms(item["id"], self._r.generated_ms)
        await self._finish_item(done, ids["output_index"])

    async def _stream_text(self, text: str, ids: Ids) -> None:
        for i, word in enumerate(text.split(" ")):
            await self._wait(0)
            delta = word if i == 0 else " " + word
            self._spoken += delta
            await self._send(event(ServerEvent.RESPONSE_TEXT_DELTA, **ids, delta=delta))

    # -- audio -------------------------------------------------------------------------
    # A word's transcript (and timestamp) delta and a viseme go out just before the audio
    # chunk they start in, so a client that plays as it receives sees text and sound together.

    async def _stream_audio(self, text: str, ids: Ids) -> None:
        """The reply's speech, and with an avatar its video (finished even on a cancel)."""
        rate = _codec.OUTPUT_FORMATS[self._r.plan.output_audio_format][1]
        samples = await self._interruptible(self._host.synthesize(text, rate))
        self._audio_ms_total = len(samples) * 1000.0 / rate
        video = response_video(self._host, samples, rate, ids["output_index"])
        try:
            await self._stream_chunks(text, samples, ids, video)
        except Cancelled:
            if video is not None:
                await video.finish()
            raise
        if video is not None:
            await video.finish()

    async def _stream_chunks(
        self, text: str, samples: Any, ids: Ids, video: ResponseVideo | None
    ) -> None:
        """The audio in ``chunk_ms`` deltas, paced; each chunk's video goes out before it."""
        host, response = self._host, self._r
        settings, plan = host.settings, response.plan
        speed, chunk_ms = settings.speed, settings.chunk_ms
        encoding, rate = _codec.OUTPUT_FORMATS[plan.output_audio_format]
        words = _speech.word_timings(text, self._audio_ms_total)
        visemes = (
            _speech.visemes(text, self._audio_ms_total)
            if _response_events.visemes_on(host.session)
            else []
        )
        chunk = max(1, rate * chunk_ms // 1000)
        loop = asyncio.get_running_loop()
        next_word = next_viseme = 0
        for k, start in enumerate(range(0, len(samples), chunk)):
            if k:
                due = (response.first_delta_at or loop.time()) + k * chunk_ms / 1000.0 / speed
                await self._wait(due - loop.time() if settings.paced else 0)
            self._check()
            end = min(len(samples), start + chunk)
            end_ms = end * 1000.0 / rate
            if video is not None:
                await video.send_until(end_ms)
            next_word = await self._send_words(ids, words, next_word, end_ms)
            last_chunk = end == len(samples)
            next_viseme = await self._send_visemes(ids, visemes, next_viseme, end_ms, last_chunk)
            payload = base64.b64encode(_codec.encode(samples[start:end], encoding)).decode("ascii")
            if response.first_delta_at is None:
                response.first_delta_at = loop.time()
            await self._send(event(ServerEvent.RESPONSE_AUDIO_DELTA, **ids, delta=payload))
            response.generated_ms = end_ms
            if plan.in_conversation:
                host.conversation.set_audio_ms(ids["item_id"], end_ms)

    async def _send_words(
        self, ids: Ids, words: Sequence[tuple[str, float, float]], index: int, end_ms: float
    ) -> int:
        """Transcript deltas for the words starting before ``end_ms``; the next word's index."""
        while index < len(words) and words[index][1] < end_ms:
            word, offset, duration = words[index]
            delta = word if index == 0 else " " + word
            self._spoken += delta
            await self._send(event(ServerEvent.RESPONSE_AUDIO_TRANSCRIPT_DELTA, **ids, delta=delta))
            if _response_events.word_timestamps_on(self._host.session):
                await self._send(
                    event(
                        ServerEvent.RESPONSE_AUDIO_TIMESTAMP_DELTA,
                        **ids,
                        audio_offset_ms=int(offset),
                        audio_duration_ms=int(duration),
                        text=word,
                        timestamp_type="word",
                    )
                )
            index += 1
        return index

    async def _send_visemes(
        self,
        ids: Ids,
        visemes: Sequence[tuple[float, int]],
        index: int,
        end_ms: float,
        last_chunk: bool,
    ) -> int:
        """Viseme deltas starting before ``end_ms`` (all the rest on the last chunk)."""
        while index < len(visemes) and (last_chunk or visemes[index][0] < end_ms):
            offset, viseme_id = visemes[index]
            await self._send(
                event(
                    ServerEvent.RESPONSE_ANIMATION_VISEME_DELTA,
                    **ids,
                    audio_offset_ms=int(offset),
                    viseme_id=viseme_id,
                )
            )
            index += 1
        return index
