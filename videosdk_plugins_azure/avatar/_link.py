"""What the adapter holds for the avatar: the call's :class:`~._output.AvatarOutput`, or nothing.

``AzureVoiceLive`` wires the avatar in three places (its effect table, one task
of the call, and ``video_track``, the agent's video track: ``track`` here) and
must not branch on whether the config has one in each. :class:`AvatarLink`
answers the same calls either way: with no avatar (or a call without audio, where
the service renders none) every call is a no-op and ``track`` is ``None``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..config import AzureVoiceLiveConfig, avatar_video
from ..core.avatar import VideoPiece
from ..core.responses import CallState
from ._output import AvatarOutput
from ._track import AvatarVideoTrack

__all__ = ["AvatarLink"]


class AvatarLink:
    """The avatar side of one model; see :meth:`attach`."""

    def __init__(self, output: AvatarOutput | None) -> None:
        self.output = output

    @classmethod
    def attach(cls, model: Any, calls: CallState, config: AzureVoiceLiveConfig) -> AvatarLink:
        """The link for ``model``: an output when ``config`` shows an avatar, else a no-op."""
        if config.avatar is None or not config.audio_output:
            return cls(None)
        return cls(AvatarOutput(model, calls, avatar_video(config.avatar)))

    @property
    def track(self) -> AvatarVideoTrack | None:
        """The agent's video track (``None`` without an avatar)."""
        return self.output.track if self.output is not None else None

    def performers(self) -> dict[type, Callable[[Any], None]]:
        """The effect rows the adapter adds to its table."""
        return {VideoPiece: self.feed}

    def feed(self, piece: VideoPiece) -> None:
        if self.output is not None:
            self.output.feed(piece)

    async def run(self) -> None:
        """The call's task: publish the track, and close the output when cancelled."""
        if self.output is not None:
            await self.output.run()
