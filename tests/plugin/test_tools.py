"""Function tools inside the real Pipeline: declared, run off the receive loop, always answered."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest
from videosdk.agents import Agent, function_tool

from videosdk_plugins_azure import AzureVoiceLive, AzureVoiceLiveConfig
from videosdk_plugins_azure.emulator import FunctionCall, Turn, VoiceLiveEmulator

from .conftest import KEY, caller, make_model, room_with


class ToolAgent(Agent):
    """An agent with an async tool, a sync tool, a slow one and one that breaks."""

    def __init__(self) -> None:
        super().__init__(instructions="You help with the weather and the time.")
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.sync_threads: list[int] = []

    async def on_enter(self) -> None:
        return None

    async def on_exit(self) -> None:
        return None

    @function_tool
    async def get_weather(self, city: str, unit: str = "celsius") -> dict[str, Any]:
        """Current weather for a city.

        Args:
            city: the city name
            unit: celsius or fahrenheit
        """
        self.calls.append(("get_weather", {"city": city, "unit": unit}))
        return {"city": city, "temperature": 21, "unit": unit, "sky": "sunny"}

    @function_tool
    def get_time(self, timezone: str) -> str:
        """The time in a timezone."""
        self.sync_threads.append(threading.get_ident())
        self.calls.append(("get_time", {"timezone": timezone}))
        return f"It is 10:42 in {timezone}"

    @function_tool
    async def slow_lookup(self, query: str) -> str:
        """A lookup that takes a while."""
        await asyncio.sleep(2.0)
        return f"found {query}"

    @function_tool
    async def broken(self, x: int) -> str:
        """Always fails."""
        raise RuntimeError("database is down")


def _temperature(ctx: Any) -> Any:
    return json.loads(next(iter(ctx.tool_outputs.values())))["temperature"]


def outputs(emu: VoiceLiveEmulator) -> list[dict[str, Any]]:
    return [
        e["item"]
        for e in emu.last_connection.events("conversation.item.create")
        if e["item"]["type"] == "function_call_output"
    ]


def client_types_after(emu: VoiceLiveEmulator, start: int) -> list[str]:
    return [
        e["type"]
        for e in emu.last_connection.client_events[start:]
        if e["type"] != "input_audio_buffer.append"
    ]


async def test_tools_are_declared_from_the_agent(emu: VoiceLiveEmulator) -> None:
    async with room_with(emu, agent=ToolAgent()):
        session = emu.last_connection.events("session.update")[0]["session"]
    tools = {t["name"]: t for t in session["tools"]}
    assert set(tools) == {"get_weather", "get_time", "slow_lookup", "broken"}
    weather = tools["get_weather"]
    assert weather["type"] == "function"
    assert weather["description"].startswith("Current weather for a city.")
    assert weather["parameters"]["properties"]["city"]["type"] == "string"
    assert weather["parameters"]["required"] == ["city"]  # `unit` has a default


async def test_a_spoken_question_runs_a_tool_and_the_answer_follows(emu: VoiceLiveEmulator) -> None:
    agent = ToolAgent()
    turn = Turn(
        user="what's the weather in Paris",
        calls=[FunctionCall("get_weather", {"city": "Paris"})],
        reply=lambda ctx: f"It is {_temperature(ctx)} degrees in Paris.",
    )
    async with room_with(emu, turn, agent=agent) as room:
        await room.play(await caller("What's the weather in Paris?"), rate=24000)
        await room.play_silence(1.0)
        await room.wait_for(
            lambda: ("assistant", "It is 21 degrees in Paris.") in room.chat_items(),
            timeout=20,
            what="answer",
        )
        assert agent.calls == [("get_weather", {"city": "Paris", "unit": "celsius"})]
        kinds = [kind for kind, _ in room.chat_items()]
        assert "function_call" in kinds
        assert "function_call_output" in kinds
        assert kinds.index("function_call") < kinds.index("function_call_output")
        executed = room.payloads("realtime_model_function_executed")
        assert executed[0]["name"] == "get_weather"
        assert executed[0]["is_error"] is False
        assert json.loads(executed[0]["output"])["sky"] == "sunny"
        await room.wait_for_event("agent_speech_ended", timeout=20)
        assert room.voiced_ms() > 500  # the answer was spoken
        await room.wait_for_event("TURN_METRICS_ADDED", timeout=20)
        metrics = room.payloads("TURN_METRICS_ADDED")[-1]["metrics"]
        assert metrics["functionToolsCalled"] == ["get_weather"]


async def test_parallel_calls_get_all_outputs_then_one_response_create(
    emu: VoiceLiveEmulator,
) -> None:
    agent = ToolAgent()
    turn = Turn(
        calls=[
            FunctionCall("get_weather", {"city": "Oslo"}),
            FunctionCall("get_time", {"timezone": "CET"}),
        ],
        reply="Oslo is sunny and it is 10:42.",
    )
    async with room_with(emu, turn, agent=agent) as room:
        await asyncio.wait_for(
            room.session.reply(instructions="weather and time in Oslo"), timeout=20
        )
        conn = emu.last_connection
        created = conn.events("response.create")
        assert len(created) == 2  # the question's, then exactly one for both outputs
        done_calls = conn.events("response.done", source="server")[0]
        call_ids = [o["call_id"] for o in done_calls["response"]["output"]]
        assert [o["call_id"] for o in outputs(emu)] == call_ids
        events = [e["type"] for e in conn.client_events if e["type"] != "input_audio_buffer.append"]
        last_output = max(i for i, t in enumerate(events) if t == "conversation.item.create")
        assert events[last_output + 1] == "response.create"
        assert ("assistant", "Oslo is sunny and it is 10:42.") in room.chat_items()
        assert agent.sync_threads
        assert threading.get_ident() not in agent.sync_threads  # the sync tool ran off the loop
        assert conn.events("error", source="server") == []


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (FunctionCall("no_such_tool", {}), "unknown tool 'no_such_tool'"),
        (FunctionCall("get_weather", "{not json"), "not valid JSON"),
        (FunctionCall("get_weather", "[1, 2]"), "must be a JSON object"),
        (FunctionCall("get_weather", {"town": "Rome"}), "missing required argument(s): city"),
        (FunctionCall("get_weather", {"city": 42}), "'city' must be of type string"),
        (FunctionCall("broken", {"x": 1}), "RuntimeError: database is down"),
        (FunctionCall("slow_lookup", {"query": "q"}), "did not finish within 0.3 s"),
    ],
)
async def test_every_failure_still_answers_the_call(
    emu: VoiceLiveEmulator, call: FunctionCall, expected: str
) -> None:
    model = make_model(emu, tool_timeout=0.3)
    turn = Turn(calls=[call], reply=lambda ctx: "Sorry." if ctx.tool_outputs else "No output?")
    async with room_with(
        emu, turn, Turn(reply="Still here."), agent=ToolAgent(), model=model
    ) as room:
        await asyncio.wait_for(room.session.reply(instructions="do it"), timeout=20)
        [output] = outputs(emu)
        assert output["output"].startswith("Error: ")
        assert expected in output["output"]
        assert "Traceback" not in output["output"]
        executed = room.payloads("realtime_model_function_executed")
        assert executed[-1]["is_error"] is True
        assert len(emu.last_connection.events("response.create")) == 2
        assert ("assistant", "Sorry.") in room.chat_items()
        # and the call goes on
        await asyncio.wait_for(room.session.reply(instructions="anything else?"), timeout=20)
        assert ("assistant", "Still here.") in room.chat_items()


async def test_a_barge_in_while_a_tool_runs_still_delivers_its_result(
    emu: VoiceLiveEmulator,
) -> None:
    turns = (
        Turn(
            user="look it up",
            calls=[FunctionCall("slow_lookup", {"query": "flights"})],
            reply="Found it.",
        ),
        Turn(user="never mind", reply="Okay, what else?"),
    )
    async with room_with(emu, *turns, agent=ToolAgent()) as room:
        await room.play(await caller("Look up flights."), rate=24000)
        conn = emu.last_connection
        await conn.wait_for("response.function_call_arguments.done", source="server")
        start = len(conn.client_events)
        await room.play(await caller("Never mind."), rate=24000)  # while the tool sleeps
        await conn.wait_for(
            "conversation.item.create", where=lambda e: e["item"]["type"] == "function_call_output"
        )
        await room.wait_for(
            lambda: ("assistant", "Okay, what else?") in room.chat_items(),
            timeout=20,
            what="answer",
        )
        assert [o["output"] for o in outputs(emu)] == ["found flights"]
        # the result went in, but no answer was requested for it: the caller moved on
        assert "response.create" not in client_types_after(emu, start)
        assert ("assistant", "Found it.") not in room.chat_items()


async def test_update_tools_at_runtime_sends_a_new_session_update(emu: VoiceLiveEmulator) -> None:
    agent = ToolAgent()

    @function_tool
    async def book_table(people: int) -> str:
        """Book a table."""
        return "booked"

    async with room_with(emu, Turn(reply="One."), Turn(reply="Two."), agent=agent) as room:
        await asyncio.wait_for(room.session.reply(instructions="first"), timeout=20)
        agent.update_tools([book_table])
        await asyncio.wait_for(room.session.reply(instructions="second"), timeout=20)
        updates = emu.last_connection.events("session.update")
        assert len(updates) == 2
        names = {t["name"] for t in updates[1]["session"]["tools"]}
        assert "book_table" in names
        # the update went out before the request that needs it
        kinds = [
            e["type"]
            for e in emu.last_connection.client_events
            if e["type"] != "input_audio_buffer.append"
        ]
        assert kinds.index("session.update", 1) < len(kinds) - 1 - kinds[::-1].index(
            "response.create"
        )


async def test_foundry_agent_mode_connects_by_agent_and_sends_no_instructions() -> None:
    async with VoiceLiveEmulator(api_key=KEY, tts="synthetic") as emu:
        model = AzureVoiceLive(
            endpoint=emu.endpoint,
            api_key=KEY,
            agent_name="support-bot",
            project_name="contoso-project",
            agent_version="3",
            conversation_id="conv-1",
        )
        await model.connect()
        record = emu.connections[0]
        update = record.events("session.update")[0]["session"]
        created = record.events("session.created", source="server")[0]["session"]
        await model.aclose()
    assert record.query["agent-name"] == "support-bot"
    assert record.query["agent-project-name"] == "contoso-project"
    assert record.query["agent-version"] == "3"
    assert record.query["conversation-id"] == "conv-1"
    assert "model" not in record.query
    assert "instructions" not in update
    assert created["agent"]["name"] == "support-bot"
    assert model.model == "agent:support-bot"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"agent_name": "a"},
        {"project_name": "p"},
        {"agent_name": "a", "project_name": "p", "model": "gpt-realtime"},
        {"agent_version": "1"},
    ],
)
def test_agent_mode_arguments_are_checked(kwargs: dict[str, str]) -> None:
    with pytest.raises(ValueError, match=r"agent|model"):
        AzureVoiceLive(endpoint="https://x.y", api_key="k", **kwargs)


def test_tool_timeout_is_validated() -> None:
    with pytest.raises(ValueError, match="tool_timeout"):
        AzureVoiceLiveConfig(tool_timeout=0)


# -- server-side MCP -------------------------------------------------------------------------

DOCS = "https://mcp.example.test/docs"


def mcp_model(
    emu: VoiceLiveEmulator, approval: Any = None, require: Any = "always"
) -> AzureVoiceLive:
    from videosdk_plugins_azure import McpServer

    server = McpServer(
        "docs",
        DOCS,
        allowed_tools=["search_docs"],
        authorization="Bearer mcp-secret-token",
        headers={"x-api-key": "mcp-header-secret"},
        require_approval=require,
    )
    return AzureVoiceLive(
        model="gpt-realtime",
        endpoint=emu.endpoint,
        api_key=KEY,
        config=AzureVoiceLiveConfig(mcp_servers=[server]),
        mcp_approval=approval,
    )


def mcp_turn() -> Turn:
    from videosdk_plugins_azure.emulator import McpCall

    return Turn(
        user="search the docs",
        calls=[
            McpCall(
                "docs", "search_docs", {"q": "voice live"}, output="Voice Live is a speech API."
            )
        ],
    )


@pytest.mark.parametrize("approve", [True, False])
async def test_mcp_approval_granted_and_denied(
    emu: VoiceLiveEmulator, approve: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    asked: list[Any] = []

    async def approval(request: Any) -> bool:
        asked.append(request)
        return approve

    model = mcp_model(emu, approval)
    seen: list[tuple[str, Any]] = []
    for name in ("mcp_list_tools", "mcp_call", "mcp_approval"):
        model.on(name, lambda data, name=name: seen.append((name, data)))
    async with room_with(emu, mcp_turn(), model=model) as room:
        await asyncio.wait_for(room.session.reply(instructions="search the docs"), timeout=20)
        conn = emu.last_connection
        expected = (
            "The result is Voice Live is a speech API."
            if approve
            else "I was not allowed to use search_docs."
        )
        await room.wait_for(
            lambda: ("assistant", expected) in room.chat_items(), timeout=20, what="answer"
        )
        [request] = asked
        assert (request.server_label, request.name) == ("docs", "search_docs")
        assert json.loads(request.arguments) == {"q": "voice live"}
        responses = [
            e["item"]
            for e in conn.events("conversation.item.create")
            if e["item"]["type"] == "mcp_approval_response"
        ]
        assert responses == [
            {"type": "mcp_approval_response", "approval_request_id": request.id, "approve": approve}
        ]
        calls = [d for n, d in seen if n == "mcp_call"]
        assert len(calls) == (1 if approve else 0)
        if approve:
            assert calls[0]["output"] == "Voice Live is a speech API."
        assert any(n == "mcp_list_tools" and d.get("tools") == ["search_docs"] for n, d in seen)
        tool = conn.events("session.update")[0]["session"]["tools"][0]
        assert tool["authorization"] == "Bearer mcp-secret-token"  # sent to the service...
    for secret in ("mcp-secret-token", "mcp-header-secret"):  # ...and never logged
        assert secret not in caplog.text
        assert secret not in repr(model.config)


async def test_mcp_without_an_approval_callback_is_denied_with_a_reason(
    emu: VoiceLiveEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    async with room_with(emu, mcp_turn(), model=mcp_model(emu)) as room:
        await asyncio.wait_for(room.session.reply(instructions="search"), timeout=20)
        await room.wait_for(
            lambda: ("assistant", "I was not allowed to use search_docs.") in room.chat_items(),
            timeout=20,
            what="answer",
        )
    assert "no approval callback" in caplog.text


async def test_mcp_calls_that_need_no_approval_just_run(emu: VoiceLiveEmulator) -> None:
    model = mcp_model(emu, require="never")
    async with room_with(emu, mcp_turn(), model=model) as room:
        await asyncio.wait_for(room.session.reply(instructions="search"), timeout=20)
        assert ("assistant", "The result is Voice Live is a speech API.") in room.chat_items()
        creates = emu.last_connection.events("response.create")
        assert len(creates) == 1  # one response: the call and the answer


async def test_a_server_filler_while_a_tool_runs_does_not_collide(emu: VoiceLiveEmulator) -> None:
    interim = {
        "type": "static_interim_response",
        "triggers": ["tool"],
        "latency_threshold_ms": 300,
        "texts": ["One moment please."],
    }
    model = make_model(emu, interim_response=interim)
    turn = Turn(
        calls=[FunctionCall("slow_lookup", {"query": "trains"})], reply="The train leaves at nine."
    )
    async with room_with(emu, turn, agent=ToolAgent(), model=model) as room:
        await asyncio.wait_for(room.session.reply(instructions="when is my train"), timeout=30)
        await room.wait_for(
            lambda: ("assistant", "The train leaves at nine.") in room.chat_items(),
            timeout=20,
            what="answer",
        )
        conn = emu.last_connection
        fillers = [
            e
            for e in conn.events("response.created", source="server")
            if (e["response"].get("metadata") or {}).get("interim")
        ]
        assert fillers, "the emulator spoke a filler while the tool ran"
        assert ("assistant", "One moment please.") in room.chat_items()
        codes = [e["error"]["code"] for e in conn.events("error", source="server")]
        assert "conversation_already_has_active_response" not in codes
