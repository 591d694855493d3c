"""Paths and tools of the deployment tests."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
VENV_BIN = Path(sys.executable).parent


def tool(name: str, hint: str) -> str:
    """A command-line tool the test runs; the test fails (never skips) without it."""
    found = (VENV_BIN / name) if (VENV_BIN / name).exists() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: {hint}")
    return str(found)
