"""What the emulator says when the live suite runs against it instead of Azure.

The emulator is not a model: it answers each user turn with the next scripted
turn, in order, across every connection (then with "You said: …"). The suite's
first user turn is the weather question of the tool test, so that turn calls
``get_weather``; its second is the barge-in test's request for a long answer,
so that turn is long enough to talk over. Everything later is echoed, which
the suite's assertions accept as any model's answer. Greetings and ``say()``
are spoken verbatim and take no turn.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["LONG_REPLY", "SCRIPT", "write_script"]

LONG_REPLY = " ".join(
    [
        "Lisbon is one of the oldest cities in western Europe, older than London, Paris and Rome",
        "as capitals go. Phoenicians traded on its hills, Romans called it Olisipo, and Moors",
        "ruled it for four centuries before the siege of eleven forty seven. In the age of",
        "discovery its ships sailed to India and Brazil, and its harbour grew rich on spice.",
        "Then on All Saints Day in seventeen fifty five an earthquake, a fire and a tsunami",
        "destroyed most of the city, and the Marquis of Pombal rebuilt the lower town on a grid.",
    ]
)

SCRIPT: dict[str, Any] = {
    "turns": [
        {"calls": [{"name": "get_weather", "arguments": {"city": "Lisbon"}}]},
        {"reply": LONG_REPLY},
    ]
}


def write_script(path: Path) -> Path:
    """``SCRIPT`` as the JSON file ``--scenario`` takes."""
    path.write_text(json.dumps(SCRIPT, indent=2) + "\n", encoding="utf-8")
    return path
