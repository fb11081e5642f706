"""The avatar through the real Pipeline and AgentSession: seen, in sync, idle, frozen on barge-in.

The emulator renders its synthetic face and streams it as ``response.video.delta``
beside the audio; the plugin decodes it and publishes the agent's video track,
which :class:`~videosdk_plugins_azure.avatar.VideoRecorder` drains the way the
meeting's sender would. The lip-sync figure (:mod:`..._avatar_sync`) compares the
mouth read back from those frames with the audio the framework's track played,
both stamped on the monotonic clock.
"""

from __future__ import annotations

import bisect
import logging
import math
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import numpy as np
import pytest
from videosdk.agents import Agent, Pipeline

from videosdk_plugins_azure import AzureVoiceLive, AzureVoiceLiveConfig
from videosdk_plugins_azure.avatar import VideoRecorder
from videosdk_plugins_azure.config import Avatar
from videosdk_plugins_azure.emulator import VoiceLiveEmulator, _avatar_video, synthesize
from videosdk_plugins_azure.emulator._avatar_sync import lip_sync, mouths
from videosdk_plugins_azure.testing import LocalRoom

KEY = "avatar-test-key"
SIZE = (320, 240)
ANSWER = "Good morning. The museum opens at nine, and the guided tour starts at ten."
LONG = (
    "Let me tell you everything about the old harbour, its lighthouse, the fishing boats, "
    "the market on Saturdays and the little cafe at the end of the pier."
)
SYNC_BOUND_MS = 80.0


class Quiet(Agent):
    def __init__(self) -> None:
        super().__init__(instructions="You are a guide.")

    async def on_enter(self) -> None:
        return None

    async def on_exit(self) -> None:
        return None


@asynccontextmanager
async def avatar_call(
    **emulator: Any,
) -> AsyncIterator[tuple[LocalRoom, VideoRecorder, VoiceLiveEmulator]]:
    """A LocalRoom call with an avatar, its video track drained from the start."""
    emulator = {"speed": 1.0, **emulator}
    async with VoiceLiveEmulator(api_key=KEY, tts="synthetic", model_latency=0, **emulator) as emu:
        avatar = Avatar(character="lisa", style="casual-sitting", width=SIZE[0], height=SIZE[1])
        model = AzureVoiceLive(
            model="gpt-realtime",
            endpoint=emu.endpoint,
            api_key=KEY,
            config=AzureVoiceLiveConfig(avatar=avatar),
        )
        async with LocalRoom(Quiet(), Pipeline(llm=model)) as room:
            assert room.model is model
            assert room.video_track is model.video_track is not None
            async with VideoRecorder(room.video_track) as video:
                yield room, video, emu


def _voiced(frame: Any) -> bool:
    pcm = np.asarray(frame.to_ndarray()).reshape(-1).astype(np.float64)
    return bool(pcm.size) and float(np.sqrt(np.mean(pcm * pcm))) > 32768 * 10 ** (-50 / 20)


def _voiced_span(room: LocalRoom, since: float = 0.0) -> tuple[float, float]:
    stamps = [t for t, f in room.output_frames if t >= since and _voiced(f)]
    assert stamps, "the agent was never heard"
    return stamps[0], stamps[-1] + 0.02


def _audio(room: LocalRoom) -> list[tuple[float, np.ndarray, int]]:
    return [
        (t, np.asarray(f.to_ndarray()).reshape(-1).astype(np.int16), f.sample_rate)
        for t, f in room.output_frames
    ]


def _after(frames: Sequence[tuple[float, Any]], start: float, end: float) -> list[Any]:
    return [f for t, f in frames if start <= t < end]


@pytest.mark.parametrize("speed", [1.0, math.inf], ids=["paced", "all-at-once"])
async def test_the_agent_is_seen_and_its_lips_follow_its_voice(speed: float) -> None:
    """Paced like the service, or with the whole answer arriving at once: the picture
    follows the voice as it plays, not as the video arrives."""
    async with avatar_call(speed=speed) as (room, video, _):
        await room.session.say(ANSWER)
        await room.wait_for_event("agent_speech_ended", timeout=30)
        await video.wait_for(video.count + 25, timeout=10)  # a second of idle picture
        frames = list(video.frames)
        decoded = room.model._avatar.output.frames_decoded
    start, end = _voiced_span(room)
    sync = lip_sync(_audio(room), mouths(frames), (start - 0.5, end + 0.5))
    print(f"lip sync: picture {sync.offset_ms:+.0f} ms, r={sync.correlation:.3f}, n={sync.points}")
    assert abs(sync.offset_ms) <= SYNC_BOUND_MS, sync
    assert sync.correlation > 0.5, sync
    assert {(f.width, f.height) for _, f in frames} == {SIZE}
    assert decoded >= int((end - start) * 25)
    idle = _after(frames, end + 0.1, frames[-1][0] + 1)
    assert len(idle) >= 10
    assert all(f is idle[0] for f in idle)  # between answers, one still picture


async def test_a_barge_in_freezes_the_picture_with_the_sound_and_the_next_answer_moves() -> None:
    async with avatar_call() as (room, video, emu):
        await room.session.say(LONG)
        await room.wait_for(lambda: len(_moving(video.frames)) >= 20, timeout=30, what="motion")
        await room.play(await synthesize("Wait, stop there please.", 24000), rate=24000)
        await room.wait_for_event("user_speech_started", timeout=10)
        cut_heard = room.events_named("user_speech_started")[-1][0]
        ended = len(room.events_named("agent_speech_ended"))
        # the emulator answers the interruption: wait for that answer to be over
        await room.wait_for(lambda: len(_segments(room, cut_heard)) >= 2, timeout=30, what="reply")
        await room.wait_for_event("agent_speech_ended", count=ended + 1, timeout=30)
        frames = list(video.frames)
        decoded = room.model._avatar.output.frames_decoded
        await emu.last_connection.wait_for("output_audio_buffer.cleared", source="server")
    # the service's own avatar queue is cleared once, with the barge-in
    assert emu.last_connection.types(source="client").count("output_audio_buffer.clear") == 1
    interrupted, reply = _segments(room, cut_heard)[:2]
    frozen = _after(frames, interrupted[1] + 0.1, reply[0] - 0.1)
    assert len(frozen) >= 10
    assert all(f is frozen[0] for f in frozen), "the picture moved after the barge-in"
    assert frozen[0] in _after(frames, interrupted[0], interrupted[1] + 0.1)  # a frame of it
    assert len(_moving(_after(frames, reply[0], reply[1]))) >= 10  # the reply moves again
    assert len(_moving(frames)) < decoded  # the cut answer's later frames were never shown


def _segments(room: LocalRoom, since: float) -> list[tuple[float, float]]:
    """Stretches of the agent's voice after ``since`` (apart by more than 0.3 s of quiet).

    The first is the interrupted answer's last stretch: the one playing just before
    ``since``. Its sound may already be cut when ``since`` is stamped, so the search
    starts from the last voiced frame before it, not from the first one after."""
    stamps = [t for t, f in room.output_frames if _voiced(f)]
    start = max(bisect.bisect_left(stamps, since) - 1, 0)
    while start > 0 and stamps[start] - stamps[start - 1] <= 0.3:
        start -= 1
    out: list[tuple[float, float]] = []
    for t in stamps[start:]:
        if out and t - out[-1][1] <= 0.3:
            out[-1] = (out[-1][0], t + 0.02)
        else:
            out.append((t, t + 0.02))
    return out


def _moving(frames: Sequence[Any]) -> set[int]:
    """Distinct pictures among ``frames`` (``(stamp, frame)`` pairs or frames)."""
    return {id(item[1] if isinstance(item, tuple) else item) for item in frames}


async def test_a_broken_video_stream_leaves_the_voice_alone(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def garbage(self: Any, openings: Sequence[float], *, key_first: bool) -> bytes:
        return b"\x00\x00\x00\x20mdatnot-a-video-stream-at-all" * len(openings)

    monkeypatch.setattr(_avatar_video.AvatarEncoder, "encode", garbage)
    with caplog.at_level(logging.WARNING, logger="videosdk_plugins_azure"):
        async with avatar_call() as (room, video, _):
            await room.session.say(ANSWER)
            await room.wait_for_event("agent_speech_ended", timeout=30)
            await video.wait_for(10, timeout=10)
    start, end = _voiced_span(room)
    assert end - start > 2.0  # the whole answer was heard
    assert ("assistant", ANSWER) in room.chat_items()
    stopped = [r for r in caplog.records if "avatar video stopped" in r.getMessage()]
    assert len(stopped) == 1
