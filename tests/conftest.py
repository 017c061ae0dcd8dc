"""Shared fixtures: a copy of the tiny fixture challenge, an isolated data folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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


ORDINARY_USER = "tui-assess-ci"


@pytest.fixture(scope="session")
def ordinary_user() -> str:
    """The unprivileged user the suite runs candidate-side checks as (made when root)."""
    if os.geteuid() != 0:
        pytest.skip("the suite already runs as an ordinary user")
    if shutil.which("runuser") is None:
        pytest.skip("runuser is not installed")
    if subprocess.run(["id", ORDINARY_USER], capture_output=True).returncode != 0:
        made = subprocess.run(
            ["useradd", "--create-home", ORDINARY_USER], capture_output=True, text=True
        )
        if made.returncode != 0:
            pytest.skip(f"cannot create the user {ORDINARY_USER}: {made.stderr.strip()}")
    can = subprocess.run(
        ["runuser", "-u", ORDINARY_USER, "--", sys.executable, "-c", "import tui_assess"],
        capture_output=True,
        text=True,
        cwd="/",
    )
    if can.returncode != 0:
        pytest.skip(
            f"{ORDINARY_USER} cannot import the project from this venv "
            f"({can.stderr.strip()[-200:]}); build it from a system Python, as .ci/run does"
        )
    return ORDINARY_USER
