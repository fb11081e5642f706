"""The README's code runs: its test command is what CI runs, its pytest example passes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _block_after(marker: str) -> str:
    match = re.search(re.escape(marker) + r"\s*```\w*\n(.*?)```", README, re.S)
    assert match, f"README has no code block after {marker}"
    return match.group(1)


def test_ci_runs_the_readme_test_command() -> None:
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    assert "<!-- test-command -->" in ci  # .ci/run reads the command from the README itself
    assert "pytest" in _block_after("<!-- test-command -->")


def test_the_readme_pytest_example_passes(pytester: pytest.Pytester) -> None:
    """The README's example is a user's test file: it runs with no conftest, on the plugin."""
    pytester.makepyfile(test_readme_example=_block_after("<!-- readme-test -->"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=240)
    result.assert_outcomes(passed=1)
