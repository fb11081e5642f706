"""The supported Python range: one minimum, declared consistently, enforced on import.

On a Python the framework cannot import on (3.11.0-3.11.3, see
``videosdk_plugins_azure/_python.py``), importing the plugin must fail at once with a
message naming the minimum, not with a traceback from deep inside ``videosdk``. The
subprocess tests run whatever older interpreters this machine has (Debian 12's
``/usr/bin/python3`` is 3.11.2) and skip when there are none.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

from videosdk_plugins_azure import MIN_PYTHON
from videosdk_plugins_azure._python import require_python

REPO = Path(__file__).resolve().parents[1]
MINIMUM = ".".join(map(str, MIN_PYTHON))
OLD_INTERPRETERS = [
    "/usr/bin/python3",
    *sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin/python"))),
]


def test_pyproject_declares_the_same_minimum() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == f">={MINIMUM}"
    assert (
        f"Programming Language :: Python :: {MIN_PYTHON[0]}.{MIN_PYTHON[1]}"
        in (project["classifiers"])
    )


@pytest.mark.parametrize("version", [(3, 11, 0), (3, 11, 3), (3, 10, 13), (2, 7, 18)])
def test_older_versions_are_refused_naming_the_minimum(version: tuple[int, int, int]) -> None:
    running = ".".join(map(str, version))
    with pytest.raises(
        ImportError, match=rf"needs Python {MINIMUM} or newer; this is Python {running}\."
    ):
        require_python(version)


@pytest.mark.parametrize("version", [MIN_PYTHON, (3, 11, 7), (3, 12, 1), (3, 13, 0)])
def test_supported_versions_pass(version: tuple[int, int, int]) -> None:
    require_python(version)


def _version_of(python: str) -> tuple[int, ...]:
    probe = "import sys; print('.'.join(map(str, sys.version_info[:3])))"
    out = subprocess.run(
        [python, "-c", probe], capture_output=True, text=True, check=True, timeout=30
    )
    return tuple(int(part) for part in out.stdout.strip().split("."))


@pytest.mark.parametrize("python", OLD_INTERPRETERS)
def test_importing_on_an_old_python_fails_fast_with_the_minimum(python: str) -> None:
    if not os.path.exists(python):
        pytest.skip(f"{python} is not installed")
    version = _version_of(python)
    if version >= MIN_PYTHON:
        pytest.skip(f"{python} is {version}, not older than {MINIMUM}")
    # The framework is put on the path too, so without the check the import would get as far
    # as videosdk and die there; with it, nothing of the framework is ever touched.
    paths = [str(REPO), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    script = f"import sys; sys.path[:0] = {paths!r}; import videosdk_plugins_azure"
    result = subprocess.run([python, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    running = ".".join(map(str, version))
    expected = f"needs Python {MINIMUM} or newer; this is Python {running}."
    assert lines[-1].startswith("ImportError: videosdk-plugins-azure-voicelive ")
    assert expected in lines[-1]
    frames = [line for line in lines if line.lstrip().startswith('File "')]
    outside = [
        frame
        for frame in frames
        if "videosdk_plugins_azure" not in frame and "<string>" not in frame
    ]
    assert outside == []
    assert "videosdk/" not in result.stderr
    assert "no signature found" not in result.stderr


def test_this_interpreter_is_supported() -> None:
    assert sys.version_info[:3] >= MIN_PYTHON
