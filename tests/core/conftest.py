"""Driving :class:`CallCore` with no socket: SDK-typed events in, effects out."""

from __future__ import annotations

import base64
import itertools
from typing import Any

import pytest
from azure.ai.voicelive import models as m

from videosdk_plugins_azure import AzureVoiceLiveConfig, ReconnectPolicy
from videosdk_plugins_azure.core import CallCore, SessionSpec
from videosdk_plugins_azure.core import effects as fx


class FakeSpeaker:
    """A speaker timeline moved by hand: ``played`` samples out, ``queued`` still to play."""

    def __init__(self, present: bool = True, fade: int = 0) -> None:
        self.is_present = present
        self.played = 0
        self.queued = 0
        self.fade = fade
        self.flushes = 0

    def present(self) -> bool:
        return self.is_present

    def position(self) -> int:
        return self.played + self.queued

    def flush(self) -> int:
        self.flushes += 1
        self.queued = self.fade
        return self.played + self.queued

    def write(self, pcm: bytes) -> None:
        self.queued += len(pcm) // 2

    def play_out(self, samples: int | None = None) -> None:
        step = self.queued if samples is None else min(samples, self.queued)
        self.played += step
        self.queued -= step


def server_event(payload: dict[str, Any]) -> m.ServerEvent:
    """The typed SDK event for ``payload``, made by the same call the SDK's ``recv()`` makes."""
    return m.ServerEvent._deserialize(payload, [])


class FakeClock:
    """Time that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Driver:
    """A call core plus the bits of the adapter a test needs: it replays Play into the speaker."""

    def __init__(self, core: CallCore, speaker: FakeSpeaker, clock: FakeClock) -> None:
        self.core = core
        self.speaker = speaker
        self.clock = clock
        self.effects: list[fx.Effect] = []
        self._ids = itertools.count(1)

    def run(self, effects: list[fx.Effect]) -> list[fx.Effect]:
        for effect in effects:
            if isinstance(effect, fx.Play):
                self.speaker.write(effect.pcm)
        self.effects.extend(effects)
        return effects

    def event(self, kind: str, **fields: Any) -> list[fx.Effect]:
        fields.setdefault("event_id", f"evt_{next(self._ids)}")
        return self.run(self.core.receive(server_event({"type": kind, **fields})))

    def connect(self) -> dict[str, Any]:
        """One whole connection setup; returns the configuring update."""
        update = self.core.connecting()
        self.core.opened()
        self.event("session.updated", session=update["session"])
        self.core.replay_events()
        self.run(self.core.live())
        return update

    def asked_and_answering(self, question: str) -> None:
        """Live, asked ``question`` in text, and the answer (r1, item a1) has begun to sound."""
        self.connect()
        self.run(self.core.user_text(question))
        self.event("response.created", response={"id": "r1", "status": "in_progress"})
        self.event(
            "response.audio.delta",
            response_id="r1",
            item_id="a1",
            output_index=0,
            content_index=0,
            delta="AQABAAEAAQA=",
        )

    def answer(self, response_id: str, item_id: str, audio_ms: int = 200, text: str = "") -> None:
        """A whole spoken answer: created, item, audio, transcript, done."""
        self.event("response.created", response={"id": response_id, "status": "in_progress"})
        self.event(
            "response.output_item.added",
            response_id=response_id,
            output_index=0,
            item={"id": item_id, "type": "message", "role": "assistant"},
        )
        pcm = b"\x01\x00" * (24 * audio_ms)
        self.event(
            "response.audio.delta",
            response_id=response_id,
            item_id=item_id,
            output_index=0,
            content_index=0,
            delta=base64.b64encode(pcm).decode(),
        )
        if text:
            self.event(
                "response.audio_transcript.done",
                response_id=response_id,
                item_id=item_id,
                output_index=0,
                content_index=0,
                transcript=text,
            )
        self.event("response.done", response={"id": response_id, "status": "completed"})

    def advance(self, seconds: float) -> None:
        self.clock.now += seconds

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.effects if isinstance(e, kind)]

    def sent(self, event_type: str) -> list[dict[str, Any]]:
        return [e.event for e in self.of(fx.Send) if e.event.get("type") == event_type]

    def emitted(self, name: str) -> list[Any]:
        return [e.payload for e in self.of(fx.Emit) if e.name == name]

    def clear(self) -> None:
        self.effects.clear()


def make_core(
    speaker: FakeSpeaker | None = None,
    *,
    config: AzureVoiceLiveConfig | None = None,
    policy: ReconnectPolicy | None = None,
) -> Driver:
    speaker = speaker or FakeSpeaker()
    spec = SessionSpec(config or AzureVoiceLiveConfig(), model="gpt-realtime")
    spec.instructions = "Be brief."
    clock = FakeClock()
    core = CallCore(
        spec, speaker, context=lambda base: f"{base} [with context]", policy=policy, clock=clock
    )
    core.input.follow_wire((24000, 1), 0)
    return Driver(core, speaker, clock)


@pytest.fixture
def call() -> Driver:
    return make_core()
