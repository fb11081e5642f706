"""``latest.md`` and ``latest.json``: one run written up for readers and for scripts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..common import FLOOR, LABELS
from .details import details
from .table import markdown_table

__all__ = ["VENDOR_QUIRKS", "markdown", "public"]

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
"""What driving the vendor plugin took, so its numbers can be read fairly."""


def public(results: dict[str, Any]) -> dict[str, Any]:
    """The results without raw samples (they are summarised as distributions)."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if not str(k).startswith("_samples")}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return dict(strip(results))


def _header(meta: dict[str, Any]) -> list[str]:
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
    if meta.get("floor"):
        lines += [
            f"The floor column ({LABELS[FLOOR]}) is the least a legitimate Voice Live client "
            "does per call, run in the same process and harness (figures 1, 6 and 8): every CPU "
            "figure is read as a ratio to it.",
            "",
        ]
    for key, note in meta.get("notes", {}).items():
        lines += [f"> **Note ({key}).** {note}", ""]
    return lines


def _verdict(checked: list[dict[str, Any]]) -> list[str]:
    missed = [t for t in checked if t["met"] is False]
    if not missed:
        return ["All targets set for this plugin were met in this run.", ""]
    lines = ["**Targets missed:**", ""]
    lines += [f"- {t['figure']}: {t['target']} — measured {t['value']}" for t in missed]
    return [*lines, ""]


def _appendix(results: dict[str, Any]) -> list[str]:
    lines = ["## Driving the vendor plugin", ""]
    lines += [f"- {q}" for q in VENDOR_QUIRKS]
    lines.append("")
    profiles = results.get("profiles") or {}
    if profiles:
        lines += ["## Profiles of missed targets", ""]
        for figure, text in profiles.items():
            lines += [f"### {figure}", "", "```", *text.splitlines()[:60], "```", ""]
    plots = results["meta"].get("plots") or []
    if plots:
        lines += ["## Plots", ""]
        lines += [f"![{Path(p).stem}]({Path(p).name})" for p in plots]
        lines.append("")
    return lines


def markdown(results: dict[str, Any]) -> str:
    """``latest.md``: the summary table, what was missed, the details, how to reproduce."""
    lines = _header(results["meta"])
    lines += [markdown_table(results), ""]
    lines += _verdict(results.get("targets", []))
    lines += details(results.get("figures", {}))
    lines += _appendix(results)
    lines += [
        "Reproduce: `pip install -e '.[bench]'` then `python -m benchmarks` "
        "(or `tox -e bench`); `--quick` for a smoke run.",
        "",
    ]
    return "\n".join(lines)
