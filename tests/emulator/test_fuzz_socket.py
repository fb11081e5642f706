"""Fuzzing the emulator over a real socket: the whole path a client's frame takes.

The same hostile events as ``test_fuzz_state.py``, plus frames that are not events
at all, go over loopback to a running emulator, responses and all (the generator,
speech, the record). After each run every response it started has ended
(``response.done``), the connection still serves (a valid ``session.update`` gets
``session.updated``), the socket was never closed on the client, and the emulator
logged no error (an exception it caught is still a bug).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import math
from collections.abc import Callable, Iterator
from typing import Any

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from videosdk_plugins_azure.emulator import Scenario, ServerLimits, VoiceLiveEmulator

from .client_events import CLIENT_EVENTS, FINISH, FUZZ_SETTINGS, JUNK_FRAMES, reconfigure
from .conftest import KEY, raw_ws
from .test_fuzz_state import SCRIPT

pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

FRAMES = st.lists(CLIENT_EVENTS | JUNK_FRAMES | st.just(FINISH), min_size=1, max_size=8)
"""Events, junk frames, and points where the client waits until all it sent was read."""


class LiveEmulator:
    """One emulator in a private event loop, shared by every example of a test.

    Starting a server per example would spend the run on setup; each example opens
    its own connection instead.
    """

    def __init__(self) -> None:
        self._runner = asyncio.Runner()
        self.emu = VoiceLiveEmulator(
            api_key=KEY,
            speed=math.inf,
            tts="synthetic",
            model_latency=0,
            scenario=Scenario(SCRIPT),
            limits=ServerLimits(max_reply_chars=60),  # speech is not what is fuzzed here
        )
        self._syncs = itertools.count()

    def __enter__(self) -> LiveEmulator:
        self._runner.run(self.emu.start())
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._runner.run(self.emu.stop())
        finally:
            self._runner.close()

    def exchange(self, frames: list[Any]) -> None:
        self._runner.run(asyncio.wait_for(self._exchange(frames), 60))

    async def _exchange(self, frames: list[Any]) -> None:
        async with raw_ws(self.emu) as ws:
            record = self.emu.last_connection
            reader = Reader(ws)
            for frame in frames:
                if frame == FINISH:
                    await self._sync(reader)
                    await reader.responses_done()
                elif isinstance(frame, bytes):
                    await ws.send_bytes(frame)
                elif isinstance(frame, str):
                    await send_text(ws, frame)
                else:
                    await ws.send_str(json.dumps(frame))
            await self._sync(reader)  # every frame was read: the session below is current
            await reader.responses_done()  # and every response ends
            await ws.send_json(reconfigure(record.session))
            await reader.until(lambda event: event["type"] == "session.updated")
            assert not ws.closed

    async def _sync(self, reader: Reader) -> None:
        """Wait until the emulator has handled everything sent so far."""
        marker = f"sync-{next(self._syncs)}"
        await reader.ws.send_json(
            {"type": "conversation.item.retrieve", "item_id": marker, "event_id": marker}
        )
        await reader.until(
            lambda event: event["type"] == "error" and event["error"]["event_id"] == marker
        )


async def send_text(ws: aiohttp.ClientWebSocketResponse, text: str) -> None:
    """A text frame; one a text frame cannot carry (a lone surrogate is not UTF-8)
    goes as the binary frame of its bytes, which the emulator reads as JSON too."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        await ws.send_bytes(text.encode("utf-8", "surrogatepass"))
    else:
        await ws.send_str(data.decode("utf-8"))


class Reader:
    """Reads a socket's server events, keeping count of the responses still streaming."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.streaming = 0

    async def until(self, match: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The next event that ``match``es; the socket must stay open, and answer in time."""
        async with asyncio.timeout(30):
            while True:
                message = await self.ws.receive()
                assert message.type is aiohttp.WSMsgType.TEXT, f"socket ended: {message!r}"
                event: dict[str, Any] = json.loads(message.data)
                if event["type"] == "response.created":
                    self.streaming += 1
                elif event["type"] == "response.done":
                    self.streaming -= 1
                if match(event):
                    return event

    async def responses_done(self) -> None:
        """Wait for every response started so far to end (it always must)."""
        while self.streaming > 0:
            await self.until(lambda event: event["type"] == "response.done")


@pytest.fixture(scope="module")
def live() -> Iterator[LiveEmulator]:
    with LiveEmulator() as running:
        yield running


def exchange_cleanly(
    live: LiveEmulator, caplog: pytest.LogCaptureFixture, frames: list[Any]
) -> None:
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="videosdk_plugins_azure.emulator"):
        live.exchange(frames)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


@settings(max_examples=200, **FUZZ_SETTINGS)
@given(FRAMES)
def test_fuzzed_frames_over_a_socket_leave_the_connection_serving(
    live: LiveEmulator, caplog: pytest.LogCaptureFixture, frames: list[Any]
) -> None:
    exchange_cleanly(live, caplog, frames)


@pytest.mark.slow
@pytest.mark.timeout(3600)
@settings(max_examples=2_000, **FUZZ_SETTINGS)
@given(FRAMES)
def test_fuzzed_frames_over_a_socket_leave_the_connection_serving_long(
    live: LiveEmulator, caplog: pytest.LogCaptureFixture, frames: list[Any]
) -> None:
    exchange_cleanly(live, caplog, frames)
