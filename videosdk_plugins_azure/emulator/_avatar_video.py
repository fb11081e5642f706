"""The emulator's avatar encoder: face frames → H.264 (PyAV's libx264) → fragmented MP4.

One :class:`AvatarEncoder` per session, like the service's one MP4 stream per
session: the init segment goes out with the first frame, timestamps run on across
responses, and each response starts on a key frame. Encoding is CPU work, so the
socket layer calls :meth:`AvatarEncoder.encode` in an executor, one call at a time.
"""

from __future__ import annotations

import fractions
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import av
import av.video.frame

from ..protocol.avatar import AVATAR_FRAME_RATE
from ._avatar_face import FaceRenderer
from ._avatar_mp4 import TIMESCALE, Fmp4Writer, annexb_units
from ._session_avatar import video_size

__all__ = ["AvatarEncoder"]

_SPS, _PPS = 7, 8


class AvatarEncoder:
    """Renders and encodes frames of one session's avatar, appending to its MP4 stream."""

    def __init__(
        self,
        width: int,
        height: int,
        *,
        fps: int = AVATAR_FRAME_RATE,
        bitrate: int | None = None,
        gop_size: int | None = None,
        background: str | None = None,
    ) -> None:
        self.fps = fps
        self._face = FaceRenderer(width, height, background)
        self._writer = Fmp4Writer(width, height)
        self._lock = threading.Lock()
        codec: Any = av.CodecContext.create("libx264", "w")
        codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
        codec.time_base = fractions.Fraction(1, fps)
        codec.framerate = fractions.Fraction(fps, 1)
        codec.gop_size = gop_size or 2 * fps
        codec.thread_count = 1
        if bitrate:
            codec.bit_rate = bitrate
        codec.options = {"preset": "ultrafast", "tune": "zerolatency", "forced-idr": "1"}
        codec.profile = "Constrained Baseline"
        self._codec = codec
        self.frames = 0
        """Frames encoded in this session (the next frame's index)."""
        self._written = 0
        """Fragments written (libx264 with ``zerolatency`` emits one packet per frame)."""

    @classmethod
    def for_session(cls, session: Mapping[str, Any]) -> AvatarEncoder:
        """An encoder for the session's ``avatar.video`` (size, bitrate, GOP, background)."""
        video = (session.get("avatar") or {}).get("video") or {}
        width, height = video_size(session)
        background = (video.get("background") or {}).get("color")
        return cls(
            width,
            height,
            bitrate=video.get("bitrate"),
            gop_size=video.get("gop_size"),
            background=background[:7] if background else None,
        )

    def encode(self, openings: Sequence[float], *, key_first: bool) -> bytes:
        """The MP4 bytes of one frame per opening (the init segment before the first)."""
        out = bytearray()
        with self._lock:
            for position, opening in enumerate(openings):
                frame = av.VideoFrame.from_ndarray(
                    self._face.frame(opening).reshape(-1, self._face.layout.width),
                    format="yuv420p",
                )
                frame.pts = self.frames
                if key_first and position == 0:
                    frame.pict_type = av.video.frame.PictureType.I
                for packet in self._codec.encode(frame):
                    out += self._fragment(bytes(packet), packet.is_keyframe)
                self.frames += 1
        return bytes(out)

    def _fragment(self, data: bytes, key: bool) -> bytes:
        units = annexb_units(data)
        head = b""
        if self._writer.parameter_sets is None:
            sps = next(unit for unit in units if unit[0] & 0x1F == _SPS)
            pps = next(unit for unit in units if unit[0] & 0x1F == _PPS)
            head = self._writer.init_segment(sps, pps)
        index = self._written
        dts = index * TIMESCALE // self.fps
        duration = (index + 1) * TIMESCALE // self.fps - dts
        self._written += 1
        return head + self._writer.sample(units, dts, duration, key=key)
