"""Server events → call state: one small function per event type, routed by a table.

Each handler reads one typed SDK event, updates :class:`.call.CallCore` and leaves
its effects there. The deltas that arrive many times a second are handled in
their light form (:data:`.effects.HotEvent`), which the typed events are read
into as well, so either path reaches the same handler. Errors are routed by
:func:`~videosdk_plugins_azure.protocol.errors.route` to the handlers of :data:`_ERROR_ROUTES`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from azure.ai.voicelive import models as m

from ..errors import VoiceLiveError
from ..protocol.errors import ErrorRoute, route
from ..tools import ToolResult
from .avatar import AVATAR_HANDLERS
from .effects import (
    AudioDelta,
    CloseSocket,
    Metric,
    Play,
    ResumeSpeaker,
    SendFrames,
    Settled,
    StartTool,
    SyncAgent,
    TextDelta,
)
from .fields import ident, obj, text
from .link import Trigger
from .mcp import MCP_HANDLERS
from .usage import flatten_usage

if TYPE_CHECKING:
    from .call import CallCore

__all__ = ["HANDLERS", "HOT_HANDLERS", "report_tool"]

log = logging.getLogger("videosdk_plugins_azure")

Handler = Callable[["CallCore", Any], None]


# -- session and errors ----------------------------------------------------------------


def _session_updated(core: CallCore, event: m.ServerEventSessionUpdated) -> None:
    core.server_turn_detection = dict(obj(obj(event, "session"), "turn_detection"))
    if core.link.fire(Trigger.CONFIGURED):
        core.effect(Settled())


def _error(core: CallCore, event: m.ServerEventError) -> None:
    error = obj(event, "error")
    code = text(error, "code") or text(error, "type") or "error"
    message = text(error, "message")
    where = route(code, error.get("event_id"), configuring=core.link.setting_up)
    _ERROR_ROUTES[where](core, code, message, error)


def _benign(core: CallCore, code: str, message: str, error: Any) -> None:
    log.debug("Voice Live: %s (%s)", code, message)


def _create_raced(core: CallCore, code: str, message: str, error: Any) -> None:
    origin = error.get("event_id")
    log.debug("response.create %s raced a server response; retrying after it", origin)
    retry = core.calls.create_rejected(origin)
    if retry is not None:
        core.send_create(retry.request_id, retry.params)


def _cut_rejected(core: CallCore, code: str, message: str, error: Any) -> None:
    log.debug("truncate/delete rejected: %s %s", code, message)


def _replay_rejected(core: CallCore, code: str, message: str, error: Any) -> None:
    """The new session refused a replayed item: fold the history into the instructions."""
    if not core.history.rejected():
        return
    log.warning("conversation replay rejected (%s: %s); using instructions instead", code, message)
    if not core.spec.agent_mode:
        core.send(core.spec.change_event(core.context(core.spec.instructions)))


def _setup_rejected(core: CallCore, code: str, message: str, error: Any) -> None:
    core.setup_error = VoiceLiveError(
        code,
        f"Voice Live rejected the session configuration: {message}",
        recoverable=False,
        param=ident(error, "param"),
    )
    core.effect(Settled())


def _fatal(core: CallCore, code: str, message: str, error: Any) -> None:
    core.fail(f"Voice Live refused the session: {message}", code)
    core.effect(CloseSocket())


def _report(core: CallCore, code: str, message: str, error: Any) -> None:
    # session_expired: the service closes next (1001) and the plugin reconnects
    core.report(VoiceLiveError(code, message, recoverable=True, param=ident(error, "param")))


_ERROR_ROUTES: dict[ErrorRoute, Callable[[CallCore, str, str, Any], None]] = {
    ErrorRoute.BENIGN: _benign,
    ErrorRoute.CREATE_RACED: _create_raced,
    ErrorRoute.CUT_REJECTED: _cut_rejected,
    ErrorRoute.REPLAY_REJECTED: _replay_rejected,
    ErrorRoute.SETUP_REJECTED: _setup_rejected,
    ErrorRoute.FATAL: _fatal,
    ErrorRoute.REPORT: _report,
}


def _warning(core: CallCore, event: m.ServerEventWarning) -> None:
    warning = obj(event, "warning")
    log.warning("Voice Live warning %s: %s", text(warning, "code"), text(warning, "message"))


# -- the caller ------------------------------------------------------------------------------


def _speech_started(core: CallCore, event: m.ServerEventInputAudioBufferSpeechStarted) -> None:
    if core.turn_detection().get("interrupt_response", True):
        core.barge_in(cancel_on_server=False)
    for _, final in core.calls.flush_transcripts():
        core.agent_final(final)
    core.calls.user_spoke()
    core.turn.started()
    frame = core.vision.take(core.clock())
    if frame is not None:  # what the caller sees as they speak goes before their words
        core.effect(SendFrames((frame,), None, respond=False))
    core.effect(SyncAgent())
    core.open_metrics_turn()
    core.emit("user_speech_started", {"type": "done"})


def _speech_stopped(core: CallCore, event: m.ServerEventInputAudioBufferSpeechStopped) -> None:
    core.turn.stopped(core.clock())
    core.boundary()
    core.emit("user_speech_ended", {"type": "done"})


def _transcription_delta(
    core: CallCore, event: m.ServerEventConversationItemInputAudioTranscriptionDelta
) -> None:
    partial = core.turn.transcript_delta(str(ident(event, "item_id")), text(event, "delta"))
    core.emit("realtime_model_transcription", {"role": "user", "text": partial, "is_final": False})


def _transcription_completed(
    core: CallCore, event: m.ServerEventConversationItemInputAudioTranscriptionCompleted
) -> None:
    core.turn.transcript_closed(str(ident(event, "item_id")))
    words = text(event, "transcript").strip()
    if not words:
        return
    core.metric("set_user_transcript", transcript=words)
    core.history.remember(m.UserMessageItem(content=[m.InputTextContentPart(text=words)]).as_dict())
    core.emit("realtime_model_transcription", {"role": "user", "text": words, "is_final": True})


def _transcription_failed(
    core: CallCore, event: m.ServerEventConversationItemInputAudioTranscriptionFailed
) -> None:
    error = obj(event, "error")
    core.turn.transcript_closed(str(ident(event, "item_id")))
    reason = text(error, "message") or "unknown reason"
    code = text(error, "code") or "transcription_failed"
    core.report(VoiceLiveError(code, f"user transcription failed: {reason}", recoverable=True))


# -- responses --------------------------------------------------------------------------------


def _response_created(core: CallCore, event: m.ServerEventResponseCreated) -> None:
    core.calls.response_created(str(ident(obj(event, "response"), "id")))
    core.framer.reset()
    if core.speaker.present():
        core.effect(ResumeSpeaker())


def _output_item_added(core: CallCore, event: m.ServerEventResponseOutputItemAdded) -> None:
    item = obj(event, "item")
    if text(item, "type") == "message":
        core.calls.item_added(ident(event, "response_id"), ident(item, "id"))


def _audio_delta(core: CallCore, delta: AudioDelta) -> None:
    if not delta.pcm:
        return
    response_id = delta.response_id
    response = core.calls.get(response_id)
    present = core.speaker.present()
    placing = present and response is not None and not response.has_audio
    decision = core.calls.audio(
        response_id,
        delta.item_id,
        len(delta.pcm),
        speaker_at=core.speaker.position() if placing else None,
    )
    if decision == "drop":
        return
    if decision == "first":
        latency = core.turn.first_audio(core.clock())
        if latency is not None:
            core.emit("first_audio_latency", {"seconds": latency})
        core.emit("agent_speech_started", {"type": "done"})
    pcm = core.framer.feed(delta.pcm)
    if pcm and present:
        core.effect(Play(pcm))


def _transcript_delta(core: CallCore, delta: TextDelta) -> None:
    response_id = delta.response_id
    so_far = core.calls.transcript_delta(response_id, delta.delta)
    response = core.calls.get(response_id)
    speaks_text = not core.spec.audio_out and not core.spec.text_only  # hybrid: the TTS speaks
    if response is not None and speaks_text and not response.text_started:
        # a text-only answer never plays audio: its first words are when the agent "speaks"
        response.text_started = True
        core.emit("agent_speech_started", {"type": "done"})
    if so_far is not None and response is not None and not response.dropped:
        payload = {"role": "agent", "text": so_far, "is_final": False}
        core.emit("realtime_model_transcription", payload)


def _typed_audio_delta(core: CallCore, event: m.ServerEventResponseAudioDelta) -> None:
    _audio_delta(core, AudioDelta.read(event))


def _typed_transcript_delta(core: CallCore, event: m.ServerEvent) -> None:
    _transcript_delta(core, TextDelta.read(event))


def _audio_transcript_done(core: CallCore, event: m.ServerEventResponseAudioTranscriptDone) -> None:
    words = text(event, "transcript")
    core.finals(ident(event, "response_id"), words, wait_for_playout=core.speaker.present())


def _text_done(core: CallCore, event: m.ServerEventResponseTextDone) -> None:
    core.finals(ident(event, "response_id"), text(event, "text"), wait_for_playout=False)


def _response_done(core: CallCore, event: m.ServerEventResponseDone) -> None:
    payload = obj(event, "response")
    status = text(payload, "status") or None
    response, next_request = core.calls.response_done(str(ident(payload, "id")), status)
    usage = flatten_usage(obj(payload, "usage"))
    if usage:
        core.effect(Metric("set_realtime_usage", {"usage": usage}))
    if status == "failed":
        error = obj(obj(payload, "status_details"), "error")
        code = text(error, "code") or "response_failed"
        message = text(error, "message") or "the response failed"
        core.report(VoiceLiveError(code, message, recoverable=True))
    if next_request is not None:
        core.send_create(next_request.request_id, next_request.params)
    core.boundary()
    if response is None:
        return
    batch = core.calls.tools_ready(response)
    if batch is not None:
        core.answer_tools(batch)
    elif not response.awaiting_tools:
        # a response whose calls are still running ends with the answer to them
        core.finish(response)
        if response.text_started and not core.speaker.present():
            core.emit("agent_speech_ended", {"type": "done"})  # no track to say so


def _audio_timestamp(core: CallCore, event: m.ServerEventResponseAudioTimestampDelta) -> None:
    core.emit(
        "word_timestamp",
        {
            "text": event.get("text"),
            "offset_ms": event.get("audio_offset_ms"),
            "duration_ms": event.get("audio_duration_ms"),
            "response_id": event.get("response_id"),
        },
    )


def _viseme(core: CallCore, event: m.ServerEventResponseAnimationVisemeDelta) -> None:
    core.emit(
        "viseme",
        {
            "viseme_id": event.get("viseme_id"),
            "offset_ms": event.get("audio_offset_ms"),
            "response_id": event.get("response_id"),
        },
    )


# -- function tools --------------------------------------------------------------------------


def _function_call_done(
    core: CallCore, event: m.ServerEventResponseFunctionCallArgumentsDone
) -> None:
    call_id = text(event, "call_id")
    name = text(event, "name")
    if not call_id or not core.calls.tool_call(ident(event, "response_id"), call_id):
        return
    arguments = text(event, "arguments")
    core.history.remember(
        m.FunctionCallItem(name=name, call_id=call_id, arguments=arguments).as_dict()
    )
    core.effect(StartTool(call_id, name, arguments))


def report_tool(core: CallCore, result: ToolResult) -> None:
    """A finished call, as the framework's event and its metrics record."""
    core.emit("realtime_model_function_executed", result.event())
    try:
        params: Any = json.loads(result.arguments) if result.arguments else {}
    except ValueError:
        params = {"raw": result.arguments}
    core.metric(
        "add_function_tool_call",
        tool_name=result.name,
        tool_params=params if isinstance(params, dict | list) else {"value": params},
        tool_response={"output": result.output, "is_error": result.is_error},
        start_time=result.started,
        end_time=result.ended,
    )


_T = m.ServerEventType
HANDLERS: dict[str, Handler] = {
    _T.SESSION_UPDATED: _session_updated,
    _T.ERROR: _error,
    _T.WARNING: _warning,
    _T.INPUT_AUDIO_BUFFER_SPEECH_STARTED: _speech_started,
    _T.INPUT_AUDIO_BUFFER_SPEECH_STOPPED: _speech_stopped,
    _T.CONVERSATION_ITEM_INPUT_AUDIO_TRANSCRIPTION_DELTA: _transcription_delta,
    _T.CONVERSATION_ITEM_INPUT_AUDIO_TRANSCRIPTION_COMPLETED: _transcription_completed,
    _T.CONVERSATION_ITEM_INPUT_AUDIO_TRANSCRIPTION_FAILED: _transcription_failed,
    _T.RESPONSE_CREATED: _response_created,
    _T.RESPONSE_OUTPUT_ITEM_ADDED: _output_item_added,
    _T.RESPONSE_AUDIO_DELTA: _typed_audio_delta,
    _T.RESPONSE_AUDIO_TRANSCRIPT_DELTA: _typed_transcript_delta,
    _T.RESPONSE_AUDIO_TRANSCRIPT_DONE: _audio_transcript_done,
    _T.RESPONSE_TEXT_DELTA: _typed_transcript_delta,
    _T.RESPONSE_TEXT_DONE: _text_done,
    _T.RESPONSE_DONE: _response_done,
    _T.RESPONSE_AUDIO_TIMESTAMP_DELTA: _audio_timestamp,
    _T.RESPONSE_ANIMATION_VISEME_DELTA: _viseme,
    _T.RESPONSE_FUNCTION_CALL_ARGUMENTS_DONE: _function_call_done,
    **MCP_HANDLERS,
    **AVATAR_HANDLERS,
}
"""Server event type → handler. Other events are ignored (logged once per type at debug)."""

HOT_HANDLERS: dict[type, Handler] = {AudioDelta: _audio_delta, TextDelta: _transcript_delta}
"""Light event record → handler: the same handlers the typed events above reach."""
