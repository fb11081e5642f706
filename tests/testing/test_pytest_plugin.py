"""The pytest plugin as a user meets it: a test file with no conftest, run by a fresh pytest.

Each test writes a user's project into a temporary directory and runs pytest on
it in a subprocess, so the plugin is found the way a user's pytest finds it
(the installed ``pytest11`` entry point) and nothing of this suite's conftest or
configuration leaks in. The user files assert real outcomes of real calls
(emulator, SDK, Pipeline); the tests here assert which of them passed, which
failed, and that the failures read well. Subprocess runs are slow (seconds
each), so each run checks one configuration of the user's project.
"""

from __future__ import annotations

import re

import pytest

pytest_plugins = ["pytester"]

RUN_TIMEOUT = 240.0

CLEAN_CLOSE = (
    "-W",
    "error::ResourceWarning",
    "-W",
    "error::pytest.PytestUnraisableExceptionWarning",
)
"""What this project demands of its own tests: every socket and session closed."""

AGENT_TESTS = '''
import pytest
from videosdk.agents import Agent, function_tool

from videosdk_plugins_azure.emulator import FunctionCall, Turn

WEATHER = [
    Turn(user="what's the weather in Paris", calls=[FunctionCall("get_weather", {"city": "Paris"})])
]
ANSWER = ("assistant", "The result is 21 degrees and sunny in Paris.")


class WeatherAgent(Agent):
    def __init__(self):
        super().__init__(instructions="You report the weather.")

    async def on_enter(self):
        pass

    async def on_exit(self):
        pass

    @function_tool
    async def get_weather(self, city: str) -> str:
        """The weather in a city."""
        return f"21 degrees and sunny in {city}"


class BrokenWeatherAgent(WeatherAgent):
    @function_tool
    async def get_weather(self, city: str) -> str:
        """The weather in a city."""
        raise RuntimeError("the weather service is down")


@pytest.fixture
def emulator():
    return "my own emulator"


@pytest.fixture
def room():
    return "my own room"


@pytest.mark.voicelive(scenario=WEATHER)
async def test_the_agent_answers(voicelive_emulator, voicelive_local_room):
    async with voicelive_local_room(WeatherAgent()) as room:
        await room.say("What's the weather in Paris?")
        await room.wait_for_event("agent_speech_ended", timeout=20)
        assert ANSWER in room.chat_items()
        assert room.voiced_ms() > 300
    assert voicelive_emulator.scenario.consumed == 1


@pytest.mark.voicelive(scenario=WEATHER)
async def test_the_tool_breaks(voicelive_local_room):
    async with voicelive_local_room(BrokenWeatherAgent()) as room:
        await room.say("What's the weather in Paris?")
        await room.wait_for_event("agent_speech_ended", timeout=20)
        assert ANSWER in room.chat_items()


async def test_the_agent_never_speaks(voicelive_local_room):
    async with voicelive_local_room() as room:
        await room.wait_for_event("agent_speech_ended", timeout=1)


async def test_my_own_fixtures_stay_mine(emulator, room, voicelive_emulator):
    assert (emulator, room) == ("my own emulator", "my own room")
    assert voicelive_emulator.endpoint.startswith("ws://127.0.0.1:")


async def test_a_coroutine_that_is_not_ours():
    pass
'''

OPTION_TESTS = """
import pytest

from videosdk_plugins_azure.emulator import Turn

pytestmark = pytest.mark.voicelive(tts="synthetic", scenario=[Turn(reply="Hello from the script.")])


class TestMarkers:
    pytestmark = pytest.mark.voicelive(speed=2.0, model_latency=0.5)

    @pytest.mark.voicelive(model_latency=0.05)
    async def test_the_closest_marker_wins(self, voicelive_emulator):
        assert voicelive_emulator.speed == 2.0
        assert voicelive_emulator.model_latency == 0.05
        assert voicelive_emulator.tts == "synthetic"
        assert voicelive_emulator.keep_records is True


async def test_the_defaults(voicelive_emulator):
    assert voicelive_emulator.speed == float("inf")
    assert voicelive_emulator.model_latency == 0


@pytest.mark.parametrize("run", [1, 2])
async def test_each_test_starts_the_script_afresh(voicelive_emulator, run):
    assert voicelive_emulator.scenario.remaining == 1
    voicelive_emulator.scenario.next_turn()


@pytest.mark.parametrize("voicelive_emulator", [{"speed": 3.0}], indirect=True)
async def test_an_indirect_parameter_wins(voicelive_emulator):
    assert (voicelive_emulator.speed, voicelive_emulator.tts) == (3.0, "synthetic")


@pytest.mark.voicelive(sped=2.0)
async def test_a_misspelt_option(voicelive_emulator):
    pass


@pytest.mark.asyncio(loop_scope="module")
async def test_a_test_on_another_loop(voicelive_local_room):
    voicelive_local_room()


@pytest.mark.voicelive(api_key=None, token="a-bearer-token")
async def test_a_token_only_emulator(voicelive_emulator, voicelive_local_room):
    async with voicelive_local_room():
        pass
    assert voicelive_emulator.accepted == 1


async def test_a_room_left_open(voicelive_local_room):
    await voicelive_local_room().__aenter__()


async def test_the_default_agent_answers(voicelive_local_room, voicelive_model):
    async with voicelive_local_room(model=voicelive_model(api_version="2025-10-01")) as room:
        await room.say("Hello?")
        await room.wait_for_event("agent_speech_ended", timeout=20)
        items = room.chat_items()
    assert items[0] == ("system", "You are a helpful assistant.")
    assert items[-1] == ("assistant", "Hello from the script.")
"""

UNRELATED_TESTS = """
import sys


def test_the_plugin_is_loaded_and_the_framework_is_not():
    assert "videosdk_plugins_azure.testing.pytest_plugin" in sys.modules
    heavy = ("videosdk", "videosdk.agents", "azure.ai.voicelive")
    assert [name for name in heavy if name in sys.modules] == []


async def test_wants_the_emulator(voicelive_emulator):
    pass
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--strict-markers", "-rA", *args, timeout=RUN_TIMEOUT
    )


def report(result: pytest.RunResult, test: str) -> str:
    """The failure (or error) report pytest printed for ``test``."""
    out = result.stdout.str()
    header = rf"_{{3,}} (?:ERROR at setup of )?{re.escape(test)} _{{3,}}\n"
    match = re.search(header + r"(.*?)(?=\n_{3,} |\n={3,} )", out, re.S)
    assert match, f"no report for {test} in:\n{out}"
    return match.group(1)


def test_a_user_file_with_no_conftest_passes_and_fails_as_its_agent_deserves(
    pytester: pytest.Pytester,
) -> None:
    """pytest-asyncio's default (strict) mode, no configuration at all: only the test file."""
    pytester.makepyfile(test_agent=AGENT_TESTS)
    result = run(pytester, *CLEAN_CLOSE)
    result.assert_outcomes(passed=2, failed=3)
    result.stdout.fnmatch_lines(
        [
            "PASSED test_agent.py::test_the_agent_answers",
            "PASSED test_agent.py::test_my_own_fixtures_stay_mine",
        ],
        consecutive=False,
    )
    broken = report(result, "test_the_tool_breaks")
    assert "assert ('assistant', 'The result is 21 degrees and sunny in Paris.') in [" in broken
    assert "'The result is Error: RuntimeError: the weather service is down.'" in broken
    silent = report(result, "test_the_agent_never_speaks")
    assert "TimeoutError: timed out after 1s waiting for 1 x 'agent_speech_ended'" in silent
    # a coroutine test that does not use the fixtures is left to strict mode's rules
    assert "async def functions are not natively supported" in report(
        result, "test_a_coroutine_that_is_not_ours"
    )


def test_markers_indirect_parameters_and_auto_mode(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    pytester.makepyfile(test_options=OPTION_TESTS)
    result = run(pytester, *CLEAN_CLOSE)
    result.assert_outcomes(passed=8, failed=1, errors=1)
    assert "PASSED test_options.py::test_the_default_agent_answers" in result.stdout.str()
    misspelt = report(result, "test_a_misspelt_option")
    assert "voicelive_emulator: unknown VoiceLiveEmulator option(s) ['sped']" in misspelt
    assert "During handling" not in misspelt
    other_loop = report(result, "test_a_test_on_another_loop")
    assert (
        "RuntimeError: voicelive_local_room() was called on another event loop "
        "than the one voicelive_emulator runs on"
    ) in other_loop


def test_a_suite_that_does_not_use_the_plugin_pays_nothing_for_it(
    pytester: pytest.Pytester,
) -> None:
    """Warnings as errors, no pytest-asyncio: the plugin loads, imports no framework, and
    only a test that asks for its fixtures hears about what they need."""
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    pytester.makepyfile(test_unrelated=UNRELATED_TESTS)
    result = run(pytester, "-p", "no:asyncio")
    result.assert_outcomes(passed=1, errors=1)
    assert "the voicelive_* fixtures run an asyncio server and need pytest-asyncio" in report(
        result, "test_wants_the_emulator"
    )
