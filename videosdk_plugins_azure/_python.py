"""The oldest Python the plugin runs on, checked on import before the framework loads.

``videosdk-agents`` imports ``videosdk``, whose ``utils.py`` applies ``@dataclass``
to ``TypedDict`` classes. Before CPython 3.11.4 ``dataclasses`` built the class
docstring from ``inspect.signature(cls)`` without catching its ``ValueError`` (gh-103449,
fixed in 3.11.4), so on 3.11.0-3.11.3 (Debian 12's stock python3 is 3.11.2) the import
dies deep inside ``videosdk`` with "no signature found for builtin type <class 'dict'>".
Failing here first names the real requirement instead.

This module is imported by the package ``__init__`` before anything else, so it must
stay importable (and its syntax parseable) on old interpreters: no framework imports,
no newer syntax.
"""

import sys

__all__ = ["MIN_PYTHON", "require_python"]

MIN_PYTHON = (3, 11, 4)
"""The one place the minimum lives; ``pyproject.toml``'s ``requires-python`` must agree
(``tests/test_python_versions.py`` checks)."""


def require_python(version: "tuple[int, int, int]" = sys.version_info[:3]) -> None:
    """Raise ``ImportError`` naming the minimum when ``version`` is older."""
    if tuple(version) >= MIN_PYTHON:
        return
    minimum = ".".join(map(str, MIN_PYTHON))
    running = ".".join(map(str, version))
    raise ImportError(
        f"videosdk-plugins-azure-voicelive needs Python {minimum} or newer; this is Python "
        f"{running}. The VideoSDK agents framework needs 3.11, and on 3.11.0-3.11.3 its "
        "dependency videosdk fails to import (a dataclasses bug, CPython gh-103449, fixed "
        "in 3.11.4; Debian 12's python3 is 3.11.2). Use a newer interpreter, e.g. "
        "`uv python install 3.12` or pyenv."
    )


require_python()
