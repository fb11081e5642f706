"""Every completed turn reaches the framework's metrics (none is discarded as invalid)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from videosdk_plugins_azure.emulator import FunctionCall, Turn, VoiceLiveEmulator

from .conftest import room_with
from .test_resilience import answered, resilient, say
from .test_tools import ToolAgent


async def test_spoken_turns_carry_realtime_metrics(
    emu: VoiceLiveEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    turns = (
        Turn(user="one", reply="First answer."),
        Turn(user="two", calls=[FunctionCall("get_time", {"timezone": "UTC"})], reply="Noon."),
        Turn(user="three", reply="Third answer."),
    )
    model = resilient(emu)
    with caplog.at_level(logging.INFO, logger="videosdk.agents.metrics.metrics_collector"):
        async with room_with(emu, *turns, agent=ToolAgent(), model=model) as room:
            for question, reply in (
                ("First question.", "First answer."),
                ("What time is it?", "Noon."),
                ("Third question.", "Third answer."),
            ):
                await say(room, question)
                await answered(room, reply)
            await say(room, "Goodbye.")  # starting a turn completes the last one
            await room.wait_for(lambda: len(_metrics(room)) >= 3, timeout=20, what="3 turns")
            turns_seen = _metrics(room)
    discarded = [r for r in caplog.records if "DISCARDING" in r.getMessage()]
    assert not discarded, [r.getMessage() for r in discarded]
    for turn in turns_seen[:3]:
        assert turn.get("e2eLatency") is not None, turn
        assert turn.get("realtimeTtfb") is not None or turn.get("e2eLatency") is not None
    with_tokens = [t for t in turns_seen if t.get("realtimeTotalTokens")]
    assert len(with_tokens) >= 3, [t.keys() for t in turns_seen]
    assert any(t.get("functionToolsCalled") for t in turns_seen)


def _metrics(room: Any) -> list[dict[str, Any]]:
    return [p["metrics"] for p in room.payloads("TURN_METRICS_ADDED")]
