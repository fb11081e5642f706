"""Logging for the examples: errors only, and none of the framework's offline noise.

An example that runs its agent in a ``LocalRoom`` (offline, or against Azure
without a meeting) has no VideoSDK session, so the framework's metrics package
complains after every turn that it cannot send the session's analytics ("Failed
sending session data : No session ID") and that it discards turns it cannot
validate. Neither means anything without a meeting, so every such example mutes
that package here, in one place. Agents in a real meeting keep those logs.
"""

from __future__ import annotations

import logging

__all__ = ["FRAMEWORK_METRICS_LOGGER", "configure_logging"]

FRAMEWORK_METRICS_LOGGER = "videosdk.agents.metrics"
"""The framework's metrics and analytics loggers (``.analytics``, ``.metrics_collector``)."""


def configure_logging(level: int = logging.ERROR, *, local_room: bool = True) -> None:
    """Log at ``level`` to stderr; with ``local_room``, mute the framework's session metrics."""
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if local_room:
        logging.getLogger(FRAMEWORK_METRICS_LOGGER).setLevel(logging.CRITICAL)
