"""Package attributes imported on first use (PEP 562).

pytest imports this package in every run to load its plugin
(:mod:`.testing.pytest_plugin`). Importing the framework there would cost every
unrelated suite seconds, and the framework's import-time warnings would fail
suites that turn warnings into errors; so the packages that pytest touches
resolve their public names lazily through one helper.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(
    package: str, namespace: dict[str, Any], module_of: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module ``__getattr__`` and ``__dir__`` for ``package``.

    ``module_of`` maps each public name to the relative module defining it; a
    resolved name is cached in ``namespace`` so later lookups skip the hook.
    """

    def __getattr__(name: str) -> Any:
        module = module_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(module, package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *module_of})

    return __getattr__, __dir__
