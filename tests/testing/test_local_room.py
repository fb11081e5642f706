"""LocalRoom runs the real Pipeline/AgentSession: proven with a tiny contract-abiding model.

Nothing of the framework is mocked. ``DummyRealtime`` follows the realtime-model
contract (docs: videosdk-realtime-contract.md §1, §8): it ends the caller's turn
after ~0.3 s of energetic input followed by quieter audio, then speaks 0.5 s of a
24 kHz tone through the shared track and marks synthesis complete, which is what
lets the pipeline emit ``agent_speech_ended`` once the harness has drained it.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any, Literal

import numpy as np
import pytest
from videosdk.agents import Agent, Pipeline, RealtimeBaseModel, audio_format
from videosdk.agents.event_bus import get_current_event_bus
from videosdk.agents.metrics import get_current_metrics_collector

from videosdk_plugins_azure.testing import LocalRoom

OUT_RATE = 24000
REPLY_SECONDS = 0.5
SPEECH_DBFS = -40.0
USER_TEXT = "what time is it"
AGENT_TEXT = "it is noon"

DummyEvents = Literal[
    "user_speech_started",
    "user_speech_ended",
    "agent_speech_started",
    "agent_speech_ended",
    "realtime_model_transcription",
    "llm_text_output",
]


def tone(
    seconds: float, rate: int, *, freq: float = 440.0, dbfs: float = -12.0, channels: int = 1
) -> np.ndarray:
    """A sine burst as ``(samples, channels)`` int16."""
    n = round(seconds * rate)
    amp = 32767 * 10 ** (dbfs / 20) * math.sqrt(2)
    wave = (amp * np.sin(2 * np.pi * freq * np.arange(n) / rate)).astype(np.int16)
    return np.repeat(wave.reshape(-1, 1), channels, axis=1)


def level_dbfs(pcm: np.ndarray) -> float:
    rms = float(np.sqrt(np.mean(np.square(pcm.astype(np.float64))))) if pcm.size else 0.0
    return 20 * math.log10(rms / 32768) if rms else -math.inf


class DummyRealtime(RealtimeBaseModel[DummyEvents]):
    """A realtime model that answers every caller turn with a 0.5 s tone."""

    def __init__(
        self,
        *,
        fail_connect: bool = False,
        fail_audio_after: int | None = None,
        connect_delay: float = 0.0,
    ):
        super().__init__()
        self._connect_delay = connect_delay
        self.early_audio_calls = 0
        self.model = "dummy-realtime"
        self._agent: Agent | None = None
        self._fail_connect = fail_connect
        self._fail_audio_after = fail_audio_after
        self.connected = False
        self.close_calls = 0
        self.set_agent_calls = 0
        self.format_at_connect: tuple[int | None, int | None] | None = None
        self.received: list[bytes] = []
        self.sent_text: list[str] = []
        self._voiced_s = 0.0
        self._in_speech = False
        self._tasks: set[asyncio.Task[None]] = set()

    def set_agent(self, agent: Agent) -> None:
        self._agent = agent
        self.set_agent_calls += 1

    async def connect(self) -> None:
        if self._fail_connect:
            raise RuntimeError("connect failed on purpose")
        await asyncio.sleep(self._connect_delay)
        self.reframe_audio_track(OUT_RATE)
        self.format_at_connect = audio_format.get()
        self.connected = True

    async def handle_audio_input(self, audio_data: bytes) -> None:
        if not self.connected:  # contract §1.1: audio can arrive before connect() ends
            self.early_audio_calls += 1
            return
        self.received.append(audio_data)
        if self._fail_audio_after is not None and len(self.received) > self._fail_audio_after:
            raise RuntimeError("handle_audio_input failed on purpose")
        rate, channels = audio_format.get()
        pcm = np.frombuffer(audio_data, dtype=np.int16)
        seconds = pcm.size / (channels or 1) / (rate or 48000)
        if level_dbfs(pcm) > SPEECH_DBFS:
            self._voiced_s += seconds
            if not self._in_speech and self._voiced_s >= 0.3:
                self._in_speech = True
                self.emit("user_speech_started", {"type": "done"})
        elif self._in_speech:
            self._in_speech = False
            self._voiced_s = 0.0
            self.emit("user_speech_ended", {})
            self.emit(
                "realtime_model_transcription",
                {"role": "user", "text": USER_TEXT, "is_final": True},
            )
            self._spawn(AGENT_TEXT)
        else:
            self._voiced_s = 0.0

    async def send_message(self, message: str) -> None:
        self.sent_text.append(message)
        self._spawn(message)

    async def send_text_message(self, message: str) -> None:
        self.sent_text.append(message)
        self._spawn(f"reply to {message}")

    async def interrupt(self) -> None:
        await self._cancel_all()
        if self.audio_track is not None:
            self.audio_track.interrupt()
            self.audio_track.mark_synthesis_complete()

    async def aclose(self) -> None:
        self.close_calls += 1
        self.connected = False
        await self._cancel_all()
        await super().aclose()

    def _spawn(self, text: str) -> None:
        task = asyncio.create_task(self._speak(text))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _cancel_all(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    async def _speak(self, text: str) -> None:
        track = self.audio_track
        if track is None:
            return
        track.enable_audio_input()  # contract §0.4: re-arm interrupt() for this response
        self.emit("agent_speech_started", {})
        pcm = tone(REPLY_SECONDS, OUT_RATE, freq=660.0).reshape(-1).tobytes()
        piece = 2 * OUT_RATE // 50  # 20 ms of int16 mono
        for i in range(0, len(pcm), piece):
            await track.add_new_bytes(pcm[i : i + piece])
        self.emit("realtime_model_transcription", {"role": "agent", "text": text, "is_final": True})
        self.emit("llm_text_output", {"text": text})
        track.mark_synthesis_complete()


class QuietAgent(Agent):
    def __init__(self) -> None:
        super().__init__(instructions="You are a test agent.")
        self.entered = 0
        self.exited = 0

    async def on_enter(self) -> None:
        self.entered += 1

    async def on_exit(self) -> None:
        self.exited += 1


def make_room(**kwargs: Any) -> tuple[LocalRoom, QuietAgent, DummyRealtime]:
    model_keys = ("fail_connect", "fail_audio_after", "connect_delay")
    model_kwargs = {k: kwargs.pop(k) for k in model_keys if k in kwargs}
    model = DummyRealtime(**model_kwargs)
    agent = QuietAgent()
    return LocalRoom(agent, Pipeline(llm=model), **kwargs), agent, model


def framework_tasks() -> set[asyncio.Task[Any]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}


async def test_spoken_turn_round_trip() -> None:
    room, agent, model = make_room()
    async with room:
        assert agent.entered == 1
        assert model.audio_track is room.track
        await room.play(tone(0.5, 48000, channels=2), rate=48000, channels=2)
        await room.wait_for_event("agent_speech_ended", timeout=5)

        # The caller's leg reached the model exactly as an opus meeting delivers it.
        assert model.format_at_connect == (48000, 2)
        assert {len(b) for b in model.received} == {3840}

        # User and agent turns landed in the real chat context.
        items = room.chat_items()
        assert ("user", USER_TEXT) in items
        assert ("assistant", AGENT_TEXT) in items
        assert items.index(("user", USER_TEXT)) < items.index(("assistant", AGENT_TEXT))

        # 0.5 s of voiced 24 kHz output in 20 ms frames from the framework's track.
        assert all(f.sample_rate == OUT_RATE and f.samples == 480 for _, f in room.output_frames)
        assert 460 <= room.voiced_ms() <= 540
        audio = np.frombuffer(room.agent_audio(), dtype=np.int16)
        assert audio.size == 480 * len(room.output_frames)

        names = [n for _, n, _ in room.events]
        order = [
            "user_speech_started",
            "user_speech_ended",
            "realtime_model_transcription",
            "agent_speech_started",
            "agent_speech_ended",
        ]
        assert [names.index(n) for n in order] == sorted(names.index(n) for n in order)
        states = [s for _, s in room.agent_states]
        assert states[0] == "starting"
        assert "speaking" in states
        assert states[-1] == "idle"
        assert room.session.agent_state.value == "idle"
        assert room.metrics_collector is get_current_metrics_collector()
    assert agent.exited == 1
    assert model.close_calls == 1
    # The turn was finalised into the room's own metrics collector and reported on
    # its own event bus (at the latest by session.close()).
    assert room.events_named("TURN_METRICS_ADDED")


async def test_reply_and_say_complete_because_the_track_is_drained() -> None:
    room, _agent, model = make_room()
    async with room:
        async with asyncio.timeout(5):
            handle = await room.session.reply(instructions="greet the caller")
        assert handle.done()
        handle = await room.session.say("hello there")
        async with asyncio.timeout(5):
            await handle
        assert model.sent_text == ["greet the caller", "hello there"]
        assert len(room.events_named("agent_speech_ended")) == 2
        items = room.chat_items()
        assert ("assistant", "reply to greet the caller") in items
        assert ("assistant", "hello there") in items
        assert 920 <= room.voiced_ms() <= 1080


@pytest.mark.parametrize(
    ("rate", "frame_bytes"),
    [(8000, 320), (16000, 640)],
    ids=["pcmu", "g722"],
)
async def test_phone_leg(rate: int, frame_bytes: int) -> None:
    room, _agent, model = make_room(wire_rate=rate, wire_channels=1)
    async with room:
        assert audio_format.get() == (rate, 1)
        await room.play(tone(0.5, 24000), rate=24000)
        await room.wait_for_event("agent_speech_ended", timeout=5)
        assert model.format_at_connect == (rate, 1)
        assert audio_format.get() == (rate, 1)
        assert {len(b) for b in model.received} == {frame_bytes}
        # Between utterances the line carries low noise, not digital zeros.
        idle = [np.frombuffer(b, dtype=np.int16) for b in model.received[-5:]]
        levels = [level_dbfs(p) for p in idle]
        assert all(-72 < lv < -60 for lv in levels), levels
    assert audio_format.get() == (None, None)


async def test_close_leaves_nothing_behind() -> None:
    before = framework_tasks()
    outer_bus = get_current_event_bus()
    room, agent, model = make_room()
    async with room:
        assert get_current_event_bus() is not outer_bus
        await room.play(tone(0.4, 48000), rate=48000)
        await room.wait_for_event("agent_speech_ended", timeout=5)
        # A reply still playing when the room closes must not leak either.
        await room.session.say("still talking")
        await room.wait_for_event("agent_speech_started", count=2, timeout=5)
    assert framework_tasks() - before == set()
    assert audio_format.get() == (None, None)
    assert get_current_event_bus() is outer_bus
    assert model.close_calls == 1
    assert agent.exited == 1
    assert room.track.readyState == "ended"
    with pytest.raises(RuntimeError, match="not open"):
        await room.play(b"\0\0", rate=48000)
    # A second room can open now that the first released the process-wide state.
    room2, _, _ = make_room()
    async with room2:
        pass
    assert framework_tasks() - before == set()


async def test_failed_start_still_cleans_up() -> None:
    before = framework_tasks()
    outer_bus = get_current_event_bus()
    room, _agent, model = make_room(fail_connect=True)
    with pytest.raises(RuntimeError, match="connect failed on purpose"):
        async with room:
            pytest.fail("the body must not run")
    assert framework_tasks() - before == set()
    assert audio_format.get() == (None, None)
    assert get_current_event_bus() is outer_bus
    assert model.close_calls == 1  # session.close() -> pipeline.cleanup() -> aclose()
    assert LocalRoom._active is None


async def test_play_fails_fast_when_the_listener_dies() -> None:
    room, _, _ = make_room(fail_audio_after=3)
    async with room:
        with pytest.raises(RuntimeError, match="audio listener stopped"):
            async with asyncio.timeout(5):
                await room.play(tone(1.0, 48000), rate=48000)


async def test_speed_paces_the_mic_but_not_the_agent() -> None:
    room, _, _model = make_room(speed=math.inf)
    async with room:
        t0 = time.monotonic()
        await room.play(tone(2.0, 48000), rate=48000)
        assert time.monotonic() - t0 < 1.0
        await room.play_silence(0.1)
        ended = await room.wait_for_event("agent_speech_ended", timeout=5)
        started = room.events_named("agent_speech_started")[0]
        # The framework's track still plays 0.5 s in real time (+0.2 s grace).
        assert ended[0][0] - started[0] >= REPLY_SECONDS


async def test_wait_for_times_out_with_context_and_errors_are_recorded() -> None:
    room, _, model = make_room()
    async with room:
        with pytest.raises(TimeoutError, match="agent_speech_ended"):
            await room.wait_for_event("agent_speech_ended", timeout=0.2)
        model.emit("error", "boom")
        assert room.payloads("error") == [{"source": "REALTIME", "error": "boom"}]
        # The pipeline built outside the room listens on the room's session bus.
        room.event_bus.emit("PIPELINE_ERROR", {"source": "STT", "error": "bus"})
        assert room.payloads("error")[-1] == {"source": "STT", "error": "bus"}


async def test_start_timeout_cleans_up() -> None:
    before = framework_tasks()
    room, _agent, model = make_room(connect_delay=60.0, start_timeout=0.2)
    with pytest.raises(TimeoutError, match=r"session\.start\(\)"):
        async with room:
            pytest.fail("the body must not run")
    assert framework_tasks() - before == set()
    assert model.close_calls == 1
    assert audio_format.get() == (None, None)


async def test_mic_before_start_reaches_a_connecting_model() -> None:
    room, _agent, model = make_room(connect_delay=0.2, mic_before_start=True)
    async with room:
        assert model.early_audio_calls > 0
        await room.play_silence(0.06)
        assert len(model.received) >= 3
