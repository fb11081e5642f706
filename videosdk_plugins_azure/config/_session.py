"""Turning a config plus connect-time facts into the ``session`` of a ``session.update``.

Pure functions: the same config, model and call legs always give the same session,
so what goes on the wire is testable without a socket.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from azure.ai.voicelive import models as vl

from ..protocol.audio import OUTPUT_AUDIO_FORMATS, PCM16, PCM16_INPUT_RATES
from ..protocol.models import default_transcription_model, temperature_range
from ..protocol.session import TOOL_CHOICE_LITERALS
from ._avatar import sdk_avatar
from ._checks import CHECKS, fail
from ._model import AzureVoiceLiveConfig
from ._turns import TurnDetection
from ._voice import sdk_voice

__all__ = ["build_session", "resolve_transcription_model"]

_INPUT_RATE = CHECKS.one_of_ints(PCM16_INPUT_RATES)
_OUTPUT_FORMAT = CHECKS.one_of(OUTPUT_AUDIO_FORMATS)


def resolve_transcription_model(config: AzureVoiceLiveConfig, model: str | None) -> str | None:
    """The input transcription model to request, or ``None`` for no user transcripts.

    ``"auto"`` picks what the service accepts for the model family (see
    :func:`~videosdk_plugins_azure.protocol.models.default_transcription_model`).
    """
    chosen = config.input_transcription_model
    if chosen != "auto":
        return chosen
    return default_transcription_model(model)


def _sdk_turn_detection(config: AzureVoiceLiveConfig) -> vl.TurnDetection | None:
    detection = config.turn_detection
    return detection.to_sdk() if isinstance(detection, TurnDetection) else detection


def _sdk_transcription(
    config: AzureVoiceLiveConfig, model: str | None
) -> vl.AudioInputTranscriptionOptions | None:
    chosen = resolve_transcription_model(config, model)
    if chosen is None:
        return None
    options = vl.AudioInputTranscriptionOptions(
        model=chosen,
        language=config.input_transcription_language,
        phrase_list=(
            list(config.input_transcription_phrases)
            if config.input_transcription_phrases is not None
            else None
        ),
    )
    if config.input_transcription_prompt is not None:
        # Documented by the service but not declared by SDK 1.3.1; item assignment is the
        # only way an undeclared key reaches the wire.
        options["prompt"] = config.input_transcription_prompt
    return options


def _function_names(tools: Sequence[Any]) -> set[Any]:
    """Names of the function tools; SDK tool models are mappings too."""
    return {
        tool.get("name")
        for tool in tools
        if isinstance(tool, Mapping) and tool.get("type") == "function"
    }


def _sdk_tool_choice(choice: str | None, tools: Sequence[Any]) -> Any:
    """A literal choice is sent as is; any other string forces that function, which must be
    among the tools or the service rejects the whole update."""
    if choice is None or choice in TOOL_CHOICE_LITERALS:
        return choice
    if choice not in _function_names(tools):
        raise fail("tool_choice", f"names function {choice!r}, which is not among the tools")
    return vl.ToolChoiceFunctionSelection(name=choice)


def _check_connect_facts(
    config: AzureVoiceLiveConfig, model: str | None, input_rate: int, output_format: str | None
) -> None:
    """What only the connection knows must fit the service too; checked before building."""
    _INPUT_RATE(input_rate, "input_rate")
    if output_format is not None:
        _OUTPUT_FORMAT(output_format, "output_format")
    if config.temperature is not None:
        low, high = temperature_range(model)
        if not low <= config.temperature <= high:
            raise fail(
                "temperature",
                f"must be between {low:g} and {high:g} for model {model!r} "
                f"(got {config.temperature!r})",
            )


def _audio_fields(
    config: AzureVoiceLiveConfig, model: str | None, input_rate: int, output_format: str | None
) -> dict[str, Any]:
    """Audio in and out, and the input processing; switched-off features stay ``None``."""
    fields: dict[str, Any] = {
        "input_audio_format": PCM16,
        "input_audio_sampling_rate": input_rate,
        "output_audio_format": config.output_audio_format or output_format or PCM16,
        "turn_detection": _sdk_turn_detection(config),
        "input_audio_noise_reduction": (
            vl.AudioNoiseReduction(type=config.noise_reduction)
            if config.noise_reduction is not None
            else None
        ),
        "input_audio_transcription": _sdk_transcription(config, model),
    }
    if config.audio_output:
        # without audio out the service refuses echo cancellation; §9 says to leave it out
        fields["input_audio_echo_cancellation"] = (
            vl.AudioEchoCancellation() if config.echo_cancellation else None
        )
    if config.word_timestamps:
        fields["output_audio_timestamp_types"] = ["word"]
    if config.visemes:
        fields["animation"] = vl.Animation(outputs=["viseme_id"])
    if config.avatar is not None and config.audio_output:
        fields["avatar"] = sdk_avatar(config.avatar)
    return fields


def _generation_fields(config: AzureVoiceLiveConfig, tools: Sequence[Any]) -> dict[str, Any]:
    """Optional generation settings; left out when ``None`` (the service default applies)."""
    optional = {
        "tool_choice": _sdk_tool_choice(config.tool_choice, tools),
        "parallel_tool_calls": config.parallel_tool_calls,
        "temperature": config.temperature,
        "max_response_output_tokens": config.max_response_output_tokens,
        "reasoning_effort": config.reasoning_effort,
        "interim_response": config.interim_response,
    }
    return {key: value for key, value in optional.items() if value is not None}


def _all_tools(config: AzureVoiceLiveConfig, tools: Sequence[Any]) -> list[Any]:
    return [*tools, *(server.to_sdk() for server in config.mcp_servers)]


def build_session(
    config: AzureVoiceLiveConfig,
    *,
    model: str | None,
    instructions: str | None,
    tools: Sequence[Any] = (),
    input_rate: int,
    output_format: str | None = None,
    agent_mode: bool = False,
) -> vl.RequestSession:
    """The ``session`` of a ``session.update`` for ``config`` on one connection.

    ``model`` is the connection's model (``None`` in agent mode) and picks the
    transcription default and the valid temperature range. ``input_rate`` is the
    call leg's pcm16 rate, declared instead of resampled. The output format is the
    config's, else ``output_format`` (the one matching the playback leg, see
    :func:`output_format_for_rate`), else 24 kHz ``pcm16``. Instructions are left out
    in agent mode because the agent owns its prompt and the service rejects them.

    The session is built from one mapping of wire names so that ``None`` values stay
    explicit ``null``s (turning features off) and ``extra_session`` can override or
    add any key; send it as is (``conn.session.update(session=...)``): ``dict(session)``
    would lose the nulls.
    """
    _check_connect_facts(config, model, input_rate, output_format)
    session: dict[str, Any] = {"modalities": list(config.modalities)}
    if config.audio_output:
        session["voice"] = sdk_voice(config)
    if instructions is not None and not agent_mode:
        session["instructions"] = instructions
    session |= _audio_fields(config, model, input_rate, output_format)
    all_tools = _all_tools(config, tools)
    if all_tools:
        session["tools"] = all_tools
    session |= _generation_fields(config, all_tools)
    if config.extra_session:
        session |= config.extra_session
    return vl.RequestSession(session)
