"""ToolRunner on its own: schemas, argument checks, serialisation, sync/async, timeouts."""

from __future__ import annotations

import asyncio
import datetime
import threading
from typing import Any

import pytest
from videosdk.agents import function_tool
from videosdk.agents.utils import ToolError

from videosdk_plugins_azure.tools import ToolRunner, serialize


@function_tool
async def weather(city: str, unit: str = "c", days: int = 1) -> dict[str, Any]:
    """Weather.

    Args:
        city: the city
    """
    return {"city": city, "unit": unit, "days": days}


@function_tool
def clock(zone: str) -> datetime.datetime:
    """Time; returns something json cannot encode."""
    return datetime.datetime(2026, 1, 1, 12, 0)


@function_tool
async def refuses(reason: str) -> str:
    """Raises the framework's ToolError."""
    raise ToolError(f"cannot do that: {reason}")


@function_tool
async def hangs() -> str:
    """Never returns."""
    await asyncio.Event().wait()
    return "unreachable"


@function_tool
def blocking(seconds: float) -> str:
    """A sync tool that blocks its thread."""
    threading.Event().wait(seconds)
    return "done"


RUNNER = ToolRunner([weather, clock, refuses, hangs, blocking], timeout=0.5)


def test_declarations_drop_defaults_from_required() -> None:
    declared = {t.name: t.as_dict() for t in RUNNER.declarations()}
    assert declared["weather"]["parameters"]["required"] == ["city"]
    assert declared["weather"]["description"].startswith("Weather.")
    assert set(declared) == {"weather", "clock", "refuses", "hangs", "blocking"}
    assert len(RUNNER) == 5
    assert "weather" in RUNNER


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", "plain"),
        ({"a": 1}, '{"a": 1}'),
        ([1, "é"], '[1, "é"]'),
        (None, "null"),
        (3.5, "3.5"),
    ],
)
def test_serialize(value: Any, expected: str) -> None:
    assert serialize(value) == expected


def test_serialize_falls_back_to_str() -> None:
    assert serialize(datetime.date(2026, 1, 2)) == "2026-01-02"


async def test_arguments_are_filtered_and_checked() -> None:
    ok = await RUNNER.run("c1", "weather", '{"city": "Rome", "mood": "happy"}')
    assert not ok.is_error
    assert ok.output == '{"city": "Rome", "unit": "c", "days": 1}'
    bad_bool = await RUNNER.run("c2", "weather", '{"city": "Rome", "days": true}')
    assert bad_bool.is_error
    assert "'days' must be of type integer" in bad_bool.output
    empty = await RUNNER.run("c3", "weather", "")
    assert "missing required argument(s): city" in empty.output


async def test_non_json_results_use_str() -> None:
    result = await RUNNER.run("c1", "clock", '{"zone": "UTC"}')
    assert result.output == "2026-01-01 12:00:00"
    assert not result.is_error


async def test_tool_error_message_is_passed_on() -> None:
    result = await RUNNER.run("c1", "refuses", '{"reason": "closed"}')
    assert result.is_error
    assert result.output == "Error: cannot do that: closed"


async def test_hanging_tools_time_out_async_and_sync() -> None:
    for name, args in (("hangs", "{}"), ("blocking", '{"seconds": 1.5}')):
        result = await RUNNER.run("c1", name, args)
        assert result.is_error
        assert "did not finish within 0.5 s" in result.output


def test_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="tool_timeout"):
        ToolRunner([], timeout=0)


def test_non_tools_are_skipped() -> None:
    assert len(ToolRunner([lambda: 1])) == 0


def test_event_payload_matches_the_pipeline_contract() -> None:
    result = asyncio.run(RUNNER.run("call_9", "weather", ""))
    payload = result.event()
    assert payload == {
        "name": "weather",
        "call_id": "call_9",
        "arguments": "{}",
        "output": result.output,
        "is_error": True,
    }
