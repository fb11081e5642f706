"""``offline_demo.py --avatar``: a real subprocess writes a playable ``conversation.mp4``."""

from __future__ import annotations

import re
import wave
from pathlib import Path

import av
import numpy as np

from tests._cli import run_demo
from videosdk_plugins_azure.emulator import mouth_opening


async def _run(workdir: Path) -> tuple[int, str, str]:
    return await run_demo("--speed", "10", "--avatar", "--out", str(workdir / "out"), cwd=workdir)


async def test_the_demo_films_the_avatar_with_the_call_s_audio(tmp_path: Path) -> None:
    code, stdout, stderr = await _run(tmp_path)
    assert code == 0, stderr[-3000:]
    assert "Traceback" not in stderr
    out = tmp_path / "out"
    assert not (out / ".avatar-video.mp4").exists()  # the scratch file is gone
    with wave.open(str(out / "conversation.wav")) as wav:
        call_seconds = wav.getnframes() / wav.getframerate()
    mouths = []
    with av.open(str(out / "conversation.mp4")) as movie:
        video, audio = movie.streams.video[0], movie.streams.audio[0]
        assert (video.codec_context.name, video.width, video.height) == ("h264", 640, 360)
        assert (audio.codec_context.name, audio.channels) == ("aac", 2)
        assert video.duration is not None
        assert audio.duration is not None
        assert abs(float(audio.duration * audio.time_base) - call_seconds) < 0.2
        assert abs(float(video.duration * video.time_base) - call_seconds) < 1.0
        for frame in movie.decode(video=0):
            mouths.append(mouth_opening(frame.to_ndarray()[:360]))
    # the face talks: it opens and closes, many times over the call
    openings = np.array(mouths)
    assert openings.max() > 0.5
    assert np.count_nonzero(np.diff((openings > 0.3).astype(int)) == 1) >= 10
    assert len(mouths) > 20 * call_seconds
    figure = re.search(r"lip sync: picture ([+-]\d+) ms vs voice \(r=([\d.]+)\)", stdout)
    assert figure is not None, stdout[-2000:]
    assert abs(int(figure.group(1))) <= 80
    assert float(figure.group(2)) > 0.5
    assert "conversation.mp4" in stdout
