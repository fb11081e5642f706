"""The "Details" section of ``latest.md``: the per-figure tables behind the summary.

The summary table gives one number per row; these show where it came from
(stages of the input path, rejection per tone, every barge-in, every density
step, every soak), so a reader can tell a real regression from one bad sample.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._format import get, num

__all__ = ["details"]


def _input_cost(cost: dict[str, Any]) -> list[str]:
    b = cost["batching"]
    out = [
        "### 1. Input path cost",
        "",
        "µs per 20 ms frame of 48 kHz stereo (3840 B), from `handle_audio_input` to the "
        "bytes handed to the SDK's `connection.send` (stubbed), base64 included; each "
        "sample is two consecutive frames. Pieces timed alone:",
        "",
        "| stage | p50 | p99 |",
        "|---|---|---|",
    ]
    for name, d in cost.get("stages", {}).items():
        out.append(f"| {name} | {num(d.get('p50'), 2)} | {num(d.get('p99'), 2)} |")
    out += [
        "",
        f"Ours sends one append per {b['batch_ms']} ms ({b['append_bytes']} B): a sample "
        f"waits {b['per_sample_mean_ms']} ms on average and {b['per_sample_worst_ms']} ms at "
        f"worst for its batch; counted over the framework's 20 ms frames, which already "
        f"wait for their own 20 ms, batching adds {b['over_20ms_frames_mean_ms']} ms on "
        f"average and {b['over_20ms_frames_worst_ms']} ms at worst.",
        "",
    ]
    return out + [f"> {n}" for n in cost.get("notes", [])]


def _quality(quality: dict[str, Any]) -> list[str]:
    q = quality.get("converters")
    if not q:
        return []
    out = [
        "### 2. Input audio quality",
        "",
        "Rejection per tone (input level over output level; `∞` = digital silence; about "
        "100 dB is the floor set by the 16-bit test tone's own quantization noise):",
        "",
        "| tone (Hz) | " + " | ".join(q) + " |",
        "|---|" + "---|" * len(q),
    ]
    tones = list(next(iter(q.values()))["rejection_db"])
    for tone in tones:
        cells = [num(q[name]["rejection_db"].get(tone)) for name in q]
        out.append(f"| {tone} | " + " | ".join(cells) + " |")
    out += [""]
    return out + [f"> {n}" for n in quality.get("notes") or []]


def _barge_in_cell(r: dict[str, Any]) -> str:
    """``queued · flush · heard · cut`` of one barge-in, each saying why when it is missing."""
    flush = num(r.get("flush_ms"), 2) if r.get("flushed") else "not flushed"
    heard = num(r.get("heard_ms"), 0)
    if r.get("heard_ms") is None:
        heard = "not played before the run ended"
    elif r.get("still_playing_at_end"):
        heard = f"≥ {heard} (still playing)"
    cut = num(r.get("audio_end_ms"), 0) if r.get("truncate_sent") else "none"
    return f"{num(r.get('queued_before_ms'), 0)} · {flush} · {heard} · {cut}"


def _barge_in(barge: dict[str, Any]) -> list[str]:
    out = [
        "### 5. Barge-in, one row per interruption",
        "",
        "`flush` = ms from the server's `speech_started` to the speaker's buffer holding "
        "no more than the 400 ms fade-out; `heard`/`cut` = what the caller heard of the "
        "answer vs the `audio_end_ms` the plugin sent.",
        "",
        "| # | "
        + " | ".join(f"{k}: queued ms · flush ms · heard ms · cut ms" for k in barge)
        + " |",
        "|---|" + "---|" * len(barge),
    ]
    count = max((len(v.get("rows", [])) for v in barge.values()), default=0)
    for i in range(count):
        cells = []
        for kind in barge:
            rows = barge[kind].get("rows", [])
            cells.append(_barge_in_cell(rows[i] if i < len(rows) else {}))
        out.append(f"| {i + 1} | " + " | ".join(cells) + " |")
    out.append("")
    errors = {k: v.get("pipeline_errors") for k, v in barge.items()}
    return [*out, f"Pipeline `error` events during the barge-in session: {errors}.", ""]


def _density_step(kind: str, s: dict[str, Any], verdict: str) -> str:
    lag = s["loop_lag_ms"]
    return (
        f"| {kind} | {s['sessions']} | {num(lag.get('p50'), 2)} / "
        f"{num(lag.get('p99'), 2)} / {num(lag.get('max'), 2)} | "
        f"{s['cpu_share']:.2f} | {s['cpu_s_per_session_min']:.3f} | "
        f"{s['emulator_cpu_share']:.2f} | {s.get('other_cpu_share', 0):.2f} | "
        f"{s['agent_voiced_s_per_session_min']} | {verdict} |"
    )


def _density(dens: dict[str, Any]) -> list[str]:
    out = [
        "### 6. Density steps",
        "",
        "| plugin | calls | loop lag p50 / p99 / max (ms) | process CPU | CPU s per call-min | "
        "emulator CPU | other load | agent voiced s per call-min | passed |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for kind, d in dens.items():
        for s in d.get("steps", []):
            if "error" in s:
                out.append(f"| {kind} | {s['sessions']} | could not connect: {s['error']} |")
            else:
                out.append(_density_step(kind, s, "yes" if s["passed"] else "no"))
        for s in d.get("discarded_steps", []):
            out.append(_density_step(kind, s, "discarded: busy neighbour, measured again"))
        if "error" in d:
            out.append(f"| {kind} | error: {d['error']} | | | | | | | |")
    return [
        *out,
        "",
        "CPU shares are of one core. 'other load' is CPU used by anything else on the "
        "machine during the window (a busy neighbour inflates loop lag).",
        "",
    ]


def _memory(mem: dict[str, Any]) -> list[str]:
    out = [
        "### 7. Memory",
        "",
        "| plugin | RSS after warm-up (MB) | end (MB) | growth (MB) | slope (MB/h) | "
        "agent voiced (min) | plugin errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind, m in mem.items():
        if "growth_mb" not in m:
            out.append(f"| {kind} | error: {m.get('error')} | | | | | |")
            continue
        out.append(
            f"| {kind} | {m['rss_after_warmup_mb']} | {m['rss_end_mb']} | {m['growth_mb']} "
            f"| {m['slope_mb_per_hour']} | {m['agent_voiced_minutes']} | {m['plugin_errors']} |"
        )
    out.append("")
    return out


_SECTIONS: tuple[tuple[str, Callable[[dict[str, Any]], list[str]]], ...] = (
    ("input_cost", _input_cost),
    ("quality", _quality),
    ("barge_in", _barge_in),
    ("density", _density),
    ("memory", _memory),
)


def details(figures: dict[str, Any]) -> list[str]:
    """The section's lines, for every figure the run produced that has details."""
    out = ["## Details", ""]
    for name, section in _SECTIONS:
        if get(figures, name):
            out += section(figures[name])
    return out
