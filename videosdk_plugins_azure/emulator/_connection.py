"""One Voice Live WebSocket session, seen from the service's side.

Client events go through a dispatch table (``_HANDLERS``) to one small handler
each. A handler that rejects a request raises :class:`ProtocolError`; the loop
turns it into an ``error`` event carrying the client's ``event_id`` and keeps the
socket open, as the service does. Nothing a client sends can crash the loop.

Input audio runs through a real energy VAD on the session's audio timeline (sample
counts, never wall time), so ``audio_start_ms`` / ``audio_end_ms`` are exact and
reproducible. Responses are streamed by :mod:`._responses` in their own task.

Two things happen without a client request: MCP servers named in the session get
their tools listed, and a slow client-side tool can be covered by a static interim
("filler") response, a server-created response like any other.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from . import _codec
from ._conversation import Conversation
from ._errors import ProtocolError
from ._faults import FaultRule
from ._mcp import (
    McpProgress,
    McpStep,
    approved_steps,
    first_steps,
    listing_fails,
    mcp_servers,
    visible_tools,
)
from ._record import EmulatorConnection, _Control
from ._responses import ActiveResponse, CancelReason, ResponseGenerator, ResponsePlan
from ._scenario import ReplyContext, Turn
from ._session import apply_session_update, default_session, validate_response_params
from ._vad import EnergyVad

if TYPE_CHECKING:
    from ._server import VoiceLiveEmulator

log = logging.getLogger("videosdk_plugins_azure.emulator")

_MAX_APPEND_BYTES = 15 * 1024 * 1024
_MIN_COMMIT_MS = 100
_AZURE_VADS = frozenset(
    {"azure_semantic_vad", "azure_semantic_vad_en", "azure_semantic_vad_multilingual"}
)

Handler = Callable[["ConnectionHandler", dict[str, Any]], Awaitable[None]]


class _Dropped(Exception):
    """The socket is gone (a fault fired or the peer left); stop sending."""


class _PendingTurn:
    """A user turn waiting for its answer (and, after calls, for their outputs)."""

    def __init__(self, index: int, turn: Turn, user_text: str | None) -> None:
        self.index = index
        self.turn = turn
        self.user_text = user_text
        self.open_calls: dict[str, str | None] = {}
        self.mcp = McpProgress()

    def reply_context(self, instructions: str | None, **results: Any) -> ReplyContext:
        return ReplyContext(self.index, self.user_text, instructions, **results)


ItemHook = Callable[["ConnectionHandler", dict[str, Any]], None]


def _tool_filler(config: Any) -> tuple[float, Sequence[str]] | None:
    """Threshold (seconds) and texts of the static filler for slow tools, if configured.

    Only ``static_interim_response`` with the ``tool`` trigger and a threshold
    qualifies: the emulator has no model to write an ``llm_interim_response``.
    The validator has already normalised the hyphenated spelling.
    """
    if not isinstance(config, Mapping) or config.get("type") != "static_interim_response":
        return None
    threshold = config.get("latency_threshold_ms")
    if "tool" not in (config.get("triggers") or ()) or threshold is None:
        return None
    return threshold / 1000.0, list(config["texts"])


class ConnectionHandler:
    """Serves one accepted WebSocket until it closes."""

    def __init__(
        self,
        emulator: VoiceLiveEmulator,
        ws: web.WebSocketResponse,
        request: web.Request,
        record: EmulatorConnection,
        *,
        agent: dict[str, Any] | None,
    ) -> None:
        self._emu = emulator
        self._ws = ws
        self._request = request
        self.record = record
        self._agent_mode = agent is not None
        self._send_lock = asyncio.Lock()
        self._events_sent = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._dropped = False
        self._aborted = False
        self.conversation = Conversation(id_factory=emulator.new_id)
        self.session: dict[str, Any] = default_session(
            session_id=emulator.new_id("sess"),
            model=request.query.get("model"),
            api_version=request.query.get("api-version"),
            agent=agent,
            now=time.time(),
        )
        record.session = self.session
        record._attach(_Control(self._control_send, self._send_raw, self._drop, self._close))
        # input audio
        self._audio_received = False
        self._odd_byte = b""
        self._buffer_samples = 0
        self._total_samples = 0
        self._vad: EnergyVad | None = None
        self._vad_offset_ms = 0
        self._speech_item_id: str | None = None
        self._speech_started_ms = 0
        # responses and turns
        self._active: ActiveResponse | None = None
        self._auto_response_queued = False
        self._turns_by_item: dict[str, _PendingTurn] = {}
        self._answered_user_item: str | None = None
        self._tool_turn: _PendingTurn | None = None
        # server-side MCP
        self._listed_mcp_servers: set[str] = set()
        self._mcp_turn: _PendingTurn | None = None
        self._approvals: dict[str, bool] = {}
        # interim responses
        self._filler_timer: asyncio.Task[None] | None = None
        self._fillers_sent = 0

    # -- ResponseHost -------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        return self._emu.new_id(prefix)

    @property
    def speed(self) -> float:
        return self._emu.speed

    @property
    def chunk_ms(self) -> int:
        return self._emu.chunk_ms

    @property
    def tts_engine(self) -> str:
        return self._emu.tts

    @property
    def model_latency(self) -> float:
        return self._emu.faults.model_latency

    @property
    def emit_word_timestamps(self) -> bool:
        return "word" in (self.session.get("output_audio_timestamp_types") or [])

    @property
    def emit_visemes(self) -> bool:
        animation = self.session.get("animation") or {}
        return "viseme_id" in (animation.get("outputs") or [])

    # -- sending ------------------------------------------------------------------------

    async def send(self, event: dict[str, Any]) -> None:
        if self._dropped or self._ws.closed:
            raise _Dropped
        event.setdefault("event_id", self._emu.new_id("event"))
        data = json.dumps(event, separators=(",", ":"))
        async with self._send_lock:
            if self._dropped or self._ws.closed:
                raise _Dropped
            try:
                await self._ws.send_str(data)
            except (ConnectionError, RuntimeError) as exc:
                raise _Dropped from exc
            self._events_sent += 1
        if event["type"] == "response.audio.delta":
            self.record.output_audio_bytes += len(event["delta"]) * 3 // 4
        await self.record._record("server", event)
        for rule in self._emu.faults.rules:
            if rule.matches_server(event, self._events_sent):
                await self._fire(rule)

    async def _control_send(self, event: dict[str, Any]) -> None:
        await self.send(event)

    async def _send_raw(self, data: str | bytes) -> None:
        async with self._send_lock:
            if isinstance(data, bytes):
                await self._ws.send_bytes(data)
            else:
                await self._ws.send_str(data)

    async def _item_created(self, item: dict[str, Any], previous: str | None) -> None:
        """Announce an item the server just stored (a copy: the stored one may change)."""
        await self.send(
            {"type": "conversation.item.created", "previous_item_id": previous, "item": dict(item)}
        )

    async def _send_error(self, error: ProtocolError, client_event_id: str | None) -> None:
        await self.send({"type": "error", "error": error.to_error(client_event_id)})

    async def _fire(self, rule: FaultRule) -> None:
        rule.fired += 1
        log.info("fault: %s on connection %d", rule.action, self.record.index)
        if rule.action == "drop":
            await self._drop()
        else:
            if rule.error_code:
                error = ProtocolError(rule.error_code, f"Injected fault: {rule.error_code}")
                with contextlib.suppress(_Dropped):
                    await self._send_error(error, None)
            await self._close(rule.close_code)
        raise _Dropped

    async def _drop(self) -> None:
        """Close the TCP connection under the WebSocket: no close frame."""
        self._dropped = True
        self._aborted = True
        transport = self._request.transport
        if transport is not None:
            transport.abort()

    async def _close(self, code: int) -> None:
        self._dropped = True
        with contextlib.suppress(Exception):
            await self._ws.close(code=code)

    # -- the loop -------------------------------------------------------------------------

    async def run(self) -> None:
        expiry = self._emu.faults.take_expiry()
        if expiry is not None:
            self._spawn(self._expire_after(expiry))
        try:
            await self.send({"type": "session.created", "session": dict(self.session)})
            async for message in self._ws:
                if message.type == WSMsgType.TEXT or message.type == WSMsgType.BINARY:
                    await self._receive(message.data)
                else:
                    break
        except _Dropped:
            pass
        finally:
            for task in list(self._tasks):
                task.cancel()
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            await self.record._mark_closed(1006 if self._aborted else self._ws.close_code)

    def _spawn(self, coro: Awaitable[None]) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) and not isinstance(exc, _Dropped):
            log.error("emulator task failed", exc_info=exc)

    async def _expire_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        error = ProtocolError(
            "session_expired",
            "Your session hit the maximum duration and has expired.",
        )
        with contextlib.suppress(_Dropped):
            await self._send_error(error, None)
        await self._close(1001)

    async def _receive(self, data: str | bytes) -> None:
        event: Any
        try:
            event = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            await self._send_error(
                ProtocolError("invalid_json", "The message is not valid JSON."), None
            )
            return
        if not isinstance(event, dict):
            await self._send_error(
                ProtocolError("invalid_value", "A client event must be a JSON object."), None
            )
            return
        await self.record._record("client", event)
        event_type = event.get("type")
        client_event_id = event.get("event_id") if isinstance(event.get("event_id"), str) else None
        if isinstance(event_type, str):
            for rule in self._emu.faults.rules:
                if rule.matches_client(event_type):
                    await self._fire(rule)
        handler = _HANDLERS.get(event_type) if isinstance(event_type, str) else None
        try:
            if handler is None:
                raise ProtocolError(
                    "invalid_value"
                    if isinstance(event_type, str)
                    else "missing_required_parameter",
                    f"Unsupported client event type {event_type!r}."
                    if isinstance(event_type, str)
                    else "A client event needs a string 'type'.",
                    param="type",
                )
            await handler(self, event)
        except ProtocolError as error:
            await self._send_error(error, client_event_id)
        except _Dropped:
            raise
        except Exception:
            log.exception("emulator failed on %s", event_type)
            await self._send_error(
                ProtocolError(
                    "server_error", "The server had an error.", error_type="server_error"
                ),
                client_event_id,
            )

    # -- session ---------------------------------------------------------------------------

    async def _on_session_update(self, event: dict[str, Any]) -> None:
        if "session" not in event:
            raise ProtocolError("missing_required_parameter", "Missing 'session'.", param="session")
        self.session = apply_session_update(
            self.session,
            event["session"],
            audio_received=self._audio_received,
            agent_mode=self._agent_mode,
            api_version=self._request.query.get("api-version"),
        )
        self.record.session = self.session
        self._configure_vad()
        await self.send({"type": "session.updated", "session": dict(self.session)})
        await self._list_new_mcp_tools()

    async def _list_new_mcp_tools(self) -> None:
        """List the tools of each MCP server this connection has not listed yet.

        The service connects to a server when the session first names it; the
        listing is a conversation item, so it also takes part in
        ``previous_item_id``. A failed listing still creates its (empty) item.
        """
        for label, server in mcp_servers(self.session.get("tools")).items():
            if label in self._listed_mcp_servers:
                continue
            self._listed_mcp_servers.add(label)
            item_id = self.conversation.new_id("item")
            await self.send({"type": "mcp_list_tools.in_progress", "item_id": item_id})
            failed = listing_fails(server)
            tools = [] if failed else visible_tools(server, self._emu.scenario.mcp_tools_for(label))
            item, previous = self.conversation.add(
                {"id": item_id, "type": "mcp_list_tools", "server_label": label, "tools": tools}
            )
            await self._item_created(item, previous)
            outcome = "mcp_list_tools.failed" if failed else "mcp_list_tools.completed"
            await self.send({"type": outcome, "item_id": item_id})

    def _configure_vad(self) -> None:
        td = self.session.get("turn_detection")
        if td is None:
            self._vad = None
            return
        threshold = float(td.get("threshold", 0.5))
        padding = int(td.get("prefix_padding_ms", 300))
        silence = int(td.get("silence_duration_ms", 500))
        min_speech = int(td.get("speech_duration_ms") or 80)
        if self._vad is None or not self._audio_received:
            # Built anew until audio flows: the input rate may still change.
            self._vad = EnergyVad(
                self._input_rate(),
                threshold=threshold,
                prefix_padding_ms=padding,
                silence_duration_ms=silence,
                min_speech_ms=min_speech,
            )
            self._vad_offset_ms = self._buffer_clock_ms()
        else:
            self._vad.reconfigure(
                threshold=threshold,
                prefix_padding_ms=padding,
                silence_duration_ms=silence,
                min_speech_ms=min_speech,
            )

    def _input_rate(self) -> int:
        return _codec.input_rate(
            str(self.session.get("input_audio_format", "pcm16")),
            self.session.get("input_audio_sampling_rate"),
        )

    def _buffer_clock_ms(self) -> int:
        """Milliseconds of input audio received in this session."""
        return int(self._total_samples * 1000 / self._input_rate())

    # -- input audio --------------------------------------------------------------------

    async def _on_audio_append(self, event: dict[str, Any]) -> None:
        audio = event.get("audio")
        if not isinstance(audio, str):
            raise ProtocolError("invalid_value", "'audio' must be a base64 string.", param="audio")
        if len(audio) > _MAX_APPEND_BYTES * 4 // 3 + 4:
            raise ProtocolError(
                "invalid_value", "An append may carry at most 15 MiB of audio.", param="audio"
            )
        try:
            raw = base64.b64decode(audio, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ProtocolError(
                "invalid_value", "'audio' is not valid base64.", param="audio"
            ) from exc
        self.record.input_audio_bytes += len(raw)
        if not raw:
            return
        self._audio_received = True
        fmt = str(self.session.get("input_audio_format", "pcm16"))
        if fmt == "pcm16":
            raw = self._odd_byte + raw
            self._odd_byte = raw[-1:] if len(raw) % 2 else b""
        samples = _codec.decode(raw, fmt)
        if self._vad is None and self.session.get("turn_detection") is not None:
            self._configure_vad()
        self._total_samples += len(samples)
        self._buffer_samples += len(samples)
        if self._vad is None:
            return
        for vad_event in self._vad.feed(samples):
            if vad_event.kind == "start":
                await self._speech_started(vad_event.audio_ms + self._vad_offset_ms)
            else:
                await self._speech_stopped(vad_event.audio_ms + self._vad_offset_ms)

    async def _speech_started(self, audio_start_ms: int) -> None:
        self._speech_item_id = self.new_id("item")
        self._speech_started_ms = audio_start_ms
        await self.send(
            {
                "type": "input_audio_buffer.speech_started",
                "audio_start_ms": audio_start_ms,
                "item_id": self._speech_item_id,
            }
        )
        td = self.session.get("turn_detection") or {}
        active = self._active
        if active is not None and td.get("interrupt_response", True):
            await self._cancel(active, "turn_detected")
            if td.get("auto_truncate") and active.audio_item_id and active.plan.in_conversation:
                await self._auto_truncate(active)

    async def _auto_truncate(self, response: ActiveResponse) -> None:
        """Truncate where a real-time client would be: the service assumes live playback."""
        assert response.audio_item_id is not None
        played = response.generated_ms
        if response.first_delta_at is not None and math.isfinite(self.speed):
            elapsed = asyncio.get_running_loop().time() - response.first_delta_at
            played = min(played, elapsed * 1000.0 * self.speed)
        audio_end_ms = int(played)
        self.conversation.truncate(response.audio_item_id, 0, audio_end_ms)
        await self.send(
            {
                "type": "conversation.item.truncated",
                "item_id": response.audio_item_id,
                "content_index": 0,
                "audio_end_ms": audio_end_ms,
            }
        )

    async def _speech_stopped(self, audio_end_ms: int) -> None:
        item_id = self._speech_item_id or self.new_id("item")
        self._speech_item_id = None
        await self.send(
            {
                "type": "input_audio_buffer.speech_stopped",
                "audio_end_ms": audio_end_ms,
                "item_id": item_id,
            }
        )
        duration_ms = max(0, audio_end_ms - self._speech_started_ms)
        await self._commit(item_id, duration_ms)
        td = self.session.get("turn_detection") or {}
        if td.get("create_response", True):
            if self._active is None:
                await self._start_response({}, auto=True)
            else:
                self._auto_response_queued = True

    async def _commit(self, item_id: str, duration_ms: float) -> None:
        """Turn the buffered audio into a user item, with its scripted transcript."""
        self._buffer_samples = 0
        index, turn = self._emu.scenario.next_turn()
        transcript = (
            turn.user if turn.user is not None else f"({duration_ms / 1000:.1f} seconds of speech)"
        )
        item, previous = self.conversation.add(
            {
                "id": item_id,
                "type": "message",
                "object": "realtime.item",
                "role": "user",
                "status": "completed",
                "content": [{"type": "input_audio", "transcript": None}],
            }
        )
        self._turns_by_item[item_id] = _PendingTurn(index, turn, transcript)
        await self.send(
            {
                "type": "input_audio_buffer.committed",
                "previous_item_id": previous,
                "item_id": item_id,
            }
        )
        await self._item_created(item, previous)
        if self.session.get("input_audio_transcription"):
            words = transcript.split(" ")
            for start in range(0, len(words), 3):
                piece = " ".join(words[start : start + 3])
                await self.send(
                    {
                        "type": "conversation.item.input_audio_transcription.delta",
                        "item_id": item_id,
                        "content_index": 0,
                        "delta": piece if start == 0 else " " + piece,
                    }
                )
            self.conversation.set_transcript(item_id, 0, transcript)
            await self.send(
                {
                    "type": "conversation.item.input_audio_transcription.completed",
                    "item_id": item_id,
                    "content_index": 0,
                    "transcript": transcript,
                }
            )

    async def _on_audio_commit(self, event: dict[str, Any]) -> None:
        duration_ms = self._buffer_samples * 1000 / self._input_rate()
        if duration_ms < _MIN_COMMIT_MS:
            raise ProtocolError(
                "input_audio_buffer_commit_empty",
                f"Error committing input audio buffer: buffer too small. Expected at least "
                f"{_MIN_COMMIT_MS}ms of audio, but buffer only has {duration_ms:.2f}ms of audio.",
            )
        if self._vad is not None:
            self._vad.reset()
        item_id = self._speech_item_id or self.new_id("item")
        self._speech_item_id = None
        await self._commit(item_id, duration_ms)

    async def _on_audio_clear(self, event: dict[str, Any]) -> None:
        self._buffer_samples = 0
        self._odd_byte = b""
        self._speech_item_id = None
        if self._vad is not None:
            self._vad.reset()
        await self.send({"type": "input_audio_buffer.cleared"})

    async def _on_output_audio_clear(self, event: dict[str, Any]) -> None:
        if not self.session.get("avatar"):
            raise ProtocolError(
                "invalid_value",
                "output_audio_buffer.clear is only supported with an avatar session.",
            )
        await self.send({"type": "output_audio_buffer.cleared"})

    # -- conversation ----------------------------------------------------------------------

    async def _on_item_create(self, event: dict[str, Any]) -> None:
        previous_item_id = event.get("previous_item_id")
        item, previous = self.conversation.create(
            event.get("item"), previous_item_id=previous_item_id
        )
        hook = _ITEM_HOOKS.get(str(item.get("type")))
        if hook is not None:
            hook(self, item)
        await self._item_created(item, previous)

    def _note_call_output(self, item: dict[str, Any]) -> None:
        """A function's result: the reply can follow, and a filler is no longer needed."""
        turn = self._tool_turn
        call_id = str(item.get("call_id"))
        if turn is None or call_id not in turn.open_calls:
            # the call was made on an earlier connection (the client reconnected)
            turn = self._emu.tool_turns.get(call_id)
            if turn is not None:
                self._tool_turn = turn
        if turn is not None and call_id in turn.open_calls:
            turn.open_calls[call_id] = str(item.get("output", ""))
            if all(output is not None for output in turn.open_calls.values()):
                self._stop_filler_timer()

    def _note_approval(self, item: dict[str, Any]) -> None:
        """The client's answer to an ``mcp_approval_request``, used by the next response.

        Kept per request id rather than on the waiting turn: a client may answer
        as soon as it sees the request, before that response is done.
        """
        self._approvals[str(item["approval_request_id"])] = bool(item["approve"])

    async def _on_item_delete(self, event: dict[str, Any]) -> None:
        item_id = _require_str(event, "item_id")
        self.conversation.delete(item_id)
        await self.send({"type": "conversation.item.deleted", "item_id": item_id})

    async def _on_item_retrieve(self, event: dict[str, Any]) -> None:
        item = self.conversation.get(_require_str(event, "item_id"))
        await self.send({"type": "conversation.item.retrieved", "item": dict(item)})

    async def _on_item_truncate(self, event: dict[str, Any]) -> None:
        item_id = _require_str(event, "item_id")
        content_index = event.get("content_index", 0)
        audio_end_ms = event.get("audio_end_ms")
        if not isinstance(content_index, int) or isinstance(content_index, bool):
            raise ProtocolError(
                "invalid_value", "'content_index' must be an integer.", param="content_index"
            )
        if not isinstance(audio_end_ms, int) or isinstance(audio_end_ms, bool):
            raise ProtocolError(
                "invalid_value", "'audio_end_ms' must be an integer.", param="audio_end_ms"
            )
        self.conversation.truncate(item_id, content_index, audio_end_ms)
        await self.send(
            {
                "type": "conversation.item.truncated",
                "item_id": item_id,
                "content_index": content_index,
                "audio_end_ms": audio_end_ms,
            }
        )

    # -- responses ---------------------------------------------------------------------------

    async def _on_response_create(self, event: dict[str, Any]) -> None:
        params = validate_response_params(
            event.get("response"), self.session, tool_names=self._tool_names()
        )
        if self._active is not None:
            if params.get("cancel_previous"):
                await self._cancel(self._active, "client_cancelled")
            else:
                raise ProtocolError(
                    "conversation_already_has_active_response",
                    f"Conversation already has an active response in progress: {self._active.id}. "
                    "Wait until the response is finished before creating a new one.",
                )
        extra = event.get("additional_instructions")
        if extra is not None and not isinstance(extra, str):
            raise ProtocolError(
                "invalid_value",
                "'additional_instructions' must be a string.",
                param="additional_instructions",
            )
        if extra:
            params = {
                **params,
                "instructions": (
                    params.get("instructions") or self.session.get("instructions") or ""
                )
                + "\n"
                + extra,
            }
        await self._start_response(params, auto=False)

    async def _on_response_cancel(self, event: dict[str, Any]) -> None:
        wanted = event.get("response_id")
        active = self._active
        if active is None or (wanted is not None and wanted != active.id):
            raise ProtocolError(
                "response_cancel_not_active",
                "Cancellation failed: no active response found.",
            )
        await self._cancel(active, "client_cancelled")

    async def _cancel(self, response: ActiveResponse, reason: CancelReason) -> None:
        response.cancel(reason)
        await response.finished.wait()

    def _tool_names(self) -> list[str]:
        return [
            str(t.get("name"))
            for t in self.session.get("tools") or []
            if t.get("type") == "function"
        ]

    async def _start_response(self, params: dict[str, Any], *, auto: bool) -> None:
        # Any response the client or the caller starts ends a tool wait's filler chance:
        # a filler after it would interrupt a conversation that has moved on.
        self._stop_filler_timer()
        self._launch(self._plan(params))

    def _launch(self, plan: ResponsePlan) -> None:
        response = ActiveResponse(self.new_id("resp"), plan)
        self._active = response
        self._spawn(self._run_response(response))

    async def _run_response(self, response: ActiveResponse) -> None:
        try:
            await ResponseGenerator(self, response).run()
        finally:
            response.finished.set()
            if self._active is response:
                self._active = None
            # server state does not depend on the send: a socket dropped right after
            # response.done leaves the calls waiting for outputs on the next connection
            if response.status == "completed":
                self._await_client(response)
        if self._auto_response_queued and not self._dropped:
            self._auto_response_queued = False
            await self._start_response({}, auto=True)

    def _await_client(self, response: ActiveResponse) -> None:
        """After a completed response, note what its turn now waits for from the client.

        Function calls wait for their outputs (and may get a filler meanwhile);
        MCP approval requests wait for the client's answers.
        """
        turn = self._tool_turn
        if response.plan.calls and turn is not None:
            turn.open_calls = {
                item["call_id"]: None
                for item in response.output
                if item.get("type") == "function_call"
            }
            self._emu.tool_turns.update(dict.fromkeys(turn.open_calls, turn))
            self._start_filler_timer(turn)
        if response.approval_requests and self._mcp_turn is not None:
            self._mcp_turn.mcp.requests = dict(response.approval_requests)

    # -- interim responses ------------------------------------------------------------------

    def _start_filler_timer(self, turn: _PendingTurn) -> None:
        filler = _tool_filler(self.session.get("interim_response"))
        if filler is None:
            return
        threshold, texts = filler
        delay = threshold / self.speed if math.isfinite(self.speed) else threshold
        self._stop_filler_timer()
        self._filler_timer = self._spawn(self._filler_after(delay, turn, texts))

    def _stop_filler_timer(self) -> None:
        timer, self._filler_timer = self._filler_timer, None
        if timer is not None and timer is not asyncio.current_task():
            timer.cancel()

    async def _filler_after(self, delay: float, turn: _PendingTurn, texts: Sequence[str]) -> None:
        """Speak a filler if the client is still running its tools after ``delay``.

        One filler per wait. If a response is already live (the caller spoke, or
        the client moved on) there is nothing to fill.
        """
        await asyncio.sleep(delay)
        self._filler_timer = None
        waiting = self._tool_turn is turn and any(v is None for v in turn.open_calls.values())
        if not waiting or self._active is not None or self._dropped:
            return
        plan = self._base_plan({})
        plan.text = texts[self._fillers_sent % len(texts)]
        plan.metadata = {"interim": "true"}
        self._fillers_sent += 1
        self._launch(plan)

    # -- planning ---------------------------------------------------------------------------

    def _base_plan(self, params: dict[str, Any]) -> ResponsePlan:
        """A plan with the response settings in force and nothing to say yet."""
        session = self.session
        modalities = params.get("modalities") or session.get("modalities") or ["text", "audio"]
        max_tokens = params.get("max_output_tokens", params.get("max_response_output_tokens"))
        if max_tokens is None:
            max_tokens = session.get("max_response_output_tokens")
        return ResponsePlan(
            modalities=list(modalities),
            output_audio_format=str(
                params.get("output_audio_format") or session.get("output_audio_format") or "pcm16"
            ),
            voice=params.get("voice", session.get("voice")),
            temperature=params.get("temperature", session.get("temperature")),
            max_output_tokens=max_tokens if isinstance(max_tokens, int) else None,
            in_conversation=params.get("conversation", "auto") != "none",
            metadata=params.get("metadata"),
            input_tokens=self._estimate_input_tokens(self._instructions(params)),
        )

    def _instructions(self, params: dict[str, Any]) -> Any:
        """The instructions in force: the response's own, else the session's."""
        return params.get("instructions", self.session.get("instructions"))

    def _plan(self, params: dict[str, Any]) -> ResponsePlan:
        """Decide what the next response says, from the script and the conversation."""
        session = self.session
        plan = self._base_plan(params)
        instructions = self._instructions(params)
        tools = params.get("tools", session.get("tools"))
        tool_choice = params.get("tool_choice", session.get("tool_choice", "auto"))
        scenario = self._emu.scenario
        pregenerated = params.get("pre_generated_assistant_message")
        if pregenerated:
            plan.text = str(pregenerated["content"][0]["text"])
            return plan
        tool_turn = self._tool_turn
        if tool_turn is not None and any(v is not None for v in tool_turn.open_calls.values()):
            self._tool_turn = None
            for call_id in tool_turn.open_calls:  # answered: a replayed output is history
                self._emu.tool_turns.pop(call_id, None)
            outputs = {k: v for k, v in tool_turn.open_calls.items() if v is not None}
            ctx = tool_turn.reply_context(instructions, tool_outputs=outputs)
            plan.text = scenario.render_reply(tool_turn.turn.reply, ctx)
            return plan
        mcp_turn = self._mcp_turn
        if mcp_turn is not None and any(r in self._approvals for r in mcp_turn.mcp.requests):
            self._mcp_turn = None
            steps, denied = approved_steps(mcp_turn.mcp.requests, self._approvals, tools)
            if tool_choice == "none":
                steps = []
            return self._plan_mcp(plan, mcp_turn, steps, denied, instructions)
        pending = self._take_user_turn()
        if pending is None:
            plan.text = scenario.render_reply(None, ReplyContext(-1, None, instructions))
            return plan
        if pending.turn.calls and tool_choice != "none":
            if pending.turn.mcp_calls:
                steps, denied = first_steps(
                    pending.turn.mcp_calls, tools, can_ask=plan.in_conversation
                )
                return self._plan_mcp(plan, pending, steps, denied, instructions)
            plan.calls = list(pending.turn.function_calls)
            self._tool_turn = pending
            return plan
        plan.text = scenario.render_reply(pending.turn.reply, pending.reply_context(instructions))
        return plan

    def _plan_mcp(
        self,
        plan: ResponsePlan,
        turn: _PendingTurn,
        steps: Sequence[McpStep],
        denied: Sequence[str],
        instructions: str | None,
    ) -> ResponsePlan:
        """MCP items first; then the reply, unless the response waits for approvals.

        The scripted outcomes are known now, so the reply is rendered now, with
        what this turn's calls returned so far.
        """
        plan.mcp = list(steps)
        turn.mcp.record(steps, denied)
        if any(step.kind == "ask" for step in steps):
            plan.speak = False
            self._mcp_turn = turn
            return plan
        progress = turn.mcp
        ctx = turn.reply_context(
            instructions,
            mcp_outputs=dict(progress.outputs),
            mcp_errors=dict(progress.errors),
            mcp_denied=tuple(progress.denied),
        )
        plan.text = self._emu.scenario.render_reply(turn.turn.reply, ctx)
        return plan

    def _take_user_turn(self) -> _PendingTurn | None:
        """The newest user message not answered yet, bound to its scripted turn.

        A user message followed by an answer (an assistant message or a function
        call) is history, e.g. replayed by a client that reconnected.
        """
        for item in reversed(self.conversation.items):
            if item.get("type") in _ANSWERS and item.get("role", "assistant") == "assistant":
                return None
            if item.get("type") == "message" and item.get("role") == "user":
                item_id = str(item["id"])
                if item_id == self._answered_user_item:
                    return None
                self._answered_user_item = item_id
                pending = self._turns_by_item.pop(item_id, None)
                if pending is None:
                    index, turn = self._emu.scenario.next_turn()
                    pending = _PendingTurn(index, turn, self.conversation.user_text(item))
                return pending
        return None

    def _estimate_input_tokens(self, instructions: Any) -> int:
        chars = len(instructions) if isinstance(instructions, str) else 0
        for item in self.conversation.items:
            chars += len(self.conversation.user_text(item) or "")
        return math.ceil(chars / 4)


_ANSWERS = frozenset({"message", "function_call", "function_call_output"})


def _require_str(event: dict[str, Any], key: str) -> str:
    value = event.get(key)
    if not isinstance(value, str) or not value:
        raise ProtocolError("missing_required_parameter", f"Missing or invalid '{key}'.", param=key)
    return value


_ITEM_HOOKS: dict[str, ItemHook] = {
    "function_call_output": ConnectionHandler._note_call_output,
    "mcp_approval_response": ConnectionHandler._note_approval,
}
"""Client item type → what its creation means for a waiting turn."""

_HANDLERS: dict[str, Handler] = {
    "session.update": ConnectionHandler._on_session_update,
    "input_audio_buffer.append": ConnectionHandler._on_audio_append,
    "input_audio_buffer.commit": ConnectionHandler._on_audio_commit,
    "input_audio_buffer.clear": ConnectionHandler._on_audio_clear,
    "output_audio_buffer.clear": ConnectionHandler._on_output_audio_clear,
    "conversation.item.create": ConnectionHandler._on_item_create,
    "conversation.item.delete": ConnectionHandler._on_item_delete,
    "conversation.item.retrieve": ConnectionHandler._on_item_retrieve,
    "conversation.item.truncate": ConnectionHandler._on_item_truncate,
    "response.create": ConnectionHandler._on_response_create,
    "response.cancel": ConnectionHandler._on_response_cancel,
}
"""Client event type → handler. Anything else is answered with an ``error``."""
