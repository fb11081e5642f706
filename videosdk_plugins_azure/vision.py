"""Video frames as the images Voice Live accepts: JPEG ``input_image`` parts, bounded.

The service takes images as data URLs inside a user message. A meeting delivers
frames of any size at 30 fps, so a frame is scaled down to at most
:data:`MAX_SIDE` pixels on its longer side and encoded once, only when it is
about to be sent, and never more than :data:`MAX_FRAMES` go in one message.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import av
import av.error
from av.video.codeccontext import VideoCodecContext

from .core import CallCore, Effect
from .core.effects import SendFrames

__all__ = [
    "JPEG_QUALITY",
    "MAX_FRAMES",
    "MAX_SIDE",
    "encode_frames",
    "image_parts",
    "to_data_url",
]

log = logging.getLogger("videosdk_plugins_azure")

MAX_SIDE = 1024
"""Longest side of a sent image, in pixels: enough for the model to read a slide."""
MAX_FRAMES = 4
"""Images in one message at most (the latest ones are kept)."""
JPEG_QUALITY = 4
"""The MJPEG encoder's quantiser (2 best … 31 worst): small files, text still legible."""


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)


def to_data_url(frame: Any, max_side: int = MAX_SIDE) -> str:
    """``frame`` (an ``av.VideoFrame``) as a ``data:image/jpeg;base64,…`` URL."""
    if not isinstance(frame, av.VideoFrame):
        raise TypeError(f"expected an av.VideoFrame, got {type(frame).__name__}")
    scale = min(1.0, max_side / max(frame.width, frame.height, 1))
    width, height = _even(frame.width * scale), _even(frame.height * scale)
    scaled = frame.reformat(width=width, height=height, format="yuvj420p")
    codec = av.CodecContext.create("mjpeg", "w")
    if not isinstance(codec, VideoCodecContext):
        raise RuntimeError("this PyAV build has no MJPEG encoder")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuvj420p"
    codec.time_base = Fraction(1, 25)
    codec.options = {"qmin": str(JPEG_QUALITY), "qmax": str(JPEG_QUALITY)}
    packets = [*codec.encode(scaled), *codec.encode(None)]
    jpeg = b"".join(bytes(packet) for packet in packets)
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def image_parts(frames: Sequence[Any]) -> list[dict[str, Any]]:
    """``input_image`` content parts for the latest :data:`MAX_FRAMES` of ``frames``."""
    return [
        {"type": "input_image", "image_url": to_data_url(frame), "detail": "auto"}
        for frame in list(frames)[-MAX_FRAMES:]
    ]


async def encode_frames(core: CallCore, job: SendFrames) -> list[Effect]:
    """Encode ``job``'s frames in a worker thread (a JPEG costs ~20 ms), then let the
    core send them; frames that cannot be encoded are dropped with one log line."""
    try:
        parts = await asyncio.to_thread(image_parts, job.frames)
    except (TypeError, ValueError, av.error.FFmpegError) as exc:
        log.warning("could not send video frames to Voice Live (%s)", type(exc).__name__)
        return []
    return core.frames_encoded(job.text, parts, respond=job.respond)
