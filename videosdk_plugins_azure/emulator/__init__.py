"""A local Azure Voice Live service, for tests, benchmarks and offline demos.

It speaks the Voice Live WebSocket protocol as the service does (see
``voicelive-protocol.md``), so the real ``azure-ai-voicelive`` SDK and this plugin
talk to it unchanged. What the assistant says is scripted with a
:class:`Scenario`; failures are injected with :class:`Faults`; what a client may ask and how long it
may stay silent is bounded by :class:`ServerLimits`; every client event is
recorded per :class:`EmulatorConnection` for assertions (bounded, unless the
emulator is built with ``keep_records=True``), which is also where a test
acts on a live connection (:meth:`~EmulatorConnection.send_event`,
:meth:`~EmulatorConnection.send_raw`, :meth:`~EmulatorConnection.drop`,
:meth:`~EmulatorConnection.close`, :meth:`~EmulatorConnection.expire`).

Run it standalone with ``python -m videosdk_plugins_azure.emulator``.

Real sessions can be recorded and replayed offline as cassettes
(:mod:`.cassette`): :class:`RecordingProxy`, :class:`CassetteReplay`, and the
``record`` / ``replay`` subcommands of the same command.
"""

from ._avatar_face import mouth_opening
from ._avatar_sync import LipSync, lip_sync
from ._context import EmulatorSettings
from ._faults import FaultRule, Faults
from ._limits import ServerLimits
from ._record import ConnectionControls, ConnectionStats, EmulatorConnection, EventObserver
from ._scenario import FunctionCall, McpCall, ReplyContext, Scenario, Turn, echo_reply
from ._server import VoiceLiveEmulator
from ._speech import synthesize
from ._turns import PendingTurn, ToolTurnRegistry
from .cassette import Cassette, CassetteError, CassetteMismatch, CassetteReplay, RecordingProxy

__all__ = [
    "Cassette",
    "CassetteError",
    "CassetteMismatch",
    "CassetteReplay",
    "ConnectionControls",
    "ConnectionStats",
    "EmulatorConnection",
    "EmulatorSettings",
    "EventObserver",
    "FaultRule",
    "Faults",
    "FunctionCall",
    "LipSync",
    "McpCall",
    "PendingTurn",
    "RecordingProxy",
    "ReplyContext",
    "Scenario",
    "ServerLimits",
    "ToolTurnRegistry",
    "Turn",
    "VoiceLiveEmulator",
    "echo_reply",
    "lip_sync",
    "mouth_opening",
    "synthesize",
]
