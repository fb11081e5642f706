"""The session the call asks the service for, kept current for every ``session.update``.

The real service *replaces* the session on every ``session.update`` (fields left
out fall back to their defaults, ``voicelive-protocol.md`` §9), so every update is
the whole session, built by :meth:`SessionSpec.build` from everything the call
knows now: the user's config, the model (or agent mode), the agent's current
instructions and tools, and the audio formats fixed at connect. The first update,
a reconnect, a rotation and every mid-call change all come from here, so the
effective session is the same on a merging service and on a replacing one.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field, replace
from typing import Any

from ..config import OUTPUT_RATES, AzureVoiceLiveConfig, build_session
from ..protocol.ids import SESSION_UPDATE_ID, IdKind, mint
from ..protocol.session import SESSION_FIELDS

__all__ = ["SessionSpec"]

log = logging.getLogger("videosdk_plugins_azure")


@dataclass
class SessionSpec:
    """What :func:`~videosdk_plugins_azure.config.build_session` needs, as the call has it now."""

    config: AzureVoiceLiveConfig
    model: str | None
    """The session's model; None in Foundry agent mode (the agent picks it)."""
    agent_mode: bool = False
    instructions: str | None = None
    tools: list[Any] = field(default_factory=list)
    """The agent's function tools as SDK ``FunctionTool`` declarations."""
    input_rate: int = 24000
    output_format: str = "pcm16"
    changed: bool = False
    """Instructions or tools changed since the live session last heard of them."""
    live_turn_detection: str | None = None
    """The turn detection type the live session runs; the service cannot change it."""
    text_only: bool = False
    """Ask for text even if the config wants audio: the pipeline speaks with its own TTS
    (``RealtimeMode.HYBRID_TTS``), so audio from the service would be paid for and thrown away."""
    _updates: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def output_rate(self) -> int:
        return OUTPUT_RATES[self.output_format]

    @property
    def session_config(self) -> AzureVoiceLiveConfig:
        """The config the session is built from (text-only when :attr:`text_only`).

        Text-only drops what only a voice has: visemes, word timings and the
        avatar (in ``HYBRID_TTS`` the framework's TTS speaks, not the service).
        """
        if self.text_only and "audio" in self.config.modalities:
            return replace(
                self.config, modalities=("text",), avatar=None, visemes=False, word_timestamps=False
            )
        return self.config

    @property
    def audio_out(self) -> bool:
        return "audio" in self.session_config.modalities

    @property
    def avatar(self) -> bool:
        """Whether the service renders an avatar: it then queues audio and video of its own."""
        return self.session_config.avatar is not None

    def validate(self) -> None:
        """Fail at construction for what depends on the model (e.g. the temperature range),
        and warn once about ``extra_session`` keys the service will refuse."""
        build_session(self.config, model=self.model, instructions=None, input_rate=24000)
        for key in sorted(set(self.config.extra_session or {}) - SESSION_FIELDS):
            log.warning(
                "extra_session key %r is not a Voice Live session field; the service "
                "rejects unknown session fields",
                key,
            )

    def set_instructions(self, instructions: str | None) -> bool:
        """Record the agent's instructions; True when they changed."""
        if instructions == self.instructions:
            return False
        self.instructions = instructions
        self.changed = True
        return True

    def set_tools(self, declarations: list[Any]) -> bool:
        """Record the agent's tool declarations; True when they changed."""
        if [dict(t) for t in declarations] == [dict(t) for t in self.tools]:
            return False
        self.tools = list(declarations)
        self.changed = True
        return True

    def build(self, instructions: str | None, event_id: str) -> dict[str, Any]:
        session = build_session(
            self.session_config,
            model=self.model,
            instructions=instructions,
            tools=self.tools,
            input_rate=self.input_rate,
            output_format=self.output_format,
            agent_mode=self.agent_mode,
        ).as_dict()
        self.live_turn_detection = _detection_type(session)
        self.changed = False
        return {"type": "session.update", "event_id": event_id, "session": session}

    def update_event(self, *, context_instructions: str | None, replaying: bool) -> dict[str, Any]:
        """The configuring ``session.update`` of a new connection.

        When the conversation is replayed as items, the plain instructions go; when it
        is not (first connect, or replay refused), ``context_instructions`` carry it.
        """
        instructions = self.instructions if replaying else None
        return self.build(instructions or context_instructions, SESSION_UPDATE_ID)

    def change_event(self, instructions: str | None = None) -> dict[str, Any]:
        """A mid-call update: the whole session again, with the current instructions."""
        chosen = instructions if instructions is not None else self.instructions
        return self.build(chosen, mint(IdKind.UPDATE, next(self._updates)))

    def needs_new_connection(self) -> bool:
        """Whether the current session differs from the live one in what the service
        cannot change mid-session (the turn detection type)."""
        probe = build_session(
            self.session_config, model=self.model, instructions=None, input_rate=self.input_rate
        ).as_dict()
        return _detection_type(probe) != self.live_turn_detection


def _detection_type(session: dict[str, Any]) -> str | None:
    detection = session.get("turn_detection")
    return detection.get("type") if isinstance(detection, dict) else None
