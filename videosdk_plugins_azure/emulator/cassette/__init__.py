"""Record real Voice Live sessions and replay them offline, as cassettes.

:class:`RecordingProxy` sits between a client and the service and writes every
frame of every connection to a cassette (JSON lines, scrubbed of keys, tokens and
MCP credentials; see :mod:`._format` and :mod:`._scrub`). :class:`CassetteReplay`
serves a cassette back: a client that behaves as the recorded one gets the
recorded server events, in order, each released by the client events (and the
amount of caller audio) that preceded it in the recording (:mod:`._script`), with
the ids the client mints mapped onto its own (:mod:`._match`). The first event that
differs is a :class:`CassetteMismatch`, sent to the client as an ``error`` event
and raised by the replay.

From the command line: ``python -m videosdk_plugins_azure.emulator record
--upstream URL --out FILE`` and ``… replay FILE``.
"""

from ._format import (
    FORMAT_VERSION,
    Cassette,
    CassetteError,
    CassetteHeader,
    CassetteSession,
    EventRecord,
    SessionClose,
)
from ._match import SIGNATURES, IdMap, signature
from ._proxy import RecordingProxy
from ._replay import CassetteReplay
from ._replay_state import CassetteMismatch
from ._scrub import REDACTED

__all__ = [
    "FORMAT_VERSION",
    "REDACTED",
    "SIGNATURES",
    "Cassette",
    "CassetteError",
    "CassetteHeader",
    "CassetteMismatch",
    "CassetteReplay",
    "CassetteSession",
    "EventRecord",
    "IdMap",
    "RecordingProxy",
    "SessionClose",
    "signature",
]
