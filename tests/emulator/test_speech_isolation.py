"""One connection's reply can neither stall the others nor wedge its own connection.

Before: a 100 KB reply was synthesized on the event loop (every connection froze for
~51 s and the process grew to 2.3 GB), and any exception while a response streamed
(a lone surrogate in the text was enough) killed the response task, so that turn
never got its ``response.done``.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from azure.ai.voicelive import models as m

from videosdk_plugins_azure.emulator import (
    Scenario,
    ServerLimits,
    Turn,
    VoiceLiveEmulator,
    _speech,
    synthesize,
)

from .conftest import KEY, raw_ws, recv_until, round_trip, sdk, ws_event

RATE = 24000
_unique = itertools.count()


def fresh(text: str) -> str:
    """Text no earlier test synthesized: the speech cache would answer it at once."""
    return f"{text} {next(_unique)} {id(text)}"


def spoken(text: str) -> dict[str, Any]:
    message = {"type": "message", "role": "assistant", "content": [{"type": "text", "text": text}]}
    return {"type": "response.create", "response": {"pre_generated_assistant_message": message}}


class HeldVoice:
    """The synthetic voice, held in its worker until the test lets it go.

    Were synthesis on the event loop, holding it would freeze the loop and the test
    with it: :attr:`released_in_time` records whether the test got to release it.
    """

    def __init__(self, fail_once: bool = False) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.left = threading.Event()
        self.released_in_time: list[bool] = []
        self.threads: list[str] = []
        self._fail_once = fail_once
        self._real = _speech.synthesize_fallback

    def __call__(self, text: str, rate: int) -> npt.NDArray[np.int16]:
        self.threads.append(threading.current_thread().name)
        self.entered.set()
        self.released_in_time.append(self.release.wait(10))
        self.left.set()
        if self._fail_once:
            self._fail_once = False
            raise RuntimeError("the voice broke")
        return self._real(text, rate)

    async def wait_entered(self) -> None:
        assert await asyncio.to_thread(self.entered.wait, 10), "synthesis never started"

    async def wait_left(self) -> None:
        assert await asyncio.to_thread(self.left.wait, 10), "synthesis never ended"


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[HeldVoice]:
    voice = HeldVoice()
    monkeypatch.setattr(_speech, "synthesize_fallback", voice)
    yield voice
    voice.release.set()


# -- off the loop ------------------------------------------------------------------------


async def test_other_connections_are_served_while_a_synthesis_runs(
    emu: VoiceLiveEmulator, held: HeldVoice
) -> None:
    async with raw_ws(emu) as a, raw_ws(emu) as b:
        await a.send_json(spoken(fresh("Held in the worker.")))
        await held.wait_entered()
        for _ in range(3):
            await round_trip(b, timeout=2)
        held.release.set()
        done = await ws_event(a, "response.done")
    assert held.released_in_time == [True]
    assert held.threads[0].startswith("voicelive-emulator-speech")
    assert done["response"]["status"] == "completed"


async def test_a_cancel_is_answered_while_the_synthesis_still_runs(
    emu: VoiceLiveEmulator, held: HeldVoice
) -> None:
    async with raw_ws(emu) as ws:
        await ws.send_json(spoken(fresh("Never heard.")))
        await held.wait_entered()
        await ws.send_json({"type": "response.cancel"})
        done = await ws_event(ws, "response.done", timeout=5)
        assert done["response"]["status"] == "cancelled"
        held.release.set()
        await held.wait_left()  # the abandoned synthesis finishes unobserved
        await round_trip(ws)
    assert held.released_in_time == [True]


async def test_a_100kb_reply_neither_stalls_other_connections_nor_is_spoken_whole() -> None:
    long_reply = " ".join(f"word{i}" for i in range(17_000))  # about 100 KB
    assert len(long_reply) > 100_000
    async with (
        VoiceLiveEmulator(api_key=KEY, speed=math.inf, tts="synthetic", model_latency=0) as emu,
        raw_ws(emu) as a,
        raw_ws(emu) as b,
    ):
        loop = asyncio.get_running_loop()
        await a.send_json(spoken(fresh(long_reply)))
        await ws_event(a, "response.content_part.added")
        record = emu.connections[0]
        waits = []
        while not record.events("response.audio.delta", source="server"):  # still synthesizing
            started = loop.time()
            await round_trip(b)
            waits.append(loop.time() - started)
        await a.send_json({"type": "response.cancel"})
        done = await ws_event(a, "response.done")
    assert len(waits) >= 3, "the synthesis was over before the other connection asked"
    assert max(waits) < 1.0, f"the other connection waited {max(waits):.2f} s"
    transcript = done["response"]["output"][0]["content"][0]["transcript"]
    assert len(transcript) <= 4000
    assert long_reply.startswith(transcript)


async def test_a_reply_over_max_reply_chars_is_cut_at_a_word_and_ends_incomplete() -> None:
    async with (
        VoiceLiveEmulator(
            api_key=KEY,
            speed=math.inf,
            tts="synthetic",
            model_latency=0,
            limits=ServerLimits(max_reply_chars=40),
        ) as emu,
        raw_ws(emu) as ws,
    ):
        text = fresh("The quick brown fox jumps over the lazy dog and runs far away")
        await ws.send_json(spoken(text))
        done = (await ws_event(ws, "response.done"))["response"]
        said = done["output"][0]["content"][0]["transcript"]
        assert len(said) <= 40
        assert text.startswith(said)
        assert not said.endswith(" ")
        assert text[len(said)] == " "  # cut between words
        assert done["status_details"] == {"type": "incomplete", "reason": "max_output_tokens"}
        audio_ms = emu.connections[0].output_audio_bytes / 2 / RATE * 1000
        assert audio_ms <= 40 * 65 + 200


async def test_synthesize_speaks_at_most_max_chars() -> None:
    text = fresh("many words " * 1000)
    short = await synthesize(text, 16000, engine="synthetic", max_chars=100)
    assert len(short) == len(_speech.synthesize_fallback(_speech.speakable(text, 100), 16000))
    assert len(short) / 16000 < 100 * 0.065 + 0.2


async def test_the_speech_pool_is_bounded_and_shut_down_on_close(held: HeldVoice) -> None:
    def pool_threads() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name.startswith("voicelive-emulator-speech")]

    limits = ServerLimits(speech_workers=1)
    async with (
        VoiceLiveEmulator(
            api_key=KEY, speed=math.inf, tts="synthetic", model_latency=0, limits=limits
        ) as emu,
        raw_ws(emu) as a,
        raw_ws(emu) as b,
    ):
        await a.send_json(spoken(fresh("First.")))
        await b.send_json(spoken(fresh("Second.")))
        await held.wait_entered()
        await round_trip(a)  # the second synthesis waits its turn for the one worker
        assert len(held.threads) == 1
        assert len(pool_threads()) == 1
        held.release.set()
        await ws_event(a, "response.done")
        await ws_event(b, "response.done")
    assert held.released_in_time == [True, True]
    assert pool_threads() == []


# -- a response always ends --------------------------------------------------------------


def reply_with(text: str) -> Callable[[Any], str]:
    return lambda ctx: text + (ctx.instructions or "")


@pytest.mark.parametrize(
    ("where", "tts"),
    [
        ("message", "synthetic"),
        ("scripted reply", "synthetic"),
        ("instructions", "synthetic"),
        ("message", "auto"),  # espeak-ng where installed: the text goes into its argv
    ],
)
async def test_a_lone_surrogate_in_a_reply_still_ends_the_turn(where: str, tts: str) -> None:
    bad = fresh("Hello \ud800 there")
    scenario = Scenario([Turn(user="hi", reply=reply_with(bad if where != "instructions" else ""))])
    async with (
        VoiceLiveEmulator(
            api_key=KEY, speed=math.inf, tts=tts, model_latency=0, scenario=scenario
        ) as emu,
        sdk(emu) as conn,
    ):
        session = {"instructions": bad} if where == "instructions" else {}
        await conn.session.update(session=m.RequestSession(**session))
        await recv_until(conn, "session.updated")
        if where == "message":
            await conn.send(spoken(bad))
        else:
            await conn.conversation.item.create(
                item=m.UserMessageItem(content=[m.InputTextContentPart(text="hi")])
            )
            await conn.response.create()
        done = (await recv_until(conn, "response.done"))[-1]
        assert done.response.status == "completed"
        assert "\ud800" in done.response.output[0].content[0].transcript
        assert emu.connections[0].output_audio_bytes > 0
        await conn.session.update(session=m.RequestSession())
        await recv_until(conn, "session.updated")


async def test_any_failure_ends_the_response_failed_and_the_connection_serves_on(
    emu: VoiceLiveEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    voice = HeldVoice(fail_once=True)
    voice.release.set()
    monkeypatch.setattr(_speech, "synthesize_fallback", voice)
    async with raw_ws(emu) as ws:
        await ws.send_json(spoken(fresh("This breaks.")))
        error = (await ws_event(ws, "error"))["error"]
        assert (error["type"], error["code"]) == ("server_error", "server_error")
        done = (await ws_event(ws, "response.done"))["response"]
        assert done["status"] == "failed"
        assert done["status_details"]["error"]["code"] == "server_error"
        item = done["output"][0]
        assert item["status"] == "incomplete"
        await ws.send_json({"type": "conversation.item.retrieve", "item_id": item["id"]})
        stored = (await ws_event(ws, "conversation.item.retrieved"))["item"]
        assert stored["status"] == "incomplete"
        await ws.send_json(spoken(fresh("This works.")))
        assert (await ws_event(ws, "response.done"))["response"]["status"] == "completed"
