"""How the examples report a call that failed: one line on stderr, not a traceback.

Against the real service an example usually fails for a reason the user can fix
(no credential, a wrong endpoint, the service refusing the session); a sentence
saying so helps more than a stack trace through the SDK.
"""

from __future__ import annotations

from azure.core.exceptions import ClientAuthenticationError

from videosdk_plugins_azure import VoiceLiveError

__all__ = ["FAILURES", "explain"]

FAILURES: tuple[type[BaseException], ...] = (
    VoiceLiveError,
    ClientAuthenticationError,
    TimeoutError,
    OSError,
    RuntimeError,
    ValueError,
)
"""What a call can fail with that :func:`explain` has a sentence for."""


def explain(error: BaseException) -> str:
    """The ``error: …`` line for one of :data:`FAILURES`."""
    if isinstance(error, VoiceLiveError):
        return f"error: Voice Live: {error}"
    if isinstance(error, ClientAuthenticationError):
        first = str(error.message or error).splitlines()[0]
        return (
            f"error: no usable Azure credential ({first}). Set AZURE_VOICE_LIVE_API_KEY, "
            "or sign in with `az login` / a managed identity."
        )
    return f"error: {type(error).__name__}: {error}"
