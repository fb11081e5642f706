"""What the plugin reads from, or reports to, the framework beyond the model hooks.

Kept in one place because each is a fact of videosdk-agents 1.0.30 that a newer
framework may change: the realtime mode lives on the agent's session's pipeline
(nobody tells the model), and the metrics collector's methods differ by version.
"""

from __future__ import annotations

from typing import Any

from videosdk.agents.metrics import metrics_collector

__all__ = ["pipeline_mode", "report_metric"]


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
