"""``summary.json`` and the printed summary: the call's turns, latencies, tool calls and
the interruption, in seconds since the demo started.

The JSON is for scripts (the demo's tests read it); the printed form is the
same data for a person, after the live transcript.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from videosdk_plugins_azure.testing import LocalRoom

from .audio import RATE, loud, placed_frames
from .call import Call

__all__ = ["agent_spans", "latency_turns", "print_summary", "summary"]


def agent_spans(room: LocalRoom, t0: float, gap: float = 0.6) -> list[tuple[float, float]]:
    """One span per answer: voiced agent output, with pauses shorter than ``gap`` bridged.

    Times are those of ``conversation.wav``. A new answer (the model's
    ``agent_speech_started``) always opens a new span, so back-to-back answers
    stay apart even when the caller was quick.
    """
    starts = sorted(t - t0 for t, _, _ in room.events_named("agent_speech_started"))
    spans: list[list[float]] = []
    answer = -1
    for first, pcm in placed_frames(room, t0):
        if not loud(pcm):
            continue
        start = first / RATE
        stop = start + len(pcm) / RATE
        # (placed on the track's schedule, a frame may lead its event by a few ms)
        current = sum(1 for s in starts if s <= start + 0.04) - 1
        if spans and current == answer and start - spans[-1][1] <= gap:
            spans[-1][1] = stop
        else:
            spans.append([start, stop])
            answer = current
    return [(a, b) for a, b in spans]


def latency_turns(call: Call) -> list[dict[str, Any]]:
    """Each first-audio latency, tied to the caller line that preceded it."""
    rows = []
    for t, seconds in call.latencies:
        before = [p for p in call.plays if p.at <= t]
        rows.append(
            {
                "at_s": round(call.rel(t), 3),
                "after": before[-1].text if before else None,
                "first_audio_latency_ms": round(seconds * 1000),
            }
        )
    return rows


def summary(call: Call, room: LocalRoom, wav_seconds: float) -> dict[str, Any]:
    """``summary.json``: every time in seconds since the start, rounded to the millisecond."""
    interruption = None
    if call.interruption is not None:
        i = call.interruption
        interruption = {
            "interrupted": i["interrupted"],
            "at_s": round(call.rel(i["at"]), 3),
            "answer_started_s": round(call.rel(i["answer_started"]), 3),
            "truncate_audio_end_ms": i.get("truncate_audio_end_ms"),
            "answer_ms": i.get("answer_ms"),
            "heard_ms_speaker": i.get("heard_ms_speaker"),
            "heard_text": i.get("heard_text"),
        }
    return {
        "mode": "emulator" if call.offline else "azure",
        "speed": call.speed,
        "turns": [
            {"t_s": round(call.rel(e["t"]), 3), "role": e["role"], "text": e["text"]}
            for e in call.transcript
        ],
        "caller_lines": [
            {"t_s": round(call.rel(p.at), 3), "text": p.text, "seconds": round(p.seconds, 3)}
            for p in call.plays
        ],
        "latencies": latency_turns(call),
        "tool_calls": [
            {
                "t_s": round(call.rel(tool["t"]), 3),
                "name": tool["name"],
                "arguments": tool["arguments"],
                "output": tool["output"],
                "is_error": tool["is_error"],
            }
            for tool in call.tools
        ],
        "interruption": interruption,
        "agent_spans_s": [[round(a, 3), round(b, 3)] for a, b in agent_spans(room, call.t0)],
        "errors": call.errors,
        "wav_seconds": round(wav_seconds, 3),
    }


def print_summary(data: dict[str, Any], outputs: list[Path], notes: list[str]) -> None:
    """The summary for a person: turns, latencies, tools, the interruption, what was written."""
    bar = "─" * 72
    print(f"\n{bar}\nSummary ({data['mode']}, speed {data['speed']:g})")
    print("Turns (seconds since the start, when each line ended):")
    for turn in data["turns"]:
        text = turn["text"] if len(turn["text"]) <= 80 else turn["text"][:77] + "…"
        print(f"  {turn['t_s']:6.2f}s {turn['role']:>6}: {text}")
    print("First-audio latency (caller stops → first agent audio arrives):")
    for row in data["latencies"]:
        print(f"  {row['first_audio_latency_ms']:5d} ms  after {row['after']!r}")
    print("Tool calls:")
    for tool in data["tool_calls"]:
        print(f"  {tool['name']}({tool['arguments']}) -> {tool['output']}")
    i = data["interruption"]
    if i is None:
        print("Interruption: none")
    elif not i["interrupted"]:
        print("Interruption: none (the answer ended before the caller spoke again)")
    else:
        speaker = f"{i['heard_ms_speaker'] / 1000:.2f} s from first to last voiced frame"
        if i["truncate_audio_end_ms"]:
            heard = i["truncate_audio_end_ms"]
            answer = f"a {i['answer_ms'] / 1000:.1f} s answer" if i["answer_ms"] else "the answer"
            print(
                f"Interruption: at {i['at_s']:.2f}s, {heard / 1000:.2f} s into {answer}; "
                f"the plugin truncated it on the server at audio_end_ms={heard} "
                f"(speaker track: {speaker})"
            )
        else:
            print(f"Interruption: at {i['at_s']:.2f}s; the caller heard {speaker}")
        if i["heard_text"]:
            print(f"  heard: {i['heard_text']!r}")
    for note in notes:
        print(f"Note: {note}")
    print("Wrote: " + ", ".join(str(p) for p in outputs))
    print(bar)
