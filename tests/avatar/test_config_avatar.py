"""``AzureVoiceLiveConfig(avatar=...)``: checked where it is written, sent as the service wants,
and the model's video track that comes of it."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import pytest
from azure.ai.voicelive import models as vl
from videosdk.agents import job as job_module

from videosdk_plugins_azure import AzureVoiceLive
from videosdk_plugins_azure.avatar import AvatarVideoTrack
from videosdk_plugins_azure.avatar._publish import publish
from videosdk_plugins_azure.config import (
    Avatar,
    AvatarVideo,
    AzureVoiceLiveConfig,
    avatar_video,
    build_session,
)


def _session(config: AzureVoiceLiveConfig) -> dict[str, object]:
    built = build_session(config, model="gpt-realtime", instructions="x", input_rate=24000)
    avatar: dict[str, object] = built.as_dict()["avatar"]
    return avatar


def test_the_typed_avatar_goes_out_over_the_call_s_socket_by_default() -> None:
    config = AzureVoiceLiveConfig(
        avatar=Avatar(
            character="lisa",
            style="casual-sitting",
            width=1280,
            height=720,
            bitrate=1_000_000,
            background_color="#00FF00FF",
            crop=((320, 0), (960, 720)),
            scene={"zoom": 1.2, "amplitude": 0.5},
            frame_rate=30,
        )
    )
    assert _session(config) == {
        "character": "lisa",
        "style": "casual-sitting",
        "customized": False,
        "video": {
            "bitrate": 1_000_000,
            "resolution": {"width": 1280, "height": 720},
            "crop": {"top_left": [320, 0], "bottom_right": [960, 720]},
            "background": {"color": "#00FF00FF"},
        },
        "scene": {"zoom": 1.2, "amplitude": 0.5},
        "output_protocol": "websocket",
    }
    assert config.avatar is not None
    assert avatar_video(config.avatar) == AvatarVideo(1280, 720, 30)


def test_an_sdk_avatar_is_passed_through_with_the_plugin_s_protocol() -> None:
    sdk = vl.AvatarConfig(
        character="anika",
        customized=False,
        avatar_type="photo-avatar",
        model="vasa-1",
        video=vl.VideoParams(resolution=vl.VideoResolution(width=511, height=512)),
    )
    config = AzureVoiceLiveConfig(avatar=sdk)
    sent = _session(config)
    assert sent["type"] == "photo-avatar"
    assert sent["output_protocol"] == "websocket"
    assert config.avatar is sdk
    assert sdk.output_protocol is None
    assert avatar_video(sdk) == AvatarVideo(510, 512, 25)  # even, for 4:2:0 video


def test_without_a_resolution_the_track_has_the_service_s_default_size() -> None:
    assert avatar_video(Avatar(character="lisa")) == AvatarVideo(1920, 1080, 25)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Avatar(character=""), "avatar.character must be a non-empty string"),
        (lambda: Avatar(character="x", width=640), "avatar.width and avatar.height go together"),
        (lambda: Avatar(character="x", width=0, height=10), "avatar.video.resolution.width"),
        (lambda: Avatar(character="x", avatar_type="photo-avatar"), "avatar.model is required"),
        (lambda: Avatar(character="x", scene={"zoom": -1}), "avatar.scene.zoom must be greater"),
        (lambda: Avatar(character="x", scene={"tilt": 1}), "avatar.scene.tilt is not a known"),
        (lambda: Avatar(character="x", frame_rate=0), "avatar.frame_rate must be an integer"),
        (lambda: Avatar(character="x", crop=((5, 5), (5, 9))), "bottom_right must lie right"),
        (
            lambda: Avatar(
                character="x", background_color="#000000", background_image_url="https://a"
            ),
            "exactly one of 'color' and 'image_url'",
        ),
        (
            lambda: AzureVoiceLiveConfig(avatar=Avatar(character="x", output_protocol="webrtc")),
            "'webrtc' is not supported",
        ),
        (
            lambda: AzureVoiceLiveConfig(
                avatar=vl.AvatarConfig(
                    character="x", customized=False, ice_servers=[vl.IceServer(urls=["turn:a"])]
                )
            ),
            "avatar.ice_servers are for WebRTC",
        ),
        (
            lambda: AzureVoiceLiveConfig(avatar=Avatar(character="x"), modalities=["text"]),
            "avatar needs audio output",
        ),
        (lambda: AzureVoiceLiveConfig(avatar={"character": "x"}), "avatar must be an Avatar"),  # type: ignore[arg-type]
    ],
)
def test_a_bad_avatar_fails_where_it_is_written(make: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_the_model_exposes_its_video_track_only_with_an_avatar() -> None:
    plain = AzureVoiceLive(endpoint="https://example.invalid", api_key="k")
    assert plain.video_track is None
    avatar = Avatar(character="lisa", width=320, height=240, frame_rate=15)
    model = AzureVoiceLive(
        endpoint="https://example.invalid", api_key="k", config=AzureVoiceLiveConfig(avatar=avatar)
    )
    track = model.video_track
    assert isinstance(track, AvatarVideoTrack)
    assert (track.kind, track.width, track.height, track.frame_rate) == ("video", 320, 240, 15)


class _Meeting:
    """Stands in for the joined ``videosdk.Meeting`` (joining needs the VideoSDK cloud)."""

    def __init__(self) -> None:
        self.tracks: list[object] = []

    def add_custom_video_track(self, track: object) -> None:
        self.tracks.append(track)


async def test_the_track_is_published_to_the_job_s_meeting() -> None:
    meeting = _Meeting()
    job = SimpleNamespace(room=SimpleNamespace(meeting=meeting))
    token = job_module._current_job_context.set(job)  # type: ignore[arg-type]
    try:
        track = object()
        assert publish(track) is None
    finally:
        job_module._current_job_context.reset(token)
    assert meeting.tracks == [track]
    assert publish(object()) is None  # no job: nothing to publish to
