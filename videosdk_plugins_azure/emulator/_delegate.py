"""Public attributes whose value lives on a shared object the owner holds.

The emulator's settings and a record's counters were plain attributes before the
connection state moved out of the server. They stay the public spelling
(``emu.speed = 1.0``, ``record.input_audio_bytes``), but the value now sits in the
one object the connection state shares (``emu.settings``, ``record.stats``), so a
change reaches every reader at once.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar, cast, overload

__all__ = ["Delegated"]

T = TypeVar("T")


class Delegated(Generic[T]):
    """``owner.<name>`` stored as ``owner.<holder>.<name>``."""

    def __init__(self, holder: str) -> None:
        self._holder = holder
        self._name = ""

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._name = name

    @overload
    def __get__(self, obj: None, owner: type[Any] | None = None) -> Delegated[T]: ...

    @overload
    def __get__(self, obj: object, owner: type[Any] | None = None) -> T: ...

    def __get__(self, obj: object | None, owner: type[Any] | None = None) -> Delegated[T] | T:
        if obj is None:
            return self
        return cast(T, getattr(getattr(obj, self._holder), self._name))

    def __set__(self, obj: object, value: T) -> None:
        setattr(getattr(obj, self._holder), self._name, value)
