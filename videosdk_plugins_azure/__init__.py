"""Azure Voice Live for the VideoSDK AI agents framework.

``Pipeline(llm=AzureVoiceLive(model="gpt-realtime", config=AzureVoiceLiveConfig(...)))``.

The local Voice Live emulator lives in :mod:`videosdk_plugins_azure.emulator` and
the offline test harness in :mod:`videosdk_plugins_azure.testing`.

The public names are imported on first use (why: :mod:`._lazy`).
"""

# First, and on its own: on a Python the framework cannot import on, importing
# ._python raises an ImportError naming the minimum before anything below runs.
from ._python import MIN_PYTHON

# isort: split
from typing import TYPE_CHECKING

from ._lazy import lazy_names
from .version import __version__

if TYPE_CHECKING:
    from .config import Avatar, AzureVoiceLiveConfig, EndOfUtterance, McpServer, TurnDetection
    from .connection import ReconnectPolicy
    from .errors import VoiceLiveAuthError, VoiceLiveConnectError, VoiceLiveError
    from .voice_live import AzureVoiceLive, McpApprovalRequest

_MODULE_OF = {
    "Avatar": ".config",
    "AzureVoiceLive": ".voice_live",
    "McpApprovalRequest": ".voice_live",
    "AzureVoiceLiveConfig": ".config",
    "EndOfUtterance": ".config",
    "McpServer": ".config",
    "TurnDetection": ".config",
    "ReconnectPolicy": ".connection",
    "VoiceLiveAuthError": ".errors",
    "VoiceLiveConnectError": ".errors",
    "VoiceLiveError": ".errors",
}


__getattr__, __dir__ = lazy_names(__name__, globals(), _MODULE_OF)

__all__ = [
    "MIN_PYTHON",
    "Avatar",
    "AzureVoiceLive",
    "AzureVoiceLiveConfig",
    "EndOfUtterance",
    "McpApprovalRequest",
    "McpServer",
    "ReconnectPolicy",
    "TurnDetection",
    "VoiceLiveAuthError",
    "VoiceLiveConnectError",
    "VoiceLiveError",
    "__version__",
]
