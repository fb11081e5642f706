"""The emulator's validation kit: protocol's shared checks, phrased and raised like the service.

Session updates, ``response.create`` parameters and conversation items are nested
JSON objects whose rules are mostly "this key holds one of these values". The
checks themselves live in :mod:`..protocol.checks` (the plugin's config uses the
same ones); here they are bound to the service's wording and to
:class:`ProtocolError`, so every rejection becomes the ``error`` event the service
would send, with the exact ``param`` path.
"""

from __future__ import annotations

from ..protocol.checks import SERVICE_WORDING, Check, Checks, is_int, is_number, string_or
from ..protocol.checks import Shape as _Shape
from ._errors import ProtocolError

__all__ = [
    "SERVICE",
    "Check",
    "Shape",
    "any_object",
    "boolean",
    "fail",
    "in_range",
    "integer",
    "is_int",
    "is_number",
    "list_of",
    "matches",
    "non_empty_string",
    "number",
    "one_of",
    "one_of_ints",
    "string",
    "string_list",
    "string_map",
    "string_or",
    "subset_of",
    "tagged",
    "unsupported",
]


def _protocol_error(param: str, message: str, code: str) -> ProtocolError:
    return ProtocolError(code, message, param=param)


SERVICE = Checks(SERVICE_WORDING, _protocol_error)


class Shape(_Shape):
    """A JSON object with a fixed set of keys, rejected the way the service does."""

    kit = SERVICE


fail = SERVICE.fail
unsupported = SERVICE.unsupported
string = SERVICE.string
non_empty_string = SERVICE.non_empty_string
boolean = SERVICE.boolean
any_object = SERVICE.any_object
integer = SERVICE.integer
number = SERVICE.number
in_range = SERVICE.in_range
one_of = SERVICE.one_of
one_of_ints = SERVICE.one_of_ints
matches = SERVICE.matches
list_of = SERVICE.list_of
subset_of = SERVICE.subset_of
string_list = SERVICE.string_list
string_map = SERVICE.string_map
tagged = SERVICE.tagged
