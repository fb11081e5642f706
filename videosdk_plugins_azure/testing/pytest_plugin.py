"""pytest fixtures for testing an agent offline: the emulator, the model and a ``LocalRoom``.

pytest loads this module through the package's ``pytest11`` entry point, so a
test file needs no conftest::

    @pytest.mark.voicelive(scenario=[Turn(user="what's the weather", reply="It is sunny.")])
    async def test_weather(voicelive_local_room):
        async with voicelive_local_room(MyAgent()) as room:
            await room.say("What's the weather?")
            await room.wait_for_event("agent_speech_ended", timeout=20)
            assert ("assistant", "It is sunny.") in room.chat_items()

Every fixture name starts with ``voicelive_``, so none shadows a project's own
``emulator`` or ``room``:

* ``voicelive_options``: the emulator's options before any marker,
  :data:`DEFAULT_OPTIONS`. Override it in a conftest to change them for a project.
* ``voicelive_emulator``: a running ``VoiceLiveEmulator`` built from
  ``voicelive_options``, then the ``voicelive`` markers (module, class, function:
  the closest wins), then an indirect parameter (a dict of options).
* ``voicelive_model``: ``voicelive_model(**kwargs)`` makes an ``AzureVoiceLive``
  pointed at that emulator.
* ``voicelive_local_room``: ``voicelive_local_room(agent=None, *, model=None,
  **room_kwargs)`` makes a ``VoiceLiveRoom`` (a ``LocalRoom`` whose caller can
  ``say`` text) to enter with ``async with``.

The emulator is an asyncio server, so its fixture runs on pytest-asyncio (the
package's ``testing`` extra installs it). Both of its modes work: in strict mode
a coroutine test that uses these fixtures is marked ``asyncio`` here, since it
cannot run on anything else. Without pytest-asyncio the fixtures fail with a
message saying so, and nothing else changes.

This module imports nothing beyond pytest (and pytest-asyncio, which pytest has
loaded already when installed): the framework, the SDK and the emulator are
imported by the fixtures, when a test asks for one. ``-p no:voicelive`` turns
the plugin off.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import AsyncIterator, Generator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import pytest

try:
    from pytest_asyncio import fixture as _async_fixture
except ImportError:  # the fixtures then fail in _voicelive_asyncio, with what to install
    _async_fixture = pytest.fixture  # type: ignore[assignment]

if TYPE_CHECKING:
    import asyncio

    from ..emulator import VoiceLiveEmulator
    from ._fixtures import ModelFactory, RoomFactory

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_OPTIONS",
    "MARKER",
    "pytest_configure",
    "pytest_pycollect_makeitem",
    "voicelive_emulator",
    "voicelive_local_room",
    "voicelive_model",
    "voicelive_options",
]

MARKER = "voicelive"
DEFAULT_API_KEY = "voicelive-test-key"

DEFAULT_OPTIONS: Mapping[str, Any] = MappingProxyType(
    {
        "api_key": DEFAULT_API_KEY,
        "speed": math.inf,
        "model_latency": 0.0,
        "tts": "auto",
        "keep_records": True,
    }
)
"""What a test wants unless it says otherwise: audio sent unpaced (the agent's
track still plays it in real time), a model that answers at once, espeak-ng's
voice when installed, and every event of every connection kept for assertions."""

_ASYNCIO_PLUGIN = "asyncio"  # pytest-asyncio's entry-point name
_NEEDS_ASYNCIO = (
    "the voicelive_* fixtures run an asyncio server and need pytest-asyncio: "
    "pip install 'videosdk-plugins-azure-voicelive[testing]' (or pytest-asyncio), "
    "and do not disable it with -p no:asyncio"
)

_STARTED: pytest.StashKey[tuple[asyncio.AbstractEventLoop, str | None, str | None]] = (
    pytest.StashKey()
)
"""The running emulator's loop, API key and token, for the factories of the same test."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): VoiceLiveEmulator options for the voicelive_emulator fixture "
        "(scenario=, speed=, model_latency=, tts=, faults=, ...)",
    )


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> Generator[None, Any, Any]:
    """Mark coroutine tests that use the emulator ``asyncio``, before pytest-asyncio looks.

    ``trylast`` makes this the innermost wrapper, so the mark is on the item when
    pytest-asyncio's own wrapper decides, in strict mode, which items it runs.
    """
    result = yield
    if not collector.config.pluginmanager.hasplugin(_ASYNCIO_PLUGIN):
        return result
    items = result if isinstance(result, list) else [result]
    for item in items:
        if (
            isinstance(item, pytest.Function)
            and inspect.iscoroutinefunction(item.obj)
            and "voicelive_emulator" in item.fixturenames
            and item.get_closest_marker("asyncio") is None
        ):
            item.add_marker("asyncio")
    return result


@pytest.fixture
def _voicelive_asyncio(request: pytest.FixtureRequest) -> None:
    """Fail with what to install, rather than pytest's note about unhandled async fixtures."""
    if not request.config.pluginmanager.hasplugin(_ASYNCIO_PLUGIN):
        pytest.fail(_NEEDS_ASYNCIO, pytrace=False)


@pytest.fixture
def voicelive_options() -> dict[str, Any]:
    """The emulator's options before markers: :data:`DEFAULT_OPTIONS` (override to change)."""
    return dict(DEFAULT_OPTIONS)


def _marker_layers(node: pytest.Item) -> list[dict[str, Any]]:
    """The ``voicelive`` markers' options, outermost first, so the closest one wins."""
    layers = []
    for mark in reversed(list(node.iter_markers(MARKER))):
        if mark.args:
            pytest.fail(
                f"@pytest.mark.{MARKER} takes keyword arguments only "
                f"(scenario=..., speed=...), got {len(mark.args)} positional",
                pytrace=False,
            )
        layers.append(dict(mark.kwargs))
    return layers


def _indirect_layer(request: pytest.FixtureRequest) -> dict[str, Any]:
    param = getattr(request, "param", None)
    if param is None:
        return {}
    if not isinstance(param, Mapping):
        pytest.fail(
            f"an indirect voicelive_emulator parameter is a dict of options, not {param!r}",
            pytrace=False,
        )
    return dict(param)


@_async_fixture
async def voicelive_emulator(
    request: pytest.FixtureRequest,
    voicelive_options: dict[str, Any],
    _voicelive_asyncio: None,
) -> AsyncIterator[VoiceLiveEmulator]:
    """A running ``VoiceLiveEmulator``: defaults, then markers, then an indirect parameter."""
    import asyncio

    from ..emulator import VoiceLiveEmulator
    from ._fixtures import emulator_options

    layers = (voicelive_options, *_marker_layers(request.node), _indirect_layer(request))
    problem = None
    try:
        options = emulator_options(*layers)
    except TypeError as exc:
        problem = f"voicelive_emulator: {exc}"
    if problem is not None:  # failed here, not in the except, so no chained traceback shows
        pytest.fail(problem, pytrace=False)
    async with VoiceLiveEmulator(**options) as emulator:
        token = options.get("token")
        # an emulator that checks no credential still wants one
        api_key = options.get("api_key") or (None if token else DEFAULT_API_KEY)
        request.node.stash[_STARTED] = (asyncio.get_running_loop(), api_key, token)
        yield emulator


@pytest.fixture
def voicelive_model(
    request: pytest.FixtureRequest, voicelive_emulator: VoiceLiveEmulator
) -> ModelFactory:
    """``voicelive_model(**kwargs)``: an ``AzureVoiceLive`` for the test's emulator."""
    from ._fixtures import ModelFactory

    loop, api_key, token = request.node.stash[_STARTED]
    return ModelFactory(voicelive_emulator, loop, api_key=api_key, token=token)


@_async_fixture
async def voicelive_local_room(voicelive_model: ModelFactory) -> AsyncIterator[RoomFactory]:
    """``voicelive_local_room(agent=None, *, model=None, **room_kwargs)``: a room to enter.

    Rooms still open when the test ends are closed here.
    """
    from ._fixtures import RoomFactory

    factory = RoomFactory(voicelive_model)
    yield factory
    await factory.aclose()
