"""The Voice Live avatar as the agent's video in the meeting.

With ``AzureVoiceLiveConfig(avatar=Avatar(...))`` the service renders a talking
avatar and streams it next to the answer's audio (``response.video.delta``, a
fragmented H.264 MP4). This package turns that stream into the agent's video
track: :mod:`._decoder` demuxes and decodes it off the event loop,
:mod:`..core.avatar` decides which frame shows when (in sync with the audio
track's playback, idle between answers, frozen on a barge-in), :mod:`._track` is
the track the meeting's sender reads, :mod:`._publish` puts it in the meeting,
and :mod:`._output` wires them for one call (:mod:`._link` is what the adapter
holds). :class:`VideoRecorder` drains a track offline the way the sender would.
"""

from ._decoder import DecodedFrame, StreamDecoder
from ._link import AvatarLink
from ._output import AvatarOutput
from ._recorder import RecordedFrame, VideoRecorder
from ._track import AvatarVideoTrack, blank_frame

__all__ = [
    "AvatarLink",
    "AvatarOutput",
    "AvatarVideoTrack",
    "DecodedFrame",
    "RecordedFrame",
    "StreamDecoder",
    "VideoRecorder",
    "blank_frame",
]
