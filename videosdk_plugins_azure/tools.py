"""Function tools: declaring the agent's tools to Voice Live and running the model's calls.

The rule users care about: **every call gets an answer.** A tool that does not
exist, arguments that are not JSON or do not fit the schema, an exception, a tool
that hangs: each still produces a ``function_call_output`` (a short error, never a
traceback), because a call without an output leaves the model waiting and the caller
in silence.

Tools run outside the receive loop (the caller of :meth:`ToolRunner.run` puts each
call in its own task), under a timeout. Sync tools run in a worker thread so a
blocking tool cannot freeze the call; a timed-out thread cannot be killed, so it is
abandoned and its late result ignored.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from azure.ai.voicelive import models as vl
from videosdk.agents import Agent, ChatRole
from videosdk.agents.utils import ToolError, build_openai_schema, get_tool_info, is_function_tool

__all__ = [
    "DEFAULT_TOOL_TIMEOUT",
    "ToolResult",
    "ToolRunner",
    "decide_approval",
    "hand_off",
    "serialize",
]

log = logging.getLogger("videosdk_plugins_azure")

DEFAULT_TOOL_TIMEOUT = 30.0
_MAX_ERROR_CHARS = 300
_JSON_TYPES: Mapping[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


@dataclass(frozen=True)
class ToolResult:
    """What one call produced, ready for the model and for the framework's events."""

    call_id: str
    name: str
    arguments: str
    output: str
    is_error: bool
    started: float
    ended: float
    handoff: Any = None
    """The ``Agent`` the tool returned: the call moves to that agent (a handoff)."""

    def event(self) -> dict[str, Any]:
        """The ``realtime_model_function_executed`` payload the pipeline reads."""
        return {
            "name": self.name,
            "call_id": self.call_id,
            "arguments": self.arguments or "{}",
            "output": self.output,
            "is_error": self.is_error,
        }


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_ERROR_CHARS else text[: _MAX_ERROR_CHARS - 1] + "…"


def serialize(result: Any) -> str:
    """A tool's return value as the string the model reads (JSON when possible)."""
    if isinstance(result, str):
        return result
    try:
        return json.dumps(result, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(result)


def _defaults(tool: Any) -> set[str]:
    """Parameters the Python function can do without (the framework marks them required)."""
    try:
        signature = inspect.signature(tool)
    except (TypeError, ValueError):
        return set()
    return {n for n, p in signature.parameters.items() if p.default is not inspect.Parameter.empty}


def _type_ok(value: Any, expected: Any) -> bool:
    kinds = expected if isinstance(expected, list) else [expected]
    for kind in kinds:
        types = _JSON_TYPES.get(kind) if isinstance(kind, str) else None
        if types is None:
            return True  # a type this check does not know: let the tool decide
        if isinstance(value, bool) and kind in ("integer", "number"):
            continue
        if isinstance(value, types):
            return True
    return False


@dataclass(frozen=True)
class _Tool:
    name: str
    function: Any
    schema: dict[str, Any]
    optional: frozenset[str]

    @property
    def parameters(self) -> dict[str, Any]:
        params = self.schema.get("parameters")
        return params if isinstance(params, dict) else {}

    def check(self, arguments: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        """Arguments the function accepts, or the reason they do not fit the schema.

        Keys the schema does not know are dropped (models add them now and then);
        a missing required key or a wrongly typed value is an error the model can fix.
        """
        properties = self.parameters.get("properties")
        if not isinstance(properties, dict) or not properties:
            accepts_any = self.parameters.get("additionalProperties", True) is not False
            return (arguments if accepts_any else {}), None
        kept = {k: v for k, v in arguments.items() if k in properties}
        dropped = sorted(set(arguments) - set(kept))
        if dropped:
            log.debug("tool %s: ignoring unknown arguments %s", self.name, dropped)
        missing = [
            k
            for k in self.parameters.get("required", [])
            if k not in kept and k not in self.optional
        ]
        if missing:
            return kept, f"missing required argument(s): {', '.join(missing)}"
        for key, value in kept.items():
            spec = properties.get(key)
            if isinstance(spec, dict) and "type" in spec and not _type_ok(value, spec["type"]):
                return kept, f"argument {key!r} must be of type {spec['type']}"
            if isinstance(spec, dict) and "enum" in spec and value not in spec["enum"]:
                return kept, f"argument {key!r} must be one of {spec['enum']}"
        return kept, None


class ToolRunner:
    """The agent's function tools, as Voice Live declarations and as calls to run."""

    def __init__(self, tools: Sequence[Any] = (), *, timeout: float = DEFAULT_TOOL_TIMEOUT) -> None:
        if timeout <= 0:
            raise ValueError("tool_timeout must be positive")
        self.timeout = timeout
        self._tools: dict[str, _Tool] = {}
        self.fingerprint: tuple[int, ...] = tuple(id(t) for t in tools)
        for tool in tools:
            if not is_function_tool(tool):
                log.warning("skipping %r: not a function tool", tool)
                continue
            schema = dict(build_openai_schema(tool))
            optional = frozenset(_defaults(tool))
            params = schema.get("parameters")
            if isinstance(params, dict) and isinstance(params.get("required"), list):
                schema["parameters"] = {
                    **params,
                    "required": [r for r in params["required"] if r not in optional],
                }
            name = get_tool_info(tool).name
            if name in self._tools:
                log.warning("duplicate tool name %r: the later definition wins", name)
            self._tools[name] = _Tool(name, tool, schema, optional)

    @classmethod
    def for_agent(cls, agent: Any, *, timeout: float = DEFAULT_TOOL_TIMEOUT) -> ToolRunner:
        return cls(list(getattr(agent, "tools", None) or []), timeout=timeout)

    def __len__(self) -> int:
        return len(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def declarations(self) -> list[vl.FunctionTool]:
        """The tools as Voice Live ``FunctionTool``s for ``session.update``."""
        return [
            vl.FunctionTool(
                name=tool.name,
                description=str(tool.schema.get("description") or "").strip() or None,
                parameters=tool.parameters or {"type": "object", "properties": {}},
            )
            for tool in self._tools.values()
        ]

    async def run(self, call_id: str, name: str, arguments: str) -> ToolResult:
        """Run one call; never raises: every failure becomes an error output."""
        started = time.perf_counter()
        output, is_error = await self._run(name, arguments)
        handoff = None
        if isinstance(output, Agent):
            handoff, output = output, f"Transferred to {type(output).__name__}"
        elif not isinstance(output, str):
            output = serialize(output)
        return ToolResult(
            call_id, name, arguments, output, is_error, started, time.perf_counter(), handoff
        )

    async def _run(self, name: str, arguments: str) -> tuple[Any, bool]:
        """The tool's value (or an error text) and whether it failed."""
        tool = self._tools.get(name)
        if tool is None:
            known = ", ".join(sorted(self._tools)) or "none"
            return f"Error: unknown tool {name!r} (available: {known})", True
        try:
            parsed = json.loads(arguments) if arguments and arguments.strip() else {}
        except ValueError as exc:
            return f"Error: the arguments are not valid JSON ({_short(str(exc))})", True
        if not isinstance(parsed, dict):
            return "Error: the arguments must be a JSON object", True
        kwargs, problem = tool.check(parsed)
        if problem is not None:
            return f"Error: {problem}", True
        try:
            async with asyncio.timeout(self.timeout):
                result = await self._call(tool.function, kwargs)
        except TimeoutError:
            log.warning("tool %s timed out after %gs", name, self.timeout)
            return f"Error: the tool {name!r} did not finish within {self.timeout:g} s", True
        except asyncio.CancelledError:
            raise
        except ToolError as exc:
            return f"Error: {_short(str(exc))}", True
        except Exception as exc:
            log.warning("tool %s raised %s: %s", name, type(exc).__name__, _short(str(exc)))
            return f"Error: {type(exc).__name__}: {_short(str(exc))}", True
        return result, False

    @staticmethod
    async def _call(function: Any, kwargs: dict[str, Any]) -> Any:
        if inspect.iscoroutinefunction(function):
            return await function(**kwargs)
        result = await asyncio.to_thread(function, **kwargs)
        if inspect.isawaitable(result):
            return await result
        return result


async def decide_approval(
    callback: Callable[[Any], Awaitable[bool]] | None, request: Any, timeout: float
) -> bool:
    """The app's answer to a server-side MCP call; no callback, a failure or a hang is a no."""
    if callback is None:
        log.info(
            "MCP call %s on %s denied: no approval callback (pass mcp_approval=... to "
            "AzureVoiceLive, or set require_approval='never' for trusted tools)",
            request.name,
            request.server_label,
        )
        return False
    try:
        async with asyncio.timeout(timeout):
            return bool(await callback(request))
    except Exception as exc:
        log.warning("MCP approval callback failed (%s); denying", type(exc).__name__)
        return False


def hand_off(current: Any, new: Any) -> None:
    """Make ``new`` the session's agent, as the framework's cascade pipeline does.

    A realtime model runs its own tools, so the framework never sees a tool that
    returns an ``Agent``; this does its part: the chat context carries over when the
    new agent inherits it, and ``pipeline.set_agent`` reaches the model, which then
    sends the new agent's instructions and tools to the live session.
    """
    session = getattr(current, "session", None)
    log.info("agent handoff: %s -> %s", type(current).__name__, type(new).__name__)
    if getattr(new, "inherit_context", True) and current is not None:
        new.chat_context = current.chat_context
        new.chat_context.add_message(role=ChatRole.SYSTEM, content=new.instructions, replace=True)
    new.session = session
    if session is None:
        return
    session.agent = new
    set_agent = getattr(session.pipeline, "set_agent", None)
    if set_agent is not None:
        set_agent(new)
