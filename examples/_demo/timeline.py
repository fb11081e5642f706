"""``timeline.png``: who spoke when, the tool call, the barge-in, each answer's latency.

Drawn from ``summary.json``'s data only, so it can be redrawn from a saved
summary. matplotlib is the ``demo`` extra; without it a plainer picture is drawn
with Pillow, which the VideoSDK client already depends on, so there is always one.
Both place their text with :mod:`.labels`, measured in their own font, so a
label ends at a word and never runs into a marker line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .labels import Label, Measure, place_labels

__all__ = ["draw_timeline", "label_rows", "markers"]

LABEL_FONT_PT = 7


def markers(data: dict[str, Any]) -> list[float]:
    """The vertical lines: each tool call, and the barge-in."""
    lines = [float(tool["t_s"]) for tool in data["tool_calls"]]
    i = data["interruption"]
    if i and i["interrupted"]:
        lines.append(float(i["at_s"]))
    return lines


def _end(data: dict[str, Any]) -> float:
    return float(max([data["wav_seconds"], *(b for _, b in data["agent_spans_s"]), 1.0]))


def label_rows(data: dict[str, Any], measure: Measure) -> dict[str, list[Label | None]]:
    """The caller's and the agent's labels, laid out for ``measure``'s font."""
    caller = [(c["t_s"], c["t_s"] + c["seconds"] / data["speed"]) for c in data["caller_lines"]]
    answers = [turn["text"] for turn in data["turns"] if turn["role"] == "agent"]
    agent = [(a, b) for a, b in data["agent_spans_s"]][: len(answers)]
    options = {"markers": markers(data), "end": _end(data) + 0.5, "measure": measure}
    return {
        "caller": place_labels(caller, [c["text"] for c in data["caller_lines"]], **options),
        "agent": place_labels(agent, answers[: len(agent)], **options),
    }


def draw_timeline(path: Path, data: dict[str, Any]) -> str | None:
    """``timeline.png`` with matplotlib, else Pillow; returns a note when it fell back."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        _draw_timeline_pillow(path, data)
        return 'matplotlib is not installed; drew a plain timeline (pip install -e ".[demo]")'

    fig, ax = plt.subplots(figsize=(14, 4.2), dpi=110)
    _draw_bars_and_markers(ax, data)
    fig.tight_layout()  # before the labels: they are measured against the final axes
    _draw_labels(fig, ax, data)
    fig.savefig(path)
    plt.close(fig)
    return None


def _draw_bars_and_markers(ax: Any, data: dict[str, Any]) -> None:
    caller = [(c["t_s"], c["seconds"] / data["speed"]) for c in data["caller_lines"]]
    agent = [(a, b - a) for a, b in data["agent_spans_s"]]
    ax.broken_barh(caller, (1.6, 0.7), facecolors="#3b7dd8", label="caller speech")
    ax.broken_barh(
        agent, (0.6, 0.7), facecolors="#2aa876", edgecolors="white", label="agent speech"
    )
    for tool in data["tool_calls"]:
        ax.axvline(tool["t_s"], color="#a05fd0", ls="--", lw=1.2)
        ax.text(tool["t_s"], -0.12, f" tool {tool['name']}", color="#a05fd0", fontsize=8)
    for row in data["latencies"]:
        t, ms = row["at_s"], row["first_audio_latency_ms"]
        ax.annotate(
            "",
            xy=(t, 1.45),
            xytext=(t - ms / 1000, 1.45),
            arrowprops={"arrowstyle": "->", "color": "#d98c00"},
        )
        ax.text(t, 1.47, f"{ms} ms", fontsize=7, color="#b06f00")
    i = data["interruption"]
    if i and i["interrupted"]:
        ax.axvline(i["at_s"], color="#d33", lw=2)
        heard = i["truncate_audio_end_ms"] or i["heard_ms_speaker"]
        ax.text(i["at_s"], 2.98, f" barge-in: heard {heard / 1000:.1f} s", color="#d33", fontsize=9)
    ax.set_yticks([1.0, 1.95], ["agent", "caller"])
    ax.set_ylim(-0.2, 3.3)
    ax.set_xlim(0, _end(data) + 0.5)
    ax.set_xlabel("seconds since start (orange arrows: first-audio latency)")
    mode = "emulator" if data["mode"] == "emulator" else "Azure Voice Live"
    ax.set_title(f"Voice Live call through the VideoSDK pipeline ({mode}, speed {data['speed']:g})")
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, fontsize=8, frameon=False)
    ax.grid(axis="x", alpha=0.3)


def _draw_labels(fig: Any, ax: Any, data: dict[str, Any]) -> None:
    from matplotlib.font_manager import FontProperties

    renderer = fig.canvas.get_renderer()
    font = FontProperties(size=LABEL_FONT_PT)
    x0, x1 = ax.transData.transform([(0, 0), (1, 0)])[:, 0]

    def measure(text: str) -> float:
        width, _, _ = renderer.get_text_width_height_descent(text, font, ismath=False)
        return float(width) / float(x1 - x0)

    rows = label_rows(data, measure)
    # caller text sits above its bars, agent text below; both read down from the first line
    for row, y, va, color in (
        ("caller", 2.36, "bottom", "#1f4f99"),
        ("agent", 0.54, "top", "#17694a"),
    ):
        for label in rows[row]:
            if label is not None:
                ax.text(label.x, y, label.text, fontproperties=font, color=color, va=va)


def _draw_timeline_pillow(path: Path, data: dict[str, Any]) -> None:
    from PIL import Image, ImageDraw

    end = _end(data) + 0.5
    width, height, left = 1400, 330, 70
    scale = (width - left - 20) / end
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)

    def x(t: float) -> float:
        return left + t * scale

    draw.text((10, 95), "caller", fill="black")
    draw.text((10, 175), "agent", fill="black")
    for c in data["caller_lines"]:
        a = c["t_s"]
        draw.rectangle(
            [x(a), 85, max(x(a) + 2, x(a + c["seconds"] / data["speed"])), 115], fill="#3b7dd8"
        )
    for a, b in data["agent_spans_s"]:
        draw.rectangle([x(a), 165, max(x(a) + 2, x(b)), 195], fill="#2aa876")
    rows = label_rows(data, lambda text: draw.textlength(text) / scale)
    for row, top, color in (("caller", 58, "#1f4f99"), ("agent", 199, "#17694a")):
        for label in rows[row]:
            if label is not None:
                draw.multiline_text((x(label.x), top), label.text, fill=color, spacing=2)
    for tool in data["tool_calls"]:
        draw.line([x(tool["t_s"]), 30, x(tool["t_s"]), 270], fill="#a05fd0", width=2)
        draw.text((x(tool["t_s"]) + 3, 258), f"tool {tool['name']}", fill="#a05fd0")
    for row in data["latencies"]:
        t, ms = row["at_s"], row["first_audio_latency_ms"]
        draw.line([x(t - ms / 1000), 145, x(t), 145], fill="#d98c00", width=3)
        draw.text((x(t) + 2, 133), f"{ms} ms", fill="#b06f00")
    i = data["interruption"]
    if i and i["interrupted"]:
        draw.line([x(i["at_s"]), 30, x(i["at_s"]), 270], fill="#dd3333", width=3)
        heard = i["truncate_audio_end_ms"] or i["heard_ms_speaker"]
        draw.text((x(i["at_s"]) + 4, 30), f"barge-in: heard {heard / 1000:.1f} s", fill="#dd3333")
    mode = "emulator" if data["mode"] == "emulator" else "Azure Voice Live"
    draw.text((10, 8), f"Voice Live call ({mode}, speed {data['speed']:g})", fill="black")
    draw.text((left, 308), "seconds since start; orange: first-audio latency", fill="gray")
    for s in range(int(end) + 1):
        draw.line([x(s), 280, x(s), 285], fill="gray")
        if s % 5 == 0:
            draw.text((x(s) - 4, 290), str(s), fill="gray")
    image.save(path, format="PNG")
