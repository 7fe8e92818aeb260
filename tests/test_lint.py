"""The habits README's test command keeps: ruff's lint and format check over the tree, mypy over aelab/.

The same tools, with the same configuration (pyproject.toml), run from .pre-commit-config.yaml.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.timeout(600)


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing() -> None:
    result = _run("ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, f"ruff check:\n{result.stdout}{result.stderr}"


def test_the_tree_is_formatted() -> None:
    result = _run("ruff", "format", "--check", "--no-cache", ".")
    assert result.returncode == 0, f"ruff format --check (run `ruff format .`):\n{result.stdout}{result.stderr}"


@pytest.mark.slow
def test_mypy_is_clean_over_the_package() -> None:
    result = _run("mypy", "--no-incremental")  # files and settings: [tool.mypy] in pyproject.toml
    assert result.returncode == 0, f"mypy:\n{result.stdout}{result.stderr}"
