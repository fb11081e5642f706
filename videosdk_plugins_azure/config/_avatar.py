"""``Avatar``: the Voice Live avatar a call shows in the meeting, checked where it is written.

The service renders the avatar itself and streams it to the plugin, which publishes
it as the agent's video track. :class:`Avatar` is a typed form of the SDK's
``AvatarConfig`` with the plugin's defaults (video over the call's own socket); an
SDK ``AvatarConfig`` is accepted too and sent as given, except that a missing
``output_protocol`` becomes the plugin's. Either way the wire form is checked with
the rules the emulator applies (:func:`..protocol.avatar.avatar_check`), so a bad
avatar fails at construction with the field named.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from azure.ai.voicelive import models as vl

from ..protocol.avatar import (
    AVATAR_FRAME_RATE,
    DEFAULT_RESOLUTION,
    PLUGIN_OUTPUT_PROTOCOL,
    AvatarType,
    OutputProtocol,
    avatar_check,
)
from ._checks import CHECKS, fail, plain_string

__all__ = ["Avatar", "AvatarVideo", "avatar_video", "check_avatar", "sdk_avatar"]

_RULES = avatar_check(CHECKS)
_SUPPORTED_PROTOCOLS = frozenset({"websocket"})
"""What the plugin can put into the meeting (see the README on WebRTC)."""
_FRAME_RATES = CHECKS.integer(1, 60)


@dataclass(frozen=True, kw_only=True)
class Avatar:
    """The avatar the service renders, and the video track the meeting gets.

    ``character`` and ``style`` name a standard avatar (``"lisa"``,
    ``"casual-sitting"``); ``customized=True`` for a custom one. A photo avatar is
    ``avatar_type="photo-avatar"`` with ``model="vasa-1"``. ``width``/``height``
    (both or neither), ``bitrate``, ``gop_size``, ``background_color``
    (``#RRGGBB[AA]``) or ``background_image_url``, ``crop`` (``((left, top),
    (right, bottom))``) and ``scene`` map onto ``AvatarConfig.video``/``scene``.
    ``frame_rate`` is the meeting track's rate; the track's size is ``width`` x
    ``height`` (1920x1080 when not given, the service's default).
    """

    character: str
    style: str | None = None
    customized: bool = False
    avatar_type: AvatarType | None = None
    model: str | None = None
    width: int | None = None
    height: int | None = None
    bitrate: int | None = None
    gop_size: int | None = None
    background_color: str | None = None
    background_image_url: str | None = None
    crop: tuple[tuple[int, int], tuple[int, int]] | None = None
    scene: Mapping[str, float] | None = None
    output_protocol: OutputProtocol = PLUGIN_OUTPUT_PROTOCOL
    output_audit_audio: bool | None = None
    frame_rate: int = AVATAR_FRAME_RATE

    def __post_init__(self) -> None:
        if (self.width is None) != (self.height is None):
            raise fail("avatar.width", "and avatar.height go together (give both or neither)")
        _FRAME_RATES(self.frame_rate, "avatar.frame_rate")
        _RULES(self.wire(), "avatar")

    def _video(self) -> dict[str, Any]:
        video: dict[str, Any] = {"bitrate": self.bitrate, "gop_size": self.gop_size}
        if self.width is not None:
            video["resolution"] = {"width": self.width, "height": self.height}
        if self.crop is not None:
            top_left, bottom_right = self.crop
            video["crop"] = {"top_left": list(top_left), "bottom_right": list(bottom_right)}
        if self.background_color is not None or self.background_image_url is not None:
            video["background"] = {
                key: value
                for key, value in (
                    ("color", self.background_color),
                    ("image_url", self.background_image_url),
                )
                if value is not None
            }
        return {key: value for key, value in video.items() if value is not None}

    def wire(self) -> dict[str, Any]:
        """The ``session.avatar`` object this config sends."""
        wire: dict[str, Any] = {
            "type": self.avatar_type,
            "character": self.character,
            "style": self.style,
            "customized": self.customized,
            "model": self.model,
            "video": self._video() or None,
            "scene": dict(self.scene) if self.scene is not None else None,
            "output_protocol": self.output_protocol,
            "output_audit_audio": self.output_audit_audio,
        }
        return {key: value for key, value in wire.items() if value is not None}


class AvatarVideo(NamedTuple):
    """What the meeting's video track is: its size (even, as 4:2:0 video needs) and rate."""

    width: int
    height: int
    frame_rate: int


def _sdk_wire(avatar: vl.AvatarConfig) -> dict[str, Any]:
    wire = {key: plain_string(value) for key, value in avatar.as_dict().items()}
    wire.setdefault("output_protocol", PLUGIN_OUTPUT_PROTOCOL)
    return wire


def check_avatar(avatar: object) -> None:
    """Reject what the service would, and what the plugin cannot show in a meeting."""
    if avatar is None:
        return
    if isinstance(avatar, vl.AvatarConfig):
        wire = _RULES(_sdk_wire(avatar), "avatar")
    elif isinstance(avatar, Avatar):
        wire = avatar.wire()
    else:
        raise fail("avatar", "must be an Avatar(...), an SDK AvatarConfig or None")
    if "ice_servers" in wire:
        raise fail("avatar.ice_servers", "are for WebRTC output, which the plugin does not use")
    protocol = wire.get("output_protocol")
    if protocol not in _SUPPORTED_PROTOCOLS:
        raise fail(
            "avatar.output_protocol",
            f"{protocol!r} is not supported: the plugin publishes the avatar it receives "
            "over the call's socket; use 'websocket' (see the README on WebRTC)",
        )


def sdk_avatar(avatar: Avatar | vl.AvatarConfig) -> vl.AvatarConfig:
    """The SDK model ``session.avatar`` is sent as."""
    wire = avatar.wire() if isinstance(avatar, Avatar) else _sdk_wire(avatar)
    return vl.AvatarConfig(wire)


def avatar_video(avatar: Avatar | vl.AvatarConfig) -> AvatarVideo:
    """The size and rate of the meeting's video track for ``avatar``."""
    wire = avatar.wire() if isinstance(avatar, Avatar) else _sdk_wire(avatar)
    resolution = (wire.get("video") or {}).get("resolution")
    width, height = (
        (resolution["width"], resolution["height"]) if resolution else DEFAULT_RESOLUTION
    )
    rate = avatar.frame_rate if isinstance(avatar, Avatar) else AVATAR_FRAME_RATE
    return AvatarVideo(max(2, width - width % 2), max(2, height - height % 2), rate)
