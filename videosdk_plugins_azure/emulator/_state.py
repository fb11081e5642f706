"""The Voice Live service's side of one session, as a state machine with no I/O.

Like h11's ``Connection``, :class:`ServiceState` takes client events and returns
what the server does about them (:mod:`._actions`); it owns the session, the
conversation, the input audio timeline, the scripted turns and which response is
active, and imports neither aiohttp nor asyncio. The socket layer
(:mod:`._connection`) reads frames, feeds them in and performs the actions; it
also runs the timed response generator, which reports back through
:meth:`ServiceState.finish_response`.

A request the service would reject raises :class:`ProtocolError` inside a
handler; :meth:`ServiceState.receive` turns it into an ``error`` event carrying
the client's ``event_id``, after whatever the handler had already done.

Two §9 rules live at this level because they span events: *configure first* (any
event before the first valid ``session.update`` is refused, and otherwise
ignored) and the fixed turn detector, which :func:`~._session.apply_session_update`
enforces once :attr:`ServiceState.configured` is set.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from ..protocol.events import ClientEvent, ServerEvent, event, wire_type
from ..protocol.session import SESSION_NOT_CONFIGURED
from ._actions import (
    Action,
    Actions,
    CancelResponse,
    Send,
    StartFillerTimer,
    StartResponse,
    StopFillerTimer,
)
from ._context import ConnectionContext
from ._conversation import Conversation
from ._errors import ProtocolError
from ._input_audio import InputAudio, decode_append
from ._latency import LatencyDraws
from ._mcp import list_new_servers
from ._plan import ActiveResponse, CancelReason, ResponsePlan
from ._planner import ResponsePlanner
from ._session import apply_session_update, default_session, validate_response_params
from ._turns import PendingTurn, tool_filler
from ._wire import (
    client_event_id,
    error_event,
    item_created,
    optional_str,
    require_int,
    require_str,
    require_type,
    transcription_events,
    truncated,
    user_audio_item,
)

__all__ = ["ServiceState"]

Handler = Callable[["ServiceState", dict[str, Any]], Actions]

_SESSION_UPDATE = wire_type(ClientEvent.SESSION_UPDATE)


def _send(kind: ServerEvent, **fields: Any) -> Send:
    return Send(event(kind, **fields))


class ServiceState:
    """One session's server state: client events in, server actions out.

    ``clock`` is the time source of the response generator's ``first_delta_at``
    (the socket layer passes its event loop's clock), so the state can tell how
    much of a live response a real-time client has played.
    """

    def __init__(
        self, ctx: ConnectionContext, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ctx = ctx
        self._clock = clock
        self._stats = ctx.record.stats
        self._agent_mode = ctx.agent is not None
        self.closed = False
        """The socket is gone or going: nothing new is started any more."""
        self.conversation = Conversation(id_factory=ctx.new_id)
        self.session: dict[str, Any] = default_session(
            session_id=ctx.new_id("sess"),
            model=ctx.model,
            api_version=ctx.api_version,
            agent=ctx.agent,
            now=time.time(),
        )
        self._stats.session = self.session
        self.audio = InputAudio()
        self.planner = ResponsePlanner(self.conversation, ctx.settings, ctx.tool_turns)
        self.active: ActiveResponse | None = None
        self.configured = False
        """A valid ``session.update`` was applied: other client events are served now."""
        self._latency = LatencyDraws(ctx.settings.seed, ctx.record.index)
        self._auto_response_queued = False
        self._listed_mcp_servers: set[str] = set()

    # -- entry points -------------------------------------------------------------------

    def opened(self) -> Actions:
        """What the service sends as soon as the socket is upgraded."""
        yield _send(ServerEvent.SESSION_CREATED, session=dict(self.session))

    def receive(self, client_event: dict[str, Any]) -> Actions:
        """Handle one parsed client event (a JSON object)."""
        try:
            event_type = require_type(client_event)
            handler = _HANDLERS.get(event_type)
            if handler is None:
                raise ProtocolError(
                    "invalid_value", f"Unsupported client event type {event_type!r}.", param="type"
                )
            if not self.configured and event_type != _SESSION_UPDATE:
                raise ProtocolError(
                    SESSION_NOT_CONFIGURED,
                    f"{event_type!r} was sent before the session was configured; "
                    "send session.update first and wait for session.updated.",
                    param="type",
                )
            yield from handler(self, client_event)
        except ProtocolError as error:
            yield Send(error_event(error, client_event_id(client_event)))

    def close(self) -> None:
        """The socket layer is dropping or closing the connection."""
        self.closed = True

    def finish_response(self, response: ActiveResponse) -> Actions:
        """The generator of ``response`` stopped (completed, cancelled, or the socket went).

        The bookkeeping happens now, whatever the socket's fate: calls of a
        response completed just before a drop still wait for their outputs on
        the next connection. The returned follow-ups (a filler timer, the
        response queued while this one ran) are for a socket still serving.
        """
        response.done = True
        if self.active is response:
            self.active = None
        follow_ups: list[Action] = []
        if response.status == "completed":
            waiting = self.planner.await_client(response)
            if waiting is not None:
                follow_ups.extend(self._filler_timer(waiting))
        return itertools.chain(follow_ups, self._start_queued_response())

    def filler_due(self, turn: PendingTurn, texts: Sequence[str]) -> Actions:
        """The filler timer for ``turn`` ran out: speak a filler if the wait goes on.

        If a response is already live (the caller spoke, or the client moved on)
        there is nothing to fill.
        """
        if self.active is not None or self.closed:
            return
        plan = self.planner.filler_plan(turn, texts, self.session)
        if plan is not None:
            yield from self._launch(plan)

    # -- session ------------------------------------------------------------------------

    def _on_session_update(self, client_event: dict[str, Any]) -> Actions:
        if "session" not in client_event:
            raise ProtocolError("missing_required_parameter", "Missing 'session'.", param="session")
        self.session = apply_session_update(
            self.session,
            client_event["session"],
            audio_received=self.audio.received,
            agent_mode=self._agent_mode,
            api_version=self._ctx.api_version,
            semantics=self._ctx.settings.session_semantics,
            configured=self.configured,
        )
        self.configured = True
        self._stats.session = self.session
        self.audio.configure(self.session)
        yield _send(ServerEvent.SESSION_UPDATED, session=dict(self.session))
        yield from self._list_new_mcp_tools()

    def _list_new_mcp_tools(self) -> Actions:
        """List the tools of each MCP server this connection has not listed yet."""
        scripted = self._ctx.settings.scenario.mcp_tools_for
        for listing in list_new_servers(
            self.session.get("tools"), self._listed_mcp_servers, self.conversation, scripted
        ):
            yield Send(listing)

    # -- input audio --------------------------------------------------------------------

    def _on_audio_append(self, client_event: dict[str, Any]) -> Actions:
        raw = decode_append(client_event)
        self._stats.input_audio_bytes += len(raw)
        for boundary in self.audio.append(raw, self.session):
            if boundary.kind == "start":
                yield from self._speech_started(boundary.audio_ms)
            else:
                yield from self._speech_stopped(boundary.audio_ms)

    def _turn_detection(self) -> Mapping[str, Any]:
        return self.session.get("turn_detection") or {}

    def _speech_started(self, audio_start_ms: int) -> Actions:
        item_id = self._ctx.new_id("item")
        self.audio.start_speech(item_id, audio_start_ms)
        yield _send(
            ServerEvent.INPUT_AUDIO_BUFFER_SPEECH_STARTED,
            audio_start_ms=audio_start_ms,
            item_id=item_id,
        )
        td = self._turn_detection()
        active = self.active
        if active is not None and td.get("interrupt_response", True):
            yield from self._cancel(active, "turn_detected")
            if td.get("auto_truncate") and active.audio_item_id and active.plan.in_conversation:
                yield self._truncate_at_playback(active)

    def _truncate_at_playback(self, response: ActiveResponse) -> Send:
        """Truncate where a real-time client would be: the service assumes live playback."""
        assert response.audio_item_id is not None
        played = response.generated_ms
        speed = self._ctx.settings.speed
        if response.first_delta_at is not None and math.isfinite(speed):
            elapsed = self._clock() - response.first_delta_at
            played = min(played, elapsed * 1000.0 * speed)
        audio_end_ms = int(played)
        self.conversation.truncate(response.audio_item_id, 0, audio_end_ms)
        return Send(truncated(response.audio_item_id, 0, audio_end_ms))

    def _speech_stopped(self, audio_end_ms: int) -> Actions:
        item_id = self.audio.take_speech_item() or self._ctx.new_id("item")
        yield _send(
            ServerEvent.INPUT_AUDIO_BUFFER_SPEECH_STOPPED,
            audio_end_ms=audio_end_ms,
            item_id=item_id,
        )
        duration_ms = max(0, audio_end_ms - self.audio.speech_started_ms)
        yield from self._commit(item_id, duration_ms)
        if self._turn_detection().get("create_response", True):
            if self.active is None:
                yield from self._start_response({})
            else:
                self._auto_response_queued = True

    def _commit(self, item_id: str, duration_ms: float) -> Actions:
        """Turn the buffered audio into a user item, with its scripted transcript."""
        self.audio.committed()
        index, turn = self._ctx.settings.scenario.next_turn()
        transcript = (
            turn.user if turn.user is not None else f"({duration_ms / 1000:.1f} seconds of speech)"
        )
        item, previous = self.conversation.add(user_audio_item(item_id))
        self.planner.bind(item_id, PendingTurn(index, turn, transcript))
        yield _send(
            ServerEvent.INPUT_AUDIO_BUFFER_COMMITTED, previous_item_id=previous, item_id=item_id
        )
        yield Send(item_created(item, previous))
        if self.session.get("input_audio_transcription"):
            yield from self._transcribe(item_id, transcript)

    def _transcribe(self, item_id: str, transcript: str) -> Actions:
        deltas, completed = transcription_events(item_id, transcript)
        for delta in deltas:
            yield Send(delta)
        self.conversation.set_transcript(item_id, 0, transcript)
        yield Send(completed)

    def _on_audio_commit(self, client_event: dict[str, Any]) -> Actions:
        duration_ms = self.audio.take_commit(self.session)
        item_id = self.audio.take_speech_item() or self._ctx.new_id("item")
        yield from self._commit(item_id, duration_ms)

    def _on_audio_clear(self, client_event: dict[str, Any]) -> Actions:
        self.audio.clear()
        yield _send(ServerEvent.INPUT_AUDIO_BUFFER_CLEARED)

    def _on_output_audio_clear(self, client_event: dict[str, Any]) -> Actions:
        if not self.session.get("avatar"):
            raise ProtocolError(
                "invalid_value",
                "output_audio_buffer.clear is only supported with an avatar session.",
            )
        yield _send(ServerEvent.OUTPUT_AUDIO_BUFFER_CLEARED)

    # -- conversation -------------------------------------------------------------------

    def _on_item_create(self, client_event: dict[str, Any]) -> Actions:
        item, previous = self.conversation.create(
            client_event.get("item"), previous_item_id=client_event.get("previous_item_id")
        )
        if self.planner.note_client_item(item):
            yield StopFillerTimer()
        yield Send(item_created(item, previous))

    def _on_item_delete(self, client_event: dict[str, Any]) -> Actions:
        item_id = require_str(client_event, "item_id")
        self.conversation.delete(item_id)
        yield _send(ServerEvent.CONVERSATION_ITEM_DELETED, item_id=item_id)

    def _on_item_retrieve(self, client_event: dict[str, Any]) -> Actions:
        item = self.conversation.get(require_str(client_event, "item_id"))
        yield _send(ServerEvent.CONVERSATION_ITEM_RETRIEVED, item=dict(item))

    def _on_item_truncate(self, client_event: dict[str, Any]) -> Actions:
        item_id = require_str(client_event, "item_id")
        content_index = require_int(client_event, "content_index", 0)
        audio_end_ms = require_int(client_event, "audio_end_ms")
        self.conversation.truncate(item_id, content_index, audio_end_ms)
        yield Send(truncated(item_id, content_index, audio_end_ms))

    # -- responses ----------------------------------------------------------------------

    def _on_response_create(self, client_event: dict[str, Any]) -> Actions:
        params = validate_response_params(
            client_event.get("response"), self.session, tool_names=self._tool_names()
        )
        if self.active is not None:
            if not params.get("cancel_previous"):
                raise ProtocolError(
                    "conversation_already_has_active_response",
                    f"Conversation already has an active response in progress: {self.active.id}. "
                    "Wait until the response is finished before creating a new one.",
                )
            yield from self._cancel(self.active, "client_cancelled")
        extra = optional_str(client_event, "additional_instructions")
        if extra:
            base = params.get("instructions") or self.session.get("instructions") or ""
            params = {**params, "instructions": base + "\n" + extra}
        yield from self._start_response(params)

    def _on_response_cancel(self, client_event: dict[str, Any]) -> Actions:
        wanted = client_event.get("response_id")
        active = self.active
        if active is None or (wanted is not None and wanted != active.id):
            raise ProtocolError(
                "response_cancel_not_active",
                "Cancellation failed: no active response found.",
            )
        yield from self._cancel(active, "client_cancelled")

    def _cancel(self, response: ActiveResponse, reason: CancelReason) -> Actions:
        response.cancel(reason)
        yield CancelResponse(response)

    def _tool_names(self) -> list[str]:
        tools = self.session.get("tools") or []
        return [str(t.get("name")) for t in tools if t.get("type") == "function"]

    def _start_response(self, params: Mapping[str, Any]) -> Actions:
        # Any response the client or the caller starts ends a tool wait's filler chance:
        # a filler after it would interrupt a conversation that has moved on.
        yield StopFillerTimer()
        yield from self._launch(self.planner.plan(params, self.session))

    def _launch(self, plan: ResponsePlan) -> Actions:
        latency = self._ctx.settings.response_latency(self._latency)
        response = ActiveResponse(self._ctx.new_id("resp"), plan, latency=latency)
        self.active = response
        yield StartResponse(response)

    def _start_queued_response(self) -> Actions:
        if self._auto_response_queued and not self.closed:
            self._auto_response_queued = False
            yield from self._start_response({})

    def _filler_timer(self, turn: PendingTurn) -> Iterator[StartFillerTimer]:
        filler = tool_filler(self.session.get("interim_response"))
        if filler is None:
            return
        speed = self._ctx.settings.speed
        delay = filler.threshold / speed if math.isfinite(speed) else filler.threshold
        yield StartFillerTimer(delay, turn, filler.texts)


_HANDLERS: dict[str, Handler] = {
    ClientEvent.SESSION_UPDATE: ServiceState._on_session_update,
    ClientEvent.INPUT_AUDIO_BUFFER_APPEND: ServiceState._on_audio_append,
    ClientEvent.INPUT_AUDIO_BUFFER_COMMIT: ServiceState._on_audio_commit,
    ClientEvent.INPUT_AUDIO_BUFFER_CLEAR: ServiceState._on_audio_clear,
    ClientEvent.OUTPUT_AUDIO_BUFFER_CLEAR: ServiceState._on_output_audio_clear,
    ClientEvent.CONVERSATION_ITEM_CREATE: ServiceState._on_item_create,
    ClientEvent.CONVERSATION_ITEM_DELETE: ServiceState._on_item_delete,
    ClientEvent.CONVERSATION_ITEM_RETRIEVE: ServiceState._on_item_retrieve,
    ClientEvent.CONVERSATION_ITEM_TRUNCATE: ServiceState._on_item_truncate,
    ClientEvent.RESPONSE_CREATE: ServiceState._on_response_create,
    ClientEvent.RESPONSE_CANCEL: ServiceState._on_response_cancel,
}
"""Client event type → handler. Anything else is answered with an ``error``."""
