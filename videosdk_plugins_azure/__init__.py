"""Azure Voice Live for the VideoSDK AI agents framework.

``Pipeline(llm=AzureVoiceLive(model="gpt-realtime", config=AzureVoiceLiveConfig(...)))``.

The local Voice Live emulator lives in :mod:`videosdk_plugins_azure.emulator` and
the offline test harness in :mod:`videosdk_plugins_azure.testing`.
"""

from .config import AzureVoiceLiveConfig, EndOfUtterance, McpServer, TurnDetection
from .connection import ReconnectPolicy
from .errors import VoiceLiveAuthError, VoiceLiveConnectError, VoiceLiveError
from .version import __version__
from .voice_live import AzureVoiceLive, McpApprovalRequest

__all__ = [
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
