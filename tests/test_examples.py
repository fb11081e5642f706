"""The examples run: offline against the emulator, and with a clear message without Azure."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


async def run(script: str, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLES / script),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=EXAMPLES.parent,
        env={**os.environ, **(env or {})},
    )
    async with asyncio.timeout(120):
        out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_tools_agent_runs_offline() -> None:
    code, out, err = await run("tools_agent.py")
    assert code == 0, err[-2000:]
    assert "tool get_weather" in out
    assert "tool get_time" in out
    assert "approval asked: microsoft_docs.microsoft_docs_search" in out
    assert (
        "mcp microsoft_docs.microsoft_docs_search -> Set turn_detection to azure_semantic_vad."
        in out
    )
    # the answers read the tools' outputs as sentences, not as raw JSON
    assert "agent: Right now it's sunny in Lisbon, 21 degrees Celsius." in out
    assert re.search(r"agent: It's \d\d:\d\d there right now\.", out)
    assert (
        "agent: According to the Microsoft docs: Set turn_detection to azure_semantic_vad." in out
    )
    assert "The result is" not in out
    assert "Traceback" not in err
    assert_no_framework_noise(err)


def assert_no_framework_noise(err: str) -> None:
    """Offline there is no VideoSDK session: the examples mute its analytics (examples/_logs.py)."""
    assert "No session ID" not in err
    assert "videosdk.agents.metrics" not in err


@pytest.mark.parametrize("script", ["tools_agent.py"])
async def test_azure_mode_without_credentials_explains_itself(script: str) -> None:
    code, _, err = await run(script, "--azure", env={"AZURE_VOICE_LIVE_ENDPOINT": ""})
    assert code == 2
    assert "AZURE_VOICE_LIVE_ENDPOINT" in err
    assert "Traceback" not in err


# -- the meeting, telephony and text-only examples, and the demo's real mode ---------------

SECRETS = (
    "VIDEOSDK_AUTH_TOKEN",
    "VIDEOSDK_API_KEY",
    "VIDEOSDK_SECRET_KEY",
    "VIDEOSDK_ROOM_ID",
    "AZURE_VOICE_LIVE_ENDPOINT",
    "AZURE_VOICE_LIVE_API_KEY",
    "AZURE_COGNITIVE_SERVICES_ENDPOINT",
    "AZURE_COGNITIVE_SERVICES_KEY",
)

NETWORK_GUARD = '''
"""Installed as sitecustomize by the tests: this process may only talk to loopback."""
import ipaddress
import socket
import sys

_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex


def _local(address):
    if isinstance(address, (str, bytes)):
        return True
    host = address[0] if isinstance(address, tuple) else address
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _refuse(address):
    print(f"NETWORK-GUARD: blocked a connection to {address!r}", file=sys.stderr, flush=True)
    raise OSError(f"offline test: blocked a connection to {address!r}")


def connect(self, address):
    return _connect(self, address) if _local(address) else _refuse(address)


def connect_ex(self, address):
    return _connect_ex(self, address) if _local(address) else _refuse(address)


socket.socket.connect = connect
socket.socket.connect_ex = connect_ex
'''


def offline_env(workdir: Path, **extra: str) -> dict[str, str]:
    """The test's environment minus every credential, plus a loopback-only network guard.

    The guard is a ``sitecustomize`` on ``PYTHONPATH``, so it is in place before the
    example imports anything; an attempt to leave the machine is printed to stderr.
    """
    guard = workdir / "_guard"
    guard.mkdir(exist_ok=True)
    (guard / "sitecustomize.py").write_text(NETWORK_GUARD, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(guard), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


async def run_in(
    workdir: Path, script: str, *args: str, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    """Run an example with ``workdir`` as its current directory (an empty temp dir, so
    no stray ``.env`` from the repo or the developer's shell can supply settings)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *([str(EXAMPLES / script)] if script else []),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=workdir,
        env=env if env is not None else offline_env(workdir),
    )
    try:
        async with asyncio.timeout(90):
            out, err = await proc.communicate()
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


NEW_EXAMPLES = ("offline_demo.py", "meeting_agent.py", "telephony_agent.py", "text_only_agent.py")


async def test_every_example_imports_without_running(tmp_path: Path) -> None:
    loader = (
        "import importlib.util, sys\n"
        "sys.path.insert(0, sys.argv[1].rsplit('/', 1)[0])  # as when run as a script\n"
        "for i, path in enumerate(sys.argv[1:]):\n"
        "    spec = importlib.util.spec_from_file_location(f'example_{i}', path)\n"
        "    module = importlib.util.module_from_spec(spec)\n"
        "    sys.modules[spec.name] = module\n"
        "    spec.loader.exec_module(module)\n"
        "    assert callable(module.main), path\n"
        "    print('imported', path.rsplit('/', 1)[-1])\n"
    )
    paths = [str(EXAMPLES / name) for name in (*NEW_EXAMPLES, "tools_agent.py")]
    code, out, err = await run_in(tmp_path, "", "-c", loader, *paths)
    assert code == 0, err[-3000:]
    # importing printed nothing but our own lines: no main() ran, nothing connected
    assert out.splitlines() == [f"imported {Path(p).name}" for p in paths]
    assert "NETWORK-GUARD" not in err


@pytest.mark.parametrize("script", ["meeting_agent.py", "telephony_agent.py"])
@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({}, "VIDEOSDK_AUTH_TOKEN"),
        (
            {"VIDEOSDK_AUTH_TOKEN": "t", "AZURE_VOICE_LIVE_ENDPOINT": "https://x"},
            "VIDEOSDK_ROOM_ID",
        ),
        ({"VIDEOSDK_AUTH_TOKEN": "t", "VIDEOSDK_ROOM_ID": "r"}, "AZURE_VOICE_LIVE_ENDPOINT"),
    ],
)
async def test_a_missing_setting_is_named_and_exits_2(
    tmp_path: Path, script: str, given: dict[str, str], named: str
) -> None:
    code, out, err = await run_in(tmp_path, script, env=offline_env(tmp_path, **given))
    assert code == 2, (out, err)
    assert "error: missing setting" in err
    assert named in err
    for var in given:
        assert f" {var}" not in err.split("missing setting(s):", 1)[1]
    assert "Traceback" not in err
    assert "NETWORK-GUARD" not in err


async def test_settings_come_from_a_dotenv_in_the_current_directory(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("VIDEOSDK_AUTH_TOKEN=t\nVIDEOSDK_ROOM_ID=r\n", encoding="utf-8")
    code, _, err = await run_in(tmp_path, "meeting_agent.py")
    assert code == 2
    missing = err.split("missing setting(s):", 1)[1]
    assert "AZURE_VOICE_LIVE_ENDPOINT" in missing
    assert "VIDEOSDK_AUTH_TOKEN" not in missing
    assert "VIDEOSDK_ROOM_ID" not in missing


@pytest.mark.parametrize(
    ("script", "args"),
    [("text_only_agent.py", ("--azure",)), ("offline_demo.py", ("--no-emulator",))],
)
async def test_real_mode_without_an_endpoint_explains_itself(
    tmp_path: Path, script: str, args: tuple[str, ...]
) -> None:
    code, _, err = await run_in(tmp_path, script, *args)
    assert code == 2
    assert "AZURE_VOICE_LIVE_ENDPOINT" in err
    assert "Traceback" not in err
    assert "NETWORK-GUARD" not in err


async def test_the_agents_ask_for_the_right_room(tmp_path: Path) -> None:
    """``make_context()`` builds the RoomOptions the worker joins with (nothing connects)."""
    probe = (
        "import importlib.util, sys, warnings\n"
        "sys.path.insert(0, sys.argv[1].rsplit('/', 1)[0])  # as when run as a script\n"
        "warnings.simplefilter('ignore')\n"
        "for i, path in enumerate(sys.argv[1:]):\n"
        "    spec = importlib.util.spec_from_file_location(f'example_{i}', path)\n"
        "    module = importlib.util.module_from_spec(spec)\n"
        "    sys.modules[spec.name] = module\n"
        "    spec.loader.exec_module(module)\n"
        "    o = module.make_context().room_options\n"
        "    print(path.rsplit('/', 1)[-1], o.room_id, o.playground, o.audio_codec)\n"
    )
    env = offline_env(tmp_path, VIDEOSDK_AUTH_TOKEN="t", VIDEOSDK_ROOM_ID="room-1")
    paths = [str(EXAMPLES / "meeting_agent.py"), str(EXAMPLES / "telephony_agent.py")]
    code, out, err = await run_in(tmp_path, "", "-c", probe, *paths, env=env)
    assert code == 0, err[-3000:]
    assert out.splitlines() == [
        "meeting_agent.py room-1 True None",
        "telephony_agent.py room-1 False pcmu",
    ]
    assert "NETWORK-GUARD" not in err


async def test_telephony_offline_runs_an_8khz_call(tmp_path: Path) -> None:
    code, out, err = await run_in(tmp_path, "telephony_agent.py", "--offline")
    assert code == 0, err[-3000:]
    assert "agent: Thanks for calling Contoso. How can I help?" in out
    assert 'tool: lookup_order({"order_id":"4217"})' in out
    assert "agent: Your order 4217 has shipped and should arrive on Thursday." in out
    assert "input_audio_sampling_rate=8000, output_audio_format=pcm16_8000hz" in out
    assert "plugin in 8000 Hz, out 8000 Hz; agent track frames at 8000 Hz" in out
    assert "Traceback" not in err
    assert_no_framework_noise(err)
    assert "NETWORK-GUARD" not in err


async def test_text_only_offline_prints_the_answers(tmp_path: Path) -> None:
    code, out, err = await run_in(tmp_path, "text_only_agent.py")
    assert code == 0, err[-3000:]
    assert "you: In one sentence, what is Azure Voice Live?" in out
    assert "agent: Azure Voice Live is a speech-to-speech service" in out
    assert "agent: From a phone line it takes 8 kilohertz audio" in out
    assert "agent audio played: 0 ms (text only)" in out
    assert "NETWORK-GUARD" not in err
    assert_no_framework_noise(err)

    code, out, err = await run_in(tmp_path, "text_only_agent.py", "Is this offline?")
    assert code == 0, err[-3000:]
    assert "agent: You said: Is this offline?" in out
