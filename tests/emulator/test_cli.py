"""``python -m videosdk_plugins_azure.emulator`` as a separate process, driven by the SDK."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from azure.ai.voicelive import models as m

from tests._cli import run_cli, start_cli, stop_cli
from videosdk_plugins_azure.emulator import Scenario, ServerLimits

from .conftest import quiet, recv_until, speech, stream


async def test_cli_prints_one_ready_line_and_serves_the_sdk_quickstart(tmp_path: Path) -> None:
    script = tmp_path / "scenario.json"
    script.write_text(json.dumps({"turns": [{"user": "hello", "reply": "Hi, I am the emulator."}]}))
    flags = ["--host", "127.0.0.1", "--port", "0", "--api-key", "cli-key", "--speed", "0"]
    proc, line = await start_cli(*flags, "--model-latency", "0", "--scenario", str(script))
    try:
        assert line.startswith("ready ws://127.0.0.1:")
        endpoint = line.split()[1]
        port = int(endpoint.rsplit(":", 1)[1])
        assert 0 < port < 65536

        from azure.ai.voicelive.aio import connect
        from azure.core.credentials import AzureKeyCredential

        async with connect(
            endpoint=endpoint, credential=AzureKeyCredential("cli-key"), model="gpt-realtime"
        ) as conn:
            await conn.session.update(
                session=m.RequestSession(
                    modalities=[m.Modality.TEXT, m.Modality.AUDIO],
                    instructions="You are helpful.",
                    voice=m.AzureStandardVoice(name="en-US-AvaNeural"),
                    input_audio_format=m.InputAudioFormat.PCM16,
                    output_audio_format=m.OutputAudioFormat.PCM16,
                    turn_detection=m.ServerVad(
                        threshold=0.5, prefix_padding_ms=300, silence_duration_ms=500
                    ),
                    input_audio_echo_cancellation=m.AudioEchoCancellation(),
                    input_audio_noise_reduction=m.AudioNoiseReduction(
                        type="azure_deep_noise_suppression"
                    ),
                )
            )
            await recv_until(conn, "session.updated")
            audio = np.concatenate(
                [quiet(24000, 0.4), await speech("Hello there.", 24000), quiet(24000, 1.0)]
            )
            await stream(conn, audio, 24000)
            events = await recv_until(conn, "response.done", timeout=20)
        spoken = b"".join(e.delta for e in events if e.type == "response.audio.delta")
        assert len(spoken) > 24000  # more than half a second of voice
        transcript = next(
            e for e in events if e.type == "response.audio_transcript.done"
        ).transcript
        assert transcript == "Hi, I am the emulator."
    finally:
        code, rest, _ = await stop_cli(proc)
    assert code == 0
    assert rest == ""  # exactly one line on stdout


async def test_cli_refuses_a_public_bind() -> None:
    code, out, err = await run_cli("--host", "0.0.0.0")
    assert code == 2
    assert out == ""
    assert "non-loopback" in err


def test_scenario_files_are_validated(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown keys"):
        Scenario.from_data({"turns": [{"user": "x", "replly": "typo"}]})
    with pytest.raises(ValueError, match="needs a 'name'"):
        Scenario.from_data([{"calls": [{"arguments": {}}]}])
    scenario = Scenario.from_data([{"user": "a", "calls": [{"name": "f", "arguments": {"x": 1}}]}])
    index, turn = scenario.next_turn()
    assert (index, turn.user, turn.calls[0].arguments_json()) == (0, "a", '{"x":1}')
    assert scenario.next_turn()[0] == -1  # past the script: unscripted turns


def test_cli_limit_flags_build_the_servers_limits() -> None:
    from videosdk_plugins_azure.emulator.__main__ import build_emulator, parser

    flags = ["--idle-timeout", "0", "--setup-timeout", "5", "--max-reply-chars", "100"]
    args = parser().parse_args([*flags, "--keep-records"])
    emu = build_emulator(args)
    limits = emu.settings.limits
    assert (limits.idle_timeout, limits.setup_timeout, limits.max_reply_chars) == (
        float("inf"),
        5.0,
        100,
    )
    assert emu.keep_records
    assert build_emulator(parser().parse_args([])).settings.limits == ServerLimits()
