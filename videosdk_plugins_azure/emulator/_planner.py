"""What the next response says: the script, bound to the conversation.

The emulator is not a model, so "deciding a response" means finding which scripted
turn it answers and how far that turn has got. A turn's first response may be
function calls (then it waits for the client's outputs) or MCP calls needing
approval (then it waits for the client's answers); the response after that
speaks the turn's reply with what came back. This module keeps those waits and
turns them into a :class:`~._plan.ResponsePlan`. It is pure: no socket, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._context import EmulatorSettings
from ._conversation import Conversation
from ._mcp import McpStep, approved_steps, first_steps
from ._plan import ActiveResponse, ResponsePlan
from ._scenario import ReplyContext
from ._turns import PendingTurn, ToolTurnRegistry

__all__ = ["ResponsePlanner"]

_ANSWERS = frozenset({"message", "function_call", "function_call_output"})
"""Item types that, from the assistant, answer the user message before them."""

Params = Mapping[str, Any]


class ResponsePlanner:
    """Binds user messages to scripted turns and plans the responses that answer them."""

    def __init__(
        self,
        conversation: Conversation,
        settings: EmulatorSettings,
        tool_turns: ToolTurnRegistry,
    ) -> None:
        self._conversation = conversation
        self._settings = settings
        self._tool_turns = tool_turns
        self._turns_by_item: dict[str, PendingTurn] = {}
        self._answered: set[str] = set()
        """User items a planned response answered (one id a turn, so it stays small)."""
        self.tool_turn: PendingTurn | None = None
        """The turn whose function calls went out last, until its reply is planned."""
        self._mcp_turn: PendingTurn | None = None
        self._approvals: dict[str, bool] = {}
        self._fillers_sent = 0

    # -- what the client tells us ---------------------------------------------------------

    def bind(self, item_id: str, turn: PendingTurn) -> None:
        """The scripted turn of a user item the server committed from audio."""
        self._turns_by_item[item_id] = turn

    def note_client_item(self, item: Mapping[str, Any]) -> bool:
        """Take note of what a client item means for a waiting turn.

        True when it was the last output the tool turn waited for: a filler is no
        longer needed.
        """
        hook = _ITEM_HOOKS.get(str(item.get("type")))
        return hook(self, item) if hook is not None else False

    def _note_call_output(self, item: Mapping[str, Any]) -> bool:
        turn = self.tool_turn
        call_id = str(item.get("call_id"))
        if turn is None or call_id not in turn.open_calls:
            # the call was made on an earlier connection (the client reconnected)
            turn = self._tool_turns.get(call_id)
            if turn is not None:
                self.tool_turn = turn
        if turn is None or call_id not in turn.open_calls:
            return False
        turn.open_calls[call_id] = str(item.get("output", ""))
        return not turn.waiting_for_outputs

    def _note_approval(self, item: Mapping[str, Any]) -> bool:
        """The client's answer to an ``mcp_approval_request``, used by the next response.

        Kept per request id rather than on the waiting turn: a client may answer
        as soon as it sees the request, before that response is done.
        """
        self._approvals[str(item["approval_request_id"])] = bool(item["approve"])
        return False

    def await_client(self, response: ActiveResponse) -> PendingTurn | None:
        """After a completed response, note what its turn now waits for from the client.

        Function calls wait for their outputs; the turn is returned, as a filler
        may cover the wait. MCP approval requests wait for the client's answers.
        """
        waiting: PendingTurn | None = None
        turn = self.tool_turn
        if response.plan.calls and turn is not None:
            turn.open_calls = {
                item["call_id"]: None
                for item in response.output
                if item.get("type") == "function_call"
            }
            self._tool_turns.register(turn)
            waiting = turn
        if response.approval_requests and self._mcp_turn is not None:
            self._mcp_turn.mcp.requests = dict(response.approval_requests)
        return waiting

    # -- planning -------------------------------------------------------------------------

    def base_plan(self, params: Params, session: Mapping[str, Any]) -> ResponsePlan:
        """A plan with the response settings in force and nothing to say yet."""
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
            input_tokens=self._estimate_input_tokens(_instructions(params, session)),
        )

    def plan(self, params: Params, session: Mapping[str, Any]) -> ResponsePlan:
        """Decide what the next response says, from the script and the conversation.

        In order: a pre-generated message is said as given; a tool turn with
        outputs gets its reply; an MCP turn with answers runs what was approved;
        otherwise the newest unanswered user message gets its scripted turn.
        """
        plan = self.base_plan(params, session)
        instructions = _instructions(params, session)
        pregenerated = params.get("pre_generated_assistant_message")
        if pregenerated:
            plan.text = str(pregenerated["content"][0]["text"])
            return plan
        tools = params.get("tools", session.get("tools"))
        tool_choice = params.get("tool_choice", session.get("tool_choice", "auto"))
        tool_turn = self.tool_turn
        if tool_turn is not None and tool_turn.has_outputs:
            self.tool_turn = None
            self._tool_turns.release(tool_turn)
            ctx = tool_turn.reply_context(instructions, tool_outputs=tool_turn.outputs)
            plan.text = self._render(tool_turn, ctx)
            return plan
        mcp_turn = self._mcp_turn
        if mcp_turn is not None and any(r in self._approvals for r in mcp_turn.mcp.requests):
            self._mcp_turn = None
            steps, denied = approved_steps(mcp_turn.mcp.requests, self._approvals, tools)
            if tool_choice == "none":
                steps = []
            return self._plan_mcp(plan, mcp_turn, steps, denied, instructions)
        return self._plan_user_turn(plan, instructions, tools, tool_choice)

    def _plan_user_turn(
        self, plan: ResponsePlan, instructions: Any, tools: Any, tool_choice: Any
    ) -> ResponsePlan:
        pending = self._take_user_turn()
        if pending is None:
            ctx = ReplyContext(-1, None, instructions)
            plan.text = self._settings.scenario.render_reply(None, ctx)
            return plan
        if pending.turn.calls and tool_choice != "none":
            if pending.turn.mcp_calls:
                steps, denied = first_steps(
                    pending.turn.mcp_calls, tools, can_ask=plan.in_conversation
                )
                return self._plan_mcp(plan, pending, steps, denied, instructions)
            plan.calls = list(pending.turn.function_calls)
            self.tool_turn = pending
            return plan
        plan.text = self._render(pending, pending.reply_context(instructions))
        return plan

    def _plan_mcp(
        self,
        plan: ResponsePlan,
        turn: PendingTurn,
        steps: Sequence[McpStep],
        denied: Sequence[str],
        instructions: Any,
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
        plan.text = self._render(turn, ctx)
        return plan

    def filler_plan(
        self, turn: PendingTurn, texts: Sequence[str], session: Mapping[str, Any]
    ) -> ResponsePlan | None:
        """The interim words for a tool wait, if ``turn`` still waits for outputs.

        One filler per wait; successive waits cycle through ``texts``.
        """
        if self.tool_turn is not turn or not turn.waiting_for_outputs:
            return None
        plan = self.base_plan({}, session)
        plan.text = texts[self._fillers_sent % len(texts)]
        plan.metadata = {"interim": "true"}
        self._fillers_sent += 1
        return plan

    def _render(self, pending: PendingTurn, ctx: ReplyContext) -> str:
        return self._settings.scenario.render_reply(pending.turn.reply, ctx)

    def _take_user_turn(self) -> PendingTurn | None:
        """The newest user message not answered yet, bound to its scripted turn.

        A server-made answer was attributed when it was planned, so it is
        skipped: it may land after a later user message (a client re-asks an
        earlier question while the caller speaks again) without answering it.
        A client-created answer after a user message marks it as history, e.g.
        replayed by a client that reconnected.
        """
        for item in reversed(self._conversation.items):
            item_id = str(item["id"])
            if item.get("type") in _ANSWERS and item.get("role", "assistant") == "assistant":
                if self._conversation.made_by_server(item_id):
                    continue
                return None
            if item.get("type") == "message" and item.get("role") == "user":
                if item_id in self._answered:
                    return None
                self._answered.add(item_id)
                pending = self._turns_by_item.pop(item_id, None)
                if pending is None:
                    index, turn = self._settings.scenario.next_turn()
                    pending = PendingTurn(index, turn, self._conversation.user_text(item))
                return pending
        return None

    def _estimate_input_tokens(self, instructions: Any) -> int:
        chars = len(instructions) if isinstance(instructions, str) else 0
        for item in self._conversation.items:
            chars += len(self._conversation.user_text(item) or "")
        return math.ceil(chars / 4)


def _instructions(params: Params, session: Mapping[str, Any]) -> Any:
    """The instructions in force: the response's own, else the session's."""
    return params.get("instructions", session.get("instructions"))


_ITEM_HOOKS: dict[str, Callable[[ResponsePlanner, Mapping[str, Any]], bool]] = {
    "function_call_output": ResponsePlanner._note_call_output,
    "mcp_approval_response": ResponsePlanner._note_approval,
}
"""Client item type → what its creation means for a waiting turn."""
