"""Conversation item validation, ordering and assistant-audio truncation."""

from __future__ import annotations

from typing import Any

import pytest
from azure.ai.voicelive.models import (
    ResponseFunctionCallItem,
    ResponseFunctionCallOutputItem,
    ResponseMessageItem,
)

from videosdk_plugins_azure.emulator._conversation import Conversation, user_text

from .conftest import assert_rejected, deserialize


def user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


CALL = {
    "type": "function_call",
    "name": "get_weather",
    "call_id": "call_1",
    "arguments": '{"city":"Paris"}',
}
OUTPUT = {"type": "function_call_output", "call_id": "call_1", "output": '{"temp":21}'}


def assistant_audio(conv: Conversation, transcript: str, ms: float) -> str:
    item, _ = conv.add(
        {
            "type": "message",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "audio", "transcript": transcript}],
        }
    )
    conv.set_audio_ms(item["id"], ms)
    return str(item["id"])


# -- item validation --------------------------------------------------------------------------

ACCEPTED: list[dict[str, Any]] = [
    user("hello"),
    {"type": "message", "role": "user", "content": [{"type": "input_audio", "transcript": "hi"}]},
    {
        "type": "message",
        "role": "user",
        "content": [
            {"type": "input_image", "image_url": "data:image/png;base64,AAAA", "detail": "low"}
        ],
    },
    {"type": "message", "role": "assistant", "content": [{"type": "text", "text": "Hi!"}]},
    {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hi!"}]},
    {"type": "message", "role": "assistant", "content": [{"type": "audio", "transcript": "Hi!"}]},
    {
        "type": "message",
        "role": "system",
        "content": [{"type": "input_text", "text": "Be brief."}],
        "status": "completed",
        "object": "realtime.item",
    },
    CALL,
]


@pytest.mark.parametrize("item", ACCEPTED)
def test_accepted_items(item: dict[str, Any]) -> None:
    stored, previous = Conversation().create(item)
    assert previous is None
    assert stored["id"] == "item_001"
    assert stored["object"] == "realtime.item"
    assert stored["status"] == "completed"
    assert {k: v for k, v in stored.items() if k not in {"id", "object", "status"}} == {
        k: v for k, v in item.items() if k not in {"object", "status"}
    }


MSG = {"type": "message", "role": "user"}
REJECTED: list[tuple[Any, str, str]] = [
    ("hello", "invalid_value", "item"),
    ({}, "missing_required_parameter", "item.type"),
    ({"type": "reasoning"}, "invalid_value", "item.type"),
    (
        {"type": "message", "content": [{"type": "input_text", "text": "x"}]},
        "missing_required_parameter",
        "item.role",
    ),
    ({"type": "message", "role": "tool", "content": []}, "invalid_value", "item.role"),
    (MSG, "missing_required_parameter", "item.content"),
    (MSG | {"content": []}, "invalid_value", "item.content"),
    (MSG | {"content": "hello"}, "invalid_value", "item.content"),
    (
        MSG | {"content": [{"type": "output_text", "text": "x"}]},
        "invalid_value",
        "item.content[0].type",
    ),
    (
        {
            "type": "message",
            "role": "system",
            "content": [{"type": "input_audio", "transcript": "x"}],
        },
        "invalid_value",
        "item.content[0].type",
    ),
    (
        {"type": "message", "role": "assistant", "content": [{"type": "input_text", "text": "x"}]},
        "invalid_value",
        "item.content[0].type",
    ),
    (
        MSG | {"content": [{"type": "input_text"}]},
        "missing_required_parameter",
        "item.content[0].text",
    ),
    (
        MSG | {"content": [{"type": "input_text", "text": 3}]},
        "invalid_value",
        "item.content[0].text",
    ),
    (
        MSG | {"content": [{"type": "input_audio"}]},
        "missing_required_parameter",
        "item.content[0].audio",
    ),
    (
        MSG | {"content": [{"type": "input_audio", "audio": "not base64!"}]},
        "invalid_value",
        "item.content[0].audio",
    ),
    (
        MSG | {"content": [{"type": "input_image"}]},
        "missing_required_parameter",
        "item.content[0].image_url",
    ),
    (
        MSG | {"content": [{"type": "input_text", "text": "x", "lang": "en"}]},
        "unknown_parameter",
        "item.content[0].lang",
    ),
    (user("x") | {"name": "bob"}, "unknown_parameter", "item.name"),
    (user("x") | {"status": "done"}, "invalid_value", "item.status"),
    (
        {"type": "function_call", "name": "f", "arguments": "{}"},
        "missing_required_parameter",
        "item.call_id",
    ),
    (
        {"type": "function_call", "name": "f", "call_id": "c", "arguments": {}},
        "invalid_value",
        "item.arguments",
    ),
    ({"type": "function_call_output", "call_id": "c"}, "missing_required_parameter", "item.output"),
    (
        {"type": "function_call_output", "call_id": "missing", "output": "x"},
        "invalid_value",
        "item.call_id",
    ),
    (
        {"type": "mcp_approval_response", "approval_request_id": "nope", "approve": True},
        "invalid_value",
        "item.approval_request_id",
    ),
    (
        {"type": "mcp_approval_response", "approval_request_id": "req", "approve": "yes"},
        "invalid_value",
        "item.approve",
    ),
]


@pytest.mark.parametrize(
    ("item", "code", "param"), REJECTED, ids=[f"{c[2]}-{i}" for i, c in enumerate(REJECTED)]
)
def test_rejected_items(item: Any, code: str, param: str) -> None:
    conv = Conversation()
    assert_rejected(lambda: conv.create(item), code, param)
    assert len(conv) == 0


def test_call_ids_link_outputs_to_calls() -> None:
    conv = Conversation()
    conv.create(CALL)
    assert_rejected(lambda: conv.create(CALL), "invalid_value", "item.call_id")
    stored, previous = conv.create(OUTPUT)
    assert previous == "item_001"
    assert stored["output"] == '{"temp":21}'


def test_mcp_approval_response_needs_request() -> None:
    conv = Conversation()
    request, _ = conv.add(
        {
            "type": "mcp_approval_request",
            "name": "search",
            "server_label": "docs",
            "arguments": "{}",
        }
    )
    stored, _ = conv.create(
        {
            "type": "mcp_approval_response",
            "approval_request_id": request["id"],
            "approve": False,
            "reason": "no",
        }
    )
    assert stored["approve"] is False


def test_input_audio_is_kept_aside_not_echoed() -> None:
    conv = Conversation()
    stored, _ = conv.create(MSG | {"content": [{"type": "input_audio", "audio": "AAECAw=="}]})
    assert stored["content"] == [{"type": "input_audio", "transcript": None}]
    assert conv.input_audio(stored["id"], 0) == "AAECAw=="
    conv.set_transcript(stored["id"], 0, "what's the weather")
    assert user_text(conv.get(stored["id"])) == "what's the weather"
    assert_rejected(
        lambda: conv.set_transcript(stored["id"], 1, "x"), "invalid_value", "content_index"
    )


# -- ids and ordering ---------------------------------------------------------------------------


def test_client_ids_kept_unless_taken() -> None:
    conv = Conversation()
    stored, _ = conv.create(user("a") | {"id": "item_001"})
    assert stored["id"] == "item_001"
    assert conv.create(user("b"))[0]["id"] == "item_002"
    assert_rejected(
        lambda: conv.create(user("c") | {"id": "item_001"}), "item_already_exists", "item.id"
    )
    reserved = conv.new_id()
    assert_rejected(
        lambda: conv.create(user("d") | {"id": reserved}), "item_already_exists", "item.id"
    )
    assert (
        conv.add({"id": reserved, "type": "message", "role": "user", "content": []})[0]["id"]
        == reserved
    )
    assert_rejected(lambda: conv.add({"id": reserved}), "item_already_exists", "item.id")


def test_id_factory_is_used() -> None:
    names = iter(["item_0007", "item_0008"])
    conv = Conversation(id_factory=lambda prefix: next(names))
    assert conv.create(user("a"))[0]["id"] == "item_0007"
    assert conv.new_id("call") == "item_0008"


def test_insertion_order() -> None:
    conv = Conversation()
    first, prev = conv.create(user("first"))
    assert prev is None
    last, prev = conv.create(user("last"))
    assert prev == first["id"]
    middle, prev = conv.create(user("middle"), previous_item_id=first["id"])
    assert prev == first["id"]
    start, prev = conv.create(user("start"), previous_item_id="root")
    assert prev is None
    assert [user_text(i) for i in conv.items] == ["start", "first", "middle", "last"]
    assert conv.last_id == last["id"]
    assert conv.index_of(middle["id"]) == 2
    assert_rejected(
        lambda: conv.create(user("x"), previous_item_id="item_999"),
        "item_not_found",
        "previous_item_id",
    )
    conv.delete(start["id"])
    assert len(conv) == 3
    assert conv.create(user("new start"), previous_item_id="root")[1] is None


@pytest.mark.parametrize("op", ["get", "delete", "index_of"])
def test_unknown_item_id(op: str) -> None:
    conv = Conversation()
    conv.create(user("a"))
    assert_rejected(lambda: getattr(conv, op)("item_404"), "item_not_found", "item_id")


def test_replace_keeps_position() -> None:
    conv = Conversation()
    conv.create(user("a"))
    item, _ = conv.add(
        {"type": "message", "role": "assistant", "status": "in_progress", "content": []}
    )
    conv.create(user("b"))
    conv.replace({**item, "status": "completed", "content": [{"type": "text", "text": "done"}]})
    assert conv.items[1]["status"] == "completed"
    assert user_text(conv.items[1]) == "done"


def test_user_text_joins_text_and_transcripts() -> None:
    item = {
        "content": [
            {"type": "input_text", "text": "hi"},
            {"type": "input_audio", "transcript": None},
            {"type": "audio", "transcript": "there"},
        ]
    }
    assert Conversation.user_text(item) == "hi there"


# -- truncation ----------------------------------------------------------------------------------


def test_truncate_trims_transcript_to_heard_words() -> None:
    conv = Conversation()
    item_id = assistant_audio(conv, "one two three four", 2000)
    conv.truncate(item_id, 0, 1000)
    assert conv.get(item_id)["content"][0]["transcript"] == "one two"
    assert conv.audio_ms(item_id) == 1000
    conv.truncate(item_id, 0, 1000)
    assert conv.get(item_id)["content"][0]["transcript"] == "one two"
    conv.truncate(item_id, 0, 500)
    assert conv.get(item_id)["content"][0]["transcript"] == "one"
    error = assert_rejected(lambda: conv.truncate(item_id, 0, 800), "invalid_value", "audio_end_ms")
    assert error.message == "Audio content of 500ms is already shorter than 800ms"
    conv.truncate(item_id, 0, 0)
    assert conv.get(item_id)["content"][0]["transcript"] == ""


def test_truncate_at_full_length_keeps_everything() -> None:
    conv = Conversation()
    item_id = assistant_audio(conv, "It is sunny.", 1200)
    conv.truncate(item_id, 0, 1200)
    assert conv.get(item_id)["content"][0]["transcript"] == "It is sunny."
    error = assert_rejected(
        lambda: conv.truncate(item_id, 0, 1500), "invalid_value", "audio_end_ms"
    )
    assert error.message == "Audio content of 1200ms is already shorter than 1500ms"


def test_truncate_rejections() -> None:
    conv = Conversation()
    user_id = conv.create(user("hi"))[0]["id"]
    call_id = conv.create(CALL)[0]["id"]
    text_id = conv.add(
        {"type": "message", "role": "assistant", "content": [{"type": "text", "text": "x"}]}
    )[0]["id"]
    audio_id = assistant_audio(conv, "hello there", 1000)
    assert_rejected(lambda: conv.truncate("item_404", 0, 0), "item_not_found", "item_id")
    error = assert_rejected(lambda: conv.truncate(user_id, 0, 0), "invalid_value", "item_id")
    assert error.message == "Only model output audio messages can be truncated"
    assert_rejected(lambda: conv.truncate(call_id, 0, 0), "invalid_value", "item_id")
    assert_rejected(lambda: conv.truncate(text_id, 0, 0), "invalid_value", "content_index")
    assert_rejected(lambda: conv.truncate(audio_id, 1, 0), "invalid_value", "content_index")
    assert_rejected(lambda: conv.truncate(audio_id, False, 0), "invalid_value", "content_index")
    assert_rejected(lambda: conv.truncate(audio_id, 0, -1), "invalid_value", "audio_end_ms")
    assert_rejected(lambda: conv.truncate(audio_id, 0, 500.0), "invalid_value", "audio_end_ms")
    assert conv.get(audio_id)["content"][0]["transcript"] == "hello there"


# -- SDK round trip ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "cls"),
    [
        (user("hi"), ResponseMessageItem),
        (CALL, ResponseFunctionCallItem),
        (OUTPUT, ResponseFunctionCallOutputItem),
    ],
)
def test_items_deserialize_with_sdk(item: dict[str, Any], cls: type[Any]) -> None:
    conv = Conversation()
    if item is OUTPUT:
        conv.create(CALL)
    stored, previous = conv.create(item)
    event = deserialize(
        {
            "type": "conversation.item.created",
            "event_id": "e",
            "previous_item_id": previous,
            "item": stored,
        }
    )
    assert isinstance(event.item, cls)
    assert event.item.id == stored["id"]
