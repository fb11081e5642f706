"""The avatar timeline, with no socket: which frame shows at each playback position."""

from __future__ import annotations

import pytest

from videosdk_plugins_azure.core.avatar import AvatarTimeline
from videosdk_plugins_azure.core.responses import CallState

RATE = 24000
FRAME = RATE // 25
"""Samples per video frame at 25 fps."""


def answer(calls: CallState, response_id: str, *, seconds: float, at: int | None) -> None:
    """``response_id`` starts and gets ``seconds`` of audio, placed at ``at`` on the speaker."""
    calls.response_created(response_id)
    calls.audio(response_id, f"item_{response_id}", int(seconds * RATE) * 2, speaker_at=at)


def frames(timeline: AvatarTimeline, tag: str | None, count: int, *, stream_start: float) -> None:
    """``count`` frames named ``tag:i``, 40 ms apart on the stream's own clock."""
    for index in range(count):
        timeline.add(tag, stream_start + index * 0.04, f"{tag}:{index}")


@pytest.fixture
def calls() -> CallState:
    return CallState()


def test_an_answer_s_frames_follow_its_audio_from_its_first_sample(calls: CallState) -> None:
    timeline = AvatarTimeline(calls, RATE)
    answer(calls, "r1", seconds=1.0, at=5000)
    frames(timeline, "r1", 25, stream_start=73.0)  # the stream's clock is its own
    assert timeline.show(4999) is None
    assert timeline.show(5000) == "r1:0"
    assert timeline.show(5000 + FRAME - RATE // 1000) == "r1:0"  # 1 ms before the next
    assert timeline.show(5000 + FRAME) == "r1:1"
    assert timeline.show(5000 + 10 * FRAME + FRAME // 2) == "r1:10"
    assert timeline.show(5000 + 24 * FRAME) == "r1:24"


def test_video_that_comes_before_the_audio_waits_for_it(calls: CallState) -> None:
    timeline = AvatarTimeline(calls, RATE)
    calls.response_created("r1")
    frames(timeline, "r1", 5, stream_start=0.0)
    assert timeline.show(100) is None  # not placed yet: nothing of it shows
    assert timeline.queued == 5
    calls.audio("r1", "item_r1", RATE, speaker_at=2400)
    assert timeline.show(2400 + 2 * FRAME) == "r1:2"
    assert timeline.queued == 2


def test_between_answers_the_last_frame_is_held(calls: CallState) -> None:
    timeline = AvatarTimeline(calls, RATE)
    answer(calls, "r1", seconds=0.2, at=0)
    frames(timeline, "r1", 5, stream_start=0.0)
    calls.response_done("r1", "completed")
    assert timeline.show(4 * FRAME) == "r1:4"
    assert timeline.show(10 * RATE) == "r1:4"
    assert timeline.queued == 0
    answer(calls, "r2", seconds=0.2, at=10 * RATE)
    frames(timeline, "r2", 5, stream_start=0.2)
    assert timeline.show(10 * RATE + FRAME) == "r2:1"


def test_a_barge_in_freezes_the_picture_where_the_sound_stopped(calls: CallState) -> None:
    timeline = AvatarTimeline(calls, RATE)
    answer(calls, "r1", seconds=2.0, at=0)
    frames(timeline, "r1", 50, stream_start=0.0)
    assert timeline.show(10 * FRAME) == "r1:10"
    cut = 12 * FRAME  # where the speaker's fade ends
    calls.interrupt(cut)
    assert timeline.show(11 * FRAME) == "r1:11"  # the fade still plays, and shows
    assert timeline.queued == 1  # what lies after the cut is gone at once
    for position in (cut, cut + RATE, 10 * RATE):
        assert timeline.show(position) == "r1:11"
    assert timeline.queued == 0


def test_an_answer_interrupted_before_it_played_never_shows(calls: CallState) -> None:
    timeline = AvatarTimeline(calls, RATE)
    calls.response_created("r1")
    frames(timeline, "r1", 5, stream_start=0.0)
    calls.interrupt(0)
    assert timeline.show(0) is None
    assert timeline.queued == 0


def test_idle_video_shows_only_while_no_answer_plays(calls: CallState) -> None:
    timeline = AvatarTimeline(calls, RATE)
    timeline.add(None, 0.0, "idle:0")
    assert timeline.show(0) == "idle:0"
    answer(calls, "r1", seconds=0.2, at=100)
    frames(timeline, "r1", 5, stream_start=1.0)
    timeline.add(None, 1.0, "idle:1")
    assert timeline.show(100 + FRAME) == "r1:1"
    calls.response_done("r1", "completed")
    assert timeline.show(100 + RATE) == "idle:1"
    assert timeline.queued == 0


def test_video_of_an_unknown_answer_is_idle_video(calls: CallState) -> None:
    timeline = AvatarTimeline(calls, RATE)
    timeline.add("never_created", 0.0, "stray")
    assert timeline.show(0) == "stray"
