"""The offline demo, end to end: the real emulator, the real framework, a real subprocess.

It runs ``examples/offline_demo.py --speed 10`` exactly as a user would (in an empty
directory, so no stray ``.env`` can change it) and checks what it leaves behind:
the stereo call recording, the transcript, the summary and the timeline picture.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import math
import sys
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests._cli import DEMO, run_demo

GREETING = "Hi, this is the Contoso travel desk. Ask me about the weather, or about a city."
HELLO_REPLY = "Hello! Happy to help. What would you like to know?"
WEATHER_REPLY = "Right now in Lisbon it's sunny and 21 degrees."
WALK_REPLY = "Yes, it's lovely on foot, but it's hilly, so bring comfortable shoes."
LONG_ANSWER_START = "Lisbon is the capital of Portugal"


class DemoRun:
    def __init__(self, out: Path, code: int, stdout: str, stderr: str) -> None:
        self.out = out
        self.code = code
        self.stdout = stdout
        self.stderr = stderr

    @property
    def summary(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.out / "summary.json").read_text("utf-8"))
        return data


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """One run shared by every test here: the demo takes about 25 s at --speed 10."""
    workdir = tmp_path_factory.mktemp("demo")
    out = workdir / "out"

    async def run() -> DemoRun:
        code, stdout, stderr = await run_demo("--speed", "10", "--out", str(out), cwd=workdir)
        return DemoRun(out, code, stdout, stderr)

    return asyncio.run(run())


def test_it_succeeds_quietly(demo: DemoRun) -> None:
    assert demo.code == 0, demo.stderr[-3000:]
    assert "Traceback" not in demo.stderr
    assert "[1/3]" in demo.stdout
    assert "[2/3]" in demo.stdout
    assert "[3/3]" in demo.stdout
    assert "No session ID" not in demo.stderr  # the framework's offline analytics are muted
    # the live transcript says what its time stamps mean (the end of each line)
    assert "stamped when each line ended" in demo.stdout


def test_the_transcript_holds_every_scripted_turn(demo: DemoRun) -> None:
    lines = demo.stdout.splitlines()
    live = lines[: next(i for i, line in enumerate(lines) if line.startswith("───"))]

    def said(role: str, text: str) -> bool:
        return any(line.endswith(f"{role}: {text}") and line.startswith("[") for line in live)

    assert said("agent", GREETING)
    assert said("caller", "Hello there!")
    assert said("agent", HELLO_REPLY)
    assert said("agent", WEATHER_REPLY)
    assert said("agent", WALK_REPLY)
    # the greeting comes first, the barge-in answer last
    agent = [line for line in live if " agent: " in line]
    assert agent[0].endswith(GREETING)
    assert agent[-1].endswith(WALK_REPLY)


def test_the_tool_ran_and_its_result_was_spoken(demo: DemoRun) -> None:
    assert 'tool: get_weather({"city":"Lisbon"}) -> ok' in demo.stdout
    tools = demo.summary["tool_calls"]
    assert [t["name"] for t in tools] == ["get_weather"]
    assert json.loads(tools[0]["arguments"]) == {"city": "Lisbon"}
    assert json.loads(tools[0]["output"]) == {
        "city": "Lisbon",
        "sky": "sunny",
        "temperature_c": 21,
    }
    assert not tools[0]["is_error"]
    turns = demo.summary["turns"]
    tool_at = next(i for i, t in enumerate(turns) if t["role"] == "tool")
    assert any(t["text"] == WEATHER_REPLY for t in turns[tool_at:])


def test_the_caller_interrupted_the_long_answer(demo: DemoRun) -> None:
    i = demo.summary["interruption"]
    assert i is not None
    assert i["interrupted"]
    assert 0 < i["truncate_audio_end_ms"] < i["answer_ms"]
    # the caller talked over it after about 2.5 s of speech, far from its end
    assert 1500 < i["truncate_audio_end_ms"] < 8000
    assert i["answer_ms"] > 15000
    # the transcript was cut to what was heard
    assert i["heard_text"]
    assert i["heard_text"].startswith(LONG_ANSWER_START)
    assert len(i["heard_text"]) < 120
    assert "Interruption: at" in demo.stdout


def test_latencies_are_reported_per_caller_turn(demo: DemoRun) -> None:
    rows = demo.summary["latencies"]
    assert [r["after"] for r in rows] == [
        "Hello there!",
        "What's the weather like in Lisbon today?",
        "Tell me about the city.",
        "Sorry, one more thing: is it a good city for walking?",
    ]
    assert all(0 <= r["first_audio_latency_ms"] < 5000 for r in rows)


def _voiced(channel: np.ndarray, rate: int) -> tuple[float, float]:
    """Seconds of 20 ms frames above -50 dBFS, and their RMS level in dBFS."""
    n = rate // 50
    frames = channel[: len(channel) // n * n].astype(np.float64).reshape(-1, n)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    loud = rms > 32768 * 10 ** (-50 / 20)
    if not loud.any():
        return 0.0, -math.inf
    level = float(np.sqrt(np.mean(frames[loud] ** 2)))
    return float(loud.sum()) / 50, 20 * math.log10(level / 32768)


def test_the_recording_is_stereo_with_both_sides(demo: DemoRun) -> None:
    with wave.open(str(demo.out / "conversation.wav"), "rb") as wav:
        assert wav.getnchannels() == 2
        assert wav.getsampwidth() == 2
        rate = wav.getframerate()
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").reshape(-1, 2)
    assert rate == 24000
    caller_s, caller_db = _voiced(pcm[:, 0], rate)
    agent_s, agent_db = _voiced(pcm[:, 1], rate)
    assert caller_s > 1.0
    assert caller_db > -40
    assert agent_s > 1.0
    assert agent_db > -40
    # the agent spoke for longer: greeting, three answers and part of the long one
    assert agent_s > 8.0
    assert len(pcm) / rate == pytest.approx(demo.summary["wav_seconds"], abs=0.05)


def test_the_timeline_is_a_png(demo: DemoRun) -> None:
    png = (demo.out / "timeline.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png) > 2000


def test_without_matplotlib_the_timeline_is_drawn_with_pillow(
    demo: DemoRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CI installs ``.[dev]`` only; the picture must not depend on the ``demo`` extra."""
    monkeypatch.syspath_prepend(str(DEMO.parent))  # as when run as a script
    spec = importlib.util.spec_from_file_location("offline_demo_under_test", DEMO)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now fails
    path = tmp_path / "timeline.png"
    note = module.draw_timeline(path, demo.summary)
    assert note is not None
    assert "matplotlib" in note
    png = path.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(png) > 2000


# -- timeline labels: the layout, as a pure function -----------------------------------

PAD = 0.1
"""The gap :func:`place_labels` keeps around markers and before the next span (its default)."""


def _demo_module(name: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.syspath_prepend(str(DEMO.parent))  # as when the demo runs as a script
    return importlib.import_module(f"_demo.{name}")


def _by_chars(text: str) -> float:
    """A monospaced font: 0.1 s of timeline per character."""
    return 0.1 * len(text)


def _check_label(
    label: Any, text: str, room: tuple[float, float], markers: list[float], ellipsis: str
) -> None:
    words = text.split()
    joined = " ".join(label.lines)
    shown = joined.removesuffix(ellipsis).split()
    assert shown, "a label shows at least one word"
    assert shown == words[: len(shown)], f"{label.lines} does not end at a word of {text!r}"
    assert joined.endswith(ellipsis) == (len(shown) < len(words))
    assert room[0] <= label.x
    assert label.x + label.width <= room[1] - PAD
    assert all(_by_chars(line) <= label.width for line in label.lines)
    for m in markers:
        assert not label.x - PAD < m < label.x + label.width + PAD, f"{label} runs into {m}"


def test_labels_wrap_at_words_fit_their_room_and_stop_before_markers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    labels = _demo_module("labels", monkeypatch)
    spans = [(0.0, 2.0), (5.0, 6.0), (7.05, 7.5)]
    texts = [
        "Lisbon is the capital of Portugal and one of the oldest cities",
        "What would you like to know?",
        "Sorry, one more thing",
    ]
    markers = [2.55, 12.0]
    placed = labels.place_labels(spans, texts, markers=markers, end=20.0, measure=_by_chars)
    rooms = [(0.0, 5.0), (5.0, 7.05), (7.05, 20.0)]
    for label, text, room in zip(placed, texts, rooms, strict=True):
        assert label is not None
        _check_label(label, text, room, markers, labels.ELLIPSIS)
    # the first runs out of room at the marker: two lines, shortened after a whole word
    assert placed[0].lines == ("Lisbon is the capital of", "Portugal and one of the…")
    # the second fits on two lines before the next span
    assert placed[1].lines == ("What would you like", "to know?")


def test_a_label_starts_after_a_marker_at_its_span_start(monkeypatch: pytest.MonkeyPatch) -> None:
    labels = _demo_module("labels", monkeypatch)
    text = "Sorry, one more thing: is it a good city for walking?"
    [label] = labels.place_labels(
        [(22.0, 25.0)], [text], markers=[22.05], end=40.0, measure=_by_chars
    )
    assert label is not None
    assert label.x == pytest.approx(22.15)
    _check_label(label, text, (22.0, 40.0), [22.05], labels.ELLIPSIS)
    assert " ".join(label.lines) == text  # room enough after the marker: nothing cut


def test_no_label_when_not_even_a_word_fits(monkeypatch: pytest.MonkeyPatch) -> None:
    labels = _demo_module("labels", monkeypatch)
    placed = labels.place_labels(
        [(0.0, 0.5), (0.6, 3.0)],
        ["Supercalifragilistic", "ok"],
        markers=[],
        end=3.0,
        measure=_by_chars,
    )
    assert placed[0] is None  # 2.0 s wide, and its room is 0.5 s
    assert placed[1] is not None
    assert placed[1].lines == ("ok",)
    assert labels.fit_text("a b", 0.05, _by_chars, max_lines=2) == ()


def test_the_demo_timeline_labels_avoid_its_markers(
    demo: DemoRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real call's layout: every label of both rows, against the tool and barge-in lines."""
    timeline = _demo_module("timeline", monkeypatch)
    labels = _demo_module("labels", monkeypatch)
    data = demo.summary
    markers = timeline.markers(data)
    assert len(markers) == 2  # the tool call and the barge-in
    rows = timeline.label_rows(data, _by_chars)
    caller = [(c["t_s"], c["text"]) for c in data["caller_lines"]]
    agent_texts = [t["text"] for t in data["turns"] if t["role"] == "agent"]
    agent = [(a, text) for (a, _), text in zip(data["agent_spans_s"], agent_texts, strict=False)]
    end = float(max(data["wav_seconds"], *(b for _, b in data["agent_spans_s"]))) + 0.5
    for row, spans in (("caller", caller), ("agent", agent)):
        starts = sorted(a for a, _ in spans)
        assert len(rows[row]) == len(spans)
        for label, (a, text) in zip(rows[row], spans, strict=True):
            assert label is not None, f"no label for {text!r}"
            room = (a, next((s for s in starts if s > a), end))
            _check_label(label, text, room, markers, labels.ELLIPSIS)
