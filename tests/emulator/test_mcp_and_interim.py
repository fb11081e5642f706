"""Server-side MCP tools and static interim (filler) responses, driven by the real SDK."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from azure.ai.voicelive import models as m

from videosdk_plugins_azure.emulator import (
    FunctionCall,
    McpCall,
    ReplyContext,
    Scenario,
    Turn,
    VoiceLiveEmulator,
    echo_reply,
)

from .conftest import KEY, recv_until, sdk, types

DOCS = "https://mcp.example.com/docs"
UNTYPED = {"rate_limits.updated"}  # documented, but not in the SDK's event table
MESSAGE_END = [
    "response.audio.done",
    "response.audio_transcript.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.done",
]
WEATHER_TOOL = m.FunctionTool(
    name="get_weather",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}},
)


def server(label: str = "docs", url: str = DOCS, **options: Any) -> m.MCPServer:
    return m.MCPServer(server_label=label, server_url=url, **options)


def shape(events: list[Any]) -> list[str]:
    """Event types without the audio stream's deltas and with repeats collapsed."""
    out: list[str] = []
    for t in types(events):
        if t in {"response.audio.delta", "response.audio_transcript.delta"}:
            continue
        if t.endswith(".delta") and out and out[-1] == t:
            continue
        out.append(t)
    return out


def assert_typed(events: list[Any]) -> None:
    """Every event the emulator sent has its own SDK class (none falls back to the base)."""
    loose = [e.type for e in events if type(e) is m.ServerEvent and e.type not in UNTYPED]
    assert loose == []


def transcript(events: list[Any]) -> str:
    return str(next(e for e in events if e.type == "response.audio_transcript.done").transcript)


async def mcp_session(conn: Any, *servers: m.MCPServer, **session: Any) -> list[Any]:
    """Connect, configure the MCP servers and receive their tool listings."""
    await recv_until(conn, "session.created")
    await conn.session.update(session=m.RequestSession(tools=list(servers), **session))
    events = await recv_until(conn, "session.updated")
    finished = 0
    async with asyncio.timeout(10):
        while finished < len(servers):
            events.append(await conn.recv())
            finished += events[-1].type in {"mcp_list_tools.completed", "mcp_list_tools.failed"}
    return events


async def ask(conn: Any, text: str = "go", **response: Any) -> list[Any]:
    """A text turn and its response, from ``response.created`` to ``response.done``.

    ``response`` goes out as a raw dict: the SDK's model lacks ``conversation``.
    """
    await conn.conversation.item.create(
        item=m.UserMessageItem(content=[m.InputTextContentPart(text=text)])
    )
    await recv_until(conn, "conversation.item.created")
    await conn.send({"type": "response.create", "response": response})
    return await recv_until(conn, "response.done")


async def answer_approval(conn: Any, request_id: str, approve: bool) -> list[Any]:
    """The client's approval (or denial), then ``response.create``, up to ``response.done``."""
    await conn.conversation.item.create(
        item=m.MCPApprovalResponseRequestItem(approval_request_id=request_id, approve=approve)
    )
    created = (await recv_until(conn, "conversation.item.created"))[-1]
    assert isinstance(created.item, m.ResponseMCPApprovalResponseItem)
    await conn.response.create()
    return await recv_until(conn, "response.done")


# -- scenario API ------------------------------------------------------------------------


def test_turn_rejects_mixed_calls_and_from_data_reads_mcp() -> None:
    with pytest.raises(ValueError, match="not both"):
        Turn(calls=[FunctionCall("f"), McpCall("docs", "search")])
    data = {
        "mcp_tools": {"docs": [{"name": "search", "input_schema": {"type": "object"}}]},
        "turns": [
            {"calls": [{"mcp": "docs", "name": "search", "arguments": {"q": 1}, "output": "ok"}]},
            {"calls": [{"mcp": "kb", "name": "fetch", "error": "down"}]},
        ],
    }
    scenario = Scenario.from_data(data)
    search = {"name": "search", "input_schema": {"type": "object"}}
    assert scenario.mcp_tools_for("docs") == [search]
    assert [t["name"] for t in scenario.mcp_tools_for("kb")] == ["fetch"]  # derived from the script
    assert scenario.mcp_tools_for("other") == []
    _, turn = scenario.next_turn()
    assert turn.mcp_calls == (McpCall("docs", "search", {"q": 1}, output="ok"),)
    with pytest.raises(ValueError, match=r"turn 0: .*not both"):
        Scenario.from_data([{"calls": [{"name": "f"}, {"mcp": "docs", "name": "s"}]}])
    with pytest.raises(ValueError, match="'output' must be a string"):
        Scenario.from_data([{"calls": [{"mcp": "docs", "name": "s", "output": 3}]}])


def test_echo_reply_reports_mcp_outcomes() -> None:
    ctx = ReplyContext(
        0, "hi", None, mcp_outputs={"search": "42"}, mcp_denied=["delete"], mcp_errors={"x": "e"}
    )
    assert echo_reply(ctx) == (
        "The result is 42. I could not use x. I was not allowed to use delete."
    )


# -- tool listing -------------------------------------------------------------------------


async def test_session_update_lists_each_new_server_once(emu: VoiceLiveEmulator) -> None:
    emu.scenario = Scenario(
        mcp_tools={
            "docs": [
                {"name": "search", "description": "Search.", "input_schema": {"type": "object"}},
                {"name": "delete", "description": "Delete.", "input_schema": {"type": "object"}},
            ]
        }
    )
    async with sdk(emu) as conn:
        events = await mcp_session(
            conn, server(allowed_tools=["search"]), server("broken", "https://fail.invalid/mcp")
        )
        assert_typed(events)
        listing = events[types(events).index("session.updated") + 1 :]
        assert types(listing) == [
            "mcp_list_tools.in_progress",
            "conversation.item.created",
            "mcp_list_tools.completed",
            "mcp_list_tools.in_progress",
            "conversation.item.created",
            "mcp_list_tools.failed",
        ]
        docs, broken = listing[1].item, listing[4].item
        assert isinstance(docs, m.ResponseMCPListToolItem)
        assert docs.server_label == "docs"
        assert [tool.name for tool in docs.tools] == ["search"]  # allowed_tools filters
        assert isinstance(docs.tools[0], m.MCPTool)
        assert docs.tools[0].description == "Search."
        assert listing[0].item_id == listing[2].item_id == docs.id
        assert isinstance(listing[5], m.ServerEventMcpListToolsFailed)
        assert (broken.server_label, broken.tools) == ("broken", [])
        assert listing[4].previous_item_id == docs.id
        # a later update naming the same servers plus a new one lists only the new one
        await conn.session.update(
            session=m.RequestSession(tools=[server(), server("kb", "https://kb.example.com")])
        )
        again = await recv_until(conn, "mcp_list_tools.completed")
        assert types(again)[1:] == [
            "mcp_list_tools.in_progress",
            "conversation.item.created",
            "mcp_list_tools.completed",
        ]
        assert again[2].item.server_label == "kb"


# -- MCP calls ------------------------------------------------------------------------------


async def test_call_without_approval_runs_and_speaks_in_one_response(
    emu: VoiceLiveEmulator,
) -> None:
    emu.scenario = Scenario(
        [Turn(calls=[McpCall("docs", "search", {"q": "voice live"}, output="3 pages")])]
    )
    async with sdk(emu) as conn:
        await mcp_session(conn, server(require_approval="never"))
        events = await ask(conn)
    assert_typed(events)
    assert shape(events) == [
        "response.created",
        "rate_limits.updated",
        "response.output_item.added",
        "conversation.item.created",
        "response.mcp_call_arguments.delta",
        "response.mcp_call_arguments.done",
        "response.mcp_call.in_progress",
        "response.mcp_call.completed",
        "response.output_item.done",
        "response.output_item.added",
        "conversation.item.created",
        "response.content_part.added",
        *MESSAGE_END,
    ]
    added = next(e for e in events if e.type == "response.output_item.added")
    assert isinstance(added.item, m.ResponseMCPCallItem)
    assert (added.item.arguments, added.item.output) == ("", None)
    deltas = "".join(e.delta for e in events if e.type == "response.mcp_call_arguments.delta")
    done_args = next(e for e in events if e.type == "response.mcp_call_arguments.done")
    assert isinstance(done_args, m.ServerEventResponseMcpCallArgumentsDone)
    assert deltas == done_args.arguments == '{"q":"voice live"}'
    completed = next(e for e in events if e.type == "response.mcp_call.completed")
    assert isinstance(completed, m.ServerEventResponseMcpCallCompleted)
    assert (completed.item_id, completed.output_index) == (added.item.id, 0)
    output = events[-1].response.output
    assert [item.type for item in output] == ["mcp_call", "message"]
    call = output[0]
    assert isinstance(call, m.ResponseMCPCallItem)
    assert (call.name, call.server_label, call.output, call.error) == (
        "search",
        "docs",
        "3 pages",
        None,
    )
    assert call.approval_request_id is None
    message_added = [e for e in events if e.type == "response.output_item.added"][1]
    assert message_added.output_index == 1
    assert transcript(events) == "The result is 3 pages."


async def test_approval_granted_runs_the_call_in_the_next_response(
    emu: VoiceLiveEmulator,
) -> None:
    emu.scenario = Scenario(
        [
            Turn(
                calls=[McpCall("docs", "search", {"q": "x"}, output="found it")],
                reply=lambda ctx: f"Search says {ctx.mcp_outputs['search']}.",
            )
        ]
    )
    async with sdk(emu) as conn:
        await mcp_session(conn, server())  # require_approval defaults to "always"
        first = await ask(conn)
        assert_typed(first)
        assert shape(first) == [
            "response.created",
            "rate_limits.updated",
            "response.output_item.added",
            "conversation.item.created",
            "response.output_item.done",
            "response.done",
        ]
        request = first[-1].response.output[0]
        assert isinstance(request, m.ResponseMCPApprovalRequestItem)
        assert (request.name, request.server_label, request.arguments) == (
            "search",
            "docs",
            '{"q":"x"}',
        )
        assert first[-1].response.status == "completed"
        second = await answer_approval(conn, request.id, approve=True)
    assert_typed(second)
    call = second[-1].response.output[0]
    assert isinstance(call, m.ResponseMCPCallItem)
    assert call.approval_request_id == request.id
    assert call.output == "found it"
    assert transcript(second) == "Search says found it."


async def test_approval_denied_skips_the_call(emu: VoiceLiveEmulator) -> None:
    emu.scenario = Scenario([Turn(calls=[McpCall("docs", "delete", output="gone")])])
    async with sdk(emu) as conn:
        await mcp_session(conn, server(require_approval="always"))
        first = await ask(conn)
        request_id = first[-1].response.output[0].id
        second = await answer_approval(conn, request_id, approve=False)
    assert "mcp_call" not in [item.type for item in second[-1].response.output]
    assert not [t for t in types(second) if t.startswith("response.mcp_call")]
    assert transcript(second) == "I was not allowed to use delete."


async def test_per_name_approval_runs_the_trusted_tool_first(emu: VoiceLiveEmulator) -> None:
    seen: list[ReplyContext] = []
    emu.scenario = Scenario(
        [
            Turn(
                calls=[
                    McpCall("docs", "search", output="a doc"),
                    McpCall("docs", "delete", {"id": 7}, output="deleted"),
                ],
                reply=lambda ctx: seen.append(ctx) or "Done.",
            )
        ]
    )
    policy = {"never": ["search"], "always": ["delete"]}
    async with sdk(emu) as conn:
        await mcp_session(conn, server(require_approval=policy))
        first = await ask(conn)
        assert [i.type for i in first[-1].response.output] == ["mcp_call", "mcp_approval_request"]
        assert "response.content_part.added" not in types(first)  # no message while waiting
        request = first[-1].response.output[1]
        assert request.name == "delete"
        second = await answer_approval(conn, request.id, approve=True)
    assert [i.type for i in second[-1].response.output] == ["mcp_call", "message"]
    assert second[-1].response.output[0].name == "delete"
    assert seen[-1].mcp_outputs == {"search": "a doc", "delete": "deleted"}
    assert list(seen[-1].mcp_denied) == []


async def test_failing_calls_report_their_error(emu: VoiceLiveEmulator) -> None:
    emu.scenario = Scenario(
        [
            Turn(
                calls=[
                    McpCall("docs", "search", error="timeout"),
                    McpCall("nowhere", "lookup", output="never seen"),
                ]
            )
        ]
    )
    async with sdk(emu) as conn:
        await mcp_session(conn, server(require_approval="never"))
        events = await ask(conn)
    assert_typed(events)
    failed = [e for e in events if e.type == "response.mcp_call.failed"]
    assert len(failed) == 2
    assert isinstance(failed[0], m.ServerEventResponseMcpCallFailed)
    assert "response.mcp_call.completed" not in types(events)
    calls = events[-1].response.output[:2]
    assert [(c.error, c.output) for c in calls] == [("timeout", None), ("unknown server", None)]
    assert [c.id for c in calls] == [f.item_id for f in failed]
    assert transcript(events) == "I could not use search, lookup."


async def test_tool_choice_none_makes_no_mcp_calls(emu: VoiceLiveEmulator) -> None:
    emu.scenario = Scenario([Turn(calls=[McpCall("docs", "search")], reply="Not now.")])
    async with sdk(emu) as conn:
        await mcp_session(conn, server(require_approval="never"))
        events = await ask(conn, tool_choice="none")
    assert [i.type for i in events[-1].response.output] == ["message"]
    assert transcript(events) == "Not now."


async def test_out_of_band_response_runs_calls_outside_the_conversation(
    emu: VoiceLiveEmulator,
) -> None:
    emu.scenario = Scenario([Turn(calls=[McpCall("docs", "search", output="ok")])])
    async with sdk(emu) as conn:
        await mcp_session(conn, server(require_approval="never"))
        events = await ask(conn, conversation="none")
    assert "conversation.item.created" not in types(events)
    assert [i.type for i in events[-1].response.output] == ["mcp_call", "message"]
    record = emu.connections[0]
    created = record.events("conversation.item.created", source="server")
    assert [e["item"]["type"] for e in created] == ["mcp_list_tools", "message"]  # list + user


async def test_cancel_while_an_mcp_call_runs() -> None:
    scenario = Scenario([Turn(calls=[McpCall("docs", "search", output="late")])])
    async with (
        VoiceLiveEmulator(
            api_key=KEY, speed=1.0, tts="synthetic", scenario=scenario, model_latency=0
        ) as emu,
        sdk(emu) as conn,
    ):
        await mcp_session(conn, server(require_approval="never"))
        await conn.conversation.item.create(
            item=m.UserMessageItem(content=[m.InputTextContentPart(text="go")])
        )
        await conn.response.create()
        events = await recv_until(conn, "response.mcp_call.in_progress")
        await conn.response.cancel()
        events += await recv_until(conn, "response.done")
    assert shape(events)[-2:] == ["response.output_item.done", "response.done"]
    assert "response.mcp_call.completed" not in types(events)
    done = events[-1].response
    assert (done.status, done.status_details.reason) == ("cancelled", "client_cancelled")
    assert [(i.type, i.get("status")) for i in done.output] == [("mcp_call", "incomplete")]
    assert done.output[0].output is None


# -- interim responses ------------------------------------------------------------------------


def filler_session(texts: list[str], spelling: str = "static_interim_response") -> dict[str, Any]:
    return {
        "tools": [WEATHER_TOOL.as_dict()],
        "interim_response": {
            "type": spelling,
            "triggers": ["tool"],
            "latency_threshold_ms": 200,
            "texts": texts,
        },
    }


async def call_weather(conn: Any) -> Any:
    """A turn that ends on a function call; returns the ``function_call`` item."""
    events = await ask(conn, "weather?")
    call = events[-1].response.output[0]
    assert isinstance(call, m.ResponseFunctionCallItem)
    return call


@pytest.mark.parametrize("spelling", ["static_interim_response", "static-interim-response"])
async def test_filler_covers_a_slow_tool(emu: VoiceLiveEmulator, spelling: str) -> None:
    weather = Turn(calls=[FunctionCall("get_weather", {"city": "Oslo"})], reply="Snowing.")
    emu.scenario = Scenario([weather, weather])
    texts = ["One moment, please.", "Still checking."]
    async with sdk(emu) as conn:
        await recv_until(conn, "session.created")
        await conn.session.update(session=filler_session(texts, spelling))
        await recv_until(conn, "session.updated")
        loop = asyncio.get_running_loop()
        fillers = []
        for _ in range(2):
            call = await call_weather(conn)
            t0 = loop.time()
            filler = await recv_until(conn, "response.done", timeout=3)
            assert loop.time() - t0 >= 0.15
            fillers.append(filler)
            if len(fillers) == 1:  # one filler per wait, however long the tool takes
                with pytest.raises(TimeoutError):
                    await recv_until(conn, "response.created", timeout=0.3)
            await conn.conversation.item.create(
                item=m.FunctionCallOutputItem(call_id=call.call_id, output="snow")
            )
            await recv_until(conn, "conversation.item.created")
            await conn.response.create()
            assert transcript(await recv_until(conn, "response.done")) == "Snowing."
    for filler, text in zip(fillers, texts, strict=True):
        created = next(e for e in filler if e.type == "response.created")
        assert created.response.metadata == {"interim": "true"}
        assert filler[-1].response.status == "completed"
        assert transcript(filler) == text  # round-robin over the texts


async def test_output_before_the_threshold_prevents_the_filler(emu: VoiceLiveEmulator) -> None:
    emu.scenario = Scenario(
        [Turn(calls=[FunctionCall("get_weather", {"city": "Rome"})], reply="Sunny.")]
    )
    async with sdk(emu) as conn:
        await recv_until(conn, "session.created")
        await conn.session.update(session=filler_session(["Hold on."]))
        await recv_until(conn, "session.updated")
        call = await call_weather(conn)
        await conn.conversation.item.create(
            item=m.FunctionCallOutputItem(call_id=call.call_id, output="sun")
        )
        await recv_until(conn, "conversation.item.created")
        with pytest.raises(TimeoutError):
            await recv_until(conn, "response.created", timeout=0.4)
        await conn.response.create()
        answer = await recv_until(conn, "response.done")
    assert transcript(answer) == "Sunny."
    assert answer[-1].response.metadata is None


async def test_no_filler_without_the_tool_trigger(emu: VoiceLiveEmulator) -> None:
    emu.scenario = Scenario([Turn(calls=[FunctionCall("get_weather", {"city": "Rome"})])])
    session = filler_session(["Hold on."])
    session["interim_response"]["triggers"] = ["latency"]
    async with sdk(emu) as conn:
        await recv_until(conn, "session.created")
        await conn.session.update(session=session)
        await recv_until(conn, "session.updated")
        await call_weather(conn)
        with pytest.raises(TimeoutError):
            await recv_until(conn, "response.created", timeout=0.4)
