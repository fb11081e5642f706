"""The Voice Live avatar: ``AvatarConfig``'s closed sets and ranges, and its video stream.

Both the plugin's config and the emulator's ``session.update`` check an avatar
with :func:`avatar_check`, built from their own validation kit, so the two can
never disagree about what a valid avatar is. Sources: the SDK's models
(``AvatarConfig``, ``VideoParams``, ``VideoCrop``, ``VideoResolution``,
``Background``, ``Scene``, ``IceServer``; azure-ai-voicelive 1.3.1) and
``voicelive-protocol.md`` §4.6.

What the service sends with ``output_protocol: "websocket"`` is not in the SDK's
docs; the facts below were reported by third parties who ran the live service
(public samples, 2026), and the emulator produces exactly this:

* ``response.video.delta`` events carry base64 pieces of **one fragmented MP4
  per session**: ``ftyp`` + ``moov`` once, then ``moof`` + ``mdat`` fragments;
  H.264 video (:data:`VIDEO_CODEC`).
* The pieces are **not** aligned to fragments, so a client must feed them to a
  streaming demuxer, never parse one delta alone.
* The event has no ``response_id`` (only ``output_index``, ``codec``, ``delta``):
  a client attributes video to the response being generated when it arrives.

Assumptions, where the reports disagree or say nothing (documented in the README):
one report says the service then stops sending ``response.audio.delta`` and puts
the answer's audio in the MP4 as AAC; another says audio stays on
``response.audio.delta``. The plugin and the emulator take the second reading
(audio stays PCM, the MP4 carries video). A response's first video frame is
taken to show the instant its first audio sample plays.
"""

from __future__ import annotations

import math
from typing import Any, Final, Literal, TypeAlias, get_args

from .checks import Check, Checks, is_number
from .checks import Shape as _Shape
from .events import ServerEvent, wire_type

__all__ = [
    "AVATAR_EVENTS",
    "AVATAR_FRAME_RATE",
    "AVATAR_TYPES",
    "BACKGROUND_COLOR",
    "DEFAULT_RESOLUTION",
    "OUTPUT_PROTOCOLS",
    "PHOTO_AVATAR",
    "PHOTO_AVATAR_MODELS",
    "PLUGIN_OUTPUT_PROTOCOL",
    "SCENE_RANGES",
    "SERVICE_OUTPUT_PROTOCOL",
    "VIDEO_CODEC",
    "VIDEO_DELTA",
    "AvatarType",
    "OutputProtocol",
    "avatar_check",
]

AvatarType: TypeAlias = Literal["video-avatar", "photo-avatar"]
AVATAR_TYPES: Final = frozenset(get_args(AvatarType))
PHOTO_AVATAR: Final = "photo-avatar"
PHOTO_AVATAR_MODELS: Final = frozenset({"vasa-1"})
"""Base models of a photo avatar, which needs one (``AvatarConfig.model``)."""

OutputProtocol: TypeAlias = Literal["webrtc", "websocket"]
OUTPUT_PROTOCOLS: Final = frozenset(get_args(OutputProtocol))
SERVICE_OUTPUT_PROTOCOL: Final[OutputProtocol] = "webrtc"
"""What the service streams over when ``output_protocol`` is left out (SDK docstring)."""
PLUGIN_OUTPUT_PROTOCOL: Final[OutputProtocol] = "websocket"
"""What the plugin asks for unless told otherwise: video on the call's own socket."""

VIDEO_CODEC: Final = "h264"
"""The only ``video.codec`` (and ``response.video.delta`` ``codec``) there is."""

DEFAULT_RESOLUTION: Final = (1920, 1080)
"""Width and height of the avatar's video when ``video.resolution`` is left out
(the Azure text-to-speech avatar's documented default output)."""

AVATAR_FRAME_RATE: Final = 25
"""Frames per second the avatar is rendered at (a third party measured about 24.6
from the live stream's timestamps); the emulator renders at this rate."""

BACKGROUND_COLOR: Final = (r"#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?", "use #RRGGBB or #RRGGBBAA")
"""``video.background.color``: hex, with an optional alpha byte (``#00FF00FF``)."""

SCENE_RANGES: Final[dict[str, tuple[float, float]]] = {
    "zoom": (0.0, math.inf),
    "position_x": (-1.0, 1.0),
    "position_y": (-1.0, 1.0),
    "rotation_x": (-math.pi, math.pi),
    "rotation_y": (-math.pi, math.pi),
    "rotation_z": (-math.pi, math.pi),
    "amplitude": (0.0, 1.0),
}
"""``scene`` field → its range: zoom ``(0, +inf)``, amplitude ``(0, 1]`` (open below),
the others closed; rotations in radians."""

_OPEN_BELOW: Final = frozenset({"zoom", "amplitude"})

VIDEO_DELTA: Final = wire_type(ServerEvent.RESPONSE_VIDEO_DELTA)
AVATAR_EVENTS: Final = frozenset(
    {
        VIDEO_DELTA,
        wire_type(ServerEvent.SESSION_AVATAR_SWITCH_TO_SPEAKING),
        wire_type(ServerEvent.SESSION_AVATAR_SWITCH_TO_IDLE),
        wire_type(ServerEvent.SESSION_AVATAR_CONNECTING),
    }
)
"""The server events only an avatar session gets."""


def _scene_value(kit: Checks, name: str) -> Check:
    lo, hi = SCENE_RANGES[name]
    open_below = name in _OPEN_BELOW
    if open_below:
        bounds = "greater than 0" + ("" if hi == math.inf else f" and at most {hi:g}")
    else:
        bounds = f"between {lo:g} and {hi:g}"

    def check(value: Any, param: str) -> float:
        if not is_number(value):
            kit.reject(kit.wording.number, param, value=value, lo=lo, hi=hi)
        if not ((lo < value if open_below else lo <= value) and value <= hi):
            kit.fail(param, f"{param} must be {bounds} (got {value!r})")
        return float(value)

    return check


def _point(kit: Checks) -> Check:
    """A crop corner: ``[x, y]``, two non-negative integers."""
    coordinates = kit.list_of(kit.integer(0))

    def check(value: Any, param: str) -> list[int]:
        point: list[int] = coordinates(value, param)
        if len(point) != 2:
            kit.fail(param, f"{param} must be [x, y] (got {value!r})")
        return point

    return check


def _crop_order(kit: Checks) -> Any:
    def post(crop: dict[str, Any], param: str) -> None:
        (left, top), (right, bottom) = crop["top_left"], crop["bottom_right"]
        if right <= left or bottom <= top:
            kit.fail(
                f"{param}.bottom_right",
                f"{param}.bottom_right must lie right of and below {param}.top_left",
            )

    return post


def _one_background(kit: Checks) -> Any:
    def post(background: dict[str, Any], param: str) -> None:
        if len(background) != 1:
            kit.fail(param, f"{param} takes exactly one of 'color' and 'image_url'")

    return post


def _photo_needs_model(kit: Checks) -> Any:
    def post(avatar: dict[str, Any], param: str) -> None:
        if avatar.get("type") == PHOTO_AVATAR and "model" not in avatar:
            kit.reject(kit.wording.missing, f"{param}.model", code="missing_required_parameter")

    return post


def avatar_check(kit: Checks) -> Check:
    """The whole ``AvatarConfig`` rule set, failing the way ``kit`` fails.

    Beyond the field types: ``character`` is required (the SDK marks ``customized``
    required too, but public samples leave it out for standard avatars, so it is
    taken as optional; the plugin always sends it), a photo avatar needs its
    ``model``, a crop's bottom-right corner lies below and right of its top-left, a
    background is a colour or an image (not both), and the scene's
    values are within :data:`SCENE_RANGES`.
    """

    shape = _bound_shape(kit)
    ice_server = shape(
        {
            "urls": kit.list_of(kit.non_empty_string, non_empty=True),
            "username": kit.string,
            "credential": kit.string,
        },
        frozenset({"urls"}),
    )
    return shape(
        {
            "type": kit.one_of(AVATAR_TYPES),
            "ice_servers": kit.list_of(ice_server),
            "character": kit.non_empty_string,
            "style": kit.string,
            "model": kit.one_of(PHOTO_AVATAR_MODELS),
            "customized": kit.boolean,
            "video": _video_check(kit, shape),
            "scene": shape({name: _scene_value(kit, name) for name in SCENE_RANGES}),
            "output_protocol": kit.one_of(OUTPUT_PROTOCOLS),
            "output_audit_audio": kit.boolean,
        },
        frozenset({"character"}),
        post=_photo_needs_model(kit),
    )


def _bound_shape(kit: Checks) -> type[_Shape]:
    """:class:`~.checks.Shape` failing the way ``kit`` fails."""

    class Shape(_Shape):
        pass

    Shape.kit = kit
    return Shape


def _video_check(kit: Checks, shape: type[_Shape]) -> Check:
    """``avatar.video``: ``VideoParams`` with its crop, resolution and background."""
    positive = kit.integer(1)
    return shape(
        {
            "bitrate": positive,
            "codec": kit.one_of({VIDEO_CODEC}),
            "crop": shape(
                {"top_left": _point(kit), "bottom_right": _point(kit)},
                frozenset({"top_left", "bottom_right"}),
                post=_crop_order(kit),
            ),
            "resolution": shape(
                {"width": positive, "height": positive}, frozenset({"width", "height"})
            ),
            "background": shape(
                {
                    "color": kit.matches(*BACKGROUND_COLOR),
                    "image_url": kit.matches(r"https?://\S+", "must be an http(s) URL"),
                },
                post=_one_background(kit),
            ),
            "gop_size": positive,
        }
    )
