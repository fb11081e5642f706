"""What one connection may use of the emulator that accepted it.

A connection used to hold the whole server object and reach into it. Now the server
hands each connection a :class:`ConnectionContext` naming exactly what it shares with
the others: the id sequence, the live settings, the tool-turn registry. A connection
cannot start servers, accept sockets or see other connections' records, and a
:class:`~._state.ServiceState` can be built in a test from a context alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..protocol.session import DEFAULT_SESSION_SEMANTICS, SESSION_SEMANTICS, SessionSemantics
from ._faults import Faults
from ._latency import (
    DEFAULT_LATENCY_JITTER,
    DEFAULT_MODEL_LATENCY,
    DEFAULT_SEED,
    LatencyDraws,
    check_latency,
)
from ._limits import ServerLimits
from ._scenario import Scenario
from ._turns import ToolTurnRegistry

if TYPE_CHECKING:
    from ._record import EmulatorConnection

__all__ = ["TTS_ENGINES", "ConnectionContext", "EmulatorSettings"]

TTS_ENGINES = frozenset({"auto", "espeak", "synthetic"})
"""The speech engines a reply can be spoken with."""


@dataclass
class EmulatorSettings:
    """The emulator's behaviour settings, shared live by all its connections.

    One mutable object rather than copies: a test that swaps the scenario or
    changes the speed on the running emulator affects the open connections too,
    as it always has. :class:`~._server.VoiceLiveEmulator` exposes each field as
    an attribute of the same name.
    """

    scenario: Scenario
    faults: Faults
    speed: float = 1.0
    """Audio pacing as a multiple of real time; ``math.inf`` sends it unpaced."""
    chunk_ms: int = 100
    """Milliseconds of audio per ``response.audio.delta``."""
    tts: str = "auto"
    """Speech engine for replies: ``auto``, ``espeak`` or ``synthetic``."""
    session_semantics: SessionSemantics = DEFAULT_SESSION_SEMANTICS
    """How ``session.update`` combines with the session: ``replace`` (Voice Live) or
    ``merge`` (OpenAI Realtime, for clients that send partial updates)."""
    model_latency: float = DEFAULT_MODEL_LATENCY
    """Wall-clock seconds from a response's start to its first output, whatever
    ``speed`` is (see :mod:`._latency`); ``0`` answers at once."""
    latency_jitter: float = DEFAULT_LATENCY_JITTER
    """Each response's latency is ``model_latency`` ± up to this many seconds."""
    seed: int = DEFAULT_SEED
    """Seeds the jitter: the same seed gives the same latencies on every run."""
    limits: ServerLimits = field(default_factory=ServerLimits)
    """Timeouts and size bounds (see :mod:`._limits`)."""

    def __post_init__(self) -> None:
        """Refuse settings the emulator cannot serve, when it is built rather than mid-call."""
        if not self.speed > 0:
            raise ValueError("speed must be > 0 (math.inf for unpaced)")
        if not 10 <= self.chunk_ms <= 1000:
            raise ValueError("chunk_ms must be between 10 and 1000")
        if self.tts not in TTS_ENGINES:
            raise ValueError(f"tts must be one of {sorted(TTS_ENGINES)}")
        if self.session_semantics not in SESSION_SEMANTICS:
            raise ValueError(f"session_semantics must be one of {sorted(SESSION_SEMANTICS)}")
        check_latency(self.model_latency, self.latency_jitter)
        if not isinstance(self.limits, ServerLimits):
            raise TypeError("limits must be a ServerLimits")

    def response_latency(self, draws: LatencyDraws) -> float:
        """The wait before the next response's first output, on one connection.

        A ``faults.model_latency`` that is set wins, exactly and without jitter: a
        test that injects a slow model gets that model.
        """
        if self.faults.model_latency is not None:
            return max(0.0, self.faults.model_latency)
        return draws.draw(self.model_latency, self.latency_jitter)

    @property
    def paced(self) -> bool:
        return math.isfinite(self.speed)

    def wall_seconds(self, audio_seconds: float) -> float:
        """How long ``audio_seconds`` of emulated time last on the wall clock (0 unpaced)."""
        return audio_seconds / self.speed if self.paced else 0.0


@dataclass(frozen=True)
class ConnectionContext:
    """Everything a connection needs from the server, built by the server per socket."""

    new_id: Callable[[str], str]
    """``prefix -> id`` from the emulator-wide sequence: ids are unique across sessions."""
    settings: EmulatorSettings
    tool_turns: ToolTurnRegistry
    record: EmulatorConnection
    """The public record of this connection: handshake, events, controls."""
    agent: dict[str, Any] | None = None
    """The agent named in the handshake query, for agent sessions."""
    speech: Executor | None = None
    """Where speech is synthesized: the emulator's bounded pool, shared by its
    connections (None: the event loop's default executor)."""

    @property
    def model(self) -> str | None:
        return self.record.query.get("model")

    @property
    def api_version(self) -> str | None:
        return self.record.query.get("api-version")
