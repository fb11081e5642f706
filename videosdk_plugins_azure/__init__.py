"""Azure Voice Live for the VideoSDK AI agents framework.

``Pipeline(llm=AzureVoiceLive(model="gpt-realtime", config=AzureVoiceLiveConfig(...)))``.

The local Voice Live emulator lives in :mod:`videosdk_plugins_azure.emulator` and
the offline test harness in :mod:`videosdk_plugins_azure.testing`.
"""

# First, and on its own: on a Python the framework cannot import on, importing
# ._python raises an ImportError naming the minimum before anything below runs.
from ._python import MIN_PYTHON

# isort: split
from .config import AzureVoiceLiveConfig, EndOfUtterance, McpServer, TurnDetection
from .connection import ReconnectPolicy
from .errors import VoiceLiveAuthError, VoiceLiveConnectError, VoiceLiveError
from .version import __version__
from .voice_live import AzureVoiceLive, McpApprovalRequest

__all__ = [
    "MIN_PYTHON",
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
