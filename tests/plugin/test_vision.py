"""Vision through the real Pipeline: reply(frames=...) and the meeting's video reach Voice Live."""

from __future__ import annotations

import asyncio
import base64
import io

import av
import numpy as np

from videosdk_plugins_azure.emulator import Turn, VoiceLiveEmulator

from .conftest import room_with
from .test_resilience import answered, resilient, say


def frame(shade: int, width: int = 1920, height: int = 1080) -> av.VideoFrame:
    pixels = np.full((height, width, 3), shade, dtype=np.uint8)
    pixels[: height // 2, : width // 2] = 255 - shade  # something to see
    return av.VideoFrame.from_ndarray(pixels, format="rgb24")


def images(emu: VoiceLiveEmulator) -> list[dict[str, object]]:
    return [
        part
        for event in emu.last_connection.events("conversation.item.create")
        for part in event["item"].get("content", [])
        if part.get("type") == "input_image"
    ]


def _jpeg_size(part: dict[str, object]) -> tuple[int, int]:
    url = str(part["image_url"])
    assert url.startswith("data:image/jpeg;base64,")
    data = base64.b64decode(url.split(",", 1)[1])
    with av.open(io.BytesIO(data), format="mjpeg") as container:
        decoded = next(container.decode(video=0))
    return decoded.width, decoded.height


async def test_reply_with_frames_sends_images_and_never_speaks_the_instructions(
    emu: VoiceLiveEmulator,
) -> None:
    model = resilient(emu)
    async with room_with(emu, Turn(reply="I see a square."), model=model) as room:
        await asyncio.wait_for(
            room.session.reply(instructions="Describe what you see", frames=[frame(40)]), 20
        )
        await room.wait_for(lambda: ("assistant", "I see a square.") in room.chat_items(), 20)
        items = room.chat_items()
    [image] = images(emu)
    assert max(_jpeg_size(image)) == 1024, "scaled to the bound"
    [create] = emu.last_connection.events("response.create")
    assert "pre_generated_assistant_message" not in str(create)
    assert ("assistant", "Describe what you see") not in items
    user_item = emu.last_connection.events("conversation.item.create")[0]["item"]
    assert user_item["content"][0] == {"type": "input_text", "text": "Describe what you see"}


async def test_meeting_video_goes_with_the_callers_turn(emu: VoiceLiveEmulator) -> None:
    model = resilient(emu)
    turns = (Turn(user="one", reply="A bright square."),)
    async with room_with(emu, *turns, model=model) as room:
        pipeline = room.session.pipeline
        pipeline.vision = True  # what a room opened with vision=True gets (see _framework)
        for shade in range(10):
            await pipeline.on_video_delta(frame(shade, 640, 360))
        await say(room, "What do you see?")
        await answered(room, "A bright square.")
    [image] = images(emu)
    assert _jpeg_size(image) == (640, 360)
    kinds = [e["item"].get("type") for e in emu.last_connection.events("conversation.item.create")]
    assert kinds == ["message"]
