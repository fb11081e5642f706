"""Record and replay through the real plugin and Pipeline: RecordingProxy, CassetteReplay.

The recording runs the real SDK and plugin (in ``LocalRoom``) through the proxy to
the emulator, standing in for Azure; the replay runs the same call against the
cassette alone. The call is the shipped example's (``examples/cassettes``): a
greeting, a spoken question, a function tool call and its answer.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import math
import sys
from datetime import datetime
from pathlib import Path
from types import ModuleType

import pytest
from videosdk.agents import Agent, Pipeline, function_tool

from videosdk_plugins_azure import AzureVoiceLive, AzureVoiceLiveConfig, McpServer
from videosdk_plugins_azure.emulator import (
    Cassette,
    CassetteMismatch,
    CassetteReplay,
    EmulatorConnection,
    RecordingProxy,
    VoiceLiveEmulator,
)
from videosdk_plugins_azure.emulator.cassette import REDACTED
from videosdk_plugins_azure.errors import VoiceLiveError
from videosdk_plugins_azure.testing import LocalRoom

ROOT = Path(__file__).resolve().parents[2]
KEY = "cassette-key-5f2a9c0d"
MCP_TOKEN = "mcp-token-81c3e4f5"
MCP_HEADER = "mcp-header-77d1b2a9"
APPEND = "input_audio_buffer.append"


def _example() -> ModuleType:
    path = ROOT / "examples" / "cassettes" / "greeting_tool.py"
    spec = importlib.util.spec_from_file_location("greeting_tool_example", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


example = _example()


def with_mcp(token: str, header: str) -> AzureVoiceLiveConfig:
    """A session with a server-side MCP tool that carries credentials of its own."""
    server = McpServer(
        "docs",
        "https://mcp.example.com/mcp",
        authorization=f"Bearer {token}",
        headers={"X-Api-Key": header},
        require_approval="never",
    )
    return AzureVoiceLiveConfig(mcp_servers=[server])


def structure(tape: Cassette) -> list[tuple[str, str | None]]:
    """Who sent which event, in order, without the audio stream and its per-chunk deltas."""
    chunked = {APPEND, "response.audio.delta", "response.audio_transcript.delta"}
    return [
        (r.direction, r.type)
        for session in tape.sessions
        for r in session.records
        if r.type not in chunked
    ]


def assert_scrubbed_and_complete(cassette: Path, upstream: EmulatorConnection) -> None:
    """No secret in the file; every frame the service saw, both ways; audio dropped."""
    text = cassette.read_text()
    for secret in (KEY, MCP_TOKEN, MCP_HEADER):
        assert secret not in text
    tape = Cassette.load(cassette)
    assert tape.header.format == 1
    assert tape.header.model == "gpt-realtime"
    assert tape.header.api_version == upstream.query["api-version"]
    assert tape.header.input_audio == "drop"
    datetime.fromisoformat(tape.header.recorded_at)
    [session] = tape.sessions
    assert session.auth == "api-key"
    assert session.close is not None
    assert session.close.by == "client"

    # both directions, every frame, in the order the service saw them
    assert [e["type"] for e in session.events("server")] == upstream.types(source="server")
    assert [e["type"] for e in session.events("client")] == upstream.types(source="client")
    [update] = session.events("client", "session.update")
    [mcp] = [t for t in update["session"]["tools"] if t["type"] == "mcp"]
    assert mcp["authorization"] == REDACTED
    assert mcp["headers"] == {"X-Api-Key": REDACTED}
    assert mcp["server_label"] == "docs"  # what replay matches on survives
    [echoed] = session.events("server", "session.updated")  # the service echoes tools
    [echoed_mcp] = [t for t in echoed["session"]["tools"] if t["type"] == "mcp"]
    assert echoed_mcp["authorization"] == REDACTED

    # input audio: dropped, each append kept with its decoded length
    appends = [r for r in session.records if r.type == APPEND]
    assert appends
    assert {r.event["audio"] for r in appends if r.event} == {"<dropped>"}
    assert sum(r.audio_bytes or 0 for r in appends) == upstream.input_audio_bytes


async def test_a_recorded_call_is_scrubbed_and_replays_to_the_same_transcript(
    tmp_path: Path,
) -> None:
    cassette = tmp_path / "call.jsonl"
    async with (
        VoiceLiveEmulator(
            api_key=KEY,
            speed=math.inf,
            model_latency=0,
            scenario=example.scenario(),
            keep_records=True,
        ) as emu,
        RecordingProxy(emu.endpoint, cassette) as proxy,
    ):
        recorded, _ = await example.call(
            proxy.endpoint, KEY, config=with_mcp(MCP_TOKEN, MCP_HEADER)
        )
    upstream = emu.last_connection
    assert upstream.auth == "api-key"  # the key was forwarded ...
    sent_tools = upstream.events("session.update")[0]["session"]["tools"]
    assert any(t.get("authorization") == f"Bearer {MCP_TOKEN}" for t in sent_tools)
    # ... and is nowhere in the file

    assert_scrubbed_and_complete(cassette, upstream)

    # the replay: another key, other MCP credentials; the tool really runs again
    async with CassetteReplay(cassette, speed=math.inf) as replay:
        replayed, agent = await example.call(
            replay.endpoint, "another-key", config=with_mcp("other-token", "other-header")
        )
    replay.assert_all_played()
    assert replay.mismatches == []
    assert replayed == recorded
    assert agent.calls == ["Paris"]


async def test_the_shipped_cassette_replays_through_the_pipeline() -> None:
    async with CassetteReplay(example.CASSETTE, speed=math.inf) as replay:
        transcript, agent = await example.call(replay.endpoint, "any-key")
    replay.assert_all_played()
    output = json.dumps({"city": "Paris", "temperature": 21, "sky": "sunny"})
    assert transcript[1:] == [
        ("assistant", example.GREETING),
        ("user", "what's the weather in paris"),
        ("function_call", 'get_weather({"city":"Paris"})'),
        ("function_call_output", output),
        ("assistant", example.ANSWER),
    ]
    assert agent.calls == ["Paris"]


async def test_the_shipped_cassette_is_what_its_script_records(tmp_path: Path) -> None:
    """If the emulator or the plugin changes what a call sends, regenerate the cassette:
    ``python examples/cassettes/greeting_tool.py record``."""
    shipped = Cassette.load(example.CASSETTE)
    assert example.CASSETTE.stat().st_size < 300_000
    text = example.CASSETTE.read_text()
    assert "emulator-key" not in text  # the key the script records with
    fresh = tmp_path / "fresh.jsonl"
    await example.record(fresh)
    assert structure(Cassette.load(fresh)) == structure(shipped)


class ClockAgent(Agent):
    """Not the recorded agent: its tool has another name."""

    def __init__(self) -> None:
        super().__init__(instructions="You tell callers the time.")

    async def on_enter(self) -> None:
        return None

    async def on_exit(self) -> None:
        return None

    @function_tool
    async def get_time(self, timezone: str) -> str:
        """The time in a timezone."""
        return "10:42"


async def start_other_agent(replay: CassetteReplay, seen: list[BaseException]) -> None:
    async with asyncio.timeout(20), replay:
        model = AzureVoiceLive(model="gpt-realtime", endpoint=replay.endpoint, api_key="k")
        try:
            async with LocalRoom(ClockAgent(), Pipeline(llm=model)):
                pass
        except VoiceLiveError as exc:
            seen.append(exc)


async def test_the_pipeline_with_another_agent_fails_fast_at_the_first_divergent_event() -> None:
    seen: list[BaseException] = []
    with pytest.raises(CassetteMismatch) as raised:
        await start_other_agent(CassetteReplay(example.CASSETTE, speed=math.inf), seen)
    mismatch = raised.value
    assert (mismatch.index, mismatch.line) == (0, 4)
    assert "tools=function:get_weather" in mismatch.message
    assert "tools=function:get_time" in mismatch.message
    assert mismatch.message.endswith("differs in: tools")
    [error] = seen  # the plugin surfaced the replay's error event as its own
    assert "cassette_mismatch" in str(error)
    assert "client event #0" in str(error)


@pytest.mark.parametrize("mode", ["store", "drop"])
async def test_input_audio_is_stored_or_dropped(tmp_path: Path, mode: str) -> None:
    from .conftest import recv_until, stream, tone_burst

    cassette = tmp_path / "audio.jsonl"
    sent = tone_burst(24000, 0.2)
    async with (
        VoiceLiveEmulator(api_key=KEY, speed=math.inf, model_latency=0) as emu,
        RecordingProxy(emu.endpoint, cassette, input_audio=mode) as proxy,  # type: ignore[arg-type]
    ):
        from azure.ai.voicelive.aio import connect
        from azure.core.credentials import AzureKeyCredential

        async with connect(
            endpoint=proxy.endpoint, credential=AzureKeyCredential(KEY), model="gpt-realtime"
        ) as conn:
            await conn.session.update(session={"turn_detection": None})
            await recv_until(conn, "session.updated")
            await stream(conn, sent, 24000)
            await conn.input_audio_buffer.commit()
            await recv_until(conn, "input_audio_buffer.committed")
    [session] = Cassette.load(cassette).sessions
    appends = [r for r in session.records if r.type == APPEND]
    assert sum(r.audio_bytes or 0 for r in appends) == sent.nbytes
    if mode == "store":
        import base64

        audio = b"".join(base64.b64decode(r.event["audio"]) for r in appends if r.event)
        assert audio == sent.astype("<i2").tobytes()
    else:
        assert {r.event["audio"] for r in appends if r.event} == {"<dropped>"}


async def test_a_cassette_round_trips_through_save_and_load(tmp_path: Path) -> None:
    tape = Cassette.load(example.CASSETTE)
    copy = tmp_path / "copy.jsonl"
    tape.save(copy)
    assert copy.read_text() == example.CASSETTE.read_text()
    assert Cassette.load(copy).dumps() == tape.dumps()
