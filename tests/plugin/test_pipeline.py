"""AzureVoiceLive inside the real VideoSDK Pipeline and AgentSession, against the emulator."""

from __future__ import annotations

import asyncio
import base64

import numpy as np
import pytest

from videosdk_plugins_azure.emulator import Turn, VoiceLiveEmulator

from .conftest import KEY, caller, heard_samples, make_model, room_with, sent_audio

LONG = (
    "Once upon a time there was a lighthouse keeper who counted every ship that passed, "
    "and every evening he wrote their names into a small blue notebook by the window."
)
LONG_2 = (
    "Of course. Let me start again from the beginning, slowly, with all the details "
    "about the ships, the weather, the keeper and his notebook."
)


async def test_a_spoken_turn_reaches_the_chat_context_and_the_speaker(
    emu: VoiceLiveEmulator,
) -> None:
    async with room_with(
        emu, Turn(user="what is the weather", reply="It is sunny and warm today.")
    ) as room:
        await room.play(await caller("What is the weather like today?"), rate=24000)
        await room.play_silence(1.0)
        await room.wait_for_event("agent_speech_ended", timeout=20)
        items = room.chat_items()
        assert ("user", "what is the weather") in items
        assert ("assistant", "It is sunny and warm today.") in items
        assert items.index(("user", "what is the weather")) < items.index(
            ("assistant", "It is sunny and warm today.")
        )
        # the agent's voice came out of the real track, at the declared output rate
        assert room.voiced_ms() > 800
        assert {f.sample_rate for _, f in room.output_frames} == {24000}
        assert {f.samples for _, f in room.output_frames} == {480}
        model = room.model
        assert model.first_audio_latency is not None
        assert model.first_audio_latency >= 0
        update = emu.last_connection.events("session.update")[0]["session"]
        assert update["input_audio_sampling_rate"] == 24000  # 48 kHz stereo meeting → 24 kHz
        assert update["instructions"].startswith("You are a helpful assistant.")
        states = [s for _, s in room.agent_states]
        assert "speaking" in states
        # token usage from response.done reaches the turn metrics
        await room.wait_for_event("TURN_METRICS_ADDED", timeout=20)
        metrics = room.payloads("TURN_METRICS_ADDED")[-1]["metrics"]
        usage = emu.last_connection.events("response.done", source="server")[-1]["response"][
            "usage"
        ]
        assert metrics["realtimeTotalTokens"] == usage["total_tokens"]
        assert metrics["realtimeOutputAudioTokens"] == usage["output_token_details"]["audio_tokens"]
        assert metrics["user_speech"] == "what is the weather"
        assert metrics["agent_speech"] == "It is sunny and warm today."


async def test_user_transcripts_arrive_as_interim_then_final(emu: VoiceLiveEmulator) -> None:
    async with room_with(emu, Turn(user="please book a table for two", reply="Done.")) as room:
        await room.play(await caller("Please book a table for two."), rate=24000)
        await room.play_silence(1.0)
        await room.wait_for_event("agent_speech_ended", timeout=20)
        user = [p for p in room.payloads("realtime_model_transcription") if p["role"] == "user"]
        assert [p["is_final"] for p in user] == [False, False, True]
        assert user[0]["text"] == "please book a"
        assert user[-1]["text"] == "please book a table for two"
        agent = [p for p in room.payloads("realtime_model_transcription") if p["role"] == "agent"]
        assert agent[-1] == {"role": "agent", "text": "Done.", "is_final": True}
        assert [p["text"] for p in room.payloads("llm_text_output")] == ["Done."]


async def test_reply_and_say_complete(emu: VoiceLiveEmulator) -> None:
    async with room_with(emu, Turn(reply="Here is my answer to your question.")) as room:
        await asyncio.wait_for(room.session.reply(instructions="Answer the question"), timeout=20)
        said = "Welcome to Contoso, how can I help?"
        handle = await room.session.say(said)
        await asyncio.wait_for(asyncio.ensure_future(_done(handle)), timeout=20)
        conn = emu.last_connection
        created = conn.events("conversation.item.create")
        assert created[0]["item"]["role"] == "user"
        creates = conn.events("response.create")
        assert (
            creates[-1]["response"]["pre_generated_assistant_message"]["content"][0]["text"] == said
        )
        items = room.chat_items()
        assert ("assistant", "Here is my answer to your question.") in items
        assert ("assistant", said) in items


async def test_two_barge_ins_in_a_row_flush_and_truncate_where_the_caller_was(
    emu: VoiceLiveEmulator,
) -> None:
    turns = (
        Turn(user="tell me a story", reply=LONG),
        Turn(user="wait", reply=LONG_2),
        Turn(user="stop", reply="Okay."),
    )
    async with room_with(emu, *turns) as room:
        conn_events = lambda kind: emu.last_connection.events(kind)  # noqa: E731
        await room.play(await caller("Tell me a story."), rate=24000)
        for barge, words in enumerate(("Wait a moment.", "Stop please.")):
            # let the agent talk for about a second, then talk over it
            start = len(room.output_frames)
            await room.wait_for(
                lambda s=start: _voiced_frames(room, s) >= 50, timeout=20, what="agent audio"
            )
            await room.play(await caller(words), rate=24000)
            truncate = await emu.last_connection.wait_for(
                "conversation.item.truncate", count=barge + 1, timeout=10
            )
            assert len(conn_events("conversation.item.truncate")) == barge + 1
            # the speaker stops: within the fade tail, the track is silent again
            await room.wait_for(
                lambda: _silent_tail(room, frames=10), timeout=10, what="silence after barge-in"
            )
            item_id = truncate["item_id"]
            response_id = next(
                e["response_id"]
                for e in emu.last_connection.events("response.audio.delta", source="server")
                if e["item_id"] == item_id
            )
            heard = heard_samples(room.agent_audio(), sent_audio(emu, response_id))
            heard_ms = heard / 24
            assert abs(truncate["audio_end_ms"] - heard_ms) <= 40, (
                truncate["audio_end_ms"],
                heard_ms,
            )
            assert 500 < heard_ms < 4000
        await room.play_silence(1.0)
        await room.wait_for(
            lambda: ("assistant", "Okay.") in room.chat_items(), timeout=20, what="final answer"
        )
        # the history keeps only what the caller heard of the interrupted answers
        agent_texts = [text for role, text in room.chat_items() if role == "assistant"]
        assert LONG not in agent_texts
        assert any(LONG.startswith(t) and len(t) < len(LONG) for t in agent_texts)
        assert any(LONG_2.startswith(t) and len(t) < len(LONG_2) for t in agent_texts)
        # and so does the service's copy of the conversation
        assert len(conn_events("conversation.item.delete")) == 0


async def _done(handle) -> None:  # type: ignore[no-untyped-def]
    """An ``UtteranceHandle`` is awaitable but not a coroutine."""
    await handle


def _voiced_frames(room, since: int) -> int:  # type: ignore[no-untyped-def]
    return sum(1 for _, f in room.output_frames[since:] if np.any(f.to_ndarray()))


def _voiced_rates(room) -> set[int]:  # type: ignore[no-untyped-def]
    return {f.sample_rate for _, f in room.output_frames if np.any(f.to_ndarray())}


def _silent_tail(room, frames: int) -> bool:  # type: ignore[no-untyped-def]
    tail = room.output_frames[-frames:]
    return len(tail) == frames and not any(np.any(f.to_ndarray()) for _, f in tail)


async def test_barge_in_while_the_server_is_still_generating(emu: VoiceLiveEmulator) -> None:
    emu.speed = 1.0  # the service streams in real time: the response is live when the caller talks
    async with room_with(
        emu, Turn(user="story", reply=LONG), Turn(user="wait", reply="Sure.")
    ) as room:
        await room.play(await caller("Tell me a story."), rate=24000)
        await room.wait_for(lambda: _voiced_frames(room, 0) >= 40, timeout=20, what="agent audio")
        await room.play(await caller("Wait."), rate=24000)
        done = await emu.last_connection.wait_for(
            "response.done", source="server", where=lambda e: e["response"]["status"] == "cancelled"
        )
        assert done["response"]["status_details"]["reason"] == "turn_detected"
        truncate = await emu.last_connection.wait_for("conversation.item.truncate")
        assert truncate["audio_end_ms"] > 0
        # nothing of the cancelled response plays after the flush
        await room.wait_for(lambda: _silent_tail(room, frames=10), timeout=10, what="silence")
        await room.wait_for(
            lambda: ("assistant", "Sure.") in room.chat_items(), timeout=20, what="next answer"
        )


async def test_interrupt_from_the_app_cancels_and_truncates() -> None:
    async with (
        VoiceLiveEmulator(api_key=KEY, speed=1.0, tts="synthetic") as emu,
        room_with(emu, Turn(reply=LONG)) as room,
    ):
        reply = asyncio.ensure_future(room.session.reply(instructions="tell a story"))
        await room.wait_for(lambda: _voiced_frames(room, 0) >= 30, timeout=20, what="agent audio")
        room.session.interrupt()
        cancel = await emu.last_connection.wait_for("response.cancel", timeout=10)
        assert cancel["type"] == "response.cancel"
        await emu.last_connection.wait_for("conversation.item.truncate", timeout=10)
        await asyncio.wait_for(reply, timeout=10)  # the handle completes: nothing hangs
        await room.wait_for(lambda: _silent_tail(room, frames=10), timeout=10, what="silence")


async def test_a_non_interruptible_say_is_not_cut_off(emu: VoiceLiveEmulator) -> None:
    emu.speed = 1.0
    async with room_with(emu, Turn(user="hello", reply="Hi.")) as room:
        said = "Please listen to this important notice until the very end, thank you."
        handle = await room.session.say(said, interruptible=False)
        await room.wait_for(lambda: _voiced_frames(room, 0) >= 20, timeout=20, what="agent audio")
        await room.play(await caller("Hello? Hello?"), rate=24000)
        await asyncio.wait_for(_done(handle), timeout=30)
        assert emu.last_connection.events("conversation.item.truncate") == []
        assert ("assistant", said) in room.chat_items()


async def test_phone_leg_at_8khz_is_declared_and_passed_through(emu: VoiceLiveEmulator) -> None:
    async with room_with(
        emu, Turn(user="hi", reply="Hello caller."), wire_rate=8000, wire_channels=1
    ) as room:
        speech = await caller("Hello, I am calling about my order.", rate=8000)
        speech = speech[: len(speech) // 160 * 160]
        await room.play(speech, rate=8000)
        await room.play_silence(1.0)
        await room.wait_for_event("agent_speech_ended", timeout=20)
        conn = emu.last_connection
        update = conn.events("session.update")[0]["session"]
        assert update["input_audio_sampling_rate"] == 8000
        assert update["output_audio_format"] == "pcm16_8000hz"
        appended = b"".join(
            base64.b64decode(e["audio"]) for e in conn.events("input_audio_buffer.append")
        )
        assert speech.astype("<i2").tobytes() in appended  # byte for byte
        assert _voiced_rates(room) == {8000}  # before connect() the idle track was 24 kHz
        assert room.voiced_ms() > 500


async def test_text_only_mode_transcripts_come_from_text_events(emu: VoiceLiveEmulator) -> None:
    model = make_model(emu, modalities=("text",))
    async with room_with(emu, Turn(reply="Plain text answer."), model=model) as room:
        await asyncio.wait_for(room.session.reply(instructions="answer"), timeout=20)
        assert ("assistant", "Plain text answer.") in room.chat_items()
        update = emu.last_connection.events("session.update")[0]["session"]
        assert update["modalities"] == ["text"]
        assert "response.audio.delta" not in emu.last_connection.types()


@pytest.mark.parametrize("wire", [(16000, 1)])
async def test_g722_leg_at_16khz(emu: VoiceLiveEmulator, wire: tuple[int, int]) -> None:
    async with room_with(emu, Turn(reply="Hi."), wire_rate=wire[0], wire_channels=wire[1]) as room:
        await asyncio.wait_for(room.session.reply(instructions="greet"), timeout=20)
        update = emu.last_connection.events("session.update")[0]["session"]
        assert update["input_audio_sampling_rate"] == 16000
        assert update["output_audio_format"] == "pcm16_16000hz"
        assert _voiced_rates(room) == {16000}  # before connect() the idle track was 24 kHz


async def test_barge_in_cuts_the_audible_answer_and_deletes_the_one_queued_behind_it(
    emu: VoiceLiveEmulator,
) -> None:
    async with room_with(emu, Turn(reply=LONG), Turn(user="wait", reply="Okay.")) as room:
        reply = asyncio.ensure_future(
            room.session.reply(instructions="tell a story", wait_for_playback=False)
        )
        await emu.last_connection.wait_for("response.done", source="server")
        await reply
        await room.session.say("And one more thing before you go.")  # queued behind the story
        await emu.last_connection.wait_for("response.done", source="server", count=2)
        await room.wait_for(
            lambda: _voiced_frames(room, 0) >= 40, timeout=20, what="the story playing"
        )
        await room.play(await caller("Wait."), rate=24000)
        delete = await emu.last_connection.wait_for("conversation.item.delete")
        truncate = await emu.last_connection.wait_for("conversation.item.truncate")
        deltas = emu.last_connection.events("response.audio.delta", source="server")
        story, queued = dict.fromkeys(e["item_id"] for e in deltas)  # in order
        assert truncate["item_id"] == story
        assert delete["item_id"] == queued
        story_response = next(e["response_id"] for e in deltas if e["item_id"] == story)
        await room.wait_for(lambda: _silent_tail(room, frames=10), timeout=10, what="silence")
        heard = heard_samples(room.agent_audio(), sent_audio(emu, story_response)) / 24
        assert abs(truncate["audio_end_ms"] - heard) <= 40
        # the queued answer never plays
        queued_response = next(e["response_id"] for e in deltas if e["item_id"] == queued)
        assert sent_audio(emu, queued_response)[:9600] not in room.agent_audio()


async def test_with_auto_truncate_the_server_cuts_and_the_plugin_does_not(
    emu: VoiceLiveEmulator,
) -> None:
    from videosdk_plugins_azure import TurnDetection

    emu.speed = 1.0
    model = make_model(emu, turn_detection=TurnDetection("server_vad", auto_truncate=True))
    async with room_with(
        emu, Turn(user="story", reply=LONG), Turn(user="wait", reply="Sure."), model=model
    ) as room:
        await room.play(await caller("Tell me a story."), rate=24000)
        await room.wait_for(lambda: _voiced_frames(room, 0) >= 30, timeout=20, what="agent audio")
        await room.play(await caller("Wait."), rate=24000)
        truncated = await emu.last_connection.wait_for(
            "conversation.item.truncated", source="server"
        )
        assert truncated["audio_end_ms"] > 0
        await room.wait_for(
            lambda: ("assistant", "Sure.") in room.chat_items(), timeout=20, what="answer"
        )
        assert emu.last_connection.events("conversation.item.truncate") == []
        assert emu.last_connection.events("conversation.item.delete") == []


async def test_requests_during_a_live_response_wait_their_turn(emu: VoiceLiveEmulator) -> None:
    emu.speed = 1.0
    async with room_with(
        emu, Turn(reply="First answer, spoken in real time."), Turn(reply="Second.")
    ) as room:
        await room.session.reply(instructions="first", wait_for_playback=False)
        await emu.last_connection.wait_for("response.created", source="server")
        handle = await room.session.say("A notice while the first answer streams.")
        await asyncio.wait_for(_done(handle), timeout=30)
        conn = emu.last_connection
        await conn.wait_for("response.done", source="server", count=2)
        codes = [e["error"]["code"] for e in conn.events("error", source="server")]
        assert "conversation_already_has_active_response" not in codes
        created = conn.events("response.created", source="server")
        done = conn.events("response.done", source="server")
        # the second response was created only after the first was done
        order = [
            e["type"]
            for e in conn.server_events
            if e["type"] in ("response.created", "response.done")
        ]
        assert order[:4] == [
            "response.created",
            "response.done",
            "response.created",
            "response.done",
        ]
        assert len(created) == len(done) == 2
