"""Every use :class:`~._room.LocalRoom` makes of videosdk-agents internals, in one module.

Checked against videosdk-agents **1.0.30** (:data:`CHECKED_AGAINST`); line
numbers below are of that release. After upgrading the framework, this module is
the one place to re-check: ``tests/testing`` exercise each function here.

Why internals at all: in a real call a ``JobContext`` and a VideoSDK ``Room``
set up what the session runs in, and both join the VideoSDK cloud the moment
they exist. LocalRoom creates neither, so it does by hand the handful of things
they do for the session, and those are not public API:

* **The session scope.** ``WorkerJob`` enters a fresh per-session metrics
  collector and event bus (``job._enter_session_scope``, job.py:1133) before the
  entrypoint builds the session, so every component registers on that session's
  bus; :func:`enter_session_scope` does the same around the room.
* **The pipeline's bus listeners.** ``Pipeline.__init__`` binds three handlers
  to whatever bus is current when the *caller* builds it (outside the room's
  scope); :func:`bind_pipeline_to_bus` moves them onto the session bus
  (``Pipeline._setup_global_listeners``, pipeline.py:287-319).
* **The agent's output track.** The room creates a ``TeeCustomAudioStreamTrack``
  and the job hands it to the pipeline (``Pipeline._set_loop_and_audio_track``,
  job.py:727-732); :func:`attach_output_track` does both, and
  :func:`close_output_track` what ``Room.cleanup`` does with it.
* **The caller's audio.** The room starts ``InputStreamManager.add_audio_listener``
  for a participant's stream (``room/_input_stream``, room.py:702-716);
  :func:`start_audio_listener` starts the same listener on the fake microphone.
* **The leg's audio format.** The room declares the negotiated codec's rate to
  the process-wide ``audio_format`` detector; :func:`declare_leg` does that.
* **The realtime model** a pipeline wraps (``Pipeline._realtime_model``), and the
  calling convention of the framework's ``EventEmitter`` (:func:`listen`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from videosdk import Stream
from videosdk.agents import audio_format
from videosdk.agents.event_bus import get_current_event_bus
from videosdk.agents.job import _enter_session_scope, _exit_session_scope
from videosdk.agents.metrics import get_current_metrics_collector
from videosdk.agents.room._input_stream import InputStreamManager
from videosdk.agents.room.output_stream import MediaStreamError as OutputTrackEnded
from videosdk.agents.room.output_stream import TeeCustomAudioStreamTrack

__all__ = [
    "CHECKED_AGAINST",
    "OutputTrackEnded",
    "attach_output_track",
    "bind_pipeline_to_bus",
    "close_output_track",
    "declare_leg",
    "enter_session_scope",
    "exit_session_scope",
    "is_realtime",
    "listen",
    "realtime_model",
    "reset_audio_format",
    "session_bus",
    "session_metrics",
    "start_audio_listener",
]

logger = logging.getLogger(__name__)

CHECKED_AGAINST = "1.0.30"
"""The videosdk-agents release every function here was checked against."""

_PIPELINE_BUS_HANDLERS: tuple[tuple[str, str], ...] = (
    ("COMPONENT_METRIC", "_on_component_metric"),
    ("PIPELINE_ERROR", "_on_pipeline_error"),
    ("RECORDING_STATUS", "_on_recording_status"),
)
"""What ``Pipeline._setup_global_listeners`` binds, and the attributes it keeps them in."""


# -- the session scope -----------------------------------------------------------------


def enter_session_scope() -> Any:
    """Bind a fresh metrics collector and event bus to the current Context; returns a token.

    The session must be *built* inside the scope to report into it.
    """
    return _enter_session_scope()


def exit_session_scope(token: Any) -> None:
    """Undo :func:`enter_session_scope`.

    A runner that sets up and tears down in different tasks without sharing the
    Context entered the scope in a Context this one never saw: there is then
    nothing left to undo here, and the ContextVar refuses the token.
    """
    try:
        _exit_session_scope(token)
    except ValueError:
        logger.debug("LocalRoom: session scope was entered in another context")


def session_bus() -> Any:
    """The event bus of the current session scope."""
    return get_current_event_bus()


def session_metrics() -> Any:
    """The metrics collector of the current session scope."""
    return get_current_metrics_collector()


# -- the pipeline ---------------------------------------------------------------------


def is_realtime(pipeline: Any) -> bool:
    """Whether ``pipeline`` was built around a realtime model (``Pipeline(llm=<realtime>)``)."""
    return bool(getattr(getattr(pipeline, "config", None), "is_realtime", False))


def realtime_model(pipeline: Any) -> Any:
    """The realtime model ``pipeline`` drives (pipeline.py:190), or None."""
    return getattr(pipeline, "_realtime_model", None)


def bind_pipeline_to_bus(pipeline: Any, bus: Any) -> None:
    """Move the pipeline's bus listeners onto ``bus`` (the session's).

    Bound to the caller's bus, metrics hooks and pipeline errors published on
    the session bus would never reach the pipeline. ``Pipeline.cleanup()``
    unbinds from ``pipeline._event_bus``, so re-binding through the pipeline's
    own method keeps teardown symmetric.
    """
    old = getattr(pipeline, "_event_bus", None)
    if old is bus:
        return
    if old is not None:
        for event, attr in _PIPELINE_BUS_HANDLERS:
            handler = getattr(pipeline, attr, None)
            if handler is not None:
                old.off(event, handler)
    setup = getattr(pipeline, "_setup_global_listeners", None)
    if callable(setup):
        setup()


# -- the agent's speaker and the caller's microphone ------------------------------------


def attach_output_track(pipeline: Any, loop: asyncio.AbstractEventLoop) -> Any:
    """Create the agent's output track and hand it to ``pipeline``, as the room and job do.

    Done after the ``AgentSession`` exists and before it starts: the order
    ``JobContext`` follows.
    """
    track = TeeCustomAudioStreamTrack(loop=loop, sinks=[], pipeline=pipeline)
    pipeline._set_loop_and_audio_track(loop, track)
    return track


async def close_output_track(track: Any) -> None:
    """Interrupt and stop the output track, as ``Room.cleanup`` does."""
    await track.cleanup()


def start_audio_listener(pipeline: Any, mic: Any) -> asyncio.Task[Any]:
    """Run the framework's own listener on the caller's track, in a task.

    The listener pulls ``mic.recv()`` and awaits ``pipeline.on_audio_delta`` for
    each frame. It swallows its own errors: on the first exception from
    ``on_audio_delta`` (the model's ``handle_audio_input``) it logs it (from
    ``videosdk.agents.room._input_stream``) and returns, so the task ending
    while the room is open means exactly that.
    """
    manager = InputStreamManager(pipeline)
    return asyncio.create_task(manager.add_audio_listener(Stream(mic)), name="LocalRoom.listener")


# -- the process-wide audio format -------------------------------------------------------


def declare_leg(rate: int, channels: int, why: str) -> None:
    """Forget any earlier leg and declare this one, as the room does for a negotiated codec.

    A model that reads the input rate in ``connect()`` then sees the leg's.
    """
    audio_format.reset()
    audio_format.hint(rate, channels, why=why)


def reset_audio_format() -> None:
    """Forget the declared leg (the detector is process-global: one room at a time)."""
    audio_format.reset()


# -- events ------------------------------------------------------------------------------


def listen(emitter: Any, name: str, callback: Callable[[Any], None]) -> Callable[..., None]:
    """Call ``callback(payload)`` on every ``name`` event of a framework emitter.

    ``EventEmitter._invoke`` inspects a handler's ``__code__`` (so no partials)
    and passes ``{}`` when an event has no payload; a ``*args`` handler takes
    both. Returns the handler, for ``emitter.off(name, handler)``.
    """

    def handler(*args: Any) -> None:
        callback(args[0] if args else None)

    emitter.on(name, handler)
    return handler
