"""The framework's ``Agent`` as the call sees it: instructions, tools, runs and approvals.

The framework tells a realtime model nothing when ``agent.instructions`` is set
or ``agent.update_tools()`` is called, so the agent is read at turn boundaries
and on the call's clock, and whatever changed is handed to the core, which sends
the session when nobody is speaking. Tool calls and MCP approvals run here, in
tasks the adapter owns; their results go back to the core as effects.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from .core import CallCore, Effect, McpApprovalRequest
from .core import effects as fx
from .tools import ToolRunner, decide_approval, hand_off

__all__ = ["AgentLink", "McpApproval"]

McpApproval = Callable[[McpApprovalRequest], Awaitable[bool]]


class AgentLink:
    def __init__(
        self, core: CallCore, *, tool_timeout: float, approval: McpApproval | None
    ) -> None:
        self._core = core
        self._timeout = tool_timeout
        self._approval = approval
        self.agent: Any = None
        self.tools = ToolRunner(timeout=tool_timeout)

    def attach(self, agent: Any) -> list[Effect]:
        """``set_agent``: twice before connect (idempotent), and again on a handoff."""
        self.agent = agent
        return self.sync(force=True)

    def sync(self, *, force: bool = False) -> list[Effect]:
        """What changed on the agent since the last look, as the core's effects."""
        agent = self.agent
        if agent is None:
            return []
        effects: list[Effect] = []
        tools = list(getattr(agent, "tools", None) or [])
        if force or tuple(id(t) for t in tools) != self.tools.fingerprint:
            self.tools = ToolRunner(tools, timeout=self._timeout)
            effects += self._core.set_tools(self.tools.declarations())
        effects += self._core.set_instructions(getattr(agent, "instructions", None))
        return effects

    async def run_tool(self, call: fx.StartTool) -> list[Effect]:
        result = await self.tools.run(call.call_id, call.name, call.arguments)
        if result.handoff is not None:
            hand_off(self.agent, result.handoff)
        return self._core.tool_finished(result)

    async def approve(self, request: McpApprovalRequest) -> list[Effect]:
        approved = await decide_approval(self._approval, request, self._timeout)
        return self._core.approval_decided(request, approved)
