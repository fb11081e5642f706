"""What the pytest plugin's fixtures hand out: emulator options, the model and room factories.

Kept apart from :mod:`.pytest_plugin` because it imports the framework, the SDK and
the emulator, which every pytest run on a machine with this package would
otherwise pay for at start-up; the plugin imports this module only inside a
fixture a test asked for.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from videosdk.agents import Agent, Pipeline

from ..emulator import Scenario, Turn, VoiceLiveEmulator, synthesize
from ..voice_live import AzureVoiceLive
from ._room import LocalRoom

__all__ = [
    "DEFAULT_INSTRUCTIONS",
    "DefaultAgent",
    "ModelFactory",
    "RoomFactory",
    "VoiceLiveRoom",
    "emulator_options",
]

DEFAULT_INSTRUCTIONS = "You are a helpful assistant."

CALLER_RATE = 24000
"""The rate :meth:`VoiceLiveRoom.say` synthesizes at; the room resamples to the leg."""

_EMULATOR_OPTIONS = frozenset(
    name
    for name, p in inspect.signature(VoiceLiveEmulator.__init__).parameters.items()
    if p.kind is inspect.Parameter.KEYWORD_ONLY
)


def emulator_options(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Merge option layers (later ones win) into ``VoiceLiveEmulator`` keyword arguments.

    Every value is deep-copied, because a ``Scenario``'s cursor and a ``Faults``
    rule's count move as a test runs: a marker on a module or class is a template
    each test starts from, not one script the tests share. A sequence of
    ``Turn`` objects is accepted for ``scenario``.
    """
    merged: dict[str, Any] = {}
    for layer in layers:
        merged.update(layer)
    unknown = sorted(set(merged) - _EMULATOR_OPTIONS)
    if unknown:
        raise TypeError(
            f"unknown VoiceLiveEmulator option(s) {unknown}; "
            f"the options are {sorted(_EMULATOR_OPTIONS)}"
        )
    try:
        options = copy.deepcopy(merged)
    except Exception as exc:
        raise TypeError(f"voicelive options must be copyable per test: {exc!r}") from None
    options["scenario"] = _as_scenario(options.get("scenario"))
    return options


def _as_scenario(value: Any) -> Scenario | None:
    if value is None or isinstance(value, Scenario):
        return value
    if isinstance(value, list | tuple) and all(isinstance(turn, Turn) for turn in value):
        return Scenario(value)
    raise TypeError(f"scenario must be a Scenario or a list of Turn, not {type(value).__name__}")


def _require_loop(loop: asyncio.AbstractEventLoop, what: str) -> None:
    """Fail at once, not with a connect timeout, when the test and the emulator differ in loop.

    The emulator serves only while its loop runs; a test on another loop (its
    ``loop_scope`` wider than the fixtures') would wait for a server that never
    answers.
    """
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        return  # built outside any loop: nothing connects until the room runs
    if running is not loop:
        raise RuntimeError(
            f"{what} was called on another event loop than the one voicelive_emulator "
            "runs on: give the test the same asyncio loop_scope as the fixtures "
            "(asyncio_default_fixture_loop_scope, function unless configured)"
        )


class DefaultAgent(Agent):  # type: ignore[misc]
    """The agent ``voicelive_local_room`` runs when the test gives none: instructions only.

    It does not greet on entry, so the first thing the model answers is the
    caller's first turn and a script's first ``Turn`` is the one that plays.
    """

    def __init__(self, instructions: str = DEFAULT_INSTRUCTIONS) -> None:
        super().__init__(instructions=instructions)

    async def on_enter(self) -> None:
        return None

    async def on_exit(self) -> None:
        return None


class ModelFactory:
    """``voicelive_model(**kwargs)``: an ``AzureVoiceLive`` pointed at the test's emulator.

    Keyword arguments are ``AzureVoiceLive``'s and override the defaults:
    ``model="gpt-realtime"``, the emulator's endpoint, and the credential it
    accepts (``api_key``, else the bearer ``token`` as a token provider).
    Passing ``api_key`` or ``credential`` replaces that default, so a test can
    present a wrong one.
    """

    def __init__(
        self,
        emulator: VoiceLiveEmulator,
        loop: asyncio.AbstractEventLoop,
        *,
        api_key: str | None,
        token: str | None,
    ) -> None:
        self.emulator = emulator
        self.loop = loop
        self._defaults: dict[str, Any] = {"model": "gpt-realtime", "endpoint": emulator.endpoint}
        if api_key is not None:
            self._defaults["api_key"] = api_key
        elif token is not None:
            self._defaults["credential"] = _bearer(token)

    def __call__(self, **kwargs: Any) -> AzureVoiceLive:
        _require_loop(self.loop, "voicelive_model()")
        defaults = dict(self._defaults)
        if {"api_key", "credential"} & kwargs.keys():
            defaults.pop("api_key", None)
            defaults.pop("credential", None)
        return AzureVoiceLive(**defaults, **kwargs)

    def __repr__(self) -> str:
        return f"<voicelive_model for {self.emulator.endpoint}>"


def _bearer(token: str) -> Callable[[], Awaitable[str]]:
    """The emulator's bearer token as the async token provider ``AzureVoiceLive`` takes."""

    async def provide() -> str:
        return token

    return provide


class VoiceLiveRoom(LocalRoom):
    """The ``LocalRoom`` ``voicelive_local_room`` builds, with a caller who can speak text."""

    def __init__(
        self, agent: Any, pipeline: Any, *, emulator: VoiceLiveEmulator, **room_kwargs: Any
    ) -> None:
        super().__init__(agent, pipeline, **room_kwargs)
        self.emulator = emulator

    def __repr__(self) -> str:
        return f"<VoiceLiveRoom {self.describe_leg()} against {self.emulator.endpoint}>"

    async def say(self, text: str, *, pause: float = 1.0) -> None:
        """The caller says ``text``, then stays quiet for ``pause`` seconds.

        The words are voiced with the emulator's ``tts`` (espeak-ng when
        installed), but what the service "heard" is the scripted turn's ``user``
        transcript: the words only decide how long the caller speaks. The pause
        is what lets the server's VAD end the turn, as a real caller's silence does.
        """
        pcm = await synthesize(text, CALLER_RATE, engine=self.emulator.tts)
        await self.play(pcm, rate=CALLER_RATE)
        if pause > 0:
            await self.play_silence(pause)


class RoomFactory:
    """``voicelive_local_room(agent=None, *, model=None, **room_kwargs)``: a room to enter.

    It returns a :class:`VoiceLiveRoom` (enter it with ``async with``) running the
    real ``Pipeline`` with ``model`` (default: a fresh ``voicelive_model()``) and
    ``agent`` (default: a :class:`DefaultAgent`). ``room_kwargs`` are
    ``LocalRoom``'s (``wire_rate``, ``speed``, ``mic_before_start``, ...).
    """

    def __init__(self, models: ModelFactory) -> None:
        self.models = models
        self._rooms: list[VoiceLiveRoom] = []

    async def aclose(self) -> None:
        """Close every room this factory made that is still open (the fixture's teardown).

        ``async with`` closes a room; this catches a test that entered one
        without it, so the next test's room is not refused as overlapping.
        """
        rooms, self._rooms = self._rooms, []
        for room in rooms:
            await room.aclose()

    def __call__(
        self, agent: Any = None, *, model: Any = None, **room_kwargs: Any
    ) -> VoiceLiveRoom:
        _require_loop(self.models.loop, "voicelive_local_room()")
        pipeline = Pipeline(llm=model if model is not None else self.models())
        room = VoiceLiveRoom(
            agent if agent is not None else DefaultAgent(),
            pipeline,
            emulator=self.models.emulator,
            **room_kwargs,
        )
        self._rooms.append(room)
        return room

    def __repr__(self) -> str:
        return f"<voicelive_local_room for {self.models.emulator.endpoint}>"
