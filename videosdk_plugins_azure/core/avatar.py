"""The avatar's timeline: which video frame the meeting sees at each moment of playback.

No I/O and no clock of its own: the video track asks :meth:`AvatarTimeline.show`
for the frame at the speaker's playback position (samples played, the timeline the
core places answers on, see :mod:`.responses`), and decoded frames are handed in
with :meth:`AvatarTimeline.add`.

The rules, taken from the audio they accompany:

* **Lip sync.** An answer's frames are placed on the answer's own audio: its first
  frame shows when its first sample plays (``Response.start_sample``), each later
  frame ``pts - first pts`` after it. So the picture follows the sound however
  early the video arrives or however far the speaker's queue runs ahead.
* **Between answers** the last frame shown is held: an idle picture, no motion.
  Video that arrives outside any answer (a service streaming its idle loop) is
  shown as it comes, newest first, while no answer plays.
* **Barge-in.** An interrupted answer shows up to where the caller stopped hearing
  it (``heard_ms``, the end of the speaker's fade) and then freezes; its later
  frames are dropped at once.
* Frames of an answer that will never play (interrupted or finished without
  reaching the speaker) are dropped, so the store only holds what may still show.

The video handlers are here too: ``response.video.delta`` carries no response id,
so a piece of video belongs to the answer being generated when it arrives.
"""

from __future__ import annotations

import binascii
import logging
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..protocol.avatar import VIDEO_CODEC
from ..protocol.events import ServerEvent, wire_type
from .effects import VideoPiece
from .records import Response
from .responses import CallState

if TYPE_CHECKING:
    from .call import CallCore

__all__ = ["AVATAR_HANDLERS", "AvatarTimeline", "VideoPiece", "video_piece"]

log = logging.getLogger("videosdk_plugins_azure")

_SLACK_S = 0.0005
"""Stream times are rationals read as floats: a frame due at 40 ms may read 40.000001."""


def video_piece(core: CallCore, event: Any) -> VideoPiece | None:
    """A ``response.video.delta`` as a piece for the decoder (``None``: nothing to decode)."""
    delta, codec = event.get("delta"), event.get("codec")
    if codec not in (None, VIDEO_CODEC) or not isinstance(delta, str):
        return None
    try:
        data = binascii.a2b_base64(delta)
    except ValueError:
        return None
    active = core.calls.active
    return VideoPiece(data, active.id if active is not None else None, core.reconnects)


@dataclass
class _Track:
    """The frames of one answer, in display order."""

    response: Response
    frames: deque[tuple[float, Any]] = field(default_factory=deque)
    first: float | None = None
    """Stream time of the answer's first frame: the instant its first sample plays."""


@dataclass
class AvatarTimeline:
    """The frames waiting to be shown, and the one on screen."""

    calls: CallState
    rate: int = 24000
    """Samples per second of the playback position :meth:`show` is given."""
    _tracks: dict[str, _Track] = field(default_factory=dict)
    _idle: Any = None
    shown: Any = None
    """The frame on screen (held between answers and after a barge-in)."""
    _dropped: int = 0

    @property
    def queued(self) -> int:
        """Decoded frames held that may still show."""
        return sum(len(track.frames) for track in self._tracks.values()) + (self._idle is not None)

    def add(self, tag: Hashable, seconds: float, frame: Any) -> None:
        """A decoded frame; ``tag`` is the answer its bytes arrived during."""
        response = self.calls.get(tag) if isinstance(tag, str) else None
        if response is None:
            self._idle = frame
            return
        track = self._tracks.get(response.id)
        if track is None:
            track = self._tracks[response.id] = _Track(response)
        if track.first is None or seconds < track.first:
            track.first = seconds
        track.frames.append((seconds, frame))

    def show(self, position: int) -> Any:
        """The frame to put on screen with the speaker at ``position`` (``None``: none yet)."""
        self._prune(position)
        for track in self._tracks.values():
            span = self._span(track)
            if span is None or not span[0] <= position < span[1]:
                continue
            elapsed = (position - span[0]) / self.rate + _SLACK_S
            assert track.first is not None
            while track.frames and track.frames[0][0] - track.first <= elapsed:
                self.shown = track.frames.popleft()[1]
            return self.shown
        if self._idle is not None:
            self.shown, self._idle = self._idle, None
        return self.shown

    def _span(self, track: _Track) -> tuple[int, int] | None:
        """Where the answer plays on the speaker's timeline: ``[start, end)``."""
        response = track.response
        if response.start_sample is None:
            return None
        start = response.start_sample
        if response.heard_ms is not None:
            return start, start + int(response.heard_ms * self.rate / 1000)
        return start, start + response.samples

    def _prune(self, position: int) -> None:
        """Drop the frames that can no longer show; answers over and done go entirely."""
        for key, track in list(self._tracks.items()):
            response = track.response
            span = self._span(track)
            if span is None:
                if response.dropped or (response.done and not response.has_audio):
                    self._forget(key)
                continue
            over = position >= span[1]
            if over and (response.done or response.dropped):
                self._forget(key)
            elif response.dropped:
                self._trim(track, span)

    def _trim(self, track: _Track, span: tuple[int, int]) -> None:
        """An interrupted answer keeps only the frames before its cut."""
        assert track.first is not None
        limit = (span[1] - span[0]) / self.rate
        while track.frames and track.frames[-1][0] - track.first > limit:
            track.frames.pop()
            self._dropped += 1

    def _forget(self, key: str) -> None:
        self._dropped += len(self._tracks.pop(key).frames)


def _video_delta(core: CallCore, event: Any) -> None:
    piece = video_piece(core, event)
    if piece is not None and core.spec.config.avatar is not None:
        core.effect(piece)


def _avatar_state(core: CallCore, event: Any) -> None:
    """``switch_to_speaking`` / ``switch_to_idle``: the timeline follows the audio instead."""
    log.debug("avatar %s (turn %s)", event.get("type"), event.get("turn_id"))


AVATAR_HANDLERS: dict[str, Callable[[CallCore, Any], None]] = {
    wire_type(ServerEvent.RESPONSE_VIDEO_DELTA): _video_delta,
    wire_type(ServerEvent.SESSION_AVATAR_SWITCH_TO_SPEAKING): _avatar_state,
    wire_type(ServerEvent.SESSION_AVATAR_SWITCH_TO_IDLE): _avatar_state,
}
"""Avatar event type → handler, merged into :data:`.handlers.HANDLERS`."""
