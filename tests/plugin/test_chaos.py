"""Chaos: 20 faults in 2 minutes at random moments, over real sockets, 5 seeds at once.

Each seed runs its own emulator and its own call. A chaos task drops, closes
(1000/1001/1006/1011) or expires whatever connection is newest at seeded random
moments, so faults land during setup, replay and recovery as often as during
a live session. Meanwhile the caller keeps asking. Afterwards the call must be
alive (ready, never given up) and answer every new question. A dead call is
the one failure a caller cannot work around: the agent goes silent.
"""

from __future__ import annotations

import asyncio
import math
import random
from dataclasses import dataclass, field

import pytest

from videosdk_plugins_azure import AzureVoiceLive, ReconnectPolicy, VoiceLiveError
from videosdk_plugins_azure.emulator import Scenario, VoiceLiveEmulator
from videosdk_plugins_azure.emulator._scenario import ReplyContext

from .conftest import KEY

SEEDS = range(5)
FAULTS = 20
WINDOW_S = 120.0
CODES = (1000, 1001, 1006, 1011)


def answer(ctx: ReplyContext) -> str:
    return f"Answer to {ctx.user_text}"


@dataclass
class Outcome:
    seed: int
    faults: list[str] = field(default_factory=list)
    final_errors: list[VoiceLiveError] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    refused: int = 0


async def inject(emu: VoiceLiveEmulator, rng: random.Random, outcome: Outcome) -> None:
    gaps = [rng.random() for _ in range(FAULTS)]
    scale = WINDOW_S / sum(gaps)
    for gap in gaps:
        await asyncio.sleep(gap * scale)
        kind = rng.choice(("drop", "close", "expire"))
        connection = emu.last_connection
        try:
            if kind == "drop":
                await connection.drop()
            elif kind == "close":
                code = rng.choice(CODES)
                kind = f"close {code}"
                await connection.close(code)
            else:
                await connection.expire()
        except ConnectionError:
            kind += " (already closed)"
        outcome.faults.append(kind)


async def keep_asking(model: AzureVoiceLive, outcome: Outcome) -> None:
    for question in range(10_000):
        try:
            await model.send_text_message(f"chaos question {question}")
        except VoiceLiveError:
            outcome.refused += 1
        await asyncio.sleep(3.0)


async def one_call(seed: int) -> Outcome:
    outcome = Outcome(seed)
    rng = random.Random(seed)
    scenario = Scenario(default_reply=answer)
    async with VoiceLiveEmulator(
        api_key=KEY, speed=math.inf, tts="synthetic", scenario=scenario, model_latency=0.05
    ) as emu:
        model = AzureVoiceLive(
            endpoint=emu.endpoint,
            api_key=KEY,
            reconnect=ReconnectPolicy(initial_backoff=0.1, max_backoff=1.0),
        )
        model.on("error", lambda e: outcome.final_errors.append(e) if not e.recoverable else None)
        heard: asyncio.Queue[str] = asyncio.Queue(maxsize=1000)

        def on_text(data: dict[str, object]) -> None:
            if data.get("role") == "agent" and data.get("is_final"):
                heard.put_nowait(str(data["text"]))

        model.on("realtime_model_transcription", on_text)
        await model.connect()
        asker = asyncio.ensure_future(keep_asking(model, outcome))
        try:
            await inject(emu, rng, outcome)
        finally:
            asker.cancel()
            await asyncio.gather(asker, return_exceptions=True)
        try:
            await _ask_after_the_storm(model, heard, outcome)
        finally:
            await model.aclose()
    return outcome


async def _ask_after_the_storm(
    model: AzureVoiceLive, heard: asyncio.Queue[str], outcome: Outcome
) -> None:
    ready = asyncio.Event()
    model.on("session_reconnected", lambda _data: ready.set())
    if not model.ready:
        try:
            await asyncio.wait_for(ready.wait(), timeout=30)
        except TimeoutError:
            state = model._core.link.state
            raise AssertionError(f"not live 30 s after the storm: {state}") from None
    while not heard.empty():
        heard.get_nowait()
    for question in range(3):
        expected = f"Answer to final question {question}"
        await model.send_text_message(f"final question {question}")
        while True:
            try:
                text = await asyncio.wait_for(heard.get(), timeout=15)
            except TimeoutError:
                state = (model._core.link.state, model._core.calls.pending_requests)
                raise AssertionError(f"no answer to final question {question}: {state}") from None
            # An answer to a chaos question (re-asked after the last fault) may still
            # arrive first; only this question's own answer counts.
            if text == expected:
                outcome.answers.append(text)
                break


@pytest.mark.timeout(WINDOW_S + 120)
async def test_no_call_dies_under_random_faults() -> None:
    outcomes = await asyncio.gather(*(one_call(seed) for seed in SEEDS), return_exceptions=True)
    report = []
    for seed, outcome in zip(SEEDS, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            report.append(f"seed {seed}: {type(outcome).__name__}: {outcome}")
            continue
        if outcome.final_errors:
            report.append(f"seed {seed}: gave up: {outcome.final_errors} after {outcome.faults}")
        elif len(outcome.answers) != 3:
            report.append(f"seed {seed}: answered {outcome.answers}")
    assert not report, "\n".join(report)
    assert all(len(o.faults) == FAULTS for o in outcomes if isinstance(o, Outcome))
