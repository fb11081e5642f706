"""The call core's state and the operations its handlers share (the base layer).

Holds what a call is made of (the session spec, the link, responses, the user's
turn, history, input audio) and the steps several events need: sending a
``response.create``, finishing a response on the speaker, final transcripts, the
barge-in and the answer to tool calls. Effects accumulate in ``_out`` and leave
through :meth:`CallBase.take`, as websockets' ``data_to_send()`` does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from azure.ai.voicelive import models as m

from ..audio import OutputFramer
from ..connection import ReconnectPolicy
from ..errors import VoiceLiveError
from ..protocol.ids import IdKind, mint
from .effects import (
    BusEmit,
    Effect,
    Emit,
    FinishPlayback,
    Metric,
    ModelEvent,
    Send,
    Speaker,
    SyncAgent,
)
from .history import History
from .input import InputPath
from .link import Link
from .responses import CallState, Cut, Response, ToolBatch
from .session import SessionSpec
from .storm import ErrorStorm
from .turns import UserTurn
from .vision import VisionState

__all__ = ["DEFAULT_RESPONSE_TIMEOUT", "CallBase"]

DEFAULT_RESPONSE_TIMEOUT = 30.0

log = logging.getLogger("videosdk_plugins_azure")


class CallBase:
    """One call's state, from the first connect to ``aclose()``; it survives reconnects."""

    def __init__(
        self,
        spec: SessionSpec,
        speaker: Speaker,
        *,
        context: Callable[[str | None], str],
        policy: ReconnectPolicy | None = None,
        clock: Callable[[], float] = time.perf_counter,
        response_timeout: float | None = DEFAULT_RESPONSE_TIMEOUT,
    ) -> None:
        self.spec = spec
        self.speaker = speaker
        self.context = context
        """``instructions -> instructions with the chat so far`` (the framework's)."""
        self.policy = policy if policy is not None else ReconnectPolicy()
        self.clock = clock
        self.response_timeout = response_timeout
        """Seconds of silence from the service, mid-response, before the response is ended."""
        self.last_event_at = clock()
        self.link = Link()
        self.calls = CallState()
        self.turn = UserTurn()
        self.history = History()
        self.input = InputPath()
        self.framer = OutputFramer()
        self.server_turn_detection: dict[str, Any] = {}
        """The turn detection the service reports running (barge-in and truncation follow it).

        Only this is kept of the echoed session: the rest can carry MCP credentials."""
        self.setup_error: VoiceLiveError | None = None
        self.approvals_pending = 0
        self.mcp_started: dict[str, float] = {}
        self.reconnects = 0
        self.unknown_events: set[str] = set()
        self.storm = ErrorStorm()
        self.vision = VisionState()
        self._auth_retried = False
        self._live_since = 0.0
        self._young_deaths = 0
        """Sessions in a row that closed soon after going live (a server kicking us)."""
        self._out: list[Effect] = []

    # -- plumbing ------------------------------------------------------------------------

    def take(self) -> list[Effect]:
        """The effects produced since the last call, in order (and forget them)."""
        out, self._out = self._out, []
        return out

    def send(self, event: dict[str, Any], *, urgent: bool = False) -> None:
        self._out.append(Send(event, urgent))

    def emit(self, name: ModelEvent, payload: Any) -> None:
        self._out.append(Emit(name, payload))

    def metric(self, method: str, **kwargs: Any) -> None:
        self._out.append(Metric(method, kwargs))

    def effect(self, effect: Effect) -> None:
        self._out.append(effect)

    def report(self, error: VoiceLiveError) -> None:
        """A recoverable error for the pipeline; identical repeats are collapsed."""
        if self.storm.admit(error.code, error.message, self.clock()):
            log.warning("Voice Live error %s: %s", error.code, error.message)
            self.emit("error", error)

    @property
    def ready(self) -> bool:
        return self.link.ready

    @property
    def idle(self) -> bool:
        """Nobody is talking and nothing is pending: a safe moment to switch sessions."""
        return not (
            self.calls.speaking
            or self.turn.speaking
            or self.calls.tools_pending
            or self.approvals_pending
            or self.calls.pending_requests
        )

    def turn_detection(self) -> dict[str, Any]:
        return self.server_turn_detection

    # -- operations the handlers share ------------------------------------------------------

    def open_metrics_turn(self) -> None:
        """Start the framework's metrics turn for a new caller turn, and hold it open.

        The pipeline completes a realtime turn 1 s after the agent's speech ends.
        When the caller speaks again within that second, the pending completion
        lands on the *new* turn, which is then empty and discarded as invalid, and
        the exchange it should have held is lost. Holding the turn until the
        agent's speech ends keeps each completion on its own turn.
        """
        self.release_metrics_turn()
        self.metric("start_turn")
        self.metric("hold_turn")
        self.turn.metrics_held = True

    def release_metrics_turn(self) -> None:
        if self.turn.metrics_held:
            self.turn.metrics_held = False
            self.metric("release_turn")

    def request_response(self, params: dict[str, Any]) -> None:
        self.effect(SyncAgent())
        request = self.calls.request_response(params)
        if request is not None:
            self.send_create(request.request_id, request.params)

    def send_create(self, request_id: str, params: dict[str, Any]) -> None:
        event: dict[str, Any] = {"type": "response.create", "event_id": request_id}
        if params:
            event["response"] = params
        self.send(event)

    def finish(self, response: Response) -> None:
        """The speaker hears once per response that no more of its audio comes."""
        if self.calls.mark_synthesis(response) and self.speaker.present():
            self.effect(FinishPlayback())

    def finals(self, response_id: str | None, text: str, *, wait_for_playout: bool) -> None:
        for _, final in self.calls.transcript_done(
            response_id, text, wait_for_playout=wait_for_playout
        ):
            self.agent_final(final)

    def agent_final(self, text: str) -> None:
        """The agent's words as the caller heard them: chat history, metrics and the bus."""
        item = m.AssistantMessageItem(content=[m.OutputTextContentPart(text=text)])
        self.history.remember(item.as_dict())
        self.metric("set_agent_response", response=text)
        self.emit("realtime_model_transcription", {"role": "agent", "text": text, "is_final": True})
        self.emit("llm_text_output", {"text": text})
        self._out.append(BusEmit("text_response", {"text": text, "type": "done"}))

    def barge_in(self, *, cancel_on_server: bool) -> None:
        """Stop the agent: drop its audio, flush the speaker, cut the history to what was heard."""
        if not self.calls.interruptible:
            return  # already silenced: a repeated interrupt must not repeat its requests
        position = self.speaker.flush() if self.speaker.present() else None
        active = self.calls.active
        cancelled_before = active is None or active.dropped
        silenced = self.calls.interrupt(position)
        if cancel_on_server and not cancelled_before and active in silenced:
            self.send({"type": "response.cancel"}, urgent=True)
        if silenced and self.spec.avatar:
            # the avatar's renderer keeps its own queue of the answer; cancelling the
            # response stops new output, not what is queued there (avatar mode only)
            self.send({"type": "output_audio_buffer.clear"}, urgent=True)
        server_truncates = bool(self.turn_detection().get("auto_truncate"))
        for response in silenced:
            self._apply_cut(self.calls.cut(response, server_truncates=server_truncates))
            self.finish(response)
            if response.final_text is not None:
                self.finals(response.id, response.final_text, wait_for_playout=False)
        self.metric("on_interrupted")

    def _apply_cut(self, cut: Cut) -> None:
        if cut.item_id is None or cut.action == "none":
            return
        event_id = mint(IdKind.CUT, cut.item_id)
        if cut.action == "delete":
            self.send(
                {"type": "conversation.item.delete", "event_id": event_id, "item_id": cut.item_id}
            )
            return
        self.send(
            {
                "type": "conversation.item.truncate",
                "event_id": event_id,
                "item_id": cut.item_id,
                "content_index": 0,
                "audio_end_ms": cut.audio_end_ms,
            }
        )

    def answer_tools(self, batch: ToolBatch) -> None:
        """Every output of the response, then one request for the answer."""
        if self.link.ended:
            return
        for call_id, output in batch.outputs:
            item = m.FunctionCallOutputItem(call_id=call_id, output=output)
            self.send({"type": "conversation.item.create", "item": item.as_dict()})
        if batch.follow_up:
            self.request_response({})
        else:
            log.debug("caller spoke while tools ran: outputs delivered, no extra answer")
            self.finish(batch.response)
