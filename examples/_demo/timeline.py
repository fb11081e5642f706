"""``timeline.png``: who spoke when, the tool call, the barge-in, each answer's latency.

Drawn from ``summary.json``'s data only, so it can be redrawn from a saved
summary. matplotlib is the ``demo`` extra; without it a plainer picture is drawn
with Pillow, which the VideoSDK client already depends on, so there is always one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["draw_timeline"]


def draw_timeline(path: Path, data: dict[str, Any]) -> str | None:
    """``timeline.png`` with matplotlib, else Pillow; returns a note when it fell back."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        _draw_timeline_pillow(path, data)
        return 'matplotlib is not installed; drew a plain timeline (pip install -e ".[demo]")'

    end = max([data["wav_seconds"], *(b for _, b in data["agent_spans_s"]), 1.0])
    fig, ax = plt.subplots(figsize=(14, 4.2), dpi=110)
    caller = [(c["t_s"], c["seconds"] / data["speed"]) for c in data["caller_lines"]]
    agent = [(a, b - a) for a, b in data["agent_spans_s"]]
    ax.broken_barh(caller, (1.6, 0.7), facecolors="#3b7dd8", label="caller speech")
    ax.broken_barh(
        agent, (0.6, 0.7), facecolors="#2aa876", edgecolors="white", label="agent speech"
    )
    for c in data["caller_lines"]:
        ax.text(c["t_s"], 2.42, c["text"][:34], fontsize=7, color="#1f4f99", rotation=12)
    answers = [turn["text"] for turn in data["turns"] if turn["role"] == "agent"]
    for (a, _), text in zip(data["agent_spans_s"], answers, strict=False):
        ax.text(a, 0.42, text[:30], fontsize=7, color="#17694a")
    for tool in data["tool_calls"]:
        ax.axvline(tool["t_s"], color="#a05fd0", ls="--", lw=1.2)
        ax.text(tool["t_s"], 0.12, f" tool {tool['name']}", color="#a05fd0", fontsize=8)
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
        ax.text(i["at_s"], 2.85, f" barge-in: heard {heard / 1000:.1f} s", color="#d33", fontsize=9)
    ax.set_yticks([1.0, 1.95], ["agent", "caller"])
    ax.set_ylim(0, 3.2)
    ax.set_xlim(0, end + 0.5)
    ax.set_xlabel("seconds since start (orange arrows: first-audio latency)")
    mode = "emulator" if data["mode"] == "emulator" else "Azure Voice Live"
    ax.set_title(f"Voice Live call through the VideoSDK pipeline ({mode}, speed {data['speed']:g})")
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return None


def _draw_timeline_pillow(path: Path, data: dict[str, Any]) -> None:
    from PIL import Image, ImageDraw

    end = float(max([data["wav_seconds"], *(b for _, b in data["agent_spans_s"]), 1.0])) + 0.5
    width, height, left = 1400, 310, 70
    scale = (width - left - 20) / end
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)

    def x(t: float) -> float:
        return left + t * scale

    draw.text((10, 90), "caller", fill="black")
    draw.text((10, 170), "agent", fill="black")
    for c in data["caller_lines"]:
        a = c["t_s"]
        draw.rectangle(
            [x(a), 80, max(x(a) + 2, x(a + c["seconds"] / data["speed"])), 110], fill="#3b7dd8"
        )
    for a, b in data["agent_spans_s"]:
        draw.rectangle([x(a), 160, max(x(a) + 2, x(b)), 190], fill="#2aa876")
    for tool in data["tool_calls"]:
        draw.line([x(tool["t_s"]), 40, x(tool["t_s"]), 250], fill="#a05fd0", width=2)
        draw.text((x(tool["t_s"]) + 3, 250), f"tool {tool['name']}", fill="#a05fd0")
    for row in data["latencies"]:
        t, ms = row["at_s"], row["first_audio_latency_ms"]
        draw.line([x(t - ms / 1000), 140, x(t), 140], fill="#d98c00", width=3)
        draw.text((x(t) + 2, 128), f"{ms} ms", fill="#b06f00")
    i = data["interruption"]
    if i and i["interrupted"]:
        draw.line([x(i["at_s"]), 30, x(i["at_s"]), 260], fill="#dd3333", width=3)
        heard = i["truncate_audio_end_ms"] or i["heard_ms_speaker"]
        draw.text((x(i["at_s"]) + 4, 30), f"barge-in: heard {heard / 1000:.1f} s", fill="#dd3333")
    mode = "emulator" if data["mode"] == "emulator" else "Azure Voice Live"
    draw.text((10, 8), f"Voice Live call ({mode}, speed {data['speed']:g})", fill="black")
    draw.text((left, 288), "seconds since start; orange: first-audio latency", fill="gray")
    for s in range(int(end) + 1):
        draw.line([x(s), 270, x(s), 275], fill="gray")
        if s % 5 == 0:
            draw.text((x(s) - 4, 278), str(s), fill="gray")
    image.save(path, format="PNG")
