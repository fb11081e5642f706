"""Images for the model: reply(frames=...) and the meeting's video, against the core."""

from __future__ import annotations

from videosdk_plugins_azure.core import effects as fx

from .conftest import Driver

IMAGE = {"type": "input_image", "image_url": "data:image/jpeg;base64,AAAA", "detail": "auto"}


def test_framed_reply_is_a_user_turn_with_images_then_an_answer(call: Driver) -> None:
    call.connect()
    [job] = call.run(call.core.user_frames("Describe what you see", ["frame"]))
    assert isinstance(job, fx.SendFrames)
    assert job.respond
    call.run(call.core.frames_encoded(job.text, [IMAGE], respond=True))
    [create_item] = call.sent("conversation.item.create")
    item = create_item["item"]
    assert item["role"] == "user"
    assert item["content"] == [{"type": "input_text", "text": "Describe what you see"}, IMAGE]
    assert len(call.sent("response.create")) == 1
    assert all(
        "pre_generated_assistant_message" not in str(e) for e in call.sent("response.create")
    )


def test_the_meeting_frame_goes_with_the_next_turn_at_a_bounded_rate(call: Driver) -> None:
    call.connect()
    call.core.vision.interval = 2.0
    for n in range(30):
        call.core.video_frame(f"frame {n}")
    call.event("input_audio_buffer.speech_started", audio_start_ms=0)
    [job] = call.of(fx.SendFrames)
    assert job.frames == ("frame 29",)
    assert not job.respond
    call.event("input_audio_buffer.speech_stopped", audio_end_ms=500)
    call.core.video_frame("frame 30")
    call.advance(1.0)
    call.event("input_audio_buffer.speech_started", audio_start_ms=900)
    assert len(call.of(fx.SendFrames)) == 1, "within the interval: no second frame"
    call.advance(1.5)
    call.event("input_audio_buffer.speech_started", audio_start_ms=2000)
    assert call.of(fx.SendFrames)[-1].frames == ("frame 30",)
    call.event("input_audio_buffer.speech_started", audio_start_ms=5000)
    assert len(call.of(fx.SendFrames)) == 2, "no new frame since: nothing sent"


def test_images_are_not_kept_for_a_replay(call: Driver) -> None:
    call.connect()
    call.core.item_sent({"type": "message", "role": "user", "content": [IMAGE]})
    call.core.item_sent(
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "hi"}, IMAGE],
        }
    )
    call.core.socket_closed(1006)
    call.core.connection_reset("drop", error=True)
    call.core.connecting()
    replay = call.core.replay_events()
    assert [e["item"]["content"] for e in replay] == [[{"type": "input_text", "text": "hi"}]]
