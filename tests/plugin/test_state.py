"""The call bookkeeping, with no network: requests, audio, barge-in, transcripts."""

from __future__ import annotations

import pytest

from videosdk_plugins_azure.core.responses import CallState, Cut
from videosdk_plugins_azure.protocol.text import cut_text

BPM = 48.0  # 24 kHz pcm16 bytes per ms


def state_with_audio(ms: float = 1000, *, done: bool = False, at: int | None = 0) -> CallState:
    """One response whose ``ms`` of audio starts at sample ``at`` of the speaker timeline."""
    state = CallState(bytes_per_ms=BPM)
    state.response_created("resp_1")
    assert state.audio("resp_1", "item_1", int(ms * BPM), speaker_at=at) == "first"
    if done:
        state.response_done("resp_1", "completed")
    return state


def samples(ms: float) -> int:
    return int(ms * 24)


# -- response.create ----------------------------------------------------------------------


def test_a_request_goes_out_when_nothing_is_live() -> None:
    state = CallState()
    request = state.request_response({"instructions": "hi"})
    assert request is not None
    assert request.params == {"instructions": "hi"}
    assert request.request_id.startswith("req_")


def test_requests_queue_while_a_response_is_live_and_go_one_at_a_time() -> None:
    state = CallState()
    state.response_created("server_auto")
    assert state.request_response({"a": 1}) is None
    assert state.request_response({"b": 2}) is None
    assert state.pending_requests == 2
    _, first = state.response_done("server_auto", "completed")
    assert first is not None
    assert first.params == {"a": 1}
    # in flight: the next waits for its response to be created and done
    assert state.request_response({"c": 3}) is None
    state.response_created("resp_a")
    _, second = state.response_done("resp_a", "completed")
    assert second is not None
    assert second.params == {"b": 2}


def test_a_rejected_create_is_retried_first() -> None:
    state = CallState()
    sent = state.request_response({"x": 1})
    assert sent is not None
    state.response_created("server_auto")  # the server's VAD response won the race
    assert state.request_response({"y": 2}) is None
    assert state.create_rejected(sent.request_id) is None  # still live: wait
    _, retry = state.response_done("server_auto", "completed")
    assert retry is not None
    assert retry.params == {"x": 1}


def test_created_response_takes_the_in_flight_request_id() -> None:
    state = CallState()
    sent = state.request_response()
    assert sent is not None
    response = state.response_created("resp_9")
    assert response.request_id == sent.request_id


# -- audio ---------------------------------------------------------------------------------


def test_audio_of_unknown_interrupted_or_finished_responses_is_dropped() -> None:
    state = CallState(bytes_per_ms=BPM)
    assert state.audio("nope", "item", 960) == "drop"
    state.response_created("resp_1")
    assert state.audio("resp_1", "item_1", 960) == "first"
    assert state.audio("resp_1", "item_1", 960) == "play"
    [target] = state.interrupt(0)
    assert target.id == "resp_1"
    assert state.audio("resp_1", "item_1", 960) == "drop"
    state.response_created("resp_2")
    state.response_done("resp_2", "completed")
    assert state.audio("resp_2", "item_2", 960) == "drop"


def test_a_new_response_is_not_silenced_by_an_old_interruption() -> None:
    state = state_with_audio()
    state.interrupt(0)
    state.response_done("resp_1", "cancelled")
    state.response_created("resp_2")
    assert state.audio("resp_2", "item_2", 960) == "first"


# -- barge-in ------------------------------------------------------------------------------


def test_interrupt_silences_what_is_playing_even_after_the_server_finished() -> None:
    state = state_with_audio(2000, done=True)
    assert state.active is None
    assert state.speaking
    [target] = state.interrupt(samples(500))
    assert target.id == "resp_1"
    assert target.heard_ms == 500
    assert not state.speaking


def test_interrupt_with_nothing_live_is_empty() -> None:
    assert CallState().interrupt(0) == []


def test_an_answer_heard_in_full_is_left_alone() -> None:
    state = state_with_audio(1000, done=True)
    assert state.interrupt(samples(1500)) == []


@pytest.mark.parametrize(
    ("heard_ms", "done", "server_truncates", "expected"),
    [
        (0, False, False, Cut("delete", "item_1")),
        (640, False, False, Cut("truncate", "item_1", 640)),
        (5000, False, False, Cut("truncate", "item_1", 1000)),  # capped at what arrived
        (640, False, True, Cut("none", "item_1")),  # auto_truncate: the server does it
    ],
)
def test_the_cut_follows_what_was_heard(
    heard_ms: float, done: bool, server_truncates: bool, expected: Cut
) -> None:
    state = state_with_audio(1000, done=done)
    [target] = state.interrupt(samples(heard_ms))
    assert state.cut(target, server_truncates=server_truncates) == expected


def test_the_timeline_starts_where_the_answer_was_queued() -> None:
    # 400 ms of an earlier fade-out were still queued when this answer arrived
    state = state_with_audio(1000, at=samples(400))
    [target] = state.interrupt(samples(400 + 300))
    assert target.heard_ms == 300
    assert state.cut(target, server_truncates=False) == Cut("truncate", "item_1", 300)


def test_an_answer_queued_behind_the_audible_one_was_never_heard() -> None:
    state = state_with_audio(2000, done=True)  # audible: [0, 2000) ms
    state.response_created("resp_2")  # queued behind it, e.g. a say() right after a reply
    state.audio("resp_2", "item_2", int(1000 * BPM), speaker_at=samples(2000))
    state.response_done("resp_2", "completed")
    silenced = {r.id: r for r in state.interrupt(samples(700))}
    assert silenced["resp_1"].heard_ms == 700
    assert silenced["resp_2"].heard_ms == 0
    assert state.cut(silenced["resp_1"], server_truncates=False) == Cut("truncate", "item_1", 700)
    assert state.cut(silenced["resp_2"], server_truncates=False) == Cut("delete", "item_2")


def test_a_response_interrupted_before_any_audio_needs_no_cut() -> None:
    state = CallState(bytes_per_ms=BPM)
    state.response_created("resp_1")
    [target] = state.interrupt(0)
    assert target.dropped
    assert state.cut(target, server_truncates=False).action == "none"


def test_without_a_speaker_everything_received_counts_as_heard() -> None:
    state = state_with_audio(1000, at=None)
    [target] = state.interrupt(None)
    assert state.cut(target, server_truncates=False) == Cut("truncate", "item_1", 1000)


def test_two_barge_ins_in_a_row_each_cut_their_own_item() -> None:
    state = state_with_audio(1000)
    [first] = state.interrupt(samples(300))
    assert state.cut(first, server_truncates=False) == Cut("truncate", "item_1", 300)
    state.response_done("resp_1", "cancelled")
    state.response_created("resp_2")
    state.audio("resp_2", "item_2", int(800 * BPM), speaker_at=samples(300 + 400))
    [second] = state.interrupt(samples(700 + 200))
    assert second.id == "resp_2"
    assert state.cut(second, server_truncates=False) == Cut("truncate", "item_2", 200)


# -- transcripts ---------------------------------------------------------------------------


def test_agent_text_is_final_only_once_played_out() -> None:
    state = state_with_audio(1000)
    assert state.transcript_delta("resp_1", "Hello ") == "Hello "
    assert state.transcript_delta("resp_1", "there.") == "Hello there."
    assert state.transcript_done("resp_1", "Hello there.", wait_for_playout=True) == []
    state.response_done("resp_1", "completed")
    finals = state.playout_finished()
    assert [text for _, text in finals] == ["Hello there."]
    assert state.playout_finished() == []  # once


def test_without_a_speaker_text_is_final_at_once() -> None:
    state = state_with_audio(1000)
    finals = state.transcript_done("resp_1", "Hi.", wait_for_playout=False)
    assert [text for _, text in finals] == ["Hi."]


def test_an_interrupted_answer_keeps_only_what_was_heard() -> None:
    state = state_with_audio(2000)
    state.interrupt(samples(1000))
    text = "one two three four five six seven eight"
    finals = state.transcript_done("resp_1", text, wait_for_playout=True)
    assert [t for _, t in finals] == ["one two three four"]


def test_nothing_heard_means_no_agent_transcript() -> None:
    state = state_with_audio(2000)
    state.interrupt(0)
    assert state.transcript_done("resp_1", "never heard", wait_for_playout=True) == []


def test_flush_finalizes_pending_text() -> None:
    state = state_with_audio(1000, done=True)
    state.transcript_done("resp_1", "Pending.", wait_for_playout=True)
    assert [t for _, t in state.flush_transcripts()] == ["Pending."]


@pytest.mark.parametrize(
    ("text", "heard", "total", "expected"),
    [
        ("one two three four", 1000, 2000, "one two"),
        ("one two three four", 0, 2000, ""),
        ("one two three four", 2000, 2000, "one two three four"),
        ("one two three four", 3000, 2000, "one two three four"),
        ("supercalifragilistic", 500, 1000, "supercalif"),  # one word: cut mid-word
        ("", 500, 1000, ""),
        ("words", 500, 0, "words"),
    ],
)
def test_cut_text(text: str, heard: float, total: float, expected: str) -> None:
    assert cut_text(text, heard, total) == expected
