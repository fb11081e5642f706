"""``CallCore``: every decision of a call, with no sockets, tasks or framework objects.

Like h11's ``Connection``, it is fed what happened (server events, the
framework's hook calls, the socket's fate) and answers with
:mod:`.effects`: what to send, emit, play, run or reconnect. The adapter
(:mod:`videosdk_plugins_azure.voice_live`) carries those out and feeds results back.
Because nothing here waits, reconnect, replay, rotation and error routing are
tested in microseconds (``tests/core/``) with a fake speaker.

Server events are routed by the table in :mod:`.handlers`.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from azure.ai.voicelive import models as m

from ..audio import BytesLike
from ..errors import VoiceLiveError
from ..tools import ToolResult
from .effects import Boundary, Effect, HotEvent, Reconnect, SendAudio, SendFrames
from .handlers import HANDLERS, HOT_HANDLERS, report_tool
from .lifecycle import Lifecycle
from .link import Trigger
from .mcp import McpApprovalRequest

__all__ = ["CallCore"]

log = logging.getLogger("videosdk_plugins_azure")

_MAX_UNKNOWN = 100


class CallCore(Lifecycle):
    """One call's state, from the first connect to ``aclose()``; it survives reconnects.

    Built in three layers, one module each: :class:`.base.CallBase` (the state and
    the operations handlers share), :class:`.lifecycle.Lifecycle` (what the socket's
    fate does to the call) and this class (the framework's hooks and server events).
    """

    # -- the framework's hooks -------------------------------------------------------------

    def set_instructions(self, instructions: str | None) -> list[Effect]:
        """The agent's instructions (``agent.instructions = ...``, or a handoff)."""
        if self.spec.set_instructions(instructions):
            self.push_session()
        return self.take()

    def set_tools(self, declarations: list[Any]) -> list[Effect]:
        """The agent's tools (``agent.update_tools``, or a handoff)."""
        if self.spec.set_tools(declarations):
            self.push_session()
        return self.take()

    def push_session(self) -> None:
        """Send a changed session now if nobody is speaking, else at the next boundary.

        An update never lands mid-answer; a change the service cannot apply to a live
        session (another turn detection type) moves the call to a fresh connection.
        """
        if not (self.spec.changed and self.ready):
            return
        if self.calls.speaking or self.turn.speaking:
            return
        if self.spec.needs_new_connection():
            if self.link.fire(Trigger.ROTATE):
                self.effect(Reconnect("a session change needs a new connection", error=False))
            return
        self.send(self.spec.change_event())
        log.info("session updated: %d function tool(s)", len(self.spec.tools))

    def boundary(self) -> None:
        """A turn boundary: pending session changes go out, a waiting rotation looks again."""
        self.push_session()
        self.effect(Boundary())

    def caller_audio(self, pcm: BytesLike) -> list[Effect]:
        """Caller audio as the wire has it: converted and sent in blocks while live, held
        (bounded) while not. Needs ``input.follow_wire()`` first."""
        if self.link.ended or not pcm:
            return []
        for block in self.input.accept(pcm, live=self.ready):
            self._out.append(SendAudio(block))
        return self.take()

    def say(self, text: str) -> list[Effect]:
        """Speak ``text`` verbatim (``session.say``)."""
        item = m.AssistantMessageItem(content=[m.OutputTextContentPart(text=text)])
        self.request_response({"pre_generated_assistant_message": item.as_dict()})
        return self.take()

    def user_text(self, text: str) -> list[Effect]:
        """A user turn in text, then a response (``session.reply``)."""
        item = m.UserMessageItem(content=[m.InputTextContentPart(text=text)])
        self.send({"type": "conversation.item.create", "item": item.as_dict()})
        self.request_response({})
        return self.take()

    def user_frames(self, text: str | None, frames: list[Any]) -> list[Effect]:
        """``reply(frames=...)``: images (and the instructions as the user's words), then
        an answer. The frames are encoded off the core; see :meth:`frames_encoded`."""
        self.effect(SendFrames(tuple(frames), text, respond=True))
        return self.take()

    def video_frame(self, frame: Any) -> None:
        """A meeting video frame; only the newest is kept."""
        self.vision.frame(frame)

    def frames_encoded(
        self, text: str | None, parts: list[dict[str, Any]], *, respond: bool
    ) -> list[Effect]:
        """The images are ready: one user message with them, then the answer if asked."""
        content = [*([{"type": "input_text", "text": text}] if text else []), *parts]
        if content and not self.link.ended:
            item = {"type": "message", "role": "user", "content": content}
            self.send({"type": "conversation.item.create", "item": item})
            if respond:
                self.request_response({})
        return self.take()

    def interrupt(self) -> list[Effect]:
        """``session.interrupt()``: stop the agent now, as a barge-in would."""
        self.barge_in(cancel_on_server=True)
        return self.take()

    def playout_finished(self) -> list[Effect]:
        """The speaker played everything it had."""
        for _, text in self.calls.playout_finished():
            self.agent_final(text)
        self.release_metrics_turn()
        self.boundary()
        return self.take()

    def receive(self, event: m.ServerEvent | HotEvent) -> list[Effect]:
        """One server event: a light record (:data:`.handlers.HOT_HANDLERS`) or a typed
        SDK event (:data:`.handlers.HANDLERS`)."""
        self.last_event_at = self.clock()
        handler = HOT_HANDLERS.get(type(event))
        if handler is None:
            kind = cast("m.ServerEvent", event).get("type")  # not a light record
            handler = HANDLERS.get(kind) if isinstance(kind, str) else None
            if handler is None:
                self._unknown(kind)
                return self.take()
        handler(self, event)
        return self.take()

    def _unknown(self, kind: Any) -> None:
        if kind not in self.unknown_events and len(self.unknown_events) < _MAX_UNKNOWN:
            self.unknown_events.add(str(kind))
            log.debug("ignoring Voice Live event type %r", kind)

    def tick(self) -> list[Effect]:
        """Time passed: a response the service stopped talking about is ended here.

        Without this watchdog, a response whose ``response.done`` never comes leaves
        the agent "speaking" for good: no answer is requested and the caller hears
        nothing. It is ended as a drop would end it, and the pipeline is told.
        """
        active = self.calls.active
        limit = self.response_timeout
        if active is None or limit is None or self.clock() - self.last_event_at < limit:
            return []
        self.send({"type": "response.cancel"}, urgent=True)
        cut = self.calls.connection_reset(reask=False)
        if cut is not None:
            self.end_cut_response(cut)
        message = f"Voice Live sent nothing for {limit:g}s in the middle of a response; ended it"
        self.report(VoiceLiveError("response_timeout", message, recoverable=True))
        request = self.calls.next_request()
        if request is not None:
            self.send_create(request.request_id, request.params)
        self.boundary()
        return self.take()

    def tool_finished(self, result: ToolResult) -> list[Effect]:
        """A function call ran (or failed: every failure is an output too)."""
        report_tool(self, result)
        batch = self.calls.tool_output(result.call_id, result.output)
        if batch is not None:
            self.answer_tools(batch)
        return self.take()

    def approval_decided(self, request: McpApprovalRequest, approved: bool) -> list[Effect]:
        """The app said yes or no to an MCP call; one answer once every request is decided."""
        self.emit("mcp_approval", {"request": request, "approved": approved})
        item = m.MCPApprovalResponseRequestItem(approval_request_id=request.id, approve=approved)
        self.send({"type": "conversation.item.create", "item": item.as_dict()})
        self.approvals_pending -= 1
        if self.approvals_pending == 0:
            self.request_response({})
        return self.take()

    def item_sent(self, item: dict[str, Any]) -> None:
        """A conversation item reached the socket: a new session will need it."""
        self.history.remember(item)
