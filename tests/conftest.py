"""Shared fixtures: a copy of the tiny fixture challenge, an isolated data folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
TINY = FIXTURES / "challenges" / "tiny-sum"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own TUI_ASSESS_HOME: nothing touches the real user data folder."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("TUI_ASSESS_HOME", str(home))
    return home


@pytest.fixture
def tiny_challenge(tmp_path: Path) -> Path:
    """A writable copy of the tiny-sum fixture challenge."""
    dest = tmp_path / "tiny-sum"
    shutil.copytree(TINY, dest)
    return dest
