"""The floor: the least a legitimate Voice Live client can do per call.

Every CPU figure is read as a ratio to this client, so "ours costs 1.1× the floor"
says how much of a call's cost is the plugin's own doing and how much any client
pays (the framework's track, the converter, JSON, base64, the socket). It runs in
the same process and the same harness as both plugins (:class:`~.load.DrivenSession`
hands it the framework's ``TeeCustomAudioStreamTrack`` and calls the same hooks), and
does only what a call needs:

* a raw aiohttp WebSocket to the endpoint (no SDK), events encoded and decoded with
  orjson, audio sent inline from ``handle_audio_input`` (no queue, no task);
* the same converter as ours (:class:`videosdk_plugins_azure.audio.InputConverter`,
  48 kHz stereo → 24 kHz mono) and the same 40 ms appends, so the two put the same
  audio on the wire;
* the same ``session.update`` as ours (:func:`videosdk_plugins_azure.config.build_session`),
  so the service sends both the same events;
* ``response.audio.delta`` decoded into the track with ``add_new_bytes`` (through the
  one-byte carry of :class:`~videosdk_plugins_azure.audio.OutputFramer`, since a delta
  may end inside a sample), the track re-armed per answer, told when an answer's
  audio is complete, and flushed with ``interrupt()`` on ``speech_started``;
* nothing else: no reconnects, no history, no truncation, no metrics, no transcripts.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import orjson
from videosdk.agents import RealtimeBaseModel

from videosdk_plugins_azure.audio import (
    DEFAULT_APPEND_BATCH_MS,
    InputConverter,
    OutputFramer,
    pcm16_bytes,
)
from videosdk_plugins_azure.config import AzureVoiceLiveConfig, build_session
from videosdk_plugins_azure.protocol.events import ClientEvent, ServerEvent, wire_type

from .common import OUTPUT_RATE, WIRE_CHANNELS, WIRE_RATE

__all__ = ["PATH", "FloorClient", "api_version"]

PATH = "/voice-live/realtime"
"""Where the service (and the emulator) answers the WebSocket upgrade."""

_APPEND = wire_type(ClientEvent.INPUT_AUDIO_BUFFER_APPEND)
_SESSION_UPDATE = wire_type(ClientEvent.SESSION_UPDATE)

Handler = Callable[[dict[str, Any]], Awaitable[None]]


def api_version() -> str:
    """The ``api-version`` the SDK asks for by default (so the floor asks for the same)."""
    from azure.ai.voicelive.aio import connect

    default = inspect.signature(connect).parameters["api_version"].default
    return str(default)


def _url(endpoint: str) -> str:
    """``ws(s)://host:port/voice-live/realtime``, from an endpoint as the SDK takes it."""
    for plain, secure in (("http://", "ws://"), ("https://", "wss://")):
        if endpoint.startswith(plain):
            endpoint = secure + endpoint[len(plain) :]
    return endpoint.rstrip("/") + PATH


class FloorClient(RealtimeBaseModel):  # type: ignore[misc]
    """A bare-minimum Voice Live client with the framework's realtime-model hooks."""

    def __init__(self, *, endpoint: str, api_key: str, model: str) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.model = model
        self._api_key = api_key
        self._instructions: str | None = None
        self._convert = InputConverter(WIRE_RATE, WIRE_CHANNELS, OUTPUT_RATE)
        self._batch = bytearray()
        self._batch_bytes = pcm16_bytes(OUTPUT_RATE, DEFAULT_APPEND_BATCH_MS)
        self._framer = OutputFramer()
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._dispatch: dict[str, Handler] = {
            wire_type(ServerEvent.RESPONSE_AUDIO_DELTA): self._audio_delta,
            wire_type(ServerEvent.RESPONSE_CREATED): self._response_created,
            wire_type(ServerEvent.RESPONSE_AUDIO_DONE): self._audio_done,
            wire_type(ServerEvent.INPUT_AUDIO_BUFFER_SPEECH_STARTED): self._speech_started,
            wire_type(ServerEvent.ERROR): self._error,
        }

    # -- the framework's hooks --------------------------------------------------------

    def set_agent(self, agent: Any) -> None:
        self._instructions = getattr(agent, "instructions", None)

    @property
    def ready(self) -> bool:
        """Connected, and the socket still open (the harness counts a call alive on it)."""
        return self._ws is not None and not self._ws.closed

    async def connect(self) -> None:
        """Open the socket, send the session, start reading."""
        http = aiohttp.ClientSession()
        try:
            self._ws = await http.ws_connect(
                _url(self.endpoint),
                params={"api-version": api_version(), "model": self.model},
                headers={"api-key": self._api_key},
                autoping=True,
            )
        except BaseException:
            await http.close()
            raise
        self._http = http
        await self._send({"type": _SESSION_UPDATE, "session": self._session()})
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def handle_audio_input(self, audio_data: bytes) -> None:
        """Convert, and send an append inline once 40 ms are batched."""
        batch = self._batch
        batch += self._convert.convert(audio_data)
        if len(batch) < self._batch_bytes or self._ws is None:
            return
        audio = base64.b64encode(batch).decode("ascii")
        batch.clear()
        await self._send({"type": _APPEND, "audio": audio})

    async def interrupt(self) -> None:
        if self.audio_track is not None:
            self.audio_track.interrupt()

    async def aclose(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(BaseException):
                await reader
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
        http, self._http = self._http, None
        if http is not None:
            await http.close()

    # -- the socket ---------------------------------------------------------------------

    def _session(self) -> dict[str, Any]:
        session = build_session(
            AzureVoiceLiveConfig(),
            model=self.model,
            instructions=self._instructions,
            input_rate=OUTPUT_RATE,
        )
        return dict(session.as_dict())

    async def _send(self, event: dict[str, Any]) -> None:
        ws = self._ws
        if ws is not None:
            await ws.send_frame(orjson.dumps(event), aiohttp.WSMsgType.TEXT)

    async def _read(self) -> None:
        ws = self._ws
        assert ws is not None
        handlers = self._dispatch
        async for message in ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                continue
            event = orjson.loads(message.data)
            handler = handlers.get(event.get("type"))
            if handler is not None:
                await handler(event)
        self.emit("error", f"socket closed ({ws.close_code})")

    # -- server events ------------------------------------------------------------------

    async def _audio_delta(self, event: dict[str, Any]) -> None:
        track = self.audio_track
        if track is not None:
            await track.add_new_bytes(self._framer.feed(base64.b64decode(event["delta"])))

    async def _response_created(self, event: dict[str, Any]) -> None:
        self._framer.reset()
        if self.audio_track is not None:
            self.audio_track.enable_audio_input()

    async def _audio_done(self, event: dict[str, Any]) -> None:
        if self.audio_track is not None:
            self.audio_track.mark_synthesis_complete()

    async def _speech_started(self, event: dict[str, Any]) -> None:
        await self.interrupt()

    async def _error(self, event: dict[str, Any]) -> None:
        error = event.get("error") or {}
        self.emit("error", f"{error.get('code')}: {error.get('message')}")
