"""Small composable checks for JSON-shaped client payloads.

Session updates, ``response.create`` parameters and conversation items are all
nested JSON objects whose rules are mostly "this key holds one of these values".
Expressing each rule as a :data:`Check` (``value, dotted param path -> normalised
value``) lets the protocol modules describe payloads as data tables, and keeps the
``param`` path of every :class:`ProtocolError` exact without threading it by hand.

Every check returns a *fresh* value: callers merge the result into new state and
must never alias objects the client sent.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from ._errors import ProtocolError

Check = Callable[[Any, str], Any]
"""Validate ``value`` found at dotted path ``param``; return the normalised value."""


def fail(param: str, message: str, code: str = "invalid_value") -> NoReturn:
    """Reject the request, blaming ``param``."""
    raise ProtocolError(code, message, param=param)


def _quote_all(values: Collection[object]) -> str:
    return ", ".join(repr(v) for v in sorted(values, key=str))


def unsupported(value: object, param: str, choices: Collection[object]) -> NoReturn:
    """Reject a value outside a closed set, listing what is accepted."""
    fail(
        param,
        f"Invalid value {value!r} for '{param}'. Supported values are: {_quote_all(choices)}.",
    )


def is_int(value: object) -> bool:
    """``True`` for real integers; JSON booleans are not numbers to the service."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    """``True`` for finite ints and floats, excluding booleans."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def string(value: Any, param: str) -> str:
    """Any string, including the empty one."""
    if not isinstance(value, str):
        fail(param, f"Invalid type for '{param}': expected a string.")
    return value


def non_empty_string(value: Any, param: str) -> str:
    """A string with at least one non-blank character."""
    text = string(value, param)
    if not text.strip():
        fail(param, f"'{param}' must not be empty.")
    return text


def boolean(value: Any, param: str) -> bool:
    """A JSON boolean (``0``/``1`` are not accepted)."""
    if not isinstance(value, bool):
        fail(param, f"Invalid type for '{param}': expected a boolean.")
    return value


def any_object(value: Any, param: str) -> dict[str, Any]:
    """Any JSON object, kept as-is (deep-copied)."""
    if not isinstance(value, Mapping):
        fail(param, f"Invalid type for '{param}': expected an object.")
    return copy.deepcopy(dict(value))


def integer(lo: int | None = None, hi: int | None = None) -> Check:
    """An integer within the inclusive bounds given."""

    def check(value: Any, param: str) -> int:
        if not is_int(value):
            fail(param, f"Invalid type for '{param}': expected an integer.")
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            fail(
                param,
                f"'{param}' must be between {lo} and {hi}, got {value}."
                if hi is not None
                else f"'{param}' must be at least {lo}, got {value}.",
            )
        return int(value)

    return check


def number(lo: float | None = None, hi: float | None = None) -> Check:
    """A finite number within the inclusive bounds given."""

    def check(value: Any, param: str) -> float | int:
        if not is_number(value):
            fail(param, f"Invalid type for '{param}': expected a number.")
        result: float | int = value
        in_range(result, param, lo, hi)
        return result

    return check


def in_range(value: float, param: str, lo: float | None, hi: float | None) -> None:
    """Range check shared by checks whose bounds depend on other state."""
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        fail(param, f"'{param}' must be between {lo} and {hi}, got {value}.")


def one_of(choices: Collection[str]) -> Check:
    """One string out of a closed set (an enum on the wire)."""

    def check(value: Any, param: str) -> str:
        if not isinstance(value, str) or value not in choices:
            unsupported(value, param, choices)
        return value

    return check


def one_of_ints(choices: Collection[int]) -> Check:
    """One integer out of a closed set."""

    def check(value: Any, param: str) -> int:
        if not is_int(value) or value not in choices:
            unsupported(value, param, choices)
        return int(value)

    return check


def matches(regex: str, description: str) -> Check:
    """A string matching ``regex`` (full match); ``description`` explains the rule."""
    compiled = re.compile(regex)

    def check(value: Any, param: str) -> str:
        if not isinstance(value, str) or not compiled.fullmatch(value):
            fail(param, f"Invalid value {value!r} for '{param}': {description}.")
        return value

    return check


def list_of(item: Check, *, non_empty: bool = False) -> Check:
    """A JSON array whose elements each pass ``item`` (paths ``param[i]``)."""

    def check(value: Any, param: str) -> list[Any]:
        if not isinstance(value, list):
            fail(param, f"Invalid type for '{param}': expected an array.")
        if non_empty and not value:
            fail(param, f"'{param}' must not be empty.")
        return [item(element, f"{param}[{index}]") for index, element in enumerate(value)]

    return check


def subset_of(choices: Collection[str], *, non_empty: bool = False) -> Check:
    """An array of distinct-purpose enum strings (duplicates are dropped, order kept)."""
    elements = list_of(one_of(choices), non_empty=non_empty)

    def check(value: Any, param: str) -> list[str]:
        return list(dict.fromkeys(elements(value, param)))

    return check


string_list = list_of(string)


def string_map(
    *, max_keys: int | None = None, max_key_len: int | None = None, max_value_len: int | None = None
) -> Check:
    """A JSON object mapping strings to strings, with optional size limits."""

    def check(value: Any, param: str) -> dict[str, str]:
        if not isinstance(value, Mapping):
            fail(param, f"Invalid type for '{param}': expected an object of strings.")
        if max_keys is not None and len(value) > max_keys:
            fail(param, f"'{param}' may hold at most {max_keys} keys, got {len(value)}.")
        result: dict[str, str] = {}
        for key, element in value.items():
            path = f"{param}.{key}"
            if not isinstance(key, str) or (max_key_len is not None and len(key) > max_key_len):
                fail(
                    path, f"Keys of '{param}' must be strings of at most {max_key_len} characters."
                )
            string(element, path)
            if max_value_len is not None and len(element) > max_value_len:
                fail(path, f"'{path}' must be at most {max_value_len} characters.")
            result[key] = element
        return result

    return check


@dataclass(frozen=True)
class Shape:
    """A JSON object with a fixed set of keys.

    Unknown keys are ``unknown_parameter``; a missing (or null) required key is
    ``missing_required_parameter``; a null optional key is treated as absent,
    because nested nulls only ever mean "use the default". ``post`` runs on the
    validated dict for rules spanning several keys of the same object.
    """

    fields: Mapping[str, Check]
    required: frozenset[str] = frozenset()
    post: Callable[[dict[str, Any], str], None] | None = field(default=None)

    def __call__(self, value: Any, param: str) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            fail(param, f"Invalid type for '{param}': expected an object.")
        result: dict[str, Any] = {}
        for key, element in value.items():
            check = self.fields.get(key)
            if check is None:
                fail(f"{param}.{key}", f"Unknown parameter: '{param}.{key}'.", "unknown_parameter")
            if element is not None:
                result[key] = check(element, f"{param}.{key}")
        for key in sorted(self.required - result.keys()):
            fail(
                f"{param}.{key}",
                f"Missing required parameter: '{param}.{key}'.",
                "missing_required_parameter",
            )
        if self.post is not None:
            self.post(result, param)
        return result


def tagged(
    variants: Mapping[str, Check], *, tag: str = "type", aliases: Mapping[str, str] | None = None
) -> Check:
    """A JSON object whose ``tag`` key selects which check validates the rest.

    The tag comes first in the result, normalised through ``aliases`` so callers
    only ever see one spelling of each variant.
    """
    spellings = {**{name: name for name in variants}, **(aliases or {})}

    def check(value: Any, param: str) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            fail(param, f"Invalid type for '{param}': expected an object.")
        raw = value.get(tag)
        if raw is None:
            fail(
                f"{param}.{tag}",
                f"Missing required parameter: '{param}.{tag}'.",
                "missing_required_parameter",
            )
        canonical = spellings.get(raw) if isinstance(raw, str) else None
        if canonical is None:
            unsupported(raw, f"{param}.{tag}", variants)
        rest = variants[canonical]({k: v for k, v in value.items() if k != tag}, param)
        return {tag: canonical, **rest}

    return check
