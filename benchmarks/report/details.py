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
        "`input_audio_buffer.append` frame handed to the WebSocket (aiohttp's write, stubbed "
        "alike for every client), JSON and base64 included, through whatever sends it in "
        "production (a sender task gets up to "
        f"{cost.get('max_yields', '?')} loop turns per sample); each sample is two consecutive "
        "frames. Pieces timed alone:",
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


def _spread(step: dict[str, Any], key: str, digits: int = 2) -> str:
    s = step.get(key) or {}
    if not s.get("n"):
        return "–"
    return f"{num(s['median'], digits)} ({num(s['min'], digits)}–{num(s['max'], digits)})"


def _load_step(kind: str, s: dict[str, Any]) -> str:
    """One step of figure 6 or 8: every number as median (min–max) of its repeats."""
    if "error" in s:
        return f"| {kind} | {s['sessions']} | could not run: {s['error']} |"
    verdict = "yes" if s["passed"] else "no"
    if not s.get("quiet", True):
        verdict += " (NOISY: no quiet window)"
    if s.get("emulator_saturated"):
        verdict += " (emulator saturated)"
    return (
        f"| {kind} | {s['sessions']} | {_spread(s, 'lag_p99_ms')} | {_spread(s, 'cpu_share')} | "
        f"{_spread(s, 'cpu_ms_per_call_s')} | {_spread(s, 'emulator_cpu_share')} | "
        f"{_spread(s, 'foreign_cpu_share')} | {len(s.get('discarded', []))} | "
        f"{_spread(s, 'agent_voiced_s_per_call_min', 1)} | {verdict} |"
    )


_STEP_HEADER = [
    "| client | calls | loop lag p99 (ms) | process CPU | CPU ms per call-s | emulator CPU | "
    "foreign load | re-measured | agent voiced s per call-min | passed |",
    "|---|---|---|---|---|---|---|---|---|---|",
]
_STEP_NOTE = (
    "Each cell is the median (min–max) of the step's repeats. CPU shares are of one core. "
    "'foreign load' is the CPU of every other process on the machine during the window "
    "(the benchmark's own processes and kernel threads excluded); a window with more than "
    "{limit} of a core was measured again ('re-measured'), and a step that never got a "
    "quiet window is marked NOISY."
)


def _density(dens: dict[str, Any]) -> list[str]:
    plan: dict[str, Any] = next((d["schedule"] for d in dens.values() if d.get("schedule")), {})
    out = [
        "### 6. Density steps",
        "",
        f"Every client: counts from {plan.get('start')} doubling to the first failure, then "
        f"bisected to ±1 call (ceiling {plan.get('ceiling')}); each step settles "
        f"{plan.get('settle_s')} s, then {plan.get('repeats')} windows of "
        f"{plan.get('window_s')} s; {plan.get('delta_ms')} ms audio deltas.",
        "",
        *_STEP_HEADER,
    ]
    for kind, d in dens.items():
        if "error" in d:
            out.append(f"| {kind} | error: {d['error']} | | | | | | | | |")
        out += [_load_step(kind, s) for s in d.get("steps", [])]
    order = {k: d.get("order") for k, d in dens.items() if d.get("order")}
    limit = plan.get("foreign_limit_cores")
    return [*out, "", f"Order measured: {order}.", "", _STEP_NOTE.format(limit=limit), ""]


def _cpu(cpu: dict[str, Any]) -> list[str]:
    first: dict[str, Any] = next(iter(cpu.values()), {})
    out = [
        "### 8. CPU per call-second, per delta size",
        "",
        f"{first.get('calls')} concurrent real-time calls per client, a fresh emulator per "
        "delta size; the same windows as figure 6.",
        "",
        *_STEP_HEADER,
    ]
    for kind, d in cpu.items():
        if "error" in d:
            out.append(f"| {kind} | error: {d['error']} | | | | | | | | |")
        for delta, s in (d.get("by_delta") or {}).items():
            out.append(_load_step(f"{kind}, {delta} ms deltas", s))
    limit = (first.get("plan") or {}).get("foreign_limit_cores")
    return [*out, "", _STEP_NOTE.format(limit=limit), ""]


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


def _scaleout(out: dict[str, Any]) -> list[str]:
    from ..scaleout import WHAT_RUNS_WHERE

    lines = [
        "### 9. Scale-out on the framework's Worker",
        "",
        *(f"- {fact}" for fact in WHAT_RUNS_WHERE),
        "",
        "| plugin | processes | pool ready (s) | jobs done | accept p50 first / warm (ms) | "
        "connect p50 (ms) | CPU ms per call-s p50 | calls per core | RSS MB p50 | job beyond "
        "the pool |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for kind, r in out.items():
        if "error" in r:
            lines.append(f"| {kind} | error: {r['error']} | | | | | | | | |")
            continue
        beyond = (r.get("job_beyond_the_pool") or {}).get("status")
        lines.append(
            f"| {kind} | {r['processes']} | {r['pool_ready_s']} | {r['jobs_completed']} | "
            f"{num(get(r, 'accept_ms_first_wave', 'p50'))} / "
            f"{num(get(r, 'accept_ms_warm_wave', 'p50'))} | {num(get(r, 'connect_ms', 'p50'))} | "
            f"{num(get(r, 'cpu_ms_per_call_s', 'p50'), 2)} | {num(r.get('calls_per_core'))} | "
            f"{num(get(r, 'rss_mb_per_process', 'p50'))} | {beyond} |"
        )
    return [*lines, ""]


_SECTIONS: tuple[tuple[str, Callable[[dict[str, Any]], list[str]]], ...] = (
    ("input_cost", _input_cost),
    ("quality", _quality),
    ("barge_in", _barge_in),
    ("density", _density),
    ("memory", _memory),
    ("cpu", _cpu),
    ("scaleout", _scaleout),
)


def details(figures: dict[str, Any]) -> list[str]:
    """The section's lines, for every figure the run produced that has details."""
    out = ["## Details", ""]
    for name, section in _SECTIONS:
        if get(figures, name):
            out += section(figures[name])
    return out
