"""Responses, requests, the playback timeline and agent transcripts, with no I/O.

Like ``h11``, this module only records what happened and answers what to do next;
:class:`.call.CallCore` feeds it server events and playback positions. That keeps
the rules that users' complaints are about testable in microseconds, with no socket:

* audio of a cancelled or superseded response never plays;
* ``response.create`` never goes out while a response is live (the service would
  answer ``conversation_already_has_active_response``); requests queue instead;
* playback is a timeline: each answer occupies ``[start, start + samples)`` of the
  audio the speaker played, so a barge-in knows which answer the caller was hearing
  (not merely the last one received) and truncates it at what was heard, deleting
  answers queued behind it that were never heard (the service rejects truncating
  to 0);
* an agent transcript becomes final when its audio has played out, cut to what
  was heard when the caller interrupted, so the chat history matches the call.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from ..protocol.ids import IdKind, mint
from ..protocol.text import cut_text
from .records import AudioDecision, CreateRequest, Cut, Response, ToolBatch

__all__ = ["AudioDecision", "CallState", "CreateRequest", "Cut", "Response", "ToolBatch"]

_REMEMBERED_RESPONSES = 64


@dataclass
class CallState:
    """Bookkeeping for one realtime call (it survives reconnects)."""

    bytes_per_ms: float = 48.0
    """Output audio bytes per millisecond (24 kHz pcm16 = 48)."""
    _responses: OrderedDict[str, Response] = field(default_factory=OrderedDict)
    _queue: deque[CreateRequest] = field(default_factory=deque)
    _in_flight: CreateRequest | None = None
    _claimed: dict[str, tuple[CreateRequest, Response]] = field(default_factory=dict)
    """Requests matched to a ``response.created`` by order; a later rejection undoes it."""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    active: Response | None = None
    """The response the server is generating (created, not done)."""
    _speaker: list[Response] = field(default_factory=list)
    """Responses whose audio went to the speaker and may not all have been heard, in order."""
    _awaiting_playout: list[Response] = field(default_factory=list)
    _user_turns: int = 0
    _call_owner: dict[str, Response] = field(default_factory=dict)

    # -- response.create requests -------------------------------------------------------

    def request_response(self, params: dict[str, Any] | None = None) -> CreateRequest | None:
        """Ask for a response; returns it if it may be sent now, else it is queued."""
        request = CreateRequest(mint(IdKind.REQUEST, next(self._ids)), dict(params or {}))
        self._queue.append(request)
        return self._next_request()

    def _next_request(self) -> CreateRequest | None:
        if self.active is not None or self._in_flight is not None or not self._queue:
            return None
        self._in_flight = self._queue.popleft()
        return self._in_flight

    def create_rejected(self, request_id: str | None) -> CreateRequest | None:
        """The service refused our create (a response was live after all): retry later.

        The live response may already have been matched to this request by order (it
        was the server's own VAD response); that match is undone.
        """
        if self._in_flight is not None and (
            request_id is None or self._in_flight.request_id == request_id
        ):
            self._queue.appendleft(self._in_flight)
            self._in_flight = None
        elif request_id is not None and request_id in self._claimed:
            request, response = self._claimed.pop(request_id)
            response.request_id = None
            self._queue.appendleft(request)
        return self._next_request()

    def next_request(self) -> CreateRequest | None:
        """The queued request that may go now (after a reconnect, say)."""
        return self._next_request()

    def connection_reset(self, *, reask: bool = True) -> Response | None:
        """The socket is gone: the live response ended with it, an unanswered create is retried.

        A response cut off before the caller got anything of it (no audio, no text, no
        tool call, not interrupted) is asked for again on the next connection: the
        caller asked something and must not be left with silence. ``reask=False``
        (the watchdog) does not, so a response that stalls is not asked for forever.
        Returns the response that was cut off, if one was live.
        """
        if self._in_flight is not None:
            self._queue.appendleft(self._in_flight)
            self._in_flight = None
        cut = self.active
        if cut is not None:
            cut.done = True
            cut.status = "incomplete"
            self.active = None
            if reask and not (cut.has_audio or cut.transcript or cut.dropped or cut.calls):
                self._queue.appendleft(self._reissue(cut))
        return cut

    def _reissue(self, cut: Response) -> CreateRequest:
        claimed = self._claimed.pop(cut.request_id, None) if cut.request_id else None
        params = claimed[0].params if claimed is not None else {}
        return CreateRequest(mint(IdKind.REQUEST, next(self._ids)), dict(params))

    @property
    def tools_pending(self) -> bool:
        return bool(self._call_owner)

    @property
    def pending_requests(self) -> int:
        return len(self._queue) + (self._in_flight is not None)

    # -- responses ---------------------------------------------------------------------------

    def response_created(self, response_id: str, request_id: str | None = None) -> Response:
        """A response started. ``request_id`` comes back in the response metadata."""
        response = self._responses.get(response_id) or Response(response_id)
        if self._in_flight is not None and (
            request_id is None or request_id == self._in_flight.request_id
        ):
            response.request_id = self._in_flight.request_id
            self._claimed[response.request_id] = (self._in_flight, response)
            while len(self._claimed) > _REMEMBERED_RESPONSES:
                del self._claimed[next(iter(self._claimed))]
            self._in_flight = None
        response.user_turn = self._user_turns
        self._responses[response_id] = response
        while len(self._responses) > _REMEMBERED_RESPONSES:
            self._responses.popitem(last=False)
        self.active = response
        return response

    def get(self, response_id: str | None) -> Response | None:
        return self._responses.get(response_id) if response_id else None

    def response_done(
        self, response_id: str, status: str | None
    ) -> tuple[Response | None, CreateRequest | None]:
        """A response ended; returns it and the next queued request, if one may go now."""
        response = self._responses.get(response_id)
        if response is not None:
            response.done = True
            response.status = status
        if self.active is not None and self.active.id == response_id:
            self.active = None
        return response, self._next_request()

    def item_added(self, response_id: str | None, item_id: str | None) -> None:
        """A message item of the response: the one a barge-in truncates."""
        response = self.get(response_id)
        if response is not None and response.item_id is None:
            response.item_id = item_id

    def mark_synthesis(self, response: Response) -> bool:
        """True the first time only: the speaker is told once per response that it ended."""
        if response.synthesis_marked:
            return False
        response.synthesis_marked = True
        return True

    # -- audio ---------------------------------------------------------------------------------

    def audio(
        self,
        response_id: str | None,
        item_id: str | None,
        nbytes: int,
        *,
        speaker_at: int | None = None,
    ) -> AudioDecision:
        """Whether an audio delta plays: never for unknown or interrupted responses.

        ``speaker_at`` is where the delta will start on the speaker's timeline (samples
        played so far plus samples still queued); it places the response's first delta.
        """
        response = self.get(response_id)
        if response is None or response.dropped or response.done:
            return "drop"
        first = not response.has_audio
        response.has_audio = True
        response.item_id = response.item_id or item_id
        if first:
            response.start_sample = speaker_at
            if speaker_at is not None:  # no speaker: nothing waits for playout
                self._speaker.append(response)
                self._awaiting_playout.append(response)
        response.audio_bytes += nbytes
        return "first" if first else "play"

    @property
    def interruptible(self) -> bool:
        """Something a barge-in would still silence: audio on the speaker, or a live answer
        that was not interrupted already."""
        return bool(self._speaker) or (self.active is not None and not self.active.dropped)

    @property
    def speaking(self) -> bool:
        """A response is being generated or may still be playing."""
        return self.active is not None or bool(self._speaker)

    # -- interruption --------------------------------------------------------------------------

    def interrupt(self, position: int | None) -> list[Response]:
        """The caller barged in with the speaker at ``position``: the responses to silence.

        Each gets ``heard_ms`` from the timeline (``None`` position: no speaker, all of
        it counts as heard). Responses the caller had heard in full are left alone.
        """
        silenced: list[Response] = []
        for response in list(self._speaker):
            samples = response.samples
            if position is None or response.start_sample is None:
                heard = samples
            else:
                heard = min(max(position - response.start_sample, 0), samples)
            self._speaker.remove(response)
            if heard >= samples and response.done:
                continue
            response.dropped = True
            response.heard_ms = heard * 2 / self.bytes_per_ms
            silenced.append(response)
        active = self.active
        if active is not None and active not in silenced and not active.dropped:
            active.dropped = True
            if active.has_audio:
                active.heard_ms = active.audio_ms(self.bytes_per_ms)
            silenced.append(active)
        return silenced

    def cut(self, response: Response, *, server_truncates: bool) -> Cut:
        """What the server's copy of an interrupted response should become."""
        if server_truncates or response.item_id is None or not response.has_audio:
            return Cut("none", response.item_id)
        heard_ms = response.heard_ms or 0.0
        total_ms = response.audio_ms(self.bytes_per_ms)
        if heard_ms <= 0:
            return Cut("delete", response.item_id)
        if heard_ms >= total_ms and response.done:
            return Cut("none", response.item_id)
        return Cut("truncate", response.item_id, int(min(heard_ms, total_ms)))

    # -- function calls ------------------------------------------------------------------------

    def user_spoke(self) -> None:
        """The caller started a new turn."""
        self._user_turns += 1

    def tool_call(self, response_id: str | None, call_id: str) -> bool:
        """The model made a call; False for a duplicate or an unknown response."""
        response = self.get(response_id)
        if response is None or call_id in self._call_owner:
            return False
        response.calls[call_id] = None
        self._call_owner[call_id] = response
        return True

    def tool_output(self, call_id: str, output: str) -> ToolBatch | None:
        """A tool finished; returns the batch once every call of its response has."""
        response = self._call_owner.get(call_id)
        if response is None:
            return None
        response.calls[call_id] = output
        return self.tools_ready(response)

    def tools_ready(self, response: Response) -> ToolBatch | None:
        """The outputs to send, once the response is done and all its tools have run.

        Outputs go after ``response.done``: sent earlier, the follow-up
        ``response.create`` would meet a live response.
        """
        if not response.done or response.calls_answered or not response.calls:
            return None
        if any(output is None for output in response.calls.values()):
            return None
        response.calls_answered = True
        for call_id in response.calls:
            self._call_owner.pop(call_id, None)
        outputs = [(call_id, output or "") for call_id, output in response.calls.items()]
        return ToolBatch(response, outputs, follow_up=response.user_turn == self._user_turns)

    # -- transcripts ---------------------------------------------------------------------------

    def transcript_delta(self, response_id: str | None, delta: str) -> str | None:
        """Accumulate an agent transcript delta; returns the text so far (None if dropped)."""
        response = self.get(response_id)
        if response is None:
            return None
        response.transcript += delta
        return response.transcript

    def transcript_done(
        self, response_id: str | None, text: str, *, wait_for_playout: bool
    ) -> list[tuple[Response, str]]:
        """The full agent text is known; returns transcripts that are final now."""
        response = self.get(response_id)
        if response is None:
            return []
        response.final_text = text
        if not wait_for_playout or not response.has_audio or response.heard_ms is not None:
            return self._finalize([response])
        return []

    def playout_finished(self) -> list[tuple[Response, str]]:
        """The speaker went idle: everything done so far was heard in full."""
        finished = [r for r in self._awaiting_playout if r.done or r.heard_ms is not None]
        self._speaker = [r for r in self._speaker if not r.done]
        return self._finalize(finished)

    def flush_transcripts(self) -> list[tuple[Response, str]]:
        """Finalize whatever is pending (new user turn, or closing)."""
        return self._finalize([r for r in self._awaiting_playout if r.final_text is not None])

    def _finalize(self, responses: list[Response]) -> list[tuple[Response, str]]:
        ready = []
        for response in responses:
            if response.transcript_emitted or response.final_text is None:
                continue
            text = response.final_text
            if response.heard_ms is not None:
                text = cut_text(text, response.heard_ms, response.audio_ms(self.bytes_per_ms))
            response.transcript_emitted = True
            if response in self._awaiting_playout:
                self._awaiting_playout.remove(response)
            if text:
                ready.append((response, text))
        return ready
