"""The plugin's validation kit: protocol's shared checks, phrased for a Python caller.

A bad config value fails where the user wrote it, as a ``ValueError`` whose
message starts with the field's name, so the kit is built with the plugin's
wording and an error factory that makes ``ValueError``\\ s.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any

from ..protocol.checks import Checks, Wording

__all__ = ["CHECKS", "fail", "freeze", "plain_string", "text_tuple"]

_INTEGER = "{param} must be an integer between {lo} and {hi} (got {value!r})"
_NUMBER = "{param} must be between {lo:g} and {hi:g} (got {value!r})"
_STRING_MAP = "{param} must map strings to strings"

_WORDING = Wording(
    string="{param} must be a string",
    blank="{param} must be a non-empty string",
    boolean="{param} must be True or False (got {value!r})",
    object="{param} must be a mapping",
    integer=_INTEGER,
    integer_range=_INTEGER,
    at_least="{param} must be an integer of at least {lo} (got {value!r})",
    number=_NUMBER,
    number_range=_NUMBER,
    choice="{param} must be one of {choices} (got {value!r})",
    pattern="{param} {rule}",
    array="{param} must be a list of strings (a single string is not a list)",
    empty_list="{param} must not be empty (use None for the service default)",
    item="{param} items",
    string_map=_STRING_MAP,
    too_many_keys="{param} may hold at most {limit} keys",
    long_key=_STRING_MAP.replace("{param}", "{owner}"),
    long_value="{param} must be at most {limit} characters",
    unknown="{param} is not a known field",
    missing="{param} is required",
)


def _value_error(param: str, message: str, code: str) -> ValueError:
    return ValueError(message)


def _is_sequence(value: object) -> bool:
    """Any sequence but a string, which would iterate as letters."""
    return isinstance(value, Sequence) and not isinstance(value, str)


CHECKS = Checks(_WORDING, _value_error, is_list=_is_sequence)


def fail(name: str, problem: str) -> ValueError:
    """The error for field ``name``; raised at the call site so the flow reads plainly."""
    return ValueError(f"{name} {problem}")


_TEXT_LIST = CHECKS.list_of(CHECKS.non_empty_string, non_empty=True)


def text_tuple(value: object, name: str) -> tuple[str, ...]:
    """A non-empty list of non-blank strings, frozen (config dataclasses are immutable)."""
    return tuple(_TEXT_LIST(value, name))


def freeze(instance: object, name: str, value: Any) -> None:
    """Store a normalised value on a frozen dataclass (only legal inside ``__post_init__``)."""
    object.__setattr__(instance, name, value)


def plain_string(value: object) -> object:
    """A string enum member as its plain value; anything else unchanged.

    The SDK's enums (``Modality.TEXT``, ``InputAudioFormat.PCM16``) are ``str``
    subclasses, so they compare equal to their values but ``repr`` and ``str()`` as
    the member; normalising keeps stored config values, messages and equality plain.
    """
    if isinstance(value, Enum) and isinstance(value.value, str):
        return value.value
    return value
