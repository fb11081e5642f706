"""The plugin's avatar decoder and video track on their own: streams, bounds, failures."""

from __future__ import annotations

import asyncio
import logging
import threading
from types import SimpleNamespace

import av
import numpy as np
import pytest
from vsaiortc.mediastreams import MediaStreamError

from videosdk_plugins_azure.avatar import (
    AvatarOutput,
    AvatarVideoTrack,
    DecodedFrame,
    StreamDecoder,
    _decoder,
)
from videosdk_plugins_azure.avatar._decoder import sniff
from videosdk_plugins_azure.avatar._track import VIDEO_CLOCK_RATE
from videosdk_plugins_azure.config import AvatarVideo
from videosdk_plugins_azure.core.effects import VideoPiece
from videosdk_plugins_azure.core.responses import CallState
from videosdk_plugins_azure.emulator._avatar_face import FaceRenderer, mouth_opening
from videosdk_plugins_azure.emulator._avatar_video import AvatarEncoder

from .conftest import decode


def _stream(count: int, size: tuple[int, int] = (320, 240)) -> bytes:
    encoder = AvatarEncoder(*size)
    return encoder.encode([index / max(1, count - 1) for index in range(count)], key_first=True)


def test_a_stream_cut_anywhere_decodes_to_every_frame_in_order_at_the_track_size() -> None:
    data = _stream(12)
    pieces = [(data[i : i + 333], i // 333) for i in range(0, len(data), 333)]
    frames = decode(pieces, size=(160, 120))
    assert [round(f.seconds * 25) for f in frames] == list(range(12))
    assert {(f.frame.width, f.frame.height, f.frame.format.name) for f in frames} == {
        (160, 120, "yuv420p")
    }
    mouth = [mouth_opening(f.frame.to_ndarray()[:120]) for f in frames]
    assert mouth == sorted(mouth)  # rendered opening 0 → 1, read back from pixels
    # each frame carries the tag of the piece its bytes began in
    tags = [int(str(f.tag)) for f in frames]
    assert tags == sorted(tags)
    assert frames[0].tag == (data.index(b"mdat") + 4) // 333
    assert frames[-1].tag == (data.rindex(b"mdat") + 4) // 333


def test_a_raw_h264_stream_is_decoded_too() -> None:
    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = 320, 240, "yuv420p"
    codec.options = {"preset": "ultrafast", "tune": "zerolatency"}
    face = FaceRenderer(320, 240)
    data = b""
    for index in range(8):
        frame = av.VideoFrame.from_ndarray(face.frame(index / 7).reshape(-1, 320), format="yuv420p")
        frame.pts = index
        data += b"".join(bytes(packet) for packet in codec.encode(frame))
    data += b"".join(bytes(packet) for packet in codec.encode(None))
    assert sniff(data[:8]) == "h264"
    frames = decode([(data[i : i + 500], None) for i in range(0, len(data), 500)])
    assert len(frames) == 8
    mouth = [mouth_opening(f.frame.to_ndarray()[:240]) for f in frames]
    assert mouth == sorted(mouth)


def test_the_decoder_waits_for_the_consumer_instead_of_piling_frames_up() -> None:
    got: list[DecodedFrame] = []
    two = threading.Event()
    released = threading.Event()

    def keep(frame: DecodedFrame) -> None:
        got.append(frame)
        if len(got) == 2:
            two.set()
        if released.is_set():
            decoder.consumed(1)

    decoder = StreamDecoder((320, 240), keep, max_ahead=2)
    decoder.feed(_stream(10), None)
    decoder.end()
    assert two.wait(10)
    assert decoder.frames == 2  # a third waits for room, by design
    released.set()
    decoder.consumed(2)
    decoder.join(10)
    assert len(got) == 10


def test_a_broken_stream_stops_the_video_once_and_quietly(caplog: pytest.LogCaptureFixture) -> None:
    decoder = StreamDecoder((320, 240), lambda frame: None, max_ahead=4)
    with caplog.at_level(logging.WARNING, logger="videosdk_plugins_azure"):
        decoder.feed(b"\x00\x00\x00\x10notanmp4atall!!!" * 64, None)
        decoder.end()
        decoder.join(10)
        assert decoder.failed
        assert not decoder.feed(b"more", None)
    warnings = [r for r in caplog.records if "avatar video stopped" in r.getMessage()]
    assert len(warnings) == 1


def test_input_beyond_the_bound_gives_the_stream_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_decoder, "MAX_PENDING_BYTES", 1000)
    decoder = StreamDecoder((320, 240), lambda frame: None, max_ahead=1)
    decoder.consumed(0)
    assert not decoder.feed(bytes(1001), None)
    assert decoder.failed
    decoder.join(10)


def test_closing_a_decoder_that_waits_for_room_ends_its_thread() -> None:
    first = threading.Event()
    decoder = StreamDecoder((320, 240), lambda frame: first.set(), max_ahead=1)
    decoder.feed(_stream(6), None)
    assert first.wait(10)
    decoder.close()
    decoder.join(10)
    assert not decoder._thread.is_alive()
    assert decoder.frames == 1


async def test_the_track_shows_blank_until_a_frame_then_the_source_s_frame() -> None:
    source: list[av.VideoFrame | None] = [None]
    track = AvatarVideoTrack(64, 48, 50, lambda: source[0])
    first = await track.recv()
    assert (first.width, first.height) == (64, 48)
    assert int(np.asarray(first.to_ndarray()[:48]).max()) == 16  # black
    picture = av.VideoFrame.from_ndarray(np.full((72, 64), 200, np.uint8), format="yuv420p")
    source[0] = picture
    second = await track.recv()
    third = await track.recv()
    assert second is picture
    assert [first.pts, third.pts] == [0, 2 * VIDEO_CLOCK_RATE // 50]
    track.stop()
    with pytest.raises(MediaStreamError):
        await track.recv()


async def test_a_new_connection_s_stream_starts_a_new_decoder() -> None:
    """Each connection's video is a new MP4 (its own init segment): the old decoder goes."""
    calls = CallState()
    model = SimpleNamespace(audio_track=None, output_sampling_rate=24000)
    output = AvatarOutput(model, calls, AvatarVideo(320, 240, 25))
    added: list[object] = []
    enough = asyncio.Event()

    def add(decoded: DecodedFrame) -> None:
        added.append(decoded.tag)
        if len(added) == 10:
            enough.set()

    output._add = add  # type: ignore[method-assign]
    output.feed(VideoPiece(_stream(5), "first", 0))
    output.feed(VideoPiece(_stream(5), "second", 1))
    async with asyncio.timeout(10):
        await enough.wait()
    await output.aclose()
    assert added == ["first"] * 5 + ["second"] * 5
