"""What the plugin reads from, or reports to, the framework beyond the model hooks.

Kept in one place because each is a fact of videosdk-agents 1.0.30 that a newer
framework may change: the realtime mode lives on the agent's session's pipeline
(nobody tells the model), and the metrics collector's methods differ by version.
"""

from __future__ import annotations

import logging
from typing import Any

from videosdk.agents.job import get_current_job_context
from videosdk.agents.metrics import metrics_collector

__all__ = ["enable_vision", "pipeline_mode", "report_metric"]

log = logging.getLogger("videosdk_plugins_azure")


def report_metric(method: str, kwargs: dict[str, Any]) -> None:
    """Report to the framework's collector; a method an older framework lacks is skipped."""
    report = getattr(metrics_collector, method, None)
    if report is not None:
        report(**kwargs)


def pipeline_mode(agent: Any) -> str | None:
    """The pipeline's realtime mode (``full_s2s``, ``hybrid_tts``, ...), read from the agent's
    session, since the framework tells a realtime model nothing about it."""
    pipeline = getattr(getattr(agent, "session", None), "pipeline", None)
    mode = getattr(getattr(pipeline, "config", None), "realtime_mode", None)
    value = getattr(mode, "value", None)
    return value if isinstance(value, str) else None


def enable_vision(agent: Any) -> bool:
    """Let the meeting's video through when the room asked for vision.

    The pipeline turns vision off for every realtime model whose class is not
    named ``GeminiRealtime``, ``OpenAIRealtime`` or ``OpenAILive`` (``pipeline.py``,
    ``_configure_components``, videosdk-agents 1.0.30). This model takes video, so
    when the room was opened with ``vision=True`` the pipeline's switch is set back
    on before the first frame. Returns whether vision is on.
    """
    pipeline = getattr(getattr(agent, "session", None), "pipeline", None)
    context = get_current_job_context()
    room = getattr(context, "room", None) if context is not None else None
    if pipeline is None or not getattr(room, "vision", False):
        return bool(getattr(pipeline, "vision", False))
    if not pipeline.vision:
        log.info("vision: the room asked for it; passing the meeting's video to Voice Live")
        pipeline.vision = True
    return True
