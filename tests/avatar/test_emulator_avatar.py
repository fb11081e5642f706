"""The emulator's avatar, driven by the real SDK over loopback: rules, stream, lip motion."""

from __future__ import annotations

import copy

import numpy as np
from azure.ai.voicelive import models as m

from videosdk_plugins_azure.emulator import VoiceLiveEmulator
from videosdk_plugins_azure.emulator._avatar_face import OPEN_DBFS, SHUT_DBFS

from .conftest import (
    AVATAR,
    audio_envelope,
    best_lag,
    collect,
    decode,
    openings,
    pcm_of,
    recv_until,
    sdk,
    session_with,
    spoken,
    video_of,
)

FPS = 25
RATE = 24000
TEXT = "Hello there. The weather in Paris is sunny, with a light breeze."


async def test_a_websocket_avatar_streams_one_h264_mp4_ahead_of_the_audio(
    emu: VoiceLiveEmulator,
) -> None:
    async with sdk(emu) as conn:
        updated = await session_with(conn, avatar=AVATAR)
        assert updated.session.avatar.character == "lisa"
        await conn.response.create(response=spoken(TEXT))
        events = await collect(conn)
    kinds = [str(e.type) for e in events]
    deltas = [e for e in events if e.type == "response.video.delta"]
    assert deltas
    assert all(isinstance(e, m.ServerEventResponseVideoDelta) for e in deltas)
    assert {(e.codec, e.output_index) for e in deltas} == {("h264", 0)}
    assert kinds.index("response.video.delta") < kinds.index("response.audio.delta")
    stream = b"".join(video_of(events))
    assert stream[4:8] == b"ftyp"
    assert stream.count(b"ftyp") == 1
    assert stream.count(b"moov") == 1
    frames = decode([(piece, "r1") for piece in video_of(events)])
    pcm = pcm_of(events)
    expected = -(-len(pcm) // 2 * FPS // RATE)
    assert len(frames) == expected
    assert all((f.frame.width, f.frame.height) == (320, 240) for f in frames)
    assert [round(f.seconds * FPS) for f in frames] == list(range(expected))


async def test_the_mouth_follows_the_speech_envelope_frame_by_frame(emu: VoiceLiveEmulator) -> None:
    async with sdk(emu) as conn:
        await session_with(conn, avatar=AVATAR)
        await conn.response.create(response=spoken(TEXT))
        events = await collect(conn)
    frames = decode([(piece, None) for piece in video_of(events)])
    mouth = openings([f.frame for f in frames])
    level = audio_envelope(pcm_of(events), RATE, FPS, len(frames))
    expected = np.clip((level - SHUT_DBFS) / (OPEN_DBFS - SHUT_DBFS), 0, 1)
    lag, score = best_lag(expected, mouth, max_lag=5)
    assert (lag, score > 0.95) == (0, True), (lag, score)
    assert mouth.max() > 0.5
    assert mouth.min() < 0.15


async def test_a_session_without_an_avatar_gets_no_video(emu: VoiceLiveEmulator) -> None:
    async with sdk(emu) as conn:
        await session_with(conn)
        await conn.response.create(response=spoken("No face here."))
        events = await collect(conn)
    assert "response.video.delta" not in {str(e.type) for e in events}


async def test_a_webrtc_avatar_sends_no_video_on_the_socket(emu: VoiceLiveEmulator) -> None:
    avatar = {**AVATAR, "output_protocol": "webrtc"}
    async with sdk(emu) as conn:
        await session_with(conn, avatar=avatar)
        await conn.response.create(response=spoken("Over WebRTC."))
        events = await collect(conn)
    assert "response.video.delta" not in {str(e.type) for e in events}


def _bad(path: list[str], value: object) -> dict[str, object]:
    avatar = copy.deepcopy(AVATAR)
    target = avatar
    for key in path[:-1]:
        target = target.setdefault(key, {})
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return avatar


async def test_avatar_config_is_checked_the_way_the_service_checks_it(
    emu: VoiceLiveEmulator,
) -> None:
    cases = [
        (_bad(["character"], None), "missing_required_parameter", "session.avatar.character"),
        (_bad(["customized"], "no"), "invalid_value", "session.avatar.customized"),
        (_bad(["video", "codec"], "vp8"), "invalid_value", "session.avatar.video.codec"),
        (_bad(["type"], "photo-avatar"), "missing_required_parameter", "session.avatar.model"),
        (_bad(["scene", "zoom"], 0), "invalid_value", "session.avatar.scene.zoom"),
        (_bad(["video", "resolution", "width"], 0), "invalid_value", None),
        (_bad(["output_protocol"], "rtmp"), "invalid_value", "session.avatar.output_protocol"),
        (_bad(["glasses"], True), "unknown_parameter", "session.avatar.glasses"),
    ]
    async with sdk(emu) as conn:
        await recv_until(conn, "session.created")
        for avatar, code, param in cases:
            await conn.send({"type": "session.update", "session": {"avatar": avatar}})
            error = (await recv_until(conn, "error"))[-1].error
            assert error.code == code, (avatar, error.message)
            assert param is None or error.param == param, error.param
        await conn.send({"type": "session.update", "session": {"avatar": AVATAR}})
        await recv_until(conn, "session.updated")


async def test_a_cancel_sends_the_encoded_frames_first_and_the_stream_goes_on(
    paced_emu: VoiceLiveEmulator,
) -> None:
    async with sdk(paced_emu) as conn:
        await session_with(conn, avatar=AVATAR)
        await conn.response.create(response=spoken(TEXT))
        first = await recv_until(conn, "response.audio.delta")
        first += await recv_until(conn, "response.audio.delta")
        await conn.response.cancel()
        first += await collect(conn)
        assert first[-1].response.status == "cancelled"
        await conn.response.create(response=spoken("Second answer."))
        second = await collect(conn)
    assert second[-1].response.status == "completed"
    pieces = [(p, "first") for p in video_of(first)] + [(p, "second") for p in video_of(second)]
    frames = decode(pieces)
    later = [f for f in frames if f.tag == "second"]
    second_pcm = pcm_of(second)
    assert len(later) == -(-len(second_pcm) // 2 * FPS // RATE)
    earlier = [f for f in frames if f.tag == "first"]
    # every frame of the audio the cancelled answer got out came while it was live
    assert len(earlier) >= -(-len(pcm_of(first)) // 2 * FPS // RATE) > 0
