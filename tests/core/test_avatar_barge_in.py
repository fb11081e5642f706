"""A barge-in in an avatar session also clears the service's avatar queue (core alone)."""

from __future__ import annotations

import pytest

from videosdk_plugins_azure import AzureVoiceLiveConfig
from videosdk_plugins_azure.config import Avatar

from .conftest import make_core


@pytest.mark.parametrize("avatar", [True, False], ids=["avatar", "voice-only"])
def test_the_avatar_queue_is_cleared_once_per_barge_in_and_only_with_an_avatar(
    avatar: bool,
) -> None:
    config = AzureVoiceLiveConfig(avatar=Avatar(character="lisa") if avatar else None)
    call = make_core(config=config)
    call.asked_and_answering("Tell me about the harbour.")
    call.clear()
    call.run(call.core.interrupt())
    call.run(call.core.interrupt())  # a repeated interrupt repeats nothing
    clears = call.sent("output_audio_buffer.clear")
    assert len(clears) == (1 if avatar else 0)
    assert len(call.sent("response.cancel")) == 1


def test_a_barge_in_between_answers_sends_no_clear() -> None:
    call = make_core(config=AzureVoiceLiveConfig(avatar=Avatar(character="lisa")))
    call.connect()
    call.clear()
    call.event("input_audio_buffer.speech_started", audio_start_ms=0, item_id="u1")
    assert call.sent("output_audio_buffer.clear") == []
