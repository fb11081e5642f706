"""Azure Voice Live for the VideoSDK AI agents framework.

The realtime model lands in :mod:`videosdk_plugins_azure.voice_live`; the local
Voice Live emulator used by the tests, the benchmarks and the offline demo lives in
:mod:`videosdk_plugins_azure.emulator`.
"""

from .version import __version__

__all__ = ["__version__"]
