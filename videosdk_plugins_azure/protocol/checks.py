"""One validation kit for the plugin's config and the emulator's payload rules.

Both sides check the same things (a value from a closed set, a bounded integer, a
list of strings, a JSON object with known keys) but fail differently: the plugin
raises ``ValueError`` phrased for the Python caller who wrote the value, the
emulator a ``ProtocolError`` phrased like the service. So the rules are written
once, here, and a caller builds its kit as ``Checks(wording, error)``: the
:class:`Wording` holds its message templates and ``error`` makes its exception.

A :data:`Check` is ``(value, dotted param path) -> normalised value``; checks
compose into tables, so nested payloads are described as data and every error
names the exact path without threading it by hand. Every check returns a *fresh*
value: callers merge results into new state and must never alias what a client
sent.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, NoReturn, TypeVar

__all__ = [
    "SERVICE_WORDING",
    "Check",
    "Checks",
    "ErrorFactory",
    "Shape",
    "Wording",
    "is_int",
    "is_number",
    "string_or",
]

Check = Callable[[Any, str], Any]
"""Validate ``value`` found at dotted path ``param``; return the normalised value."""

ErrorFactory = Callable[[str, str, str], Exception]
"""``(param, message, code) -> exception`` the kit raises; ``code`` is a service error code."""

_Tag = TypeVar("_Tag", bound=str)


def _wrong_type(expected: str) -> str:
    return f"Invalid type for '{{param}}': expected {expected}."


_SERVICE_RANGE = "'{param}' must be between {lo} and {hi}, got {value}."
_SERVICE_EMPTY = "'{param}' must not be empty."


@dataclass(frozen=True)
class Wording:
    """Message templates, one per way a value can be wrong.

    Templates are ``str.format`` strings. ``{param}`` is always given; depending on
    the failure also ``{value}``, ``{lo}``/``{hi}`` (bounds), ``{choices}`` (plain, in
    natural order), ``{quoted}`` (``repr``\\ s), ``{rule}`` (a pattern's explanation),
    ``{index}`` (list position), ``{limit}``, ``{count}`` and ``{owner}`` (the map a bad
    key is in). A template may use any subset. The defaults are the service's own
    phrasing.
    """

    string: str = _wrong_type("a string")
    blank: str = _SERVICE_EMPTY
    boolean: str = _wrong_type("a boolean")
    object: str = _wrong_type("an object")
    integer: str = _wrong_type("an integer")
    integer_range: str = _SERVICE_RANGE
    at_least: str = "'{param}' must be at least {lo}, got {value}."
    number: str = _wrong_type("a number")
    number_range: str = _SERVICE_RANGE
    choice: str = "Invalid value {value!r} for '{param}'. Supported values are: {quoted}."
    pattern: str = "Invalid value {value!r} for '{param}': {rule}."
    array: str = _wrong_type("an array")
    empty_list: str = _SERVICE_EMPTY
    item: str = "{param}[{index}]"
    """Not a message: the path of a list element."""
    string_map: str = _wrong_type("an object of strings")
    too_many_keys: str = "'{param}' may hold at most {limit} keys, got {count}."
    long_key: str = "Keys of '{owner}' must be strings of at most {limit} characters."
    long_value: str = "'{param}' must be at most {limit} characters."
    unknown: str = "Unknown parameter: '{param}'."
    missing: str = "Missing required parameter: '{param}'."


SERVICE_WORDING = Wording()


def is_int(value: object) -> bool:
    """``True`` for real integers; booleans are not numbers to the service or the plugin."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    """``True`` for finite ints and floats, excluding booleans."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def string_or(when_string: Check, otherwise: Check) -> Check:
    """Fields whose string form is shorthand (a mode, a voice name) and whose object form
    carries details: the value's type picks the check."""

    def check(value: Any, param: str) -> Any:
        return (when_string if isinstance(value, str) else otherwise)(value, param)

    return check


def _natural(value: object) -> tuple[int, float, str]:
    """Numbers by value, anything else by text: rates read 8000, 16000, 24000."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, float(value), "")
    return (1, 0.0, str(value))


def _is_json_array(value: object) -> bool:
    return isinstance(value, list)


class Checks:
    """A validation kit that phrases failures with ``wording`` and raises ``error(...)``.

    ``is_list`` decides what counts as a list: JSON arrays only by default; the
    plugin also takes tuples and other sequences a Python caller may pass.
    """

    def __init__(
        self,
        wording: Wording,
        error: ErrorFactory,
        *,
        is_list: Callable[[object], bool] = _is_json_array,
    ) -> None:
        self.wording = wording
        self._error = error
        self._is_list = is_list
        self.string_list = self.list_of(self.string)

    # -- failing -----------------------------------------------------------------------

    def fail(self, param: str, message: str, code: str = "invalid_value") -> NoReturn:
        """Reject the value at ``param`` with a message of the caller's own."""
        raise self._error(param, message, code)

    def reject(
        self, template: str, param: str, *, code: str = "invalid_value", **details: Any
    ) -> NoReturn:
        """Reject the value at ``param`` with one of the wording's templates."""
        self.fail(param, template.format(param=param, **details), code)

    def unsupported(self, value: object, param: str, choices: Collection[object]) -> NoReturn:
        """Reject a value outside a closed set, listing what is accepted."""
        self.reject(
            self.wording.choice,
            param,
            value=value,
            choices=", ".join(str(choice) for choice in sorted(choices, key=_natural)),
            quoted=", ".join(repr(choice) for choice in sorted(choices, key=str)),
        )

    # -- scalars -----------------------------------------------------------------------

    def string(self, value: Any, param: str) -> str:
        """Any string, including the empty one."""
        if not isinstance(value, str):
            self.reject(self.wording.string, param, value=value)
        return value

    def non_empty_string(self, value: Any, param: str) -> str:
        """A string with at least one non-blank character."""
        text = self.string(value, param)
        if not text.strip():
            self.reject(self.wording.blank, param, value=value)
        return text

    def boolean(self, value: Any, param: str) -> bool:
        """A real boolean (``0``/``1`` are not accepted)."""
        if not isinstance(value, bool):
            self.reject(self.wording.boolean, param, value=value)
        return value

    def any_object(self, value: Any, param: str) -> dict[str, Any]:
        """Any JSON object, kept as-is (deep-copied)."""
        if not isinstance(value, Mapping):
            self.reject(self.wording.object, param, value=value)
        return copy.deepcopy(dict(value))

    def integer(self, lo: int | None = None, hi: int | None = None) -> Check:
        """An integer within the inclusive bounds given."""

        def check(value: Any, param: str) -> int:
            if not is_int(value):
                self.reject(self.wording.integer, param, value=value, lo=lo, hi=hi)
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                template = self.wording.integer_range if hi is not None else self.wording.at_least
                self.reject(template, param, value=value, lo=lo, hi=hi)
            return int(value)

        return check

    def number(self, lo: float | None = None, hi: float | None = None) -> Check:
        """A finite number within the inclusive bounds given."""

        def check(value: Any, param: str) -> float | int:
            if not is_number(value):
                self.reject(self.wording.number, param, value=value, lo=lo, hi=hi)
            result: float | int = value
            self.in_range(result, param, lo, hi)
            return result

        return check

    def in_range(self, value: float, param: str, lo: float | None, hi: float | None) -> None:
        """Range check for numbers whose bounds depend on other state (e.g. the model)."""
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            self.reject(self.wording.number_range, param, value=value, lo=lo, hi=hi)

    def one_of(self, choices: Collection[str]) -> Check:
        """One string out of a closed set (an enum on the wire)."""

        def check(value: Any, param: str) -> str:
            if not isinstance(value, str) or value not in choices:
                self.unsupported(value, param, choices)
            return value

        return check

    def one_of_ints(self, choices: Collection[int]) -> Check:
        """One integer out of a closed set."""

        def check(value: Any, param: str) -> int:
            if not is_int(value) or value not in choices:
                self.unsupported(value, param, choices)
            return int(value)

        return check

    def matches(self, regex: str, rule: str) -> Check:
        """A string matching ``regex`` in full; ``rule`` explains it to whoever broke it."""
        compiled = re.compile(regex)

        def check(value: Any, param: str) -> str:
            if not isinstance(value, str) or not compiled.fullmatch(value):
                self.reject(self.wording.pattern, param, value=value, rule=rule)
            return value

        return check

    # -- containers --------------------------------------------------------------------

    def list_of(self, item: Check, *, non_empty: bool = False) -> Check:
        """A list whose elements each pass ``item`` (at the wording's ``item`` paths)."""

        def check(value: Any, param: str) -> list[Any]:
            if not self._is_list(value):
                self.reject(self.wording.array, param, value=value)
            if non_empty and not value:
                self.reject(self.wording.empty_list, param, value=value)
            return [
                item(element, self.wording.item.format(param=param, index=index))
                for index, element in enumerate(value)
            ]

        return check

    def subset_of(self, choices: Collection[str], *, non_empty: bool = False) -> Check:
        """A list of enum strings; duplicates are dropped, order kept."""
        elements = self.list_of(self.one_of(choices), non_empty=non_empty)

        def check(value: Any, param: str) -> list[str]:
            return list(dict.fromkeys(elements(value, param)))

        return check

    def string_map(
        self,
        *,
        max_keys: int | None = None,
        max_key_len: int | None = None,
        max_value_len: int | None = None,
    ) -> Check:
        """A mapping of strings to strings, with optional size limits."""

        def check(value: Any, param: str) -> dict[str, str]:
            if not isinstance(value, Mapping):
                self.reject(self.wording.string_map, param, value=value)
            if max_keys is not None and len(value) > max_keys:
                self.reject(self.wording.too_many_keys, param, limit=max_keys, count=len(value))
            result: dict[str, str] = {}
            for key, element in value.items():
                path = f"{param}.{key}"
                if not isinstance(key, str) or (max_key_len is not None and len(key) > max_key_len):
                    self.reject(self.wording.long_key, path, owner=param, limit=max_key_len)
                self.string(element, path)
                if max_value_len is not None and len(element) > max_value_len:
                    self.reject(self.wording.long_value, path, value=element, limit=max_value_len)
                result[key] = element
            return result

        return check

    def tagged(
        self,
        variants: Mapping[_Tag, Check],
        *,
        tag: str = "type",
        aliases: Mapping[str, _Tag] | None = None,
    ) -> Check:
        """An object whose ``tag`` key selects which check validates the rest.

        The tag comes first in the result, normalised through ``aliases`` so callers
        only ever see one spelling of each variant.
        """
        table: dict[str, Check] = dict(variants.items())
        spellings: dict[str, str] = {**{name: name for name in table}, **(aliases or {})}

        def check(value: Any, param: str) -> dict[str, Any]:
            if not isinstance(value, Mapping):
                self.reject(self.wording.object, param, value=value)
            raw = value.get(tag)
            if raw is None:
                self.reject(
                    self.wording.missing, f"{param}.{tag}", code="missing_required_parameter"
                )
            canonical = spellings.get(raw) if isinstance(raw, str) else None
            if canonical is None:
                self.unsupported(raw, f"{param}.{tag}", variants)
            rest = table[canonical]({k: v for k, v in value.items() if k != tag}, param)
            return {tag: canonical, **rest}

        return check


@dataclass(frozen=True)
class Shape:
    """An object with a fixed set of keys, checked by the subclass's ``kit``.

    Unknown keys are ``unknown_parameter``; a missing (or null) required key is
    ``missing_required_parameter``; a null optional key is treated as absent,
    because nested nulls only ever mean "use the default". ``post`` runs on the
    validated dict for rules spanning several keys of the same object.

    A caller subclasses it once to bind its kit (``class Shape(checks.Shape): kit =
    MY_KIT``), so table entries read ``Shape({...})`` with no kit in sight.
    """

    fields: Mapping[str, Check]
    required: frozenset[str] = frozenset()
    post: Callable[[dict[str, Any], str], None] | None = None
    kit: ClassVar[Checks]

    def __call__(self, value: Any, param: str) -> dict[str, Any]:
        kit = self.kit
        if not isinstance(value, Mapping):
            kit.reject(kit.wording.object, param, value=value)
        result: dict[str, Any] = {}
        for key, element in value.items():
            path = f"{param}.{key}"
            check = self.fields.get(key)
            if check is None:
                kit.reject(kit.wording.unknown, path, code="unknown_parameter")
            if element is not None:
                result[key] = check(element, path)
        for key in sorted(self.required - result.keys()):
            kit.reject(kit.wording.missing, f"{param}.{key}", code="missing_required_parameter")
        if self.post is not None:
            self.post(result, param)
        return result
