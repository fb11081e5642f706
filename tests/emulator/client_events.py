"""Hypothesis strategies for what a broken or hostile client sends the emulator.

Every client event type the SDK knows (``ClientEventType``) plus unknown ones and
types that are not strings, with fields that are missing, of the wrong JSON type,
nested junk, huge strings, lone surrogates and base64 that is not. Plausible shapes
(sessions, items, responses) are mixed in, so the fuzz reaches past the first
validation error into the handlers themselves.

Shared by the pure-state fuzz and the socket fuzz; also the helpers both use to
check that a connection still serves afterwards.
"""

from __future__ import annotations

import base64
import operator
from collections.abc import Mapping
from typing import Any

from azure.ai.voicelive.models import ClientEventType
from hypothesis import HealthCheck
from hypothesis import strategies as st

__all__ = [
    "CLIENT_EVENTS",
    "FINISH",
    "FUZZ_SETTINGS",
    "JUNK_FRAMES",
    "STEPS",
    "reconfigure",
]

FINISH = "<the running response finishes>"
"""A step that is not an event: the response being streamed completes now."""

FUZZ_SETTINGS: dict[str, Any] = {
    "derandomize": True,
    "database": None,
    "deadline": None,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.function_scoped_fixture,
    ],
}
"""Deterministic (a CI run tests the same cases each time) and with no local database."""

CHARS = st.characters(exclude_categories=())  # lone surrogates included
WORDS = st.sampled_from(
    [
        "", " ", "inf", "null", "auto", "none", "required", "pcm16", "g711_ulaw", "g711_alaw",
        "audio", "text", "server_vad", "semantic_vad", "azure_semantic_vad", "message",
        "function", "function_call", "function_call_output", "mcp", "mcp_approval_response",
        "user", "assistant", "system", "input_text", "input_audio", "output_text",
        "item_0001", "item_0003", "resp_0001", "call_0001", "get_weather", "\ud800", "\udfff",
        "alloy", "en-US-AvaNeural", "azure-standard", "openai", "word",
    ]
)  # fmt: skip
HUGE = st.builds(
    operator.mul,
    st.sampled_from(["a", "é ", "\ud800", "word ", "{[", "\x00"]),
    st.integers(2_000, 40_000),
)
TEXT = WORDS | st.text(CHARS, max_size=12) | HUGE
NUMBER = (
    st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.sampled_from([0, 1, -1, 8000, 16000, 24000, 4096, 0.5, 1e308, 10**30])
)
SCALAR = st.none() | st.booleans() | NUMBER | TEXT
KEYS = WORDS | st.text(CHARS, max_size=8)
JSON = st.recursive(
    SCALAR,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=10,
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly the plausible value (three times in four), else junk in its place."""
    return st.one_of(strategy, strategy, strategy, JSON)


def shape(**optional: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """An object with any subset of these keys, and sometimes a stray one."""
    return st.builds(
        operator.or_,
        st.fixed_dictionaries({}, optional={k: maybe(v) for k, v in optional.items()}),
        st.dictionaries(KEYS, JSON, max_size=1) | st.just({}),
    )


IDS = st.builds(
    "{}_{:04d}".format, st.sampled_from(["item", "resp", "call", "mcpr"]), st.integers(1, 40)
)
"""Ids in the emulator's own scheme, so some name items and calls that exist."""
MODALITIES = st.lists(st.sampled_from(["text", "audio", "video"]), max_size=3)
PART = shape(
    type=st.sampled_from(["input_text", "text", "input_audio", "output_text", "audio"]),
    text=TEXT,
    transcript=TEXT,
    audio=TEXT,
)
ITEM = shape(
    type=st.sampled_from(
        ["message", "function_call", "function_call_output", "mcp_approval_response"]
    ),
    role=st.sampled_from(["user", "assistant", "system"]),
    content=st.lists(PART, max_size=3),
    id=IDS | TEXT,
    call_id=IDS | TEXT,
    output=TEXT,
    name=TEXT,
    arguments=TEXT,
    approval_request_id=IDS | TEXT,
    approve=st.booleans(),
    status=TEXT,
)


def message(role: str, part: str) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda text: {"type": "message", "role": role, "content": [{"type": part, "text": text}]},
        TEXT,
    )


USER_TEXT = message("user", "input_text")
ASSISTANT_TEXT = message("assistant", "text")
ITEMS = st.one_of(
    USER_TEXT,
    ASSISTANT_TEXT,
    st.builds(
        lambda call, out: {"type": "function_call_output", "call_id": call, "output": out},
        IDS,
        TEXT,
    ),
    st.builds(
        lambda req, yes: {
            "type": "mcp_approval_response",
            "approval_request_id": req,
            "approve": yes,
        },
        IDS,
        st.booleans(),
    ),
    ITEM,
)
"""Valid items of each kind a client creates, and broken ones."""
TOOL = shape(
    type=st.sampled_from(["function", "mcp"]),
    name=TEXT,
    parameters=JSON,
    server_label=TEXT,
    server_url=TEXT,
    require_approval=st.sampled_from(["never", "always"]),
)
TURN_DETECTION = st.none() | shape(
    type=st.sampled_from(["server_vad", "semantic_vad", "azure_semantic_vad", "none"]),
    threshold=NUMBER,
    silence_duration_ms=NUMBER,
    prefix_padding_ms=NUMBER,
    create_response=st.booleans(),
    interrupt_response=st.booleans(),
    auto_truncate=st.booleans(),
)
SHARED = {
    "modalities": MODALITIES,
    "instructions": TEXT,
    "voice": shape(type=WORDS, name=WORDS) | WORDS,
    "output_audio_format": st.sampled_from(["pcm16", "g711_ulaw", "g711_alaw", "pcm16-8000hz"]),
    "tools": st.lists(TOOL, max_size=2),
    "tool_choice": st.sampled_from(["auto", "none", "required"]) | shape(type=WORDS, name=TEXT),
    "temperature": NUMBER,
    "metadata": st.dictionaries(KEYS, TEXT, max_size=3),
    "interim_response": shape(type=WORDS, texts=st.lists(TEXT, max_size=2), triggers=JSON),
}
SESSION = shape(
    **SHARED,
    input_audio_format=st.sampled_from(["pcm16", "g711_ulaw", "g711_alaw"]),
    input_audio_sampling_rate=st.sampled_from([8000, 16000, 24000, 44100]),
    turn_detection=TURN_DETECTION,
    input_audio_transcription=shape(model=WORDS, language=WORDS),
    output_audio_timestamp_types=st.lists(WORDS, max_size=2),
    animation=shape(outputs=st.lists(st.sampled_from(["viseme_id", "blendshapes"]), max_size=2)),
    max_response_output_tokens=NUMBER | st.just("inf"),
    avatar=JSON,
    input_audio_echo_cancellation=shape(type=WORDS),
)
SESSIONS = (
    st.sampled_from(
        [
            {},
            {"modalities": ["text"]},
            {"input_audio_transcription": {"model": "whisper-1"}},
            {"turn_detection": {"type": "server_vad", "silence_duration_ms": 200}},
            {"turn_detection": None},
            {"input_audio_format": "g711_ulaw"},
            {"output_audio_format": "g711_alaw", "voice": "alloy"},
            {"output_audio_timestamp_types": ["word"], "animation": {"outputs": ["viseme_id"]}},
            {"tools": [{"type": "function", "name": "get_weather", "parameters": {}}]},
            {"interim_response": {"type": "static_interim_response", "texts": ["One moment."]}},
            {"max_response_output_tokens": 3},
        ]
    )
    | SESSION
)
"""Valid sessions of several kinds, and fuzzed ones."""
RESPONSE = shape(
    **SHARED,
    conversation=st.sampled_from(["auto", "none"]),
    max_output_tokens=NUMBER,
    cancel_previous=st.booleans(),
    commit=st.booleans(),
    pre_generated_assistant_message=ASSISTANT_TEXT | ITEM,
    input_items=st.lists(ITEMS, max_size=2),
    append_input_items=st.lists(ITEMS, max_size=2),
)
RESPONSES = st.one_of(
    st.just({}),
    st.builds(lambda message: {"pre_generated_assistant_message": message}, ASSISTANT_TEXT),
    st.fixed_dictionaries({"modalities": st.just(["text"]), "conversation": WORDS}),
    RESPONSE,
)
AUDIO = (
    st.builds(lambda raw: base64.b64encode(raw).decode("ascii"), st.binary(max_size=3_000))
    | st.builds(lambda n: base64.b64encode(bytes(n)).decode("ascii"), st.integers(1, 120_000))
    | st.sampled_from(["!!!", "AAA", "A", "====", "AAAA====AAAA", "\ud800AAAA", "AA\nAA"])
    | st.builds(lambda n: "QUJD" * n, st.integers(10_000, 100_000))
    | JSON
)
"""Noise (which starts a turn), silence (which ends one), broken base64, junk."""

RELEVANT: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "session.update": {"session": SESSIONS},
    "input_audio_buffer.append": {"audio": AUDIO},
    "conversation.item.create": {
        "item": ITEMS,
        "previous_item_id": st.one_of(st.none(), st.none(), IDS, st.just("root")),
    },
    "conversation.item.retrieve": {"item_id": IDS},
    "conversation.item.delete": {"item_id": IDS},
    "conversation.item.truncate": {
        "item_id": IDS,
        "content_index": st.sampled_from([0, 1]),
        "audio_end_ms": st.integers(-10, 100_000),
    },
    "response.create": {"response": RESPONSES, "additional_instructions": TEXT},
    "response.cancel": {"response_id": IDS},
}
"""The fields each event type reads; other types get a random selection of fields."""

FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "event_id": TEXT | JSON,
        "session": maybe(SESSION),
        "item": maybe(ITEM),
        "item_id": maybe(IDS),
        "audio": AUDIO,
        "response": maybe(RESPONSE),
        "response_id": maybe(IDS),
        "content_index": maybe(NUMBER),
        "audio_end_ms": maybe(NUMBER),
    },
)


def typed(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    """An event of ``kind`` with its own fields (each mostly plausible, any may be missing)."""
    fields = RELEVANT.get(kind)
    if fields is None:
        return st.builds(lambda extra: {"type": kind, **extra}, FIELDS)
    complete = st.fixed_dictionaries({k: maybe(v) for k, v in fields.items()})
    own = st.one_of(complete, complete, st.fixed_dictionaries({}, optional=dict(fields)))
    stray = st.just({}) | st.dictionaries(KEYS, JSON, max_size=1)
    event_id = st.just({}) | st.fixed_dictionaries({"event_id": TEXT | JSON})
    return st.builds(
        lambda *parts: {"type": kind, **parts[0], **parts[1], **parts[2]}, own, stray, event_id
    )


UNTYPED = st.builds(
    lambda kind, fields: fields if kind is None else {"type": kind, **fields},
    st.none() | JSON | st.sampled_from(["session.updated", "response.done", "", "SESSION.UPDATE"]),
    FIELDS,
)
CLIENT_EVENTS = st.one_of(
    *(typed(kind) for kind in RELEVANT for _ in range(3)),
    *(typed(kind.value) for kind in ClientEventType if kind.value not in RELEVANT),
    UNTYPED,
)
"""One client event, as a JSON object: mostly the types the emulator serves (with their
own fields), also the SDK's other client types, and events with a wrong or no type."""

STEPS = st.lists(CLIENT_EVENTS | st.just(FINISH), min_size=1, max_size=12)
"""What a fuzz run sends: events, and points where a streamed response completes."""

JUNK_FRAMES = (
    st.binary(max_size=64)
    | st.text(CHARS, max_size=64)
    | st.builds(lambda depth: "[" * depth + "]" * depth, st.integers(60, 200_000))
)
"""Frames that are not events at all: bytes, text, nesting past any limit."""


def reconfigure(session: Mapping[str, Any]) -> dict[str, Any]:
    """A ``session.update`` the service must accept whatever came before.

    It keeps the input format (fixed once audio flowed) and switches turn
    detection off (the detector's type is fixed, but off is always allowed).
    """
    fixed = ("input_audio_format", "input_audio_sampling_rate")
    keep = {key: session[key] for key in fixed if key in session}
    return {"type": "session.update", "session": {**keep, "turn_detection": None}}
