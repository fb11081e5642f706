"""Turning one run's results into targets, a table, ``latest.md`` and plots."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from .common import LABELS, OURS, VENDOR

Row = tuple[str, str, str, str, str, str, str]
"""figure, metric, ours, vendor, per-chunk FFT baseline, target, met."""

VENDOR_QUIRKS = [
    "It takes no default model: `model=` is required.",
    "It never emits `agent_speech_started`/`user_speech_ended` and never calls "
    "`audio_track.mark_synthesis_complete()`, so the framework's `agent_speech_ended` never "
    "fires: the harness waits for the emulator's `response.done` and a silent speaker instead.",
    "On every `speech_started` it sends `response.cancel`, also when no response is live; the "
    "service answers `response_cancel_not_active`, which it surfaces as an `error` each turn "
    "(counted as pipeline/plugin errors below; its log lines go to `run.log`).",
    "It hands each audio delta to the track in a new task "
    "(`asyncio.create_task(add_new_bytes)`) and drops output unless `model.loop` is set; the "
    "pipeline sets it, and so does the direct harness of figures 6-7.",
    "It never calls `enable_audio_input()`, so after its first faded flush the framework's "
    "track ignores every later `interrupt()`; and it never sends "
    "`conversation.item.truncate`. Figure 5 shows both.",
    "Closing it while its event task still reads makes the SDK log "
    "`Unexpected WebSocket message type: 256` (harmless; routed to `run.log`).",
]


# -- formatting ------------------------------------------------------------------------------


def _num(x: Any, digits: int = 1) -> str:
    if x is None:
        return "–"
    if isinstance(x, str):
        return "∞" if x == "inf" else x
    if isinstance(x, float) and not math.isfinite(x):
        return "∞"
    return f"{x:.{digits}f}"


def _pair(d: dict[str, Any] | None, a: str, b: str, digits: int = 1) -> str:
    if not d or not d.get("n"):
        return "–"
    return f"{_num(d.get(a), digits)} / {_num(d.get(b), digits)}"


def _get(results: dict[str, Any], *path: str) -> Any:
    node: Any = results
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _mark(met: bool | None) -> str:
    return "n/a" if met is None else ("met" if met else "MISSED")


# -- targets ---------------------------------------------------------------------------------


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target the brief sets for ours, with the measured value and met/missed."""
    f = results.get("figures", {})
    out: list[dict[str, Any]] = []

    def add(figure: str, target: str, value: Any, met: bool | None, vendor: Any = None) -> None:
        out.append(
            {"figure": figure, "target": target, "value": value, "met": met, "vendor": vendor}
        )

    cost = f.get("input_cost")
    if cost:
        ratio = cost.get("ratio_p50")
        add(
            "input_cost",
            "ours p50 ≤ 1/3 of the vendor's (µs per 20 ms frame)",
            ratio,
            None if ratio is None else ratio <= 1 / 3,
        )
        batching = cost.get("batching", {})
        add(
            "input_cost",
            "batching adds ≤ 20 ms on average, ≤ 40 ms worst case",
            f"{batching.get('per_sample_mean_ms')} / {batching.get('per_sample_worst_ms')} ms",
            batching.get("per_sample_mean_ms", 99) <= 20
            and batching.get("per_sample_worst_ms", 99) <= 40,
        )
    q = _get(results, "figures", "quality", "converters")
    if q:
        worst = q[OURS]["rejection_worst_db"]
        value = math.inf if worst == "inf" else worst
        vendor = _get(q, VENDOR, "rejection_worst_db")
        add("quality", "rejection of tones ≥ 12.5 kHz ≥ 60 dB", worst, value >= 60, vendor)
    lat = _get(results, "figures", "output_latency", OURS, "latency_ms")
    if lat:
        add(
            "output_latency",
            "output latency p99 < 2 ms",
            lat.get("p99"),
            lat.get("p99") is not None and lat["p99"] < 2,
            _get(results, "figures", "output_latency", VENDOR, "latency_ms", "p99"),
        )
    barge = _get(results, "figures", "barge_in", OURS)
    if barge and "barge_ins" in barge:
        n = barge["barge_ins"]
        vendor = _get(results, "figures", "barge_in", VENDOR) or {}
        add(
            "barge_in",
            f"{n}/{n} barge-ins flushed",
            f"{barge['flushed']}/{n}",
            barge["flushed"] == n,
            f"{vendor.get('flushed')}/{n}" if vendor else None,
        )
        add(
            "barge_in",
            f"{n}/{n} truncated at the heard position (±40 ms)",
            f"{barge['truncated_at_heard']}/{n}",
            barge["truncated_at_heard"] == n,
            f"{vendor.get('truncated_at_heard')}/{n}" if vendor else None,
        )
        p99 = _get(barge, "flush_ms", "p99")
        add(
            "barge_in",
            "flush p99 < 10 ms",
            p99,
            p99 is not None and p99 < 10,
            _get(vendor, "flush_ms", "p99"),
        )
    mem = _get(results, "figures", "memory", OURS)
    if mem and "growth_mb" in mem:
        add(
            "memory",
            f"RSS growth < 10 MB over {mem['sim_minutes']:g} simulated minutes",
            mem["growth_mb"],
            mem["growth_mb"] < 10,
            _get(results, "figures", "memory", VENDOR, "growth_mb"),
        )
    return out


def _met(results: dict[str, Any], figure: str, prefix: str) -> str:
    for t in results.get("targets", []):
        if t["figure"] == figure and t["target"].startswith(prefix):
            return _mark(t["met"])
    return ""


# -- the summary table ------------------------------------------------------------------------


def rows(results: dict[str, Any]) -> list[Row]:
    f = results.get("figures", {})
    out: list[Row] = []

    cost = f.get("input_cost")
    if cost:
        r = cost["rows"]
        ratio = cost.get("ratio_p50")
        out.append(
            (
                "1",
                "input path, µs per 20 ms frame, p50 / p99",
                _pair(r.get(OURS), "p50", "p99"),
                _pair(r.get(VENDOR), "p50", "p99"),
                _pair(r.get("fft_baseline"), "p50", "p99"),
                "ours ≤ 1/3 vendor (p50)",
                f"{_met(results, 'input_cost', 'ours p50')}"
                + (f" ({ratio:.2f}×)" if ratio is not None else ""),
            )
        )
        out.append(
            (
                "1",
                "… ours, sent by the real sender task (+1 loop turn per batch)",
                _pair(r.get("ours_sender_task"), "p50", "p99"),
                "",
                "",
                "",
                "",
            )
        )
        b = cost.get("batching", {})
        out.append(
            (
                "1",
                "latency added by batching, per sample: mean / worst (ms)",
                f"{_num(b.get('per_sample_mean_ms'))} / {_num(b.get('per_sample_worst_ms'))}",
                "0 / 0 (sends every frame)" if VENDOR in r else "–",
                "",
                "≤ 20 / ≤ 40",
                _met(results, "input_cost", "batching"),
            )
        )
    q = _get(results, "figures", "quality", "converters")
    if q:

        def qv(name: str, key: str, digits: int = 1) -> str:
            value = _get(q, name, key)
            return "–" if value is None else f"{_num(value, digits)} dB"

        for key, label in (
            ("snr_streamed_vs_oneshot_speech_db", "SNR streamed vs one-shot, speech-like"),
            ("snr_streamed_vs_oneshot_sine_997hz_db", "SNR streamed vs one-shot, 997 Hz sine"),
        ):
            out.append(
                ("2", label, qv(OURS, key), qv(VENDOR, key), qv("fft_baseline", key), "", "")
            )
        out.append(
            (
                "2",
                "rejection of tones ≥ 12.5 kHz (worst tone)",
                qv(OURS, "rejection_worst_db"),
                qv(VENDOR, "rejection_worst_db"),
                qv("fft_baseline", "rejection_worst_db"),
                "≥ 60 dB",
                _met(results, "quality", "rejection"),
            )
        )
        out.append(
            (
                "2",
                "passband flatness 100 Hz–10 kHz (max − min gain)",
                qv(OURS, "passband_flatness_db", 3),
                qv(VENDOR, "passband_flatness_db", 3),
                qv("fft_baseline", "passband_flatness_db", 3),
                "",
                "",
            )
        )
    lat = f.get("output_latency")
    if lat:
        out.append(
            (
                "3",
                "output latency, delta written → frame in track, p50 / p99 (ms)",
                _pair(_get(lat, OURS, "latency_ms"), "p50", "p99", 3),
                _pair(_get(lat, VENDOR, "latency_ms"), "p50", "p99", 3),
                "",
                "p99 < 2 ms",
                _met(results, "output_latency", "output latency"),
            )
        )
    tfa = f.get("first_audio")
    if tfa:
        out.append(
            (
                "4",
                "time to first audio, speech_stopped → first voiced frame, p50 / p90 (ms)",
                _pair(_get(tfa, OURS, "ttfa_ms"), "p50", "p90"),
                _pair(_get(tfa, VENDOR, "ttfa_ms"), "p50", "p90"),
                "",
                "",
                "",
            )
        )
        out.append(
            (
                "4",
                "… speech_stopped → first audio in the track's buffer, p50 / p90 (ms)",
                _pair(_get(tfa, OURS, "to_buffer_ms"), "p50", "p90", 2),
                _pair(_get(tfa, VENDOR, "to_buffer_ms"), "p50", "p90", 2),
                "",
                "",
                "",
            )
        )
    barge = f.get("barge_in")
    if barge:

        def frac(kind: str, key: str) -> str:
            b = barge.get(kind) or {}
            return f"{b[key]}/{b['barge_ins']}" if key in b else "–"

        out.append(
            (
                "5",
                "barge-ins whose buffered answer was flushed",
                frac(OURS, "flushed"),
                frac(VENDOR, "flushed"),
                "",
                "all",
                _met(results, "barge_in", f"{_get(barge, OURS, 'barge_ins')}/"),
            )
        )
        out.append(
            (
                "5",
                "… truncated on the server at the heard position (±40 ms)",
                frac(OURS, "truncated_at_heard"),
                frac(VENDOR, "truncated_at_heard"),
                "",
                "all",
                _met(
                    results,
                    "barge_in",
                    f"{_get(barge, OURS, 'barge_ins')}/{_get(barge, OURS, 'barge_ins')} truncated",
                ),
            )
        )
        out.append(
            (
                "5",
                "… flush time, speech_started → flushed, p50 / p99 (ms)",
                _pair(_get(barge, OURS, "flush_ms"), "p50", "p99", 2),
                _pair(_get(barge, VENDOR, "flush_ms"), "p50", "p99", 2),
                "",
                "p99 < 10 ms",
                _met(results, "barge_in", "flush p99"),
            )
        )
        out.append(
            (
                "5",
                "… speaker silent 0.5–1.0 s after the barge-in",
                frac(OURS, "silent_after"),
                frac(VENDOR, "silent_after"),
                "",
                "",
                "",
            )
        )
    dens = f.get("density")
    if dens:
        out.append(
            (
                "6",
                "concurrent real-time calls at loop-lag p99 < 20 ms",
                _sustained(dens.get(OURS)),
                _sustained(dens.get(VENDOR)),
                "",
                "",
                "",
            )
        )
        common_n, ours_cpu, vendor_cpu = _common_cpu(dens)
        out.append(
            (
                "6",
                f"CPU s per call-minute (at {common_n} calls)"
                if common_n
                else "CPU s per call-minute",
                _num(ours_cpu, 3),
                _num(vendor_cpu, 3),
                "",
                "",
                "",
            )
        )
    mem = f.get("memory")
    if mem:
        sim = _num(_get(mem, OURS, "sim_minutes"), 0)
        speed = _num(_get(mem, OURS, "speed"), 0)
        out.append(
            (
                "7",
                f"RSS growth over {sim} simulated min (×{speed}), MB",
                _num(_get(mem, OURS, "growth_mb"), 2),
                _num(_get(mem, VENDOR, "growth_mb"), 2),
                "",
                "< 10 MB",
                _met(results, "memory", "RSS growth"),
            )
        )
        out.append(
            (
                "7",
                "… least-squares slope, MB per simulated hour",
                _num(_get(mem, OURS, "slope_mb_per_hour"), 2),
                _num(_get(mem, VENDOR, "slope_mb_per_hour"), 2),
                "",
                "",
                "",
            )
        )
    return out


def _sustained(d: dict[str, Any] | None) -> str:
    if not d or "sustained_sessions" not in d:
        return "–"
    n = d["sustained_sessions"]
    if not d.get("limit_reached"):
        return f"≥ {n} (limit not reached)"
    failed = [s["sessions"] for s in d.get("steps", []) if not s["passed"] and s["sessions"] > n]
    return f"{n} ({min(failed)} failed)" if failed else f"{n}"


def _common_cpu(dens: dict[str, Any]) -> tuple[int | None, float | None, float | None]:
    """CPU per call-minute of both plugins at the largest call count both sustained."""

    def passing(kind: str) -> dict[int, float]:
        steps = _get(dens, kind, "steps") or []
        return {s["sessions"]: s["cpu_s_per_session_min"] for s in steps if s.get("passed")}

    ours, vendor = passing(OURS), passing(VENDOR)
    both = sorted(set(ours) & set(vendor))
    if both:
        n = both[-1]
        return n, ours[n], vendor[n]
    if ours:
        n = max(ours)
        return n, ours[n], None
    return None, None, None


def table(results: dict[str, Any]) -> str:
    header: Row = ("fig", "metric", "ours", "vendor", "per-chunk FFT", "target", "ours vs target")
    body = rows(results)
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def line(r: Row) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), sep, *(line(r) for r in body)])


def markdown_table(results: dict[str, Any]) -> str:
    header = "| fig | metric | ours | vendor | per-chunk FFT | target | ours vs target |"
    sep = "|---|---|---|---|---|---|---|"
    lines = [header, sep]
    for r in rows(results):
        cells = [c.replace("|", "\\|") for c in r]
        if cells[6] == "MISSED":
            cells[6] = "**MISSED**"
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# -- latest.md ------------------------------------------------------------------------------


def public(results: dict[str, Any]) -> dict[str, Any]:
    """The results without raw samples (they are summarised as distributions)."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if not str(k).startswith("_samples")}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return dict(strip(results))


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    f = results.get("figures", {})
    lines = [
        "# Benchmarks: this plugin vs the vendor's `AzureVoiceLive`",
        "",
        f"Run: {meta['date']} · mode **{meta['mode']}** · {meta['machine']['cpus']} CPUs · "
        f"Python {meta['machine']['python']} · load average at start "
        f"{meta.get('load_average_at_start')} · {meta['seconds'].get('total')} s in all.",
        "",
        f"Plugins: {', '.join(LABELS.get(k, k) for k in meta['plugins'])}, on the same "
        "`azure-ai-voicelive` SDK and `videosdk-agents` framework, against the local Voice Live "
        "emulator, in the same run. Only ratios and distributions from this one run are "
        "meaningful: absolute times drift between runs and machines. The vendor column of "
        "figure 2 is the framework's `ProviderAudioInput`, which the vendor plugin calls.",
        "",
    ]
    for key, note in meta.get("notes", {}).items():
        lines.append(f"> **Note ({key}).** {note}")
        lines.append("")
    lines += [markdown_table(results), ""]
    missed = [t for t in results.get("targets", []) if t["met"] is False]
    if missed:
        lines.append("**Targets missed:**")
        lines.append("")
        for t in missed:
            lines.append(f"- {t['figure']}: {t['target']} — measured {t['value']}")
        lines.append("")
    else:
        lines += ["All targets set for this plugin were met in this run.", ""]
    lines += _details(f, meta)
    lines += ["## Driving the vendor plugin", ""]
    lines += [f"- {q}" for q in VENDOR_QUIRKS]
    lines.append("")
    profiles = results.get("profiles") or {}
    if profiles:
        lines += ["## Profiles of missed targets", ""]
        for figure, text in profiles.items():
            lines += [f"### {figure}", "", "```", *text.splitlines()[:60], "```", ""]
    plots = meta.get("plots") or []
    if plots:
        lines += ["## Plots", ""]
        lines += [f"![{Path(p).stem}]({Path(p).name})" for p in plots]
        lines.append("")
    lines += [
        "Reproduce: `pip install -e '.[bench]'` then `python -m benchmarks` "
        "(or `tox -e bench`); `--quick` for a smoke run.",
        "",
    ]
    return "\n".join(lines)


def _details(f: dict[str, Any], meta: dict[str, Any]) -> list[str]:
    out: list[str] = ["## Details", ""]
    cost = f.get("input_cost")
    if cost:
        b = cost["batching"]
        out += [
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
            out.append(f"| {name} | {_num(d.get('p50'), 2)} | {_num(d.get('p99'), 2)} |")
        out += [
            "",
            f"Ours sends one append per {b['batch_ms']} ms ({b['append_bytes']} B): a sample "
            f"waits {b['per_sample_mean_ms']} ms on average and {b['per_sample_worst_ms']} ms at "
            f"worst for its batch; counted over the framework's 20 ms frames, which already "
            f"wait for their own 20 ms, batching adds {b['over_20ms_frames_mean_ms']} ms on "
            f"average and {b['over_20ms_frames_worst_ms']} ms at worst.",
            "",
        ]
        out += [f"> {n}" for n in cost.get("notes", [])]
    q = _get(f, "quality", "converters")
    if q:
        out += [
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
            cells = [_num(q[name]["rejection_db"].get(tone)) for name in q]
            out.append(f"| {tone} | " + " | ".join(cells) + " |")
        out += [""]
        out += [f"> {n}" for n in _get(f, "quality", "notes") or []]
    barge = f.get("barge_in")
    if barge:
        out += [
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
                rows_ = barge[kind].get("rows", [])
                r = rows_[i] if i < len(rows_) else {}
                flush = _num(r.get("flush_ms"), 2) if r.get("flushed") else "not flushed"
                heard = _num(r.get("heard_ms"), 0)
                if r.get("heard_ms") is None:
                    heard = "not played before the run ended"
                elif r.get("still_playing_at_end"):
                    heard = f"≥ {heard} (still playing)"
                cut = _num(r.get("audio_end_ms"), 0) if r.get("truncate_sent") else "none"
                cells.append(f"{_num(r.get('queued_before_ms'), 0)} · {flush} · {heard} · {cut}")
            out.append(f"| {i + 1} | " + " | ".join(cells) + " |")
        out.append("")
        errors = {k: v.get("pipeline_errors") for k, v in barge.items()}
        out += [f"Pipeline `error` events during the barge-in session: {errors}.", ""]
    dens = f.get("density")
    if dens:
        out += [
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
                    continue
                lag = s["loop_lag_ms"]
                out.append(
                    f"| {kind} | {s['sessions']} | {_num(lag.get('p50'), 2)} / "
                    f"{_num(lag.get('p99'), 2)} / {_num(lag.get('max'), 2)} | "
                    f"{s['cpu_share']:.2f} | {s['cpu_s_per_session_min']:.3f} | "
                    f"{s['emulator_cpu_share']:.2f} | {s.get('other_cpu_share', 0):.2f} | "
                    f"{s['agent_voiced_s_per_session_min']} | {'yes' if s['passed'] else 'no'} |"
                )
            for s in d.get("discarded_steps", []):
                lag = s["loop_lag_ms"]
                out.append(
                    f"| {kind} | {s['sessions']} | {_num(lag.get('p50'), 2)} / "
                    f"{_num(lag.get('p99'), 2)} / {_num(lag.get('max'), 2)} | "
                    f"{s['cpu_share']:.2f} | {s['cpu_s_per_session_min']:.3f} | "
                    f"{s['emulator_cpu_share']:.2f} | {s.get('other_cpu_share', 0):.2f} | "
                    f"{s['agent_voiced_s_per_session_min']} | discarded: busy neighbour, "
                    "measured again |"
                )
            if "error" in d:
                out.append(f"| {kind} | error: {d['error']} | | | | | | | |")
        out += [
            "",
            "CPU shares are of one core. 'other load' is CPU used by anything else on the "
            "machine during the window (a busy neighbour inflates loop lag).",
            "",
        ]
    mem = f.get("memory")
    if mem:
        out += [
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


# -- plots -----------------------------------------------------------------------------------


def plots(results: dict[str, Any], out: Path) -> tuple[list[str], str | None]:
    """PNG plots of the distributions; returns the files and a note when skipped."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return [], "matplotlib is not installed: no plots (`pip install -e '.[bench]'`)"
    f = results.get("figures", {})
    written: list[str] = []
    colors = {OURS: "#1f77b4", VENDOR: "#d62728", "fft_baseline": "#7f7f7f"}

    def save(fig: Any, name: str) -> None:
        path = out / name
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(str(path))

    cost = f.get("input_cost")
    if cost:
        names = [n for n in (OURS, "ours_sender_task", VENDOR, "fft_baseline") if n in cost["rows"]]
        data = [cost.get("_samples_" + n, []) for n in names]
        if all(data):
            fig, ax = plt.subplots(figsize=(8, 3.2))
            ax.boxplot(data, vert=False, whis=(1, 99), showfliers=False)
            ax.set_yticks(range(1, len(names) + 1), names)
            ax.set_xscale("log")
            ax.set_xlabel("µs per 20 ms frame (box: p25-p75, whiskers: p1-p99)")
            ax.set_title("Figure 1: input path cost")
            save(fig, "fig1_input_cost.png")
    q = _get(f, "quality", "converters")
    if q:
        fig, ax = plt.subplots(figsize=(8, 3.6))
        for name, entry in q.items():
            pts = [(fz, -140.0 if g in ("-inf", "inf") else g) for fz, g in entry["response"]]
            ax.plot(
                [p[0] for p in pts],
                [p[1] for p in pts],
                marker=".",
                label=name,
                color=colors.get(name),
            )
        ax.axvline(12000, color="k", lw=0.6, ls=":")
        ax.axhline(-60, color="k", lw=0.6, ls="--")
        ax.set_xscale("log")
        ax.set_ylim(-145, 5)
        ax.set_xlabel("input tone (Hz), 48 kHz stereo in, 24 kHz mono out")
        ax.set_ylabel("gain (dB); -140 = digital silence")
        ax.set_title("Figure 2: frequency response, streamed in 20 ms chunks")
        ax.legend()
        save(fig, "fig2_quality.png")

    def ecdf(figure: str, title: str, xlabel: str, name: str, log: bool) -> None:
        data = {k: v.get("_samples") for k, v in (f.get(figure) or {}).items()}
        data = {k: sorted(v) for k, v in data.items() if v}
        if not data:
            return
        fig, ax = plt.subplots(figsize=(7, 3.4))
        for kind, values in data.items():
            ys = [(i + 1) / len(values) for i in range(len(values))]
            ax.step(values, ys, where="post", label=kind, color=colors.get(kind))
        if log:
            ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("fraction ≤ x")
        ax.set_title(title)
        ax.legend()
        save(fig, name)

    ecdf(
        "output_latency",
        "Figure 3: audio delta written → frame in the track",
        "ms",
        "fig3_output_latency.png",
        True,
    )
    ecdf(
        "first_audio",
        "Figure 4: speech_stopped → first voiced frame out",
        "ms",
        "fig4_first_audio.png",
        False,
    )
    barge = f.get("barge_in")
    if barge:
        fig, ax = plt.subplots(figsize=(8, 3.4))
        top = 1.0
        for d in barge.values():
            for r in d.get("rows", []):
                if r.get("flushed") and r.get("flush_ms") is not None:
                    top = max(top, r["flush_ms"])
        for kind, d in barge.items():
            rws = d.get("rows", [])
            ok = [(r["index"], r["flush_ms"]) for r in rws if r.get("flushed")]
            bad = [r["index"] for r in rws if not r.get("flushed")]
            ax.plot(
                [x for x, _ in ok],
                [y for _, y in ok],
                "o",
                label=f"{kind} flushed",
                color=colors.get(kind),
            )
            ax.xaxis.get_major_locator().set_params(integer=True)
            if bad:
                ax.plot(
                    bad,
                    [top * 1.3] * len(bad),
                    "x",
                    label=f"{kind} NOT flushed",
                    color=colors.get(kind),
                )
        ax.set_xlabel("barge-in # in one session")
        ax.set_ylabel("speech_started → flushed (ms)")
        ax.set_ylim(0, top * 1.5)
        ax.set_title("Figure 5: barge-in flush time (x = never flushed)")
        ax.legend(fontsize=8)
        save(fig, "fig5_barge_in.png")
    dens = f.get("density")
    if dens:
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.4))
        for kind, d in dens.items():
            steps = [s for s in d.get("steps", []) if "error" not in s]
            xs = [s["sessions"] for s in steps]
            lag = [s["loop_lag_ms"].get("p99", 0) for s in steps]
            cpu = [s["cpu_s_per_session_min"] for s in steps]
            color = colors.get(kind)
            a1.plot(xs, lag, "-", label=kind, color=color)
            a2.plot(xs, cpu, "-", label=kind, color=color)
            for ax, ys in ((a1, lag), (a2, cpu)):
                for x, y, s in zip(xs, ys, steps, strict=True):
                    face = color if s["passed"] else "white"
                    ax.plot([x], [y], "o", color=color, markerfacecolor=face)
        a1.axhline(20, color="k", ls="--", lw=0.7)
        a1.set_yscale("log")
        a1.set_xlabel("concurrent calls")
        a1.set_ylabel("event-loop lag p99 (ms)")
        a1.set_title("Figure 6: loop lag vs calls (hollow = failed)")
        a2.set_xlabel("concurrent calls")
        a2.set_ylabel("CPU s per call-minute")
        a2.set_title("CPU per call")
        a1.legend()
        save(fig, "fig6_density.png")
    mem = f.get("memory")
    if mem:
        fig, ax = plt.subplots(figsize=(7, 3.4))
        for kind, m in mem.items():
            series = m.get("series") or []
            if series:
                base = m["rss_after_warmup_mb"]
                ax.plot(
                    [p[0] for p in series],
                    [p[1] - base for p in series],
                    label=kind,
                    color=colors.get(kind),
                )
        ax.axhline(10, color="k", ls="--", lw=0.7)
        ax.set_xlabel("simulated minutes")
        ax.set_ylabel("RSS − RSS after warm-up (MB)")
        ax.set_title("Figure 7: memory over a simulated call")
        ax.legend()
        save(fig, "fig7_memory.png")
    return written, None
