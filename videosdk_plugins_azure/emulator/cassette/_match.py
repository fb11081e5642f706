"""When a live client event counts as the recorded one, and whose ids stand for whose.

**Matching.** Two client events match when their *signatures* are equal: the
event's ``type`` plus the few fields that change what the service does next, one
function per event type (:data:`SIGNATURES`). Everything else (instructions text,
``audio_end_ms``, the transcript a client sends back) may differ between runs
without breaking the replay. Signatures hold only types, names and ids, never
free text, so a mismatch can be printed without leaking what the client said.

**Ids.** Server ids (items, responses, calls) come from the cassette, so a client
that echoes them sends the recorded ones. The ids a *client* mints (``event_id``,
the ``id`` of an item it creates) may differ from run to run. :class:`IdMap`
learns them pairwise from each matched event; references in live events are read
back into the recording's ids before comparing, and recorded server events are
rewritten into the live client's ids before sending (the ``event_id`` an ``error``
echoes, the ``item.id`` a ``conversation.item.created`` confirms, a
``previous_item_id`` that names the client's item).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from ...protocol.events import ClientEvent

__all__ = ["INVALID_FRAME", "SIGNATURES", "IdMap", "Signature", "describe", "signature"]

Signature = dict[str, Any]
INVALID_FRAME: Final = "<not a JSON event>"

_REFERENCES: Final = frozenset({"item_id", "previous_item_id", "call_id", "response_id", "id"})
"""Keys whose values name an id, in server events as in client ones."""
_ECHOED_EVENT_ID: Final = "event_id"
"""Inside a server event (not at its top level) this is the client's id, echoed."""
_MAX_SHOWN: Final = 60


class IdMap:
    """Recorded client-minted ids ↔ the live client's, learnt as events match."""

    def __init__(self) -> None:
        self._live: dict[str, str] = {}
        self._recorded: dict[str, str] = {}

    def learn(self, recorded: object, live: object) -> None:
        if isinstance(recorded, str) and isinstance(live, str) and recorded:
            self._live[recorded] = live
            self._recorded[live] = recorded

    def learn_from(self, recorded: Mapping[str, Any], live: Mapping[str, Any]) -> None:
        """The ids a client mints in an event: its ``event_id`` and a created item's ``id``."""
        self.learn(recorded.get("event_id"), live.get("event_id"))
        recorded_item, live_item = recorded.get("item"), live.get("item")
        if isinstance(recorded_item, Mapping) and isinstance(live_item, Mapping):
            self.learn(recorded_item.get("id"), live_item.get("id"))

    def recorded_of(self, live: object) -> object:
        return self._recorded.get(live, live) if isinstance(live, str) else live

    def live_of(self, recorded: object) -> object:
        return self._live.get(recorded, recorded) if isinstance(recorded, str) else recorded

    def rewrite(self, server_event: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of a recorded server event in the live client's ids."""
        if not self._live:
            return dict(server_event)
        return {
            key: value if key == _ECHOED_EVENT_ID else self._rewrite(key, value)
            for key, value in server_event.items()
        }

    def _rewrite(self, key: object, value: Any) -> Any:
        if isinstance(value, str):
            return self.live_of(value) if key in _REFERENCES or key == _ECHOED_EVENT_ID else value
        if isinstance(value, Mapping):
            return {k: self._rewrite(k, v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._rewrite(None, v) for v in value]
        return value


# -- signatures ----------------------------------------------------------------------------


def _obj(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _named(tool: object) -> str:
    """A tool as ``type:name`` (an MCP server by its label)."""
    entry = _obj(tool)
    return f"{entry.get('type')}:{entry.get('name') or entry.get('server_label')}"


def _voice(voice: object) -> object:
    return voice if not isinstance(voice, Mapping) else f"{voice.get('type')}:{voice.get('name')}"


def _session(event: Mapping[str, Any], ids: IdMap) -> Signature:
    session = _obj(event.get("session"))
    modalities = session.get("modalities")
    return {
        "modalities": sorted(map(str, modalities)) if isinstance(modalities, list) else None,
        "voice": _voice(session.get("voice")),
        "tools": sorted(_named(t) for t in session.get("tools") or [] if isinstance(t, Mapping)),
        "turn_detection": _obj(session.get("turn_detection")).get("type"),
        "input_audio_format": session.get("input_audio_format"),
        "input_audio_sampling_rate": session.get("input_audio_sampling_rate"),
        "output_audio_format": session.get("output_audio_format"),
    }


def _item_create(event: Mapping[str, Any], ids: IdMap) -> Signature:
    item = _obj(event.get("item"))
    content = item.get("content")
    parts = [_obj(p).get("type") for p in content] if isinstance(content, list) else None
    fields = {"item.type": item.get("type"), "role": item.get("role"), "content": parts}
    if "call_id" in item:
        fields["call_id"] = ids.recorded_of(item.get("call_id"))
    if "name" in item:
        fields["name"] = item.get("name")
    return fields


def _item_reference(event: Mapping[str, Any], ids: IdMap) -> Signature:
    return {"item_id": ids.recorded_of(event.get("item_id"))}


def _approval(event: Mapping[str, Any], ids: IdMap) -> Signature:
    return {
        "approval_request_id": ids.recorded_of(event.get("approval_request_id")),
        "approve": event.get("approve"),
    }


def _type_only(event: Mapping[str, Any], ids: IdMap) -> Signature:
    return {}


SIGNATURES: Final[Mapping[str, Callable[[Mapping[str, Any], IdMap], Signature]]] = {
    ClientEvent.SESSION_UPDATE.value: _session,
    ClientEvent.CONVERSATION_ITEM_CREATE.value: _item_create,
    ClientEvent.CONVERSATION_ITEM_TRUNCATE.value: _item_reference,
    ClientEvent.CONVERSATION_ITEM_DELETE.value: _item_reference,
    ClientEvent.CONVERSATION_ITEM_RETRIEVE.value: _item_reference,
    "mcp_approval_response": _approval,
}
"""Client event type → what of it must equal the recording. Any other type: its
``type`` alone (``response.create`` and ``response.cancel`` match on presence)."""


def signature(event: Mapping[str, Any] | None, ids: IdMap | None = None) -> Signature:
    """What of ``event`` must match; a live event's ids are first read back through ``ids``."""
    if event is None:
        return {"type": INVALID_FRAME}
    kind = event.get("type")
    fields = SIGNATURES.get(kind, _type_only)(event, ids or IdMap())  # type: ignore[arg-type]
    return {"type": kind, **fields}


def describe(sig: Signature | None) -> str:
    """``conversation.item.create(item.type=function_call_output, call_id=call_1)``."""
    if sig is None:
        return "the end of the recording (no further client event)"
    fields = ", ".join(
        f"{key}={_shown(value)}" for key, value in sig.items() if key != "type" and value
    )
    return f"{sig.get('type')}({fields})" if fields else str(sig.get("type"))


def _shown(value: object) -> str:
    text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"
