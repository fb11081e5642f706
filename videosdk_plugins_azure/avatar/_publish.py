"""Putting the agent's video track into the VideoSDK meeting, when there is one.

A realtime model is not given the room; the job that runs it is the framework's
``JobContext`` (``videosdk.agents.job.get_current_job_context()``), whose room
holds the joined ``Meeting``. ``Meeting.add_custom_video_track`` publishes a
track as the agent's camera: the framework's own avatar support publishes its
video the same way (through the room's ``custom_camera_video_track``).

``session.start(run_until_shutdown=True)`` joins the meeting before the model
connects, so the meeting is usually there already; if the job is still joining,
:func:`publish` returns a coroutine that waits for the join (bounded) and then
publishes. With no job (``LocalRoom``, console, tests) there is nothing to
publish to and the track is only read locally.
"""

from __future__ import annotations

import logging
from collections.abc import Coroutine
from typing import Any

__all__ = ["JOIN_WAIT_S", "publish"]

log = logging.getLogger("videosdk_plugins_azure")

JOIN_WAIT_S = 30.0
"""How long a track waits for the agent to join its meeting before giving up."""


def _job() -> Any:
    try:
        from videosdk.agents.job import get_current_job_context
    except ImportError:  # a framework without jobs: nothing to publish to
        return None
    return get_current_job_context()


def _add(meeting: Any, track: Any) -> None:
    try:
        meeting.add_custom_video_track(track)
    except Exception as error:  # the call goes on without its picture
        log.warning("could not publish the avatar's video track: %r", error)
        return
    log.info("avatar video track published to the meeting")


def publish(track: Any) -> Coroutine[Any, Any, None] | None:
    """Publish ``track`` now, or return what publishes it once the meeting is joined."""
    job = _job()
    room = getattr(job, "room", None) if job is not None else None
    meeting = getattr(room, "meeting", None)
    if meeting is not None:
        _add(meeting, track)
        return None
    if job is None or not hasattr(job, "wait_for_meeting_joined"):
        log.debug("no meeting to publish the avatar's video track to")
        return None
    return _publish_when_joined(job, track)


async def _publish_when_joined(job: Any, track: Any) -> None:
    if not await job.wait_for_meeting_joined(timeout=JOIN_WAIT_S):
        log.warning("the agent never joined its meeting; the avatar is not shown")
        return
    meeting = getattr(getattr(job, "room", None), "meeting", None)
    if meeting is not None:
        _add(meeting, track)
