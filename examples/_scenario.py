"""Helpers for the examples' scripted (emulated) model turns.

A scripted answer that reads the tool's real output, as the model would, must
find that output among whatever the turn's tools returned and cope with one
that is not the JSON it expects; every example's reply needs exactly that.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from videosdk_plugins_azure.emulator import ReplyContext

__all__ = ["tool_result"]


def tool_result(ctx: ReplyContext, keys: Iterable[str]) -> dict[str, Any] | None:
    """The first tool output of this turn that is a JSON object holding every one of ``keys``."""
    wanted = tuple(keys)
    for output in ctx.tool_outputs.values():
        try:
            data = json.loads(output)
        except (ValueError, TypeError):
            continue
        if isinstance(data, dict) and all(key in data for key in wanted):
            return data
    return None
