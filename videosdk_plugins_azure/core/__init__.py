"""The call core: all of a call's state and decisions, with no I/O (see ARCHITECTURE.md).

:class:`CallCore` is fed server events and the framework's hook calls and returns
:mod:`.effects`; :mod:`videosdk_plugins_azure.voice_live` carries them out.
"""

from .call import CallCore
from .effects import Effect, Speaker
from .link import Link, LinkState, Trigger
from .mcp import McpApprovalRequest
from .session import SessionSpec

__all__ = [
    "CallCore",
    "Effect",
    "Link",
    "LinkState",
    "McpApprovalRequest",
    "SessionSpec",
    "Speaker",
    "Trigger",
]
